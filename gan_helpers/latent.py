"""The latent space: seeded points z, paths between them, and directions worth a slider.

Pure tensor code (no widgets, no plotting). Points are vectors z of shape (latent_dim,) or
batches (N, latent_dim); G maps them to images.

    lerp:   z(t) = (1 - t) z0 + t z1
    slerp:  z(t) = sin((1 - t) W) / sin W * z0 + sin(t W) / sin W * z1,   cos W = <z0, z1> / (|z0| |z1|)

Directions (GANSpace, Härkönen et al. 2020): sample many z, record an early layer's
activations y = G_early(z), take their principal components, and map them back to z by
linear regression. Ordered by the variance of y they explain.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from .sampling import class_labels, z_from_seed

ACTIVATIONS = (nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Tanh)


def _steps(t: float | Sequence[float] | torch.Tensor, like: torch.Tensor) -> tuple[torch.Tensor, bool]:
    """t as a column (T, 1) in like's dtype and device, and whether t was a single number."""
    t = torch.as_tensor(t, dtype=like.dtype, device=like.device)
    return t.reshape(-1, 1), t.ndim == 0


def _check_pair(z0: torch.Tensor, z1: torch.Tensor) -> None:
    if z0.ndim != 1 or z0.shape != z1.shape:
        raise ValueError(f"Interpolate between two points of shape (latent_dim,), got {tuple(z0.shape)} and "
                         f"{tuple(z1.shape)}. For a batch from z_from_seed, pass z[0] and z[1].")


def lerp(z0: torch.Tensor, z1: torch.Tensor, t: float | Sequence[float] | torch.Tensor) -> torch.Tensor:
    """Linear interpolation between two points of shape (latent_dim,).

    t: one number (returns shape (latent_dim,)) or T numbers (returns (T, latent_dim));
    t = 0 gives z0, t = 1 gives z1.
    """
    _check_pair(z0, z1)
    t, single = _steps(t, z0)
    out = (1 - t) * z0 + t * z1  # (T, latent_dim)
    return out[0] if single else out


def slerp(z0: torch.Tensor, z1: torch.Tensor, t: float | Sequence[float] | torch.Tensor) -> torch.Tensor:
    """Spherical interpolation (White 2016): along the great circle from z0 to z1.

    Same shapes as `lerp`. Between two points of equal norm every point keeps that norm, so
    the path stays where N(0, I) puts its mass (|z| near sqrt(latent_dim)); lerp's midpoint
    is shorter by a factor cos(W/2). Nearly parallel points fall back to lerp.
    """
    _check_pair(z0, z1)
    t, single = _steps(t, z0)
    cos = torch.dot(z0 / z0.norm(), z1 / z1.norm()).clamp(-1.0, 1.0)
    omega = torch.arccos(cos)
    if omega > torch.pi - 1e-3:
        raise ValueError("slerp between opposite points (z1 = -c z0) is undefined: every great circle "
                         "joins them. Move one point a little, or use lerp (which passes through 0).")
    if omega < 1e-4:  # the same direction: sin(W) ~ 0, and lerp is then exact enough
        out = (1 - t) * z0 + t * z1
    else:
        out = (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)
    return out[0] if single else out


def interpolation_path(points: torch.Tensor, *, steps: int = 8, method: str = "slerp",
                       closed: bool = False) -> torch.Tensor:
    """A path through K points (K, latent_dim): `steps` points per segment, every given point
    included once. Returns ((K - 1) * steps + 1, latent_dim), or K * steps with closed=True
    (back to the first point, for a looping animation)."""
    interpolate = {"slerp": slerp, "lerp": lerp}.get(method)
    if interpolate is None:
        raise ValueError(f"method must be 'slerp' or 'lerp', got {method!r}.")
    if points.ndim != 2 or len(points) < 2 or steps < 1:
        raise ValueError(f"Need points of shape (K >= 2, latent_dim) and steps >= 1, got {tuple(points.shape)} "
                         f"and steps={steps}.")
    ends = torch.cat([points, points[:1]]) if closed else points
    t = torch.arange(steps, dtype=points.dtype) / steps  # [0, 1): each segment's end is the next one's start
    path = [interpolate(a, b, t) for a, b in zip(ends[:-1], ends[1:], strict=True)]
    return torch.cat(path if closed else [*path, points[-1:]])


