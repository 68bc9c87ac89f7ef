"""The image history buffer of Shrivastava et al. (2017), as CycleGAN uses it.

D trained only on G's newest images chases G: it forgets what G drew a few hundred steps ago, and G can
return there. The pool keeps `size` of G's earlier images, and half of what D is shown comes from it:

    for each new image:
        pool not full yet      -> store it, and show it
        else, with prob. 1/2   -> show a stored image picked at random, and store the new one in its place
        else                   -> show the new image

The random numbers come from torch's global generator, so a seeded run (and a resumed one: fit saves
the generator and the pool in its checkpoints) shows D the same images.
"""
from __future__ import annotations

import torch


class ImagePool:
    """`pool(x_fake)` -> a batch of the same shape, half of it (once full) G's earlier images; size 0: x_fake."""

    def __init__(self, size: int = 50):
        if size < 0:
            raise ValueError(f"ImagePool size must be 0 (no pool) or more (the paper's 50), got {size}.")
        self.size = size
        self.images: list[torch.Tensor] = []           # (C, H, W) each, detached copies

    def __call__(self, x_fake: torch.Tensor) -> torch.Tensor:
        if self.size == 0:
            return x_fake
        shown = []
        for image in x_fake.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                shown.append(image)
            elif torch.rand(1).item() < 0.5:
                i = int(torch.randint(self.size, (1,)).item())
                shown.append(self.images[i].to(image.device))
                self.images[i] = image.clone()
            else:
                shown.append(image)
        return torch.stack(shown)

    def state_dict(self) -> dict:
        """The stored images as one CPU tensor (N, C, H, W) (empty while nothing is stored)."""
        return {"images": torch.stack(self.images).cpu() if self.images else torch.empty(0)}

    def load_state_dict(self, state: dict) -> None:
        images = state["images"]
        if len(images) > self.size:
            raise ValueError(f"The saved pool holds {len(images)} images, more than this pool's size {self.size}.")
        self.images = list(images.unbind(0))
