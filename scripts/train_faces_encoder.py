"""Train the faces encoder behind the faces metrics and write the weights shipped in the package.

    python scripts/train_faces_encoder.py --data /tmp/faces/anime_faces_64   # -> gan_helpers/weights/faces_encoder.pt
    python scripts/train_faces_encoder.py --data FOLDER --minutes 2 --out /tmp/enc.pt   # a quick try

Why self-supervised: the faces have no labels, and the network must run offline. SimCLR (Chen et al.
2020) needs neither: each face is cropped twice at random, and the network (with a small projection
head, thrown away after training) is trained so that the two crops of a face are each other's nearest
neighbours among all crops of the batch (the NT-Xent loss, temperature 0.2). To tell a face from the
other faces of the batch, it must encode what the face looks like: hair colour and shape, eyes, skin,
composition.

Why only geometric augmentations (random resized crops of 35-100% of the area, aspect 3/4 to 4/3,
horizontal flips): SimCLR's colour jitter, grey scale and blur make features blind to colour and
sharpness, and a metric for generators must see a colour cast, blur and noise. Without colour
augmentation SimCLR can match crops partly by their colour histogram; for a metric that is a
feature, not a shortcut to avoid.

The run is seeded (seed 0) and budgeted in wall-clock minutes (default 12 on the course's 2-core
CPU); the faces are the course's anime faces (22,969 64x64 crops). Weights are saved as float16 (a
plain state_dict, torch.load(weights_only=True)). Results differ in the last digits across machines
and thread counts, not in substance. `scripts/faces_metric_evidence.py` shows what the features measure.
"""
from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from gan_helpers.data import atomic_save, load_image_folder, to_unit_range
from gan_helpers.metrics.faces_encoder import WEIGHTS, FacesEncoder


def random_resized_crops(x: torch.Tensor, generator: torch.Generator, *, scale=(0.35, 1.0),
                         ratio=(3 / 4, 4 / 3)) -> torch.Tensor:
    """One random crop per image (a fraction `scale` of its area, aspect `ratio`), resized back to the
    image's size, mirrored left-right half the time: all in one `grid_sample` over the batch."""
    B = len(x)
    area = torch.empty(B).uniform_(*scale, generator=generator)
    log_r = torch.empty(B).uniform_(math.log(ratio[0]), math.log(ratio[1]), generator=generator)
    aspect = log_r.exp()
    w, h = (area * aspect).sqrt().clamp(max=1), (area / aspect).sqrt().clamp(max=1)   # fractions of the side
    cx = (torch.rand(B, generator=generator) * 2 - 1) * (1 - w)                       # centre, in [-1, 1] units
    cy = (torch.rand(B, generator=generator) * 2 - 1) * (1 - h)
    flip = torch.where(torch.rand(B, generator=generator) < 0.5, -1.0, 1.0)
    theta = torch.zeros(B, 2, 3)
    theta[:, 0, 0], theta[:, 0, 2] = w * flip, cx
    theta[:, 1, 1], theta[:, 1, 2] = h, cy
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> torch.Tensor:
    """SimCLR's loss: for each of the 2B projections, cross-entropy of finding its partner among the other 2B - 1."""
    z = F.normalize(torch.cat([z1, z2]), dim=1)                  # (2B, d), unit length
    sim = z @ z.T / temperature                                  # (2B, 2B) cosine similarities
    sim.fill_diagonal_(float("-inf"))                            # a crop is not its own partner
    B = len(z1)
    partner = torch.cat([torch.arange(B, 2 * B), torch.arange(B)])
    return F.cross_entropy(sim, partner)


def train(images: torch.Tensor, *, minutes: float, batch_size: int, lr: float, temperature: float,
          seed: int) -> FacesEncoder:
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    encoder = FacesEncoder()
    head = nn.Sequential(nn.Linear(256, 256), nn.ReLU(inplace=True), nn.Linear(256, 128))  # projection, dropped
    params = list(encoder.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=lr, weight_decay=1e-6)
    start, step = time.monotonic(), 0
    budget = minutes * 60
    while (elapsed := time.monotonic() - start) < budget:
        for group in opt.param_groups:                           # cosine decay over the time budget
            group["lr"] = lr * 0.5 * (1 + math.cos(math.pi * elapsed / budget))
        idx = torch.randint(len(images), (batch_size,), generator=generator)
        x = to_unit_range(images[idx])
        x1, x2 = random_resized_crops(x, generator), random_resized_crops(x, generator)
        loss = nt_xent(head(encoder(x1)), head(encoder(x2)), temperature)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 25 == 0:
            print(f"step {step:5d}  {elapsed / 60:5.1f} min  loss {loss.item():.3f}", flush=True)
        step += 1
    print(f"trained {step} steps of {batch_size} faces x 2 crops in {(time.monotonic() - start) / 60:.1f} min")
    return encoder.eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="folder of the anime faces (unzipped anime_faces_64.zip)")
    parser.add_argument("--out", type=Path, default=WEIGHTS, help=f"weights file (default {WEIGHTS})")
    parser.add_argument("--minutes", type=float, default=12.0, help="training time budget (default 12)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--temperature", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.minutes <= 0 or args.batch_size < 2:
        parser.error("--minutes must be > 0 and --batch-size at least 2.")
    images = load_image_folder(args.data, size=64).images
    print(f"{len(images):,} faces from {args.data}")
    encoder = train(images, minutes=args.minutes, batch_size=args.batch_size, lr=args.lr,
                    temperature=args.temperature, seed=args.seed)
    state = {k: v.half() if v.is_floating_point() else v for k, v in encoder.state_dict().items()}
    atomic_save(state, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
