"""What the faces metric measures: real faces against real faces, damaged faces and a DCGAN's checkpoints.

    python scripts/faces_metric_evidence.py --data /tmp/faces/anime_faces_64 [--n 2000] [--dcgan-run RUN]

The faces are shuffled with seed 0 and split in two disjoint halves: the first half is the reference,
`--n` faces of the second half are the "generated" set, damaged in the ways of degrade.py at three
strengths each (noise at four). A subset with one hair colour (the largest of 4 k-means clusters of the
mean colour of the images' top quarter) checks that missing variety costs recall, not precision. With `--dcgan-run`, the
checkpoints of a run of scripts/compare_faces_cpu.py are measured too (G_ema, `--n` faces, seed 1).
Prints a Markdown table (FID, KID x 1000, precision, recall) and writes it to `--json`.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from gan_helpers.data import load_image_folder
from gan_helpers.metrics import embed_faces, faces_metrics
from gan_helpers.metrics.degrade import add_noise, blur, colour_shift, shuffle_patches, top_colour_clusters


def cases(held_out: torch.Tensor, n: int) -> list[tuple[str, torch.Tensor]]:
    x = held_out[:n]
    rows = [("real faces (the other half)", x)]
    rows += [(f"blur sigma {s} px", blur(x, s)) for s in (0.5, 1.0, 2.0)]
    rows += [(f"noise std {s}", add_noise(x, s)) for s in (0.05, 0.1, 0.2, 0.3)]
    rows += [(f"colour shift {d}", colour_shift(x, d)) for d in (0.03, 0.06, 0.12)]
    rows += [(f"patches shuffled, {g}x{g}", shuffle_patches(x, g)) for g in (2, 4, 8)]
    clusters = top_colour_clusters(held_out, 4)
    biggest = clusters.bincount().argmax()
    one_colour = held_out[clusters == biggest][:n]
    rows.append((f"one hair colour ({len(one_colour)} faces of the largest of 4 clusters)", one_colour))
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="folder of the anime faces")
    p.add_argument("--n", type=int, default=2000, help="faces per set (default 2000)")
    p.add_argument("--dcgan-run", type=Path, help="a run folder of scripts/compare_faces_cpu.py")
    p.add_argument("--json", type=Path, default=Path("faces_metric_evidence.json"))
    args = p.parse_args()
    images = load_image_folder(args.data, size=64, progress=False).images
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))
    reference, held_out = images[order[: len(images) // 2]], images[order[len(images) // 2:]]
    ref_features = embed_faces(reference[: args.n])
    rows = [(name, x) for name, x in cases(held_out, args.n)]
    if args.dcgan_run:
        from gan_helpers import sample_images, sample_z
        from gan_helpers.checkpoint import list_checkpoints, load_generator
        from gan_helpers.metrics.faces import resize_faces

        times = json.loads((args.dcgan_run / "times.json").read_text())
        for path in list_checkpoints(args.dcgan_run / "checkpoints"):
            G = load_generator(path)
            x = sample_images(G, sample_z(args.n, G.latent_dim, seed=1))
            t = times.get(str(G.checkpoint["epoch"]), {}).get("seconds", float("nan")) / 60
            rows.append((f"DCGAN step {G.checkpoint['step']} ({t:.0f} min)", resize_faces(x, 64)))
    results = []
    print(f"| set ({args.n} faces unless said) | FID | KID x 1000 | precision | recall |\n|---|---|---|---|---|")
    for name, x in rows:
        m = faces_metrics(x, ref_features)
        results.append({"set": name, **m})
        print(f"| {name} | {m['faces_fid']:.2f} | {1000 * m['faces_kid']:.2f} | {m['faces_precision']:.3f} | "
              f"{m['faces_recall']:.3f} |", flush=True)
    args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
