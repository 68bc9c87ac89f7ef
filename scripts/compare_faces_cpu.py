"""Chapter 04's DCGAN (with its EMA) against the style-based G at equal wall-clock time, by the faces metric.

    python scripts/compare_faces_cpu.py train dcgan --data FACES --minutes 30 --out runs/cmp-dcgan &
    python scripts/compare_faces_cpu.py train style --data FACES --minutes 30 --out runs/cmp-style &
    python scripts/compare_faces_cpu.py evaluate runs/cmp-dcgan runs/cmp-style --data FACES --out docs/
    python scripts/compare_faces_cpu.py ship runs/cmp-style --data FACES --out gan_helpers/weights/anime-stylegan-32.pt
    python scripts/compare_faces_cpu.py train style --set r1_gamma=0 ...      # a recipe with one change (ablations)

Start the two trainings at the same time, so that they share the machine's load equally. Each trains for a
wall-clock budget (`--minutes`), writing a checkpoint every `--every` steps (all kept) and the training
time of each into OUT/times.json. `evaluate` draws `--n` faces from G_ema (or G: `--without-ema`) of
every checkpoint (seed 1), measures them with `faces_metrics` against `--n` real faces (the faces the
metric's evidence also uses: the second half of a seeded shuffle), writes OUT/faces_comparison.json and a
picture of each run's last checkpoint. Both models work at `--size` (32 or 64) px; the real faces are resized to it.

    dcgan: DCGANGenerator/Discriminator(features 32), Adam(2e-4, 0.5), batch 128, EMA 0.999 (anime-dcgan's)
    style: StyleGenerator/ResidualDiscriminator(features 16), the anime-stylegan preset's settings (batch 32)
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import torch

from gan_helpers import fit, sample_images, sample_z
from gan_helpers.checkpoint import list_checkpoints, load_generator
from gan_helpers.data import TensorBatches, load_image_folder
from gan_helpers.metrics import embed_faces, faces_metrics
from gan_helpers.metrics.faces import resize_faces
from gan_helpers.models import DCGANDiscriminator, DCGANGenerator
from gan_helpers.presets import PRESETS


def models_and_config(kind: str, size: int):
    if kind == "dcgan":
        G, D = DCGANGenerator(img_size=size, features=32), DCGANDiscriminator(img_size=size, features=32)
        return G, D, PRESETS["anime-dcgan"].config
    preset = PRESETS["anime-stylegan" if size == 64 else "anime-stylegan-32"]
    G, D = preset.models()
    return G, D, preset.config


class Budget:
    """A fit callback that stops training after `minutes` of wall-clock time and records when each epoch ended."""

    def __init__(self, minutes: float, out: Path, *, resume: bool = False):
        self.seconds, self.out = minutes * 60, out
        self.times = json.loads((out / "times.json").read_text()) if resume else {}
        before = max((t["seconds"] for t in self.times.values()), default=0.0)   # a resumed run's clock goes on
        self.start = time.monotonic() - before

    def __call__(self, event: str, run) -> None:
        if event == "epoch_end":
            self.times[str(run.epoch)] = {"seconds": time.monotonic() - self.start, "step": run.step}
            (self.out / "times.json").write_text(json.dumps(self.times, indent=1))
        if event == "epoch_end" and time.monotonic() - self.start > self.seconds:   # stop at a checkpoint
            run.stop = True


def real_faces(data: str, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The faces shuffled with seed 0 (the metric evidence's split): (training half, held-out half), at `size`."""
    images = load_image_folder(data, size=64, progress=False).images
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))
    images = resize_faces(images[order], size)
    return images[: len(images) // 2], images[len(images) // 2:]


def train(args) -> None:
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    G, D, cfg = models_and_config(args.model, args.size)
    train_faces, _ = real_faces(args.data, args.size)
    cfg = replace(cfg, epochs=100_000, max_steps_per_epoch=args.every, checkpoint_dir=str(args.out / "checkpoints"),
                  keep_checkpoints=100_000, device="cpu", n_samples=16, **dict(args.set))
    args.out.mkdir(parents=True, exist_ok=True)
    data = TensorBatches(train_faces, batch_size=cfg.batch_size)
    print(f"{args.model}: G {sum(p.numel() for p in G.parameters()):,} weights, D "
          f"{sum(p.numel() for p in D.parameters()):,}; batch {cfg.batch_size}; {args.minutes} min", flush=True)
    fit(G, D, data, cfg, callbacks=[Budget(args.minutes, args.out, resume=args.resume)], progress=False,
        resume=args.resume)


def evaluate(args) -> None:
    from gan_helpers.plotting import save_grid

    torch.set_num_threads(1)

    results = {}
    for run in args.runs:
        times = json.loads((run / "times.json").read_text())
        size = None
        rows = []
        paths = list_checkpoints(run / "checkpoints")
        for path in paths[args.stride - 1::args.stride] + ([paths[-1]] if len(paths) % args.stride else []):
            G = load_generator(path, ema=not args.without_ema)
            size = G.img_shape[-1]
            if size not in results.get("_reference", {}):
                _, held_out = real_faces(args.data, size)
                results.setdefault("_reference", {})[size] = embed_faces(held_out[: args.n])
            x_fake = sample_images(G, sample_z(args.n, G.latent_dim, seed=1))
            m = faces_metrics(x_fake, results["_reference"][size])
            t = times[str(G.checkpoint["epoch"])]
            rows.append({"epoch": G.checkpoint["epoch"], "step": G.checkpoint["step"], "minutes": t["seconds"] / 60,
                         **{k: round(v, 4) for k, v in m.items()}})
            print(run.name, rows[-1], flush=True)
        results[str(run)] = rows
        save_grid(sample_images(G, sample_z(64, G.latent_dim, seed=2)), args.out / f"{run.name}_samples.png", nrow=8)
    results.pop("_reference")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "faces_comparison.json").write_text(json.dumps(results, indent=1))


