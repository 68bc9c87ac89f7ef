"""Train the MNIST classifier behind the MNIST metrics and write the weights shipped in the package.

    python scripts/train_mnist_classifier.py              # 3 epochs, seed 0 -> gan_helpers/weights/mnist_cnn.pt
    python scripts/train_mnist_classifier.py --evaluate   # test accuracy and FID sanity checks of that file

It trains `gan_helpers.metrics.MNISTClassifier` on the 60,000 MNIST training images of the
repository's data/MNIST/raw/ (Adam, cosine learning-rate decay, random shifts of up to 2 pixels),
seeded, then reports its accuracy on the 10,000 test images, which it never trains on or
selects by. The weights are a plain state_dict of tensors, readable with
torch.load(weights_only=True). Results can differ in the last digits across machines and
thread counts (floating-point summation order), not in substance.
"""
from __future__ import annotations

import argparse
import hashlib
import math
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from gan_helpers.data import atomic_save, load_mnist, to_unit_range
from gan_helpers.metrics import feature_stats, frechet_distance, mode_coverage
from gan_helpers.metrics.mnist_classifier import WEIGHTS, MNISTClassifier


def random_shift(x: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Move every image by its own random offset of up to `max_shift` pixels; the border is background (-1)."""
    if max_shift == 0:
        return x
    B, C, H, W = x.shape
    padded = F.pad(x, (max_shift,) * 4, value=-1.0)                              # (B, C, H + 2m, W + 2m)
    dy, dx = torch.randint(0, 2 * max_shift + 1, (2, B, 1), generator=generator)
    rows, cols = dy + torch.arange(H), dx + torch.arange(W)                      # (B, H), (B, W)
    out = padded[torch.arange(B)[:, None, None], :, rows[:, :, None], cols[:, None, :]]  # (B, H, W, C)
    return out.permute(0, 3, 1, 2).contiguous()


@torch.no_grad()
def outputs(model: MNISTClassifier, images: torch.Tensor, batch_size: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """Features (N, 128) and logits (N, 10) of uint8 or [-1, 1] float images."""
    model.eval()
    feats = [model.features(to_unit_range(x) if x.dtype == torch.uint8 else x) for x in images.split(batch_size)]
    return torch.cat(feats), model.head(torch.cat(feats))


def accuracy(model: MNISTClassifier, images: torch.Tensor, labels: torch.Tensor) -> float:
    return (outputs(model, images)[1].argmax(1) == labels).float().mean().item()


def evaluate(path: Path) -> None:
    """Test accuracy, size, and FIDs that show what the features measure: real vs real, noise, lost modes."""
    model = MNISTClassifier()
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    x_train, y_train = load_mnist(train=True)
    x_test, y_test = load_mnist(train=False)
    test_acc = accuracy(model, x_test, y_test.long())
    print(f"{path}: {path.stat().st_size:,} bytes; TEST ACCURACY {test_acc:.4f} "
          f"({round((1 - test_acc) * len(x_test))} of {len(x_test)} wrong)")
    reference = feature_stats(outputs(model, x_test)[0])
    g = torch.Generator().manual_seed(0)
    first = to_unit_range(x_train[:5000])
    cases = {f"{n:>5} real training images": x_train[:n] for n in (1000, 2000, 5000, 10000)}
    for sd in (0.1, 0.25, 0.5, 1.0):  # Gaussian pixel noise, in units of the [-1, 1] range
        noisy = first + sd * torch.randn(first.shape, generator=g)
        cases[f" 5000 training images + noise sd {sd}"] = noisy.clamp(-1, 1)
    cases[" 5000 training images of digits 0-4 only"] = x_train[y_train < 5][:5000]
    cases[" 5000 training images of digit 1 only"] = x_train[y_train == 1][:5000]
    cases[" 5000 uniform-noise images"] = torch.rand(5000, 1, 28, 28, generator=g) * 2 - 1
    print("MNIST FID against the 10,000 test images, with classes covered (>= 1%) and normalised entropy:")
    for name, images in cases.items():
        features, logits = outputs(model, images)
        coverage = mode_coverage(logits.argmax(1))
        print(f"  {name:<42} FID {frechet_distance(features, reference):8.3f}   "
              f"classes {coverage.classes_covered:2d}   entropy {coverage.entropy:.3f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--max-shift", type=int, default=2, help="random shift in pixels (augmentation)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=WEIGHTS, help="the weights file to write (or --evaluate)")
    parser.add_argument("--evaluate", action="store_true", help="only evaluate the weights in --out")
    args = parser.parse_args(argv)
    if args.evaluate:
        return evaluate(args.out)

    torch.manual_seed(args.seed)
    shuffle = torch.Generator().manual_seed(args.seed)
    x_train, y_train = load_mnist(train=True)   # uint8 (60000, 1, 28, 28), labels (60000,)
    x_test, y_test = load_mnist(train=False)    # uint8 (10000, 1, 28, 28): only for the final report
    y_train, y_test = y_train.long(), y_test.long()
    model = MNISTClassifier()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    steps_per_epoch = len(x_train) // args.batch_size
    total = args.epochs * steps_per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / total)))
    print(f"MNISTClassifier: {sum(p.numel() for p in model.parameters()):,} parameters, "
          f"{args.epochs} epochs x {steps_per_epoch} steps of {args.batch_size}, {torch.get_num_threads()} threads")

    start = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        order, running = torch.randperm(len(x_train), generator=shuffle), 0.0
        for i in range(steps_per_epoch):
            idx = order[i * args.batch_size:(i + 1) * args.batch_size]
            x = random_shift(to_unit_range(x_train[idx]), args.max_shift, shuffle)
            loss = F.cross_entropy(model(x), y_train[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            running += loss.item()
        print(f"epoch {epoch + 1}: mean training loss {running / steps_per_epoch:.4f}, "
              f"{time.perf_counter() - start:.0f} s so far", flush=True)
    seconds = time.perf_counter() - start

    train_acc, test_acc = accuracy(model, x_train, y_train), accuracy(model, x_test, y_test)
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    atomic_save(state, args.out)
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    print(f"training time {seconds:.0f} s; train accuracy {train_acc:.4f}; TEST ACCURACY {test_acc:.4f} "
          f"({round((1 - test_acc) * len(x_test))} of {len(x_test)} wrong)")
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes, sha256 {digest[:16]}...)")
    evaluate(args.out)


if __name__ == "__main__":
    main()
