"""The faces metric (faces_encoder.py, faces.py) and the feature-space metrics it uses (kid.py,
precision_recall.py), also on MNIST. The faces tests read real faces from the shared data and skip without it."""

import pytest
import torch

from gan_helpers.metrics import (
    faces_metrics,
    kernel_inception_distance,
    mnist_kid,
    mnist_precision_recall,
    precision_recall,
)
from gan_helpers.metrics.degrade import add_noise, blur, colour_shift, shuffle_patches, top_colour_clusters
from gan_helpers.metrics.faces_encoder import WEIGHTS, embed_faces

from conftest import shared_faces

N = 300           # faces per set: small enough for CI, large enough for the orderings below


def test_kid_is_near_zero_for_one_distribution_and_grows_with_the_difference():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(600, 16, generator=g), torch.randn(600, 16, generator=g)
    same = kernel_inception_distance(a, b, subset_size=300)
    near, far = (kernel_inception_distance(a, b + shift, subset_size=300).mean for shift in (0.3, 1.0))
    assert abs(same.mean) < 3 * same.std + 1e-3 and same.mean < near < far


def test_precision_and_recall_tell_missing_variety_from_wrong_samples():
    g = torch.Generator().manual_seed(0)
    real = torch.randn(1000, 8, generator=g)
    one_mode = real[real[:, 0] > 1.0]                        # real points, but only a corner of the data
    wrong = torch.randn(1000, 8, generator=g) + 3.0          # as varied, but off the data
    collapsed, off = precision_recall(real, one_mode), precision_recall(real, wrong)
    assert collapsed.precision > 0.95 and collapsed.recall < 0.5
    assert off.precision < 0.1
    same = precision_recall(real, torch.randn(1000, 8, generator=g))
    assert same.precision > 0.8 and same.recall > 0.8
    with pytest.raises(ValueError, match="k=3"):
        precision_recall(real, real[:3])


def test_mnist_kid_and_precision_recall_on_real_and_one_digit():
    from gan_helpers.data import load_mnist
    images, labels = load_mnist(limit=2000)                 # training digits, against 1000 test digits
    reference = load_mnist(train=False, limit=1000)[0]
    real = mnist_kid(images[:1000], reference=reference, subset_size=500)
    ones = images[labels == 1]
    assert real.mean < mnist_kid(ones, reference=reference, subset_size=len(ones)).mean
    pr_real = mnist_precision_recall(images[:1000], reference=reference)
    pr_ones = mnist_precision_recall(ones, reference=reference)
    assert pr_real.recall > 0.5 > pr_ones.recall and pr_ones.precision > 0.8


@pytest.fixture(scope="module")
def faces() -> tuple[torch.Tensor, torch.Tensor]:
    """2 x N real faces, uint8 (N, 3, 64, 64): two disjoint sets, read straight from the course's zip."""
    images = shared_faces(lambda order: order[: 2 * N])
    return images[:N], images[N:]


@pytest.fixture(scope="module")
def scores(faces):
    reference, real = faces
    ref_features = embed_faces(reference)
    damaged = {"real": real, "blur 1": blur(real, 1.0), "blur 2": blur(real, 2.0),          # two strengths each
               "noise 0.1": add_noise(real, 0.1), "noise 0.2": add_noise(real, 0.2),
               "colour 0.03": colour_shift(real, 0.03), "colour 0.12": colour_shift(real, 0.12),
               "patches 4": shuffle_patches(real, 4), "patches 8": shuffle_patches(real, 8)}
    both = torch.cat(faces)
    clusters = top_colour_clusters(both, 4)
    damaged["one colour"] = both[clusters == clusters.bincount().argmax()][:N]
    return {name: faces_metrics(x, ref_features, kid_subset_size=N // 2) for name, x in damaged.items()}


def test_the_encoder_ships_small():
    assert WEIGHTS.stat().st_size < 2_000_000
    total = sum(p.stat().st_size for p in WEIGHTS.parent.iterdir())
    assert total < 10_000_000, f"the package's weights take {total:,} bytes; the course allows 10 MB"


@pytest.mark.parametrize("kind", ["blur", "noise", "colour", "patches"])
def test_damage_scores_worse_in_the_order_of_its_strength(scores, kind):
    names = ["real"] + [n for n in scores if n.startswith(kind)]
    for metric in ("faces_fid", "faces_kid"):
        values = [scores[n][metric] for n in names]
        assert values == sorted(values), f"{metric} of {names}: {values}"


def test_two_halves_of_the_real_faces_score_near_zero(scores):
    real, weakest = scores["real"], ("blur 1", "noise 0.1", "colour 0.03", "patches 8")
    assert abs(real["faces_kid"]) < 0.2 * min(scores[n]["faces_kid"] for n in weakest)
    assert real["faces_fid"] < min(scores[n]["faces_fid"] for n in weakest)   # FID is biased upwards at N = 300
    assert real["faces_precision"] > 0.85 and real["faces_recall"] > 0.85


def test_one_hair_colour_loses_recall_not_precision(scores):
    real, one = scores["real"], scores["one colour"]
    assert real["faces_recall"] - one["faces_recall"] > 0.15
    assert real["faces_recall"] - one["faces_recall"] > 3 * abs(real["faces_precision"] - one["faces_precision"])


def test_noise_loses_precision_where_one_hair_colour_keeps_it(scores):
    """Noisy faces leave the real faces' k-NN balls (measured on 300 faces: precision 0.94 -> 0.81 at std 0.2,
    and recall falls further, 0.96 -> 0.33); real faces of one hair colour stay inside them (0.96)."""
    real, noisy, one = scores["real"], scores["noise 0.2"], scores["one colour"]
    assert real["faces_precision"] - noisy["faces_precision"] > 0.08
    assert real["faces_precision"] - one["faces_precision"] < 0.05


def test_faces_metrics_names_a_bad_reference():
    with pytest.raises(ValueError, match="reference"):
        faces_metrics(torch.zeros(4, 3, 64, 64, dtype=torch.uint8), torch.zeros(4, 3, 2))
