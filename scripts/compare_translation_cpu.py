"""Chapter 11's measurements on a CPU: pix2pix against L1 alone at equal wall-clock time, and CycleGAN on
MNIST <-> MNIST-M-style digits read back by the course's MNIST classifier.

    python scripts/compare_translation_cpu.py train pix2pix --data FACES --minutes 10 --out runs/tr-pix2pix &
    python scripts/compare_translation_cpu.py train l1 --data FACES --minutes 10 --out runs/tr-l1 &
    python scripts/compare_translation_cpu.py evaluate-faces runs/tr-pix2pix runs/tr-l1 --data FACES --out docs/
    python scripts/compare_translation_cpu.py train cyclegan --data DATA_ROOT --minutes 15 --out runs/tr-cycle
    python scripts/compare_translation_cpu.py evaluate-digits runs/tr-cycle --data DATA_ROOT --out docs/

FACES: the anime faces' folder. DATA_ROOT: a data folder as GAN_DATA_DIR names one, holding MNIST/ and, for
photographs behind the digits, cifar-10-batches-py/ (without it, procedural textures).

Start the two face trainings at the same time (one thread each), so that they share the machine's load.

faces: the faces shuffled with seed 0; the first half trains, the second half is held out (compare_faces_cpu.py's
split). Inputs are the
XDoG line drawings (data/sketch.py). G: UNetGenerator(features 32, max_features 256), batch 16, Adam
(2e-4, 0.5, 0.999); pix2pix adds a PatchGAN (34x34, features 32) and lambda = 100 (the faces-pix2pix preset's
game); L1 alone trains the same G on the L1 loss only (fit_l1). `evaluate-faces` translates 1,000 held-out
drawings with each G (eval mode) and measures the outputs with faces_metrics against those 1,000 held-out faces,
the mean L1 error to them, and sharpness: the mean |Laplacian| of the outputs over that of the real faces
(1: as sharp as real; blur lowers it).

digits: the mnist-cyclegan preset (its data too) at --features 16, batch 16, trained on MNIST's training set.
`evaluate-digits` uses MNIST's test set: its first 5,000 digits as A, the other 5,000 blended into B (seed 1).
It reports the classifier's accuracy (mnist_accuracy) on B -> A translations (against the identity mapping: B
read as it is), on A -> B -> A round trips (against A itself), the cycle errors, and the information CycleGAN
hides: the faint patterns G_BA leaves in the black of its digits (MNIST's black is exactly 0), and how far noise
of +-2 grey levels on G_BA's output moves the B -> A -> B round trip.
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import torch
from compare_faces_cpu import real_faces

from gan_helpers import TimeBudget, fit, fit_l1, sample_images
from gan_helpers.checkpoint import load_generator, save_generator
from gan_helpers.config import TrainConfig
from gan_helpers.data.batches import from_unit_range, to_unit_range
from gan_helpers.data.mnist_m import mnist_m_domains
from gan_helpers.data.pairs import PairedBatches
from gan_helpers.data.sketch import sketch
from gan_helpers.models import PatchDiscriminator, UNetGenerator
from gan_helpers.presets import PRESETS

PIX2PIX = TrainConfig(batch_size=16, game="pix2pix", l1_weight=100.0, device="cpu", n_samples=8)


def unet() -> UNetGenerator:
    return UNetGenerator(in_channels=1, out_channels=3, img_size=64, features=32, max_features=256)


def train(args) -> None:
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    if args.model == "cyclegan":
        preset = PRESETS["mnist-cyclegan"]
        G, D = preset.models(16)
        cfg = replace(preset.config, epochs=1000, device="cpu", n_samples=16,
                      checkpoint_dir=str(args.out / "checkpoints"))
        data = preset.data(cfg.batch_size, "cpu", root=args.data, progress=False)
        clock = TimeBudget(args.minutes * 60)
        history = fit(G, D, data, cfg, callbacks=[clock], progress=False)
        info = {"steps": history.steps, "backgrounds": data.background_source}
    else:
        faces, _ = real_faces(args.data, 64)
        data = PairedBatches(sketch(faces), faces, batch_size=PIX2PIX.batch_size)
        G = unet()
        if args.model == "pix2pix":
            D = PatchDiscriminator(in_channels=4, features=32, layers=2)
            cfg = replace(PIX2PIX, epochs=1000, checkpoint_dir=str(args.out / "checkpoints"))
            clock = TimeBudget(args.minutes * 60)
            history = fit(G, D, data, cfg, callbacks=[clock], progress=False)
            info = {"steps": history.steps}
        else:
            losses = fit_l1(G, data, seconds=args.minutes * 60)
            save_generator(G, args.out / "G.pt", epoch=0, step=len(losses), half=False)
            info = {"steps": len(losses)}
    info.update(seconds=round(time.perf_counter() - start, 1), threads=args.threads, minutes=args.minutes)
    (args.out / "train.json").write_text(json.dumps(info, indent=1))
    print(args.model, info, flush=True)


def _generator(run: Path):
    return load_generator(run / "G.pt" if (run / "G.pt").is_file() else run / "checkpoints")


def evaluate_faces(args) -> None:
    from gan_helpers.metrics import embed_faces, faces_metrics, sharpness_ratio
    from gan_helpers.plotting import save_grid

    _, held_out = real_faces(args.data, 64)
    real, drawings = held_out[: args.n], sketch(held_out[: args.n])
    reference = embed_faces(real)
    results, rows = {}, [drawings[:8].expand(-1, 3, -1, -1)]
    for run in args.runs:
        x_fake = sample_images(_generator(run), to_unit_range(drawings))    # G(drawing) for each, uint8
        metrics = faces_metrics(x_fake, reference)
        results[run.name] = {**json.loads((run / "train.json").read_text()),
                             **{k: round(v, 4) for k, v in metrics.items()},
                             "l1_error": round((x_fake.float() - real.float()).abs().mean().item() / 127.5, 4),
                             "sharpness_vs_real": round(sharpness_ratio(x_fake, real), 3)}
        rows.append(x_fake[:8])
        print(run.name, results[run.name], flush=True)
    rows.append(real[:8])
    args.out.mkdir(parents=True, exist_ok=True)
    save_grid(torch.cat(rows), args.out / "translation_faces.png", nrow=8)
    (args.out / "translation_faces.json").write_text(json.dumps(results, indent=1))


@torch.no_grad()
def evaluate_digits(args) -> None:
    from gan_helpers.metrics import mnist_accuracy
    from gan_helpers.plotting import save_grid

    x_a, y_a, x_b, y_b, source = mnist_m_domains(root=args.data, train=False, seed=1, rgb=True)
    G = _generator(args.runs[0]).eval()
    a, b = to_unit_range(x_a), to_unit_range(x_b)
    fake_b, fake_a = G.a_to_b(a), G.b_to_a(b)
    back_a, back_b = G.b_to_a(fake_b), G.a_to_b(fake_a)
    noise = torch.randint(-2, 3, fake_a.shape, generator=torch.Generator().manual_seed(0)) / 127.5
    back_b_noisy = G.a_to_b((fake_a + noise).clamp(-1, 1))
    background = a < -0.99                                         # MNIST's black: exactly -1 in A
    results = {
        **json.loads((args.runs[0] / "train.json").read_text()), "test_backgrounds": source,
        "accuracy_A_real": mnist_accuracy(x_a, y_a),
        "accuracy_B_identity": mnist_accuracy(x_b, y_b),
        "accuracy_B_to_A": mnist_accuracy(fake_a, y_b),
        "accuracy_A_to_B_to_A": mnist_accuracy(back_a, y_a),
        "cycle_error_A": (back_a - a).abs().mean().item(),
        "cycle_error_B": (back_b - b).abs().mean().item(),
        "B_flat_colour_error": (b - b.mean(dim=(2, 3), keepdim=True)).abs().mean().item(),
        "noise_on_B_to_A": noise.abs().mean().item(),
        "B_round_trip_moved_by_noise": (back_b_noisy - back_b).abs().mean().item(),
        "A_real_background_std": a[background].std().item(),
        "B_to_A_background_std": fake_a[fake_a < -0.5].std().item(),
    }
    results = {k: round(v, 4) if isinstance(v, float) else v for k, v in results.items()}
    print(results, flush=True)
    rows = [x_a[:8], from_unit_range(fake_b[:8]), from_unit_range(back_a[:8]), x_b[:8], from_unit_range(fake_a[:8]),
            from_unit_range(back_b[:8])]
    args.out.mkdir(parents=True, exist_ok=True)
    save_grid(torch.cat(rows), args.out / "translation_digits.png", nrow=8)
    (args.out / "translation_digits.json").write_text(json.dumps(results, indent=1))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train")
    t.add_argument("model", choices=["pix2pix", "l1", "cyclegan"])
    t.add_argument("--data", help="the faces folder (pix2pix, l1); the data root with MNIST/ and cifar-10-batches-py/ "
                   "(cyclegan; default: the repository's data/)")
    t.add_argument("--minutes", type=float, default=10.0)
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--out", type=Path, required=True)
    for name in ("evaluate-faces", "evaluate-digits"):
        e = sub.add_parser(name)
        e.add_argument("runs", type=Path, nargs="+")
        e.add_argument("--data", help="the faces folder (evaluate-faces); the data root (evaluate-digits)")
        e.add_argument("--n", type=int, default=1000)
        e.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    {"train": train, "evaluate-faces": evaluate_faces, "evaluate-digits": evaluate_digits}[args.command](args)


if __name__ == "__main__":
    main()
