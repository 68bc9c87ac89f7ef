"""The check of chapter 11's image history buffer (Shrivastava et al. 2017, as CycleGAN uses it).

    check_image_pool(ImagePool)   ImagePool(size)(images) -> a batch of the same shape

It tests behaviour, not one random stream: every image is a constant picture of its own number, so the check
can tell which image came back and keep the pool's contents as they must be. Until `size` images are stored,
each one is stored and returned; then each image is, with probability 1/2, swapped for a stored one (which
it replaces in the pool), else returned as it is.
"""
from __future__ import annotations

import torch

from .report import LearnerError, Mismatch, call, describe, run_check

SIZE, BATCH, STREAM = 10, 8, 50          # the pool, the batches, how many batches after it is full (400 images)


def _batch(first: int, n: int = BATCH, *, weight=None) -> torch.Tensor:
    """Images number first, first + 1, ...: each (3, 4, 4) filled with its number (times `weight`, for a graph)."""
    ids = torch.arange(first, first + n, dtype=torch.float32)
    images = ids[:, None, None, None].expand(n, 3, 4, 4).clone()
    return images if weight is None else images * weight


def _numbers(out, x) -> list[int]:
    """Which image each of the output's images is (Mismatch if the batch or an image is not one of them)."""
    if not isinstance(out, torch.Tensor) or out.shape != x.shape or out.device != x.device:
        raise Mismatch("the returned batch", expected=f"a tensor of shape {tuple(x.shape)} on {x.device}",
                       got=describe(out) if isinstance(out, torch.Tensor) else f"a {type(out).__name__}", key="shape",
                       likely="return one batch like the input: torch.stack (or torch.cat) of the chosen images.")
    flat = out.detach().flatten(1)
    if not torch.equal(flat, flat[:, :1].expand_as(flat)) or not torch.equal(flat[:, 0], flat[:, 0].round()):
        raise Mismatch("an image was changed", expected="each returned image exactly a new or a stored one",
                       got=describe(out), key="altered", likely="return the images themselves, not a mix of them.")
    return [int(v) for v in flat[:, 0].tolist()]


def _run_stream(ImagePool) -> tuple[float, bool]:
    """Fill a pool and feed it STREAM batches, following what it must hold. Returns (fraction of stored images
    returned, whether some batch mixed stored and new images)."""
    pool = call(ImagePool, SIZE)
    x = _batch(1)
    if _numbers(call(pool, x), x) != list(range(1, BATCH + 1)):
        raise Mismatch("before the pool is full", expected="the new images, unchanged", got="stored ones among them",
                       key="before_full",
                       likely=f"while the pool holds fewer than size ({SIZE}) images, store each image, return it.")
    held, fed, returned_new = set(range(1, BATCH + 1)), BATCH, set()
    old = offered = mixed = 0
    for _ in range(STREAM):
        x = _batch(fed + 1)
        numbers = _numbers(call(pool, x), x)
        kinds = set()
        for new, number in zip(range(fed + 1, fed + BATCH + 1), numbers, strict=True):
            if len(held) < SIZE:
                if number != new:
                    raise Mismatch("while the pool fills", expected=f"image {new} returned", got=f"image {number}",
                                   key="before_full", likely="store and return each new image until the pool holds "
                                                             "size images, one image at a time.")
                held.add(new)
                continue
            kinds.add(number == new)
            offered += 1
            if number == new:
                returned_new.add(new)
                continue
            if number not in held:
                key, likely = "wrong_image", "return a stored image, or the new one."
                if number in returned_new:
                    key, likely = "stored_new", ("a new image you returned came back later: store the new image only "
                                                 "when it takes a returned stored image's place.")
                elif number <= fed:
                    key, likely = "not_replaced", ("a stored image came back twice: put the new image in the place "
                                                   "of the stored one you return.")
                raise Mismatch("an image that is not in the pool", expected=f"one of {len(held)} stored images "
                               f"or image {new}", got=f"image {number}", key=key, likely=likely)
            held.remove(number)
            held.add(new)
            old += 1
        mixed = mixed or len(kinds) == 2
        fed += BATCH
    return old / offered, mixed


def _graph_kept(ImagePool) -> bool:
    """Whether images stored from one batch carry that batch's graph into a later batch or the pool."""
    w_first, w_later = torch.ones((), requires_grad=True), torch.ones((), requires_grad=True)
    pool = call(ImagePool, 4)
    call(pool, _batch(1, 4, weight=w_first))
    out = call(pool, _batch(5, 16, weight=w_later))
    if isinstance(out, torch.Tensor) and out.requires_grad:
        if torch.autograd.grad(out.sum(), w_first, allow_unused=True)[0] is not None:
            return True
    kept = [v for value in vars(pool).values() for v in (value if isinstance(value, (list, tuple)) else [value])]
    return any(isinstance(v, torch.Tensor) and v.requires_grad for v in kept)


def check_image_pool(ImagePool):
    """ImagePool(size) by its behaviour over 400 images: it fills first, then returns a stored image (replacing
    it by the new one) for about half of them, one draw per image; size 0 passes images through; stored images
    are detached. Names: never or always stored images, a probability not 1/2, one draw per batch, a returned
    image left in the pool, a new image stored although returned, stored with its graph, size 0 failing."""

    def body() -> str:
        torch.manual_seed(113)
        fraction, mixed = _run_stream(ImagePool)
        band = (0.35, 0.65)     # 1/2 of 400 draws: a standard deviation of 0.025
        if fraction == 0:
            raise Mismatch("no stored image returned", expected="about half of the images swapped for stored ones",
                           got="always the new images", key="never_old",
                           likely="once the pool is full, with probability 1/2 return a random stored image and "
                                  "store the new one in its place.")
        if fraction == 1:
            raise Mismatch("only stored images returned", expected="about half of the images new",
                           got="always stored ones", key="always_old",
                           likely="return a stored image with probability 1/2 only: torch.rand(1).item() < 0.5.")
        if not band[0] <= fraction <= band[1]:
            raise Mismatch("how often a stored image comes back", expected=f"a fraction between {band[0]} and "
                           f"{band[1]} (1/2)", got=f"{fraction:.3f} of the images after the pool filled",
                           key="probability",
                           likely="swap with probability 1/2: torch.rand(1).item() < 0.5, one draw per image.")
        if not mixed:
            raise Mismatch("the draws", expected="batches that mix stored and new images",
                           got="each batch all stored or all new", key="per_batch",
                           likely="draw for each image of the batch, not once per batch.")
        if _graph_kept(ImagePool):
            raise Mismatch("the stored images keep their graph", expected="stored images detached",
                           got="a gradient reaches an earlier batch's G through the pool", key="not_detached",
                           likely="store image.detach().clone(): a stored fake must not keep G's graph (it holds "
                                  "memory, and D's loss would backprop into an old G).")
        x = torch.randn(BATCH, 3, 4, 4)
        try:
            out = call(call(ImagePool, 0), x)
        except LearnerError as wrapped:
            raise Mismatch("a pool of size 0", expected="the images returned as they are", key="size_zero",
                           got=f"{type(wrapped.error).__name__}: {str(wrapped.error)[:100]}",
                           likely="if size == 0, return the images unchanged (no buffer).") from None
        if not isinstance(out, torch.Tensor) or not torch.equal(out, x):
            raise Mismatch("a pool of size 0", expected="the images returned as they are", got=describe(out),
                           key="size_zero", likely="if size == 0, return the images unchanged (no buffer).")
        return (f"fills first, then returns a stored image for {fraction:.0%} of 400 images (each swapped into its "
                "place), detached; size 0 passes images through.")

    return run_check("image_pool", body)