def latent_analogy(*, a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Vector arithmetic (Radford et al. 2016): mean(a) - mean(b) + mean(c).

    "a is to b as ? is to c": each argument is one point (latent_dim,) or a group (N, latent_dim)
    whose mean is used, e.g. smiling woman - neutral woman + neutral man = smiling man.
    """
    means = [x.reshape(-1, x.shape[-1]).mean(dim=0) for x in (a, b, c)]
    if len({m.shape for m in means}) != 1:
        raise ValueError(f"a, b and c must have the same latent_dim, got {[m.shape[0] for m in means]}.")
    return means[0] - means[1] + means[2]


@dataclass
class Directions:
    """Unit directions in z space, one per row of `vectors` (K, latent_dim), orthonormal.

    explained_variance: for PCA directions, the variance of the activations each explains
    (largest first) and `explained_ratio` its share of the total; None for coordinates.
    """
    vectors: torch.Tensor
    names: list[str]
    explained_variance: torch.Tensor | None = None
    explained_ratio: torch.Tensor | None = None
    layer: str | None = None

    def __len__(self) -> int:
        return len(self.vectors)

    def move(self, z: torch.Tensor, amounts: Sequence[float] | torch.Tensor) -> torch.Tensor:
        """z + sum_k amounts[k] * vectors[k], for z of shape (latent_dim,) or (N, latent_dim)."""
        amounts = torch.as_tensor(amounts, dtype=self.vectors.dtype)
        if amounts.shape != (len(self),):
            raise ValueError(f"Give one amount per direction ({len(self)}), got shape {tuple(amounts.shape)}.")
        return z + amounts @ self.vectors


def coordinate_directions(*, latent_dim: int, indices: Sequence[int] | None = None) -> Directions:
    """The plain axes of z: z[i] for each i in `indices` (default: all of them)."""
    indices = list(range(latent_dim)) if indices is None else list(indices)
    return Directions(vectors=torch.eye(latent_dim)[indices], names=[f"z[{i}]" for i in indices])


def find_layer(G: nn.Module, layer: str | None = None) -> tuple[str, nn.Module]:
    """(name, module) of G's layer called `layer`; by default G's first activation function
    (after its first layer and normalisation)."""
    modules = dict(G.named_modules())
    if layer is None:
        layer = next((name for name, m in modules.items() if isinstance(m, ACTIVATIONS)), None)
        if layer is None:
            raise ValueError(f"{type(G).__name__} has no activation layer "
                             f"({', '.join(a.__name__ for a in ACTIVATIONS)}); pass layer='name'.")
    if layer not in modules:
        raise ValueError(f"G has no module named {layer!r}; choose one of {[n for n in modules if n]}.")
    return layer, modules[layer]


class _StopForward(Exception):
    """Raised by the recording hook to skip the rest of G's forward pass."""


@torch.no_grad()
def layer_activations(G: nn.Module, z: torch.Tensor, *, labels: torch.Tensor | None = None, layer: str | None = None,
                      batch_size: int = 512) -> torch.Tensor:
    """The output of one layer of G (default: its first activation) for each z, flattened:
    shape (N, features), float32 on the CPU. G runs in eval mode (BatchNorm with its running
    averages, so each row depends on its own z only) and stops right after that layer.
    A conditional G is called as G(z, labels)."""
    _, module = find_layer(G, layer)
    recorded: list[torch.Tensor] = []

    def record(_module, _inputs, out):  # keep the output, then stop: the later layers are not needed
        recorded.append(out.flatten(1).float().cpu())
        raise _StopForward

    hook = module.register_forward_hook(record)
    was_training, device = G.training, next(G.parameters()).device
    G.eval()
    try:
        classes = [None] * len(z.split(batch_size)) if labels is None else labels.split(batch_size)
        for chunk, y in zip(z.split(batch_size), classes, strict=True):
            try:
                G(chunk.to(device)) if y is None else G(chunk.to(device), y.to(device))
            except _StopForward:
                pass
    finally:
        hook.remove()
        G.train(was_training)
    return torch.cat(recorded)


@torch.no_grad()
def ganspace_directions(G: nn.Module, *, n_components: int = 10, n_samples: int = 2048, seed: int = 0,
                        layer: str | None = None) -> Directions:
    """The GANSpace directions of G: principal components of an early layer, mapped back to z.

    1. Draw n_samples points z (seeded) and record y = the output of `layer` (default: G's
       first activation), flattened, with G in eval mode (`layer_activations`).
    2. PCA: Y - mean = U S V^T; the coordinates of each y on the top K components,
       x = (y - mean) V_K (a seeded randomised SVD: fast and exact enough for the top few).
    3. Regression: the matrix B minimising |x B - z|^2 maps PCA coordinates to z; row k of B
       is the latent direction that moves y along component k.
    4. Orthonormalise the rows in order (QR), so sliders do not overlap, and fix each sign so
       that its largest entry is positive (the same seed gives the same directions).
    A conditional G (with `num_classes`) is sampled with every class equally often.
    """
    name, _ = find_layer(G, layer)
    if not 1 <= n_components <= min(G.latent_dim, n_samples):
        raise ValueError(f"n_components must be between 1 and min(latent_dim, n_samples) = "
                         f"{min(G.latent_dim, n_samples)}, got {n_components}.")
    z = z_from_seed(seed, latent_dim=G.latent_dim, n=n_samples)
    labels = class_labels(G, n_samples)                              # a conditional G: every class alike
    y = layer_activations(G, z, labels=labels, layer=name)          # (n_samples, features)
    y = y - y.mean(dim=0)
    x, variance = _principal_coordinates(y, n_components, seed=seed)  # (n_samples, K), (K,)
    total_variance = y.pow(2).sum() / (n_samples - 1)
    B = torch.linalg.lstsq(x.double(), z.double()).solution        # (K, latent_dim): x B ~ z
    vectors = torch.linalg.qr(B.T).Q.T                              # B's rows, orthonormalised in order
    biggest = vectors.gather(1, vectors.abs().argmax(dim=1, keepdim=True))
    vectors = vectors * torch.sign(biggest)
    return Directions(vectors=vectors.float(), names=[f"PC{k + 1}" for k in range(n_components)],
                      explained_variance=variance.float(), explained_ratio=(variance / total_variance).float(),
                      layer=name)


def _principal_coordinates(y: torch.Tensor, k: int, *, seed: int, power_iterations: int = 4
                          ) -> tuple[torch.Tensor, torch.Tensor]:
    """For centred rows y (n, F): their coordinates on the top k principal components (n, k)
    and the variance along each (k,), largest first.

    With y = U S V^T the coordinates are y V = U S. A full SVD of a 2048 x 8192 matrix takes
    a minute on a laptop CPU, so this is the randomised SVD of Halko et al. (2011): a seeded
    random projection finds a small subspace holding y's top columns, power iterations sharpen
    it, and an exact SVD of y projected onto it gives U S (exact when m = min(n, F)).
    """
    n, features = y.shape
    m = min(2 * k + 10, n, features)                                # oversampled subspace size
    omega = torch.randn(features, m, dtype=y.dtype, generator=torch.Generator().manual_seed(seed))
    q = torch.linalg.qr(y @ omega).Q                                # (n, m) orthonormal columns
    for _ in range(power_iterations):
        q = torch.linalg.qr(y @ (y.T @ q)).Q
    u_small, s, _ = torch.linalg.svd(q.T @ y, full_matrices=False)  # (m, F) = u_small S Vh
    return (q @ u_small[:, :k]) * s[:k], s[:k] ** 2 / (n - 1)


@torch.no_grad()
def w_directions(G: nn.Module, *, n_components: int = 10, n_samples: int = 4096, seed: int = 0) -> Directions:
    """GANSpace in W, for a style-based G (one with `mapping`): the principal components of w = G.mapping(z)
    over n_samples seeded z (Härkönen et al. 2020 do the same for StyleGAN). `vectors` (K, w_dim) are
    orthonormal, largest variance first; move by amount * sqrt(explained_variance[k]) to go amount standard
    deviations along component k. `layer` is "W"."""
    if not hasattr(G, "mapping"):
        raise ValueError(f"w_directions needs a style-based G with a mapping network (G.mapping), got "
                         f"{type(G).__name__}; for other generators use ganspace_directions.")
    if not 1 <= n_components <= min(G.w_dim, n_samples):
        raise ValueError(f"n_components must be between 1 and min(w_dim, n_samples) = {min(G.w_dim, n_samples)}, "
                         f"got {n_components}.")
    was_training = G.training
    G.eval()
    try:
        w = G.mapping(z_from_seed(seed, latent_dim=G.latent_dim, n=n_samples).to(G.w_avg.device)).cpu().double()
    finally:
        G.train(was_training)
    w = w - w.mean(dim=0)
    _, S, Vh = torch.linalg.svd(w, full_matrices=False)             # w = U S Vh: rows of Vh, the components
    variance = S ** 2 / (n_samples - 1)
    vectors = Vh[:n_components]
    biggest = vectors.gather(1, vectors.abs().argmax(dim=1, keepdim=True))
    vectors = vectors * torch.sign(biggest)                          # a fixed sign: the same seed, the same sliders
    return Directions(vectors=vectors.float(), names=[f"PC{k + 1}" for k in range(n_components)],
                      explained_variance=variance[:n_components].float(),
                      explained_ratio=(variance[:n_components] / variance.sum()).float(), layer="W")


def move_in_layers(ws: torch.Tensor, offset: torch.Tensor, layers: Sequence[int] | range) -> torch.Tensor:
    """ws (B, num_ws, w_dim) with `offset` (w_dim,) added to the styles of `layers` only (e.g.
    G.layer_ranges()["coarse"]): an edit of pose alone, or of colours alone."""
    index = torch.as_tensor(list(layers), dtype=torch.long)
    if len(index) and (index.min() < 0 or index.max() >= ws.shape[1]):
        raise ValueError(f"layers must lie in 0 .. {ws.shape[1] - 1} (num_ws - 1), got {list(layers)}.")
    moved = ws.clone()
    moved[:, index] += offset.to(ws)
    return moved