def ship(args) -> None:
    """Write G_ema of a run's newest checkpoint as the package's shipped style G (float16, G only), with the
    faces metric of `--n` of its faces (seed 1) against `--n` held-out real faces in the file."""
    from gan_helpers.checkpoint import save_generator

    torch.set_num_threads(1)
    path = list_checkpoints(args.run / "checkpoints")[-1]
    G = load_generator(path)
    size = G.img_shape[-1]
    _, held_out = real_faces(args.data, size)
    m = faces_metrics(sample_images(G, sample_z(args.n, G.latent_dim, seed=1)), held_out[: args.n])
    minutes = json.loads((args.run / "times.json").read_text())[str(G.checkpoint["epoch"])]["seconds"] / 60
    metrics = {**{k: round(float(v), 4) for k, v in m.items()}, "train_minutes": round(minutes, 1)}
    out = save_generator(G, args.out, epoch=G.checkpoint["epoch"], step=G.checkpoint["step"], metrics=metrics)
    print(f"wrote {out} ({out.stat().st_size:,} bytes) from {path}: {metrics}")


def setting(text: str) -> tuple[str, object]:
    """FIELD=VALUE of --set: VALUE as a Python literal (0, 1e-3, None) or else as text."""
    import ast
    from dataclasses import fields

    from gan_helpers import TrainConfig

    field, _, value = text.partition("=")
    known = [f.name for f in fields(TrainConfig)]
    if field not in known:
        raise argparse.ArgumentTypeError(f"{field!r} is not a TrainConfig field; the fields are {', '.join(known)}")
    try:
        return field, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return field, value


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train")
    t.add_argument("model", choices=("dcgan", "style"))
    t.add_argument("--data", required=True, help="folder of the anime faces")
    t.add_argument("--minutes", type=float, default=30.0)
    t.add_argument("--size", type=int, choices=(32, 64), default=32)
    t.add_argument("--every", type=int, default=25, help="steps between checkpoints")
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("--threads", type=int, default=1, help="torch threads (1: least waiting on a busy machine)")
    t.add_argument("--resume", action="store_true", help="go on from OUT's newest checkpoint, until --minutes in all")
    t.add_argument("--set", type=setting, action="append", default=[], metavar="FIELD=VALUE",
                   help="change a field of the recipe's TrainConfig: r1_gamma=0, diff_augment=color,translation")
    e = sub.add_parser("evaluate")
    e.add_argument("runs", type=Path, nargs="+")
    e.add_argument("--data", required=True)
    e.add_argument("--n", type=int, default=1000)
    e.add_argument("--out", type=Path, required=True)
    e.add_argument("--stride", type=int, default=1, help="measure every STRIDE-th checkpoint (and the last)")
    e.add_argument("--without-ema", action="store_true", help="measure G itself instead of G_ema")
    h = sub.add_parser("ship", help="write a style run's G_ema as the package's shipped generator")
    h.add_argument("run", type=Path)
    h.add_argument("--data", required=True)
    h.add_argument("--n", type=int, default=1000)
    h.add_argument("--out", type=Path, required=True, help="for example gan_helpers/weights/anime-stylegan-32.pt")
    args = p.parse_args()
    {"train": train, "evaluate": evaluate, "ship": ship}[args.command](args)


if __name__ == "__main__":
    main()
