"""How long one update of the latent explorer takes on this machine (not a test: run it by hand).

    .venv/bin/python tests/_widget_speed.py [--updates 200] [--threads N]   (N = 0: torch's own setting)

For the course's three generator sizes (chapter 01's MNIST MLP, chapter 02's MNIST DCGAN and the
64 px 3-channel DCGAN of chapter 04; weights do not change the speed), moves the direction sliders
`--updates` times, as a drag does, and prints the median and 90th percentile of the time per update:
z, G(z) in eval mode without gradients, PNG encoding and the assignment to the Image widget.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile

import torch

from gan_helpers.latent import ganspace_directions
from gan_helpers.models import DCGANGenerator, MLPGenerator
from gan_helpers.widgets import latent_explorer

GENERATORS = {
    "MNIST MLP (01)": lambda: MLPGenerator(latent_dim=128, hidden_dims=(256, 512), batch_norm=True),
    "MNIST DCGAN (02)": lambda: DCGANGenerator(latent_dim=100, img_size=28, channels=1, features=32),
    "64px RGB DCGAN (04)": lambda: DCGANGenerator(latent_dim=100, img_size=64, channels=3, features=64),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads while drawing, as latent_explorer(threads=...); 0: torch's setting")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, drawing with {args.threads or torch.get_num_threads()} thread(s), "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    for name, build in GENERATORS.items():
        torch.manual_seed(0)
        G = build()
        directions = ganspace_directions(G, n_components=6, n_samples=256)
        with tempfile.TemporaryDirectory() as folder:
            explorer = latent_explorer(G, directions=directions, save_dir=folder, threads=args.threads or None)
            for i in range(10):  # warm-up
                explorer.sliders[0].value = i / 10
            explorer.update_ms.clear()
            for i in range(args.updates):  # a drag: small steps on one slider, then the next
                explorer.sliders[(i // 20) % 6].value = round(-3 + 6 * (i % 20) / 19, 1)
        ms = sorted(explorer.update_ms)
        print(f"{name:>20}: median {statistics.median(ms):6.1f} ms, 90th percentile "
              f"{ms[int(0.9 * len(ms))]:6.1f} ms over {len(ms)} updates")


if __name__ == "__main__":
    main()
