"""The solved cell of every exercise, by name: written by scripts/make_exercises.py from notebooks/ (do not edit;
run `make exercises`). solutions.py runs them."""
SOLUTIONS = {
    # 01_mnist_mlp_gan.ipynb
    'losses': r'''
# EXERCISE losses: loss_D and the non-saturating loss_G, from D's logits
import torch
import torch.nn.functional as F


def d_loss_from_logits(real_logits, fake_logits):
    """loss_D = -mean log D(x_real) - mean log(1 - D(x_fake)), D(x) = sigmoid(logit), from the logits (B,)
    without forming the sigmoid. Returns a tensor with one number."""
    loss_real = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))   # -mean log D(x)
    loss_fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))  # -mean log(1 - D)
    return loss_real + loss_fake


def g_loss_from_logits(fake_logits):
    """The non-saturating loss_G = -mean log D(G(z)), from D's logits on the fakes (B,)."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
'''[1:-1],
    # 01_mnist_mlp_gan.ipynb
    'd_step': r'''
# EXERCISE d_step: D's update by hand
from gan_helpers import d_loss


def d_step(G, D, opt_D, x_real, z):
    """One update of D on a real batch x_real and noise z. Returns (x_fake, loss_D), with x_fake = G(z)
    still attached to G's graph (G's step uses it). Only D's weights may change, and no gradient may
    reach G."""
    x_fake = G(z)                                    # (B, 1, 28, 28), attached to G's graph
    loss_D = d_loss(D(x_real), D(x_fake.detach()))   # detach: this loss must not reach G
    opt_D.zero_grad()                                # forget the gradients of earlier backward passes
    loss_D.backward()                                # d loss_D / d (each of D's weights)
    opt_D.step()                                     # one Adam step on D's weights
    return x_fake, loss_D
'''[1:-1],
    # 01_mnist_mlp_gan.ipynb
    'g_step': r'''
# EXERCISE g_step: G's update by hand
from gan_helpers import g_loss


def g_step(D, opt_G, x_fake):
    """One update of G, on the fakes x_fake = G(z) of D's step (still attached to G's graph), judged by the
    D that was just updated. Returns loss_G. Only G's weights may change."""
    loss_G = g_loss(D(x_fake))   # no detach: the gradient flows back through D into G
    opt_G.zero_grad()
    loss_G.backward()            # fills G's .grad (and D's too: d_step's zero_grad clears those)
    opt_G.step()                 # opt_G holds only G's weights: D does not move
    return loss_G
'''[1:-1],
    # 02_dcgan_mnist.ipynb
    'conv_transpose_out': r'''
# EXERCISE conv_transpose_out: the output side of nn.ConvTranspose2d(kernel, stride, padding)
def conv_transpose_out(n, kernel, stride, padding):
    """The side of nn.ConvTranspose2d(..., kernel, stride, padding)'s output for an input of side n."""
    return (n - 1) * stride - 2 * padding + kernel
'''[1:-1],
    # 02_dcgan_mnist.ipynb
    'generator_block': r'''
# EXERCISE generator_block: ConvTranspose2d that doubles the side, BatchNorm, ReLU
from torch import nn


def generator_block(in_channels, out_channels):
    """One block of the DCGAN generator: (B, in_channels, n, n) -> (B, out_channels, 2n, 2n)."""
    return nn.Sequential(
        nn.ConvTranspose2d(in_channels, out_channels, 4, 2, 1, bias=False),  # n -> 2n; no bias before BatchNorm
        nn.BatchNorm2d(out_channels),
        nn.ReLU(),
    )
'''[1:-1],
    # 03_dcgan_cifar10.ipynb
    'adam_step': r'''
# EXERCISE adam_step: one Adam update, as torch.optim.Adam makes it
def adam_step(theta, grad, m, v, t, *, lr, beta1, beta2, eps=1e-8):
    """One Adam step at step number t (1, 2, ...) for weights theta with gradient grad; m and v are the
    running averages of the gradient and of its square (zeros before the first step).
    Returns the new (theta, m, v)."""
    m = beta1 * m + (1 - beta1) * grad            # running average of the gradient: about 1 / (1 - beta1) steps
    v = beta2 * v + (1 - beta2) * grad**2         # ... and of its square
    m_hat = m / (1 - beta1**t)                    # both started at 0: undo that bias
    v_hat = v / (1 - beta2**t)
    return theta - lr * m_hat / (v_hat.sqrt() + eps), m, v
'''[1:-1],
    # 03_dcgan_cifar10.ipynb
    'nearest_in': r'''
# EXERCISE nearest_in: the nearest image of a block, for every query
import torch


def nearest_in(queries, block):
    """For each image of queries (N, C, H, W), the index of its nearest image in block (M, C, H, W) and their
    mean squared difference over all C * H * W numbers. Both may be uint8. Returns (index, distance), each (N,)."""
    q, b = queries.flatten(1).float(), block.flatten(1).float()   # float: uint8 would wrap around below 0
    d = torch.cdist(q, b, compute_mode="donot_use_mm_for_euclid_dist") ** 2 / q.shape[1]  # (N, M), exact
    distance, index = d.min(dim=1)
    return index, distance
'''[1:-1],
    # 04_anime_faces_dcgan.ipynb
    'image_dataset': r'''
# EXERCISE image_dataset: a Dataset over a folder of images that skips and reports the broken ones
from pathlib import Path

from torch.utils.data import Dataset

from gan_helpers.data.folder import SUFFIXES, decode_image  # (".jpg", ".jpeg", ".png", ".webp", ".bmp")


class FaceFolder(Dataset):
    """The images below `folder` as uint8 tensors (3, size, size). .paths: the files used, sorted;
    .skipped: (path, reason) for every file named like an image that could not be decoded."""

    def __init__(self, folder, size):
        self.size = size
        self.paths, self.skipped = [], []
        for path in sorted(p for p in Path(folder).rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES):
            try:
                decode_image(path, size)                  # decoded once here, to find the broken files
            except (OSError, ValueError, SyntaxError) as err:
                self.skipped.append((str(path), f"{type(err).__name__}: {err}"))
            else:
                self.paths.append(str(path))
        names = ", ".join(Path(p).name for p, _ in self.skipped[:5])
        print(f"{len(self.paths)} images in {folder}; {len(self.skipped)} skipped" + (f": {names}" if names else ""))

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        return decode_image(self.paths[i], self.size)
'''[1:-1],
    # 04_anime_faces_dcgan.ipynb
    'generator_widths': r'''
# EXERCISE generator_widths: the out_channels of every layer of the DCGAN generator
def generator_widths(img_size, features, channels):
    """[out_channels of G's first layer, ..., channels] for
    DCGANGenerator(img_size=img_size, features=features, channels=channels)."""
    start = 7 if img_size == 28 else 4
    doublings = (img_size // start).bit_length() - 1          # 64 px: 4 -> 8 -> 16 -> 32 -> 64, 4 doublings
    return [features * 2 ** (doublings - 1 - i) for i in range(doublings)] + [channels]
'''[1:-1],
    # 05_latent_space_explorer.ipynb
    'slerp': r'''
# EXERCISE slerp: spherical interpolation between two points
import torch


def my_slerp(z0, z1, t):
    """The point at t (0 <= t <= 1) on the great circle from z0 to z1 (two vectors of shape (latent_dim,))."""
    cos = torch.dot(z0, z1) / (z0.norm() * z1.norm())
    omega = torch.arccos(cos.clamp(-1.0, 1.0))   # the angle; rounding can put cos a hair above 1 (arccos: NaN)
    if torch.sin(omega) < 1e-6:                  # parallel points: sin(omega) = 0, and lerp is exact enough
        return (1 - t) * z0 + t * z1
    return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)
'''[1:-1],
    # 05_latent_space_explorer.ipynb
    'ink_direction': r'''
# EXERCISE ink_direction: the mean z of the inkiest samples minus that of the faintest
def ink_direction(z, ink, fraction=0.1):
    """z: (N, latent_dim) points; ink: (N,) a number measured on each point's image. Returns the mean of the
    z whose ink is among the top `fraction` minus the mean of those among the bottom `fraction` (k = int(fraction * N)
    points each), shape (latent_dim,)."""
    order = ink.argsort()                     # least ink first
    k = int(fraction * len(z))
    return z[order[-k:]].mean(dim=0) - z[order[:k]].mean(dim=0)
'''[1:-1],
    # 06_evaluating_gans.ipynb
    'fid': r'''
# EXERCISE fid: the Fréchet distance between two sets of features
import torch


def fid_inline(features_a, features_b):
    """FID between two sets of features, (N_a, d) and (N_b, d), computed in float64. Returns a float."""
    a, b = features_a.double(), features_b.double()
    mu_a, mu_b = a.mean(0), b.mean(0)                                  # (d,)
    S_a = (a - mu_a).T @ (a - mu_a) / (len(a) - 1)                     # (d, d) covariances, unbiased
    S_b = (b - mu_b).T @ (b - mu_b) / (len(b) - 1)
    eigenvalues = torch.linalg.eigvals(S_a @ S_b).real.clamp(min=0)    # real and >= 0, up to rounding
    trace_sqrt = eigenvalues.sqrt().sum()                              # Tr((S_a S_b)^(1/2))
    return ((mu_a - mu_b).square().sum() + S_a.trace() + S_b.trace() - 2 * trace_sqrt).item()
'''[1:-1],
    # 06_evaluating_gans.ipynb
    'coverage': r'''
# EXERCISE coverage: classes covered and the normalised class entropy
import math

import torch


def coverage(predicted, num_classes=10, threshold=0.01):
    """predicted: (N,) the class the classifier read in each sample. Returns (classes covered, entropy): the number
    of classes with at least `threshold` of the samples, and -sum p log p / log(num_classes)."""
    counts = torch.bincount(predicted.long(), minlength=num_classes)
    p = counts.double() / counts.sum()
    seen = p[p > 0]                                      # 0 log 0 = 0: leave those classes out
    entropy = -(seen * seen.log()).sum().item() / math.log(num_classes)
    return int((p >= threshold).sum()), max(0.0, entropy)   # 0.0, not -0.0, for one class
'''[1:-1],
    # 06_evaluating_gans.ipynb
    'precision_recall': r'''
# EXERCISE precision_recall: improved precision and recall from k-nearest-neighbour balls
import torch


def precision_recall_inline(real_features, fake_features, k=3):
    """Improved precision and recall of fake features (N_g, d) against real features (N_r, d), with balls that
    reach each point's k-th nearest other point of its own set. Returns (precision, recall), two floats."""
    def radii(features):                                        # (N,) distance to the k-th nearest other point
        return torch.cdist(features, features).kthvalue(k + 1, dim=1).values

    def inside(queries, centres):                               # (N_queries,) True where inside some ball
        return (torch.cdist(queries, centres) <= radii(centres)).any(dim=1)

    precision = inside(fake_features, real_features).float().mean().item()   # fakes in the real manifold
    recall = inside(real_features, fake_features).float().mean().item()      # reals in the fake manifold
    return precision, recall
'''[1:-1],
    # 07_stable_training.ipynb
    'gradient_penalty': r'''
# EXERCISE gradient_penalty: WGAN-GP's penalty, one eps per image, the norm over all of an image's numbers
import torch


def gradient_penalty_inline(D, x_real, x_fake, generator=None):
    """mean over the batch of (|grad D(x_hat)| - 1)^2 at x_hat = eps * x_real + (1 - eps) * x_fake, eps ~ U[0, 1].
    generator: a torch.Generator for eps (None: the global random numbers). Returns a tensor with one number that
    backpropagates into D's weights."""
    eps = torch.rand(len(x_real), 1, 1, 1, generator=generator, device=x_real.device)  # ONE per image: (B, 1, 1, 1)
    x_hat = (eps * x_real + (1 - eps) * x_fake).requires_grad_(True)
    # Each score depends only on its own image, so the gradient of the sum is each image's own gradient.
    grad, = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)  # (B, C, H, W)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()              # norm over ALL of C, H, W
'''[1:-1],
    # 07_stable_training.ipynb
    'power_iteration': r'''
# EXERCISE power_iteration: one step of the power iteration behind spectral normalisation
import torch.nn.functional as F


def power_iteration_step(W, u):
    """One power iteration step for a matrix W (out, in) from a unit vector u (out,).
    Returns (u, v, sigma): the new unit vectors u (out,) and v (in,), and sigma = u^T W v."""
    v = F.normalize(W.T @ u, dim=0)      # (in,): towards the top right singular vector
    u = F.normalize(W @ v, dim=0)        # (out,): towards the top left singular vector
    return u, v, u @ W @ v
'''[1:-1],
    # 08_conditional_gan.ipynb
    'G_input': r'''
# EXERCISE G_input: z and the one-hot label side by side, as a (B, latent_dim + num_classes, 1, 1) image
import torch
from torch.nn.functional import one_hot


def G_input(z, labels, num_classes):
    """What G's first layer sees: z (B, latent_dim) and integer labels (B,) -> (B, latent_dim + num_classes, 1, 1)."""
    y = one_hot(labels, num_classes).float()                   # (B, num_classes)
    return torch.cat([z, y], dim=1)[:, :, None, None]            # (B, latent_dim + num_classes, 1, 1)
'''[1:-1],
    # 08_conditional_gan.ipynb
    'D_input': r'''
# EXERCISE D_input: the image and one constant plane per class, plane y all ones
import torch


def D_input(x, labels, num_classes):
    """What D's first layer sees: images x (B, C, H, W) and integer labels (B,) -> (B, C + num_classes, H, W)."""
    y = torch.nn.functional.one_hot(labels, num_classes).float()[:, :, None, None]   # (B, num_classes, 1, 1)
    return torch.cat([x, y.expand(-1, -1, *x.shape[2:])], dim=1)      # plane C + y is all ones
'''[1:-1],
    # 09_faster_and_bigger.ipynb
    'amp_d_step': r'''
# EXERCISE amp_d_step
import torch

from gan_helpers import d_loss


def amp_d_step(G, D, opt_D, scaler, x_real, z):
    """One update of D in float16 with a gradient scaler; returns loss_D (a float32 number).

    Under torch.autocast(x_real.device.type, dtype=torch.float16): x_fake = G(z), and
    loss_D = d_loss(real logits, fake logits) with both logits cast to float32 (.float()) and the
    fakes detached. Then through `scaler` (a torch.amp.GradScaler): zero the gradients, backward on
    the scaled loss, the optimizer's step through the scaler, and the scale's update."""
    with torch.autocast(x_real.device.type, dtype=torch.float16):
        x_fake = G(z)
        loss_D = d_loss(D(x_real).float(), D(x_fake.detach()).float())
    opt_D.zero_grad(set_to_none=True)
    scaler.scale(loss_D).backward()    # gradients S times larger
    scaler.step(opt_D)                 # divides them by S; skips the step if one is inf or NaN
    scaler.update()                    # halves S after a skip, doubles it after 2000 good steps
    return loss_D
'''[1:-1],
    # 09_faster_and_bigger.ipynb
    'shard': r'''
# EXERCISE shard
def my_shard(batch, rank, world_size):
    """Rank `rank`'s part of a global batch split over `world_size` processes: the block of
    b = len(batch) // world_size rows that starts at row rank * b."""
    b = len(batch) // world_size
    return batch[rank * b:(rank + 1) * b]
'''[1:-1],
    # 10_style_based_faces.ipynb
    'mapping': r'''
# EXERCISE mapping: the mapping network z -> w
import math

import torch
import torch.nn.functional as F


def map_z(z, layers):
    """w = f(z): z (B, latent_dim) divided by sqrt(mean(z^2) + 1e-8) over its features, then for each Linear
    of `layers`: x = leaky_relu(layer(x), 0.2) * sqrt(2). Returns w (B, w_dim)."""
    x = z * torch.rsqrt(z.square().mean(dim=1, keepdim=True) + 1e-8)   # (B, latent_dim), unit mean square
    for layer in layers:
        x = F.leaky_relu(layer(x), 0.2) * math.sqrt(2)                  # (B, w_dim)
    return x
'''[1:-1],
    # 10_style_based_faces.ipynb
    'modulated_conv': r'''
# EXERCISE modulated_conv: modulation, demodulation, one grouped convolution
import torch
import torch.nn.functional as F  # noqa: F811 - also imported by the mapping exercise; each cell stands alone


def modulated_conv(x, weight, styles):
    """x (B, C_in, H, W), weight (C_out, C_in, k, k), styles (B, C_in) -> (B, C_out, H, W): each image's
    weights scaled by its styles over the input channels, each output filter demodulated, one conv2d."""
    B, C_in, H, W = x.shape
    C_out, _, k, _ = weight.shape
    w = weight[None] * styles[:, None, :, None, None]                     # (B, C_out, C_in, k, k)
    w = w * torch.rsqrt(w.square().sum(dim=(2, 3, 4), keepdim=True) + 1e-8)
    out = F.conv2d(x.reshape(1, B * C_in, H, W), w.reshape(B * C_out, C_in, k, k), padding=k // 2, groups=B)
    return out.reshape(B, C_out, H, W)
'''[1:-1],
    # 10_style_based_faces.ipynb
    'truncation': r'''
# EXERCISE truncation: pull w towards the mean w
def my_truncate(w, w_avg, psi):
    """w (B, w_dim) moved towards w_avg (w_dim,): w_avg + psi (w - w_avg); psi = 1 leaves w unchanged."""
    return w_avg + psi * (w - w_avg)
'''[1:-1],
    # 11_image_translation.ipynb
    'receptive_field': r'''
# EXERCISE receptive_field: how many input pixels one output unit sees
def receptive_field(layers):
    """layers: [(kernel, stride), ...] from the input to the output. Returns the side of the square of input
    pixels that one unit of the last layer sees (an int)."""
    r = 1                                  # one unit of the output
    for kernel, stride in reversed(layers):
        r = (r - 1) * stride + kernel      # r neighbouring units, stride apart, each seeing kernel pixels
    return r
'''[1:-1],
    # 11_image_translation.ipynb
    'patch_discriminator': r'''
# EXERCISE patch_discriminator: pix2pix's PatchGAN D
from torch import nn  # noqa: F811 - also imported by the set-up cell; each exercise cell stands alone


def patch_discriminator(in_channels, features, layers):
    """pix2pix's PatchGAN: (B, in_channels, H, W) -> (B, 1, H', W'), one logit per patch. An nn.Sequential of
    Conv2d(4, stride 2, padding 1) + LeakyReLU(0.2) (no norm); then layers - 1 times Conv2d(4, 2, 1) + BatchNorm2d
    + LeakyReLU(0.2), the width doubling each time (at most 8 * features); then Conv2d(4, 1, 1) (the width doubled
    once more, at most 8 * features) + BatchNorm2d + LeakyReLU(0.2); then Conv2d(4, 1, 1) to 1 channel: logits."""
    blocks = [nn.Conv2d(in_channels, features, 4, 2, 1), nn.LeakyReLU(0.2)]   # (B, features, H/2, W/2), no norm
    width = features
    for n in range(1, layers):                                                # halves H and W each time
        wider = features * min(2 ** n, 8)
        blocks += [nn.Conv2d(width, wider, 4, 2, 1), nn.BatchNorm2d(wider), nn.LeakyReLU(0.2)]
        width = wider
    wider = features * min(2 ** layers, 8)
    blocks += [nn.Conv2d(width, wider, 4, 1, 1), nn.BatchNorm2d(wider), nn.LeakyReLU(0.2)]   # side - 1
    blocks += [nn.Conv2d(wider, 1, 4, 1, 1)]                                  # (B, 1, H', W'): logits, side - 1
    return nn.Sequential(*blocks)
'''[1:-1],
    # 11_image_translation.ipynb
    'cycle_loss': r'''
# EXERCISE cycle_loss: there and back again
import torch.nn.functional as F


def cycle_loss(G_AB, G_BA, x_a, x_b):
    """The cycle-consistency loss (Zhu et al. 2017, eq. 2): the mean absolute error of A -> B -> A against x_a,
    plus that of B -> A -> B against x_b. x_a (B, C_a, H, W), x_b (B, C_b, H, W). Returns a tensor with one number
    that trains both generators."""
    back_a = G_BA(G_AB(x_a))       # A -> B -> A, like x_a
    back_b = G_AB(G_BA(x_b))       # B -> A -> B, like x_b
    return F.l1_loss(back_a, x_a) + F.l1_loss(back_b, x_b)
'''[1:-1],
    # 11_image_translation.ipynb
    'image_pool': r'''
# EXERCISE image_pool: D sees a history of G's fakes
import torch


class ImagePool:
    """A buffer of up to `size` earlier fakes (Shrivastava et al. 2017). pool(images) returns a batch of the same
    shape: while the pool is not full, each image is stored and returned; once it is full, each image is, with
    probability 1/2, swapped for a random stored one (which it replaces in the pool), else returned as it is.
    size 0: the images pass through. Stored images are detached copies."""

    def __init__(self, size):
        self.size = size
        self.images = []

    def __call__(self, images):
        if self.size == 0:
            return images
        out = []
        for image in images:                                # (C, H, W), one at a time
            if len(self.images) < self.size:                # filling up: store it and return it
                self.images.append(image.detach().clone())
                out.append(image)
            elif torch.rand(1).item() < 0.5:                # swap: an old fake out, this one in its place
                i = torch.randint(self.size, (1,)).item()
                out.append(self.images[i])
                self.images[i] = image.detach().clone()
            else:
                out.append(image)
        return torch.stack(out)                             # (B, C, H, W), like images
'''[1:-1],
}
