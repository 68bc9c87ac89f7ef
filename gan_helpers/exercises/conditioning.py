"""Checks for chapter 08's exercises: the conditional inputs of G and D.

    check_G_input(G_input)   G_input(z, labels, num_classes) -> (B, latent_dim + num_classes, 1, 1)
    check_D_input(D_input)   D_input(x, labels, num_classes) -> (B, C + num_classes, H, W)

Both are compared with what the package's conditional DCGAN feeds its own layer stack: G.net(G_input(z, y))
must equal G(z, y), and D.net(D_input(x, y)) must equal D(x, y).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..models import DCGANDiscriminator, DCGANGenerator
from .report import Mismatch, call, describe, run_check

NUM_CLASSES, LATENT_DIM = 10, 8


def _labels() -> torch.Tensor:
    return torch.tensor([3, 0, 7, 9, 1])


def _labels_without_the_top_classes() -> torch.Tensor:
    return torch.tensor([2, 0, 5, 1, 2])                 # a batch in which the classes 6 to 9 do not occur


def _no_num_classes(got, width: int, what: str) -> None:
    """Mismatch when `got`, made from _labels_without_the_top_classes(), has one-hot columns only up to label 5."""
    few = _labels_without_the_top_classes()
    if isinstance(got, torch.Tensor) and got.ndim >= 2 and got.shape[1] == width - NUM_CLASSES + int(few.max()) + 1:
        raise Mismatch(f"{what} is too narrow for a batch without the labels 6 to 9",
                       expected=f"{width} channels (num_classes = {NUM_CLASSES} one-hot columns, whatever the batch)",
                       got=f"{got.shape[1]} channels", key="no_num_classes",
                       likely="F.one_hot(labels) without num_classes makes max(labels) + 1 columns, which depends on "
                              "the batch: pass num_classes, F.one_hot(labels, num_classes).")


def _cat_diagnosis(err: BaseException):
    if "Sizes of tensors must match" in str(err) or "Tensors must have same number of dimensions" in str(err):
        return "not_expanded", ("the one-hot vector (B, 10) must become planes of the image's size before joining "
                                "it to the image: y[:, :, None, None].expand(-1, -1, H, W).")
    return None


def check_G_input(G_input):
    """G_input(z, labels, num_classes): z and one_hot(labels), side by side, as a (B, d + 10, 1, 1) image."""

    def body() -> str:
        gen = torch.Generator().manual_seed(0)
        z, labels = torch.randn(5, LATENT_DIM, generator=gen), _labels()
        got = call(G_input, z, labels, NUM_CLASSES)
        want = torch.cat([z, F.one_hot(labels, NUM_CLASSES).float()], dim=1)[:, :, None, None]
        if not isinstance(got, torch.Tensor):
            raise Mismatch("G_input did not return a tensor", expected=f"shape {tuple(want.shape)}", got=describe(got),
                           likely="return torch.cat([...], dim=1) reshaped to (B, n, 1, 1).", key="returns")
        if got.shape == want.shape[:2]:
            raise Mismatch("G's input is a flat vector", expected=f"shape {tuple(want.shape)}",
                           got=str(tuple(got.shape)),
                           key="no_image_dims", likely="G's first layer is a ConvTranspose2d: it wants a 1x1 image, "
                                                       "(B, latent_dim + 10, 1, 1): add [:, :, None, None].")
        if got.shape != want.shape:
            key, likely = "shape", ("z (B, d) and the one-hot vectors (B, 10) joined along dim=1, then "
                                    "[:, :, None, None].")
            if got.shape[1] == LATENT_DIM + 1:
                key, likely = "not_one_hot", "the label as ONE number says 7 > 3; write it as 10 numbers, one-hot."
            raise Mismatch("wrong shape", expected=str(tuple(want.shape)), got=str(tuple(got.shape)),
                           likely=likely, key=key)
        if not torch.equal(got.float(), want):
            swapped = torch.cat([F.one_hot(labels, NUM_CLASSES).float(), z], dim=1)[:, :, None, None]
            key, likely = "values", "a 1 at position `label` of the ten, 0 elsewhere (F.one_hot(labels, 10).float())."
            if torch.equal(got.float(), swapped):
                key, likely = "order", "z first, then the one-hot vector: the package's G expects [z; onehot(y)]."
            raise Mismatch("other numbers than [z; onehot(labels)]", expected=describe(want.flatten(1)[0]),
                           got=describe(got.flatten(1)[0]), likely=likely, key=key)
        torch.manual_seed(0)
        G = DCGANGenerator(latent_dim=LATENT_DIM, img_size=28, channels=1, features=4, num_classes=NUM_CLASSES).eval()
        with torch.no_grad():
            same = torch.allclose(G.net(got.float()), G(z, labels), atol=1e-6)
        if not same:  # cannot happen when got == want; kept as the statement of what the check means
            raise Mismatch("the package's G draws another image", expected="G.net(G_input(z, y)) == G(z, y)",
                           got="different images", likely="see the shape and order above.", key="package")
        _no_num_classes(call(G_input, z, _labels_without_the_top_classes(), NUM_CLASSES), want.shape[1], "G's input")
        return ("[z; onehot(y)] as a (B, d + 10, 1, 1) image; the package's G draws exactly G(z, labels) from it.")

    return run_check("G_input", body, diagnose=_cat_diagnosis)


def check_D_input(D_input):
    """D_input(x, labels, num_classes): the image and ten constant planes, plane y all ones."""

    def body() -> str:
        gen = torch.Generator().manual_seed(1)
        x, labels = torch.rand(5, 1, 28, 28, generator=gen) * 2 - 1, _labels()
        got = call(D_input, x, labels, NUM_CLASSES)
        planes = F.one_hot(labels, NUM_CLASSES).float()[:, :, None, None].expand(-1, -1, 28, 28)
        want = torch.cat([x, planes], dim=1)
        if not isinstance(got, torch.Tensor) or got.shape != want.shape:
            key, likely = "shape", "the image (B, 1, 28, 28) and ten planes (B, 10, 28, 28) joined along dim=1."
            if isinstance(got, torch.Tensor) and got.shape[1] == 2:
                key, likely = "one_plane", "one plane holding the label's value says 7 > 3: use ten planes, one-hot."
            raise Mismatch("wrong shape", expected=str(tuple(want.shape)), got=describe(got), likely=likely, key=key)
        if not torch.equal(got.float(), want):
            key, likely = "values", "plane k is all ones when the label is k, all zeros otherwise."
            if torch.equal(got.float(), torch.cat([planes, x], dim=1)):
                key, likely = "order", "the image first, then the planes: the package's D reads [x; planes]."
            raise Mismatch("other numbers than [x; one plane per class]",
                           expected="for label 3 of image 0: channel 1 + 3 all ones, the other nine planes zero",
                           got=f"channel sums of image 0: {got[0].flatten(1).sum(1).tolist()}", likely=likely, key=key)
        torch.manual_seed(0)
        D = DCGANDiscriminator(img_size=28, channels=1, features=4, num_classes=NUM_CLASSES).eval()
        with torch.no_grad():
            same = torch.allclose(D.net(got.float()).flatten(), D(x, labels), atol=1e-6)
        if not same:  # cannot happen when got == want; kept as the statement of what the check means
            raise Mismatch("the package's D scores it otherwise", expected="D.net(D_input(x, y)) == D(x, y)",
                           got="different scores", likely="see the shape and order above.", key="package")
        _no_num_classes(call(D_input, x, _labels_without_the_top_classes(), NUM_CLASSES), want.shape[1], "D's input")
        return ("the image and ten planes (plane y all ones), (B, 1 + 10, 28, 28); the package's D gives exactly "
                "D(x, labels) from it.")

    return run_check("D_input", body, diagnose=_cat_diagnosis)
