"""Metrics: the Fréchet distance against closed forms, the shipped MNIST classifier on the real test set,
MNIST FID and mode coverage on real digits, Inception FID's offline error, and the fit callback."""
import math
import sys

import matplotlib
import pytest
import torch

matplotlib.use("Agg")

from gan_helpers import History, fit, load_checkpoint, load_mnist, plot_history, to_unit_range  # noqa: E402
from gan_helpers.metrics import (  # noqa: E402
    FeatureStats,
    InceptionWeightsError,
    MetricsCallback,
    classify,
    classify_mnist,
    feature_stats,
    find_inception_weights,
    frechet_distance,
    gaussian_frechet_distance,
    load_mnist_classifier,
    mnist_accuracy,
    mnist_fid,
    mnist_metrics,
    mnist_mode_coverage,
    mnist_reference_stats,
    mode_coverage,
)
from gan_helpers.metrics import inception as inception_module  # noqa: E402
from gan_helpers.metrics.mnist_classifier import WEIGHTS  # noqa: E402

from conftest import SHARED_DATA, tiny_config, tiny_data, tiny_models  # noqa: E402


@pytest.fixture(scope="module")
def mnist_test():
    """The 10,000 real MNIST test images (uint8) and labels."""
    return load_mnist(train=False)


@pytest.fixture(scope="module")
def mnist_test_outputs():
    """The shipped classifier's features (10000, 128) and logits (10000, 10) of the test images (cached: the
    same pass gives mnist_fid's default reference)."""
    return classify_mnist()


@pytest.fixture(scope="module")
def mnist_train_1k():
    return load_mnist(limit=1000)[0]


# --- The Fréchet distance -------------------------------------------------------------------------------------

def test_fid_of_a_set_with_itself_is_zero():
    x = torch.randn(500, 16, dtype=torch.float64) @ torch.randn(16, 16, dtype=torch.float64)  # correlated
    assert frechet_distance(x, x) < 1e-9
    assert frechet_distance(x, x + 1.0) == pytest.approx(16.0, rel=1e-9)  # a shift only moves the mean


def test_closed_form_in_one_dimension_and_for_diagonal_covariances():
    # 1-D: d^2 = (m1 - m2)^2 + (s1 - s2)^2
    t = torch.tensor
    d2 = gaussian_frechet_distance(t([1.0]), t([[4.0]]), t([3.0]), t([[9.0]]))  # N(1, 2^2) and N(3, 3^2)
    assert d2 == pytest.approx((1 - 3) ** 2 + (2 - 3) ** 2)
    # diagonal: d^2 = |m1 - m2|^2 + sum (sqrt(a) - sqrt(b))^2
    a, b = torch.tensor([1.0, 4.0, 0.25]), torch.tensor([9.0, 1.0, 0.0])  # b singular: one zero variance
    m1, m2 = torch.tensor([0.0, 1.0, 2.0]), torch.tensor([1.0, 1.0, 0.0])
    expected = ((m1 - m2) ** 2).sum() + ((a.sqrt() - b.sqrt()) ** 2).sum()
    assert gaussian_frechet_distance(m1, torch.diag(a), m2, torch.diag(b)) == pytest.approx(expected.item())


def test_closed_form_for_non_commuting_covariances():
    # For 2x2 PSD M, tr sqrt(M) = sqrt(tr M + 2 sqrt(det M)); with M = S1^1/2 S2 S1^1/2:
    # d^2 = |m1 - m2|^2 + tr S1 + tr S2 - 2 sqrt(tr(S1 S2) + 2 sqrt(det S1 det S2))
    s1 = torch.tensor([[2.0, 0.8], [0.8, 1.0]], dtype=torch.float64)
    s2 = torch.tensor([[1.0, -0.5], [-0.5, 3.0]], dtype=torch.float64)
    assert not torch.allclose(s1 @ s2, s2 @ s1)
    m1, m2 = torch.tensor([0.0, 0.0]), torch.tensor([1.0, -2.0])
    cross = math.sqrt((s1 @ s2).trace() + 2 * math.sqrt(s1.det() * s2.det()))
    expected = 5.0 + s1.trace() + s2.trace() - 2 * cross
    assert gaussian_frechet_distance(m1, s1, m2, s2) == pytest.approx(expected.item(), rel=1e-10)
    assert gaussian_frechet_distance(m2, s2, m1, s1) == pytest.approx(expected.item(), rel=1e-10)  # symmetric


def test_samples_of_two_known_gaussians_approach_the_closed_form():
    g = torch.Generator().manual_seed(0)
    a_root = torch.tensor([[1.0, 0.0, 0.0], [0.5, 1.0, 0.0], [0.2, -0.3, 0.7]], dtype=torch.float64)
    b_root = torch.tensor([[2.0, 0.0, 0.0], [-0.4, 0.5, 0.0], [0.0, 0.6, 1.2]], dtype=torch.float64)
    m_a, m_b = torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64), torch.tensor([1.0, 0.0, 0.5], dtype=torch.float64)
    x = m_a + torch.randn(200_000, 3, generator=g, dtype=torch.float64) @ a_root.T  # cov = a_root a_root^T
    y = m_b + torch.randn(200_000, 3, generator=g, dtype=torch.float64) @ b_root.T
    exact = gaussian_frechet_distance(m_a, a_root @ a_root.T, m_b, b_root @ b_root.T)
    assert frechet_distance(x, y) == pytest.approx(exact, rel=0.02)
    stats = feature_stats(x)
    assert isinstance(stats, FeatureStats) and stats.n == 200_000
    torch.testing.assert_close(stats.cov, a_root @ a_root.T, atol=0.02, rtol=0)


def test_fid_agrees_with_torchmetrics_where_installed():
    fid_module = pytest.importorskip("torchmetrics.image.fid")
    g = torch.Generator().manual_seed(1)
    a = torch.randn(300, 8, generator=g, dtype=torch.float64)
    mix = torch.randn(8, 8, generator=g, dtype=torch.float64)
    b = torch.randn(400, 8, generator=g, dtype=torch.float64) @ mix + 0.3
    sa, sb = feature_stats(a), feature_stats(b)
    theirs = fid_module._compute_fid(sa.mean, sa.cov, sb.mean, sb.cov).item()
    assert frechet_distance(a, b) == pytest.approx(theirs, rel=1e-8)


def test_feature_sets_of_different_sizes_are_refused():
    with pytest.raises(ValueError, match="different dimensions"):
        frechet_distance(torch.randn(10, 3), torch.randn(10, 4))
    with pytest.raises(ValueError, match="N >= 2"):
        feature_stats(torch.randn(1, 3))


# --- The shipped MNIST classifier, MNIST FID and mode coverage on real digits ---------------------------------

def test_shipped_classifier_reaches_99_percent_on_the_real_mnist_test_set(mnist_test, mnist_test_outputs):
    assert WEIGHTS.stat().st_size <= 2 * 1024 * 1024
    state = torch.load(WEIGHTS, weights_only=True)  # plain tensors only
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    labels = mnist_test[1]
    features, logits = mnist_test_outputs
    assert features.shape == (10_000, 128) and logits.shape == (10_000, 10)
    torch.testing.assert_close(classify(mnist_test[0][:100])[1], logits[:100])
    accuracy = (logits.argmax(1) == labels.long()).float().mean().item()
    assert accuracy >= 0.99, accuracy


def test_mnist_fid_is_zero_for_the_same_images_and_grows_with_noise(mnist_train_1k, mnist_test_outputs):
    x = to_unit_range(mnist_train_1k[:500])  # float in [-1, 1]
    assert mnist_fid(x, x) < 1e-6
    g = torch.Generator().manual_seed(0)
    noise = torch.randn(x.shape, generator=g)
    fids = [mnist_fid((x + sigma * noise).clamp(-1, 1)) for sigma in (0.0, 0.25, 0.5, 1.0)]  # vs the test set
    assert all(a < b for a, b in zip(fids, fids[1:], strict=False)), fids
    assert fids[0] < 12 and fids[-1] > 100 * fids[0], fids  # real training digits are close to the test digits


def test_uint8_and_float_images_give_the_same_numbers(mnist_train_1k):
    x = mnist_train_1k[:500]
    reference = mnist_reference_stats()  # the test set's statistics, computed once and cached
    assert mnist_fid(x, reference) == pytest.approx(mnist_fid(to_unit_range(x), reference), rel=1e-6)
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        mnist_fid(x.float())                      # 0..255 as float: refused, not misread
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        mnist_fid(torch.zeros(4, 3, 32, 32, dtype=torch.uint8))


def test_coverage_of_one_digit_is_one_class_and_of_all_digits_is_ten(mnist_test, mnist_test_outputs):
    images, labels = mnist_test
    predicted = mnist_test_outputs[1].argmax(1)
    for digit in range(10):  # all 980 zeros, all 1,135 ones, ...: one class each
        one = mode_coverage(predicted[labels == digit])
        assert one.classes_covered == 1 and one.counts[digit] == max(one.counts) and one.entropy < 0.1, (digit, one)
    sevens = mnist_mode_coverage(images[labels == 7][:300])  # the same, from images
    assert sevens.classes_covered == 1 and sevens.counts[7] >= 295
    everything = mode_coverage(predicted)
    assert everything.classes_covered == 10 and everything.entropy > 0.99


def test_mnist_accuracy_reads_grey_and_colour_digits_against_their_labels():
    """Real test digits read as their labels (over 99%), as wrong labels rarely; the same digits as grey RGB, uint8
    or in [-1, 1], read exactly as the grey ones (a translator's output is colour)."""
    images, labels = load_mnist(train=False, limit=500)
    right = mnist_accuracy(images, labels)
    assert right > 0.99 and mnist_accuracy(images, (labels + 1) % 10) < 0.02
    rgb = images.expand(-1, 3, -1, -1)
    assert mnist_accuracy(rgb, labels) == right == mnist_accuracy(to_unit_range(rgb), labels)


def test_mode_coverage_counts_entropy_and_threshold():
    labels = torch.tensor([0] * 500 + [1] * 495 + [2] * 5)  # class 2 has 0.5%: below the 1% threshold
    cov = mode_coverage(labels)
    assert cov.counts == (500, 495, 5) + (0,) * 7 and cov.classes_covered == 2
    p = torch.tensor([0.5, 0.495, 0.005], dtype=torch.float64)
    assert cov.entropy == pytest.approx((-(p * p.log()).sum() / math.log(10)).item())
    assert mode_coverage(torch.arange(10).repeat(7)).entropy == pytest.approx(1.0)
    assert mode_coverage(torch.full((9,), 3)).entropy == 0.0
    with pytest.raises(ValueError, match="0 .. 9"):
        mode_coverage(torch.tensor([10]))


# --- Inception FID: where the weights come from, and the error offline ----------------------------------------

def test_inception_weights_offline_error_says_which_file_where_and_which_url(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "_hub_dir", str(tmp_path / "hub"))  # an empty cache
    monkeypatch.delenv(inception_module.WEIGHTS_ENV, raising=False)
    # A real failed download: nothing listens on port 9 of this machine, as offline nothing answers.
    with pytest.raises(InceptionWeightsError) as err:
        find_inception_weights(url="http://127.0.0.1:9/weights-inception-2015-12-05-6726825d.pth")
    message = str(err.value)
    for needed in ("Could not download", "weights-inception-2015-12-05-6726825d.pth", str(tmp_path / "hub"),
                   inception_module.FID_WEIGHTS_URL, "GAN_INCEPTION_WEIGHTS", "weights="):
        assert needed in message
    assert not list((tmp_path / "hub").rglob("*.pth"))  # no half-written file left behind
    with pytest.raises(InceptionWeightsError, match="download=False"):
        find_inception_weights(download=False)
    with pytest.raises(InceptionWeightsError, match="is not a file"):
        find_inception_weights(tmp_path / "missing.pth")


def test_inception_weights_are_found_in_the_cache_or_through_the_environment(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "_hub_dir", str(tmp_path / "hub"))
    monkeypatch.delenv(inception_module.WEIGHTS_ENV, raising=False)
    cached = tmp_path / "hub" / "checkpoints" / "pt_inception-2015-12-05-6726825d.pth"  # pytorch-fid's name
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"x")
    assert find_inception_weights(download=False) == cached
    elsewhere = tmp_path / "my_inception.pth"
    elsewhere.write_bytes(b"x")
    monkeypatch.setenv(inception_module.WEIGHTS_ENV, str(elsewhere))
    assert find_inception_weights(download=False) == elsewhere


def test_inception_without_torch_fidelity_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch_fidelity", None)  # as if it were not installed
    monkeypatch.setitem(sys.modules, "torch_fidelity.feature_extractor_inceptionv3", None)
    with pytest.raises(ImportError, match="pip install torch-fidelity"):
        inception_module.InceptionFeatures()


# --- The fit callback ------------------------------------------------------------------------------------------

def test_metrics_callback_writes_into_the_history_and_leaves_training_alone(mnist_small, tmp_path):
    cfg = tiny_config(epochs=3, max_steps_per_epoch=3, checkpoint_dir=str(tmp_path / "ckpt"))
    G, D = tiny_models()
    history = fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False,
                  callbacks=[MetricsCallback(every=2, n_samples=300, verbose=False)])
    assert [(row["epoch"], row["step"]) for row in history.metrics] == [(2, 6), (3, 9)]  # every 2nd, and the last
    assert history.metric_names == ["mnist_fid", "classes_covered", "class_entropy"]
    epochs, fids = history.metric("mnist_fid")
    assert epochs == [2, 3] and all(math.isfinite(f) and f > 0 for f in fids)
    assert all(0 <= c <= 10 for c in history.metric("classes_covered")[1])
    # The metrics draw their own noise: the run's losses are exactly those of a run without the callback.
    G2, D2 = tiny_models()
    plain = fit(G2, D2, tiny_data(mnist_small, cfg), tiny_config(epochs=3, max_steps_per_epoch=3), progress=False)
    assert plain.loss_D == history.loss_D and plain.loss_G == history.loss_G
    # The newest checkpoint carries every measurement, the last epoch's included.
    assert History.from_dict(load_checkpoint(cfg.checkpoint_dir)["history"]).metric("mnist_fid") == history.metric(
        "mnist_fid")
    fig = plot_history(history)
    assert len(fig.axes) == 2 + 3


def test_metrics_callback_numbers_are_in_the_checkpoint_even_after_a_crash_before_its_save(mnist_small, tmp_path):
    cfg = tiny_config(epochs=1, max_steps_per_epoch=2, checkpoint_dir=str(tmp_path / "whole"))
    G, D = tiny_models()
    callback = MetricsCallback(n_samples=200, verbose=False)
    first = fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False, callbacks=[callback])
    state = load_checkpoint(tmp_path / "whole")
    assert History.from_dict(state["history"]).metrics == first.metrics   # fit saves after the callbacks

    # A run that dies after epoch 2's callbacks measured but before its save has no checkpoint of that
    # epoch: the resume trains it again from epoch 1's checkpoint, and the callback measures it again.
    class Killed(BaseException):           # as kill -9 would: no code of fit's runs after it (an Exception
        pass                               # from a callback, fit saves first: issue 26)

    def crash(event, run):
        if event == "epoch_end" and run.epoch == 2:
            raise Killed("killed")
    cfg2 = tiny_config(epochs=2, max_steps_per_epoch=2, checkpoint_dir=str(tmp_path / "crashed"))
    G, D = tiny_models()
    with pytest.raises(Killed, match="killed"):
        fit(G, D, tiny_data(mnist_small, cfg2), cfg2, progress=False,
            callbacks=[MetricsCallback(n_samples=200, verbose=False), crash])
    assert load_checkpoint(tmp_path / "crashed")["epoch"] == 1
    G, D = tiny_models(seed=1)
    resumed = fit(G, D, tiny_data(mnist_small, cfg2), cfg2, progress=False, resume=True,
                  callbacks=[MetricsCallback(n_samples=200, verbose=False)])
    assert [row["epoch"] for row in resumed.metrics] == [1, 2]
    assert resumed.metrics[0] == pytest.approx(first.metrics[0])  # the same models, the same noise
    assert History.from_dict(load_checkpoint(tmp_path / "crashed")["history"]).metrics == resumed.metrics


def test_mnist_metrics_of_real_digits(mnist_train_1k):
    values = mnist_metrics(mnist_train_1k)
    assert set(values) == {"mnist_fid", "classes_covered", "class_entropy"}
    assert values["classes_covered"] == 10 and values["class_entropy"] > 0.99 and values["mnist_fid"] < 6


# --- History: the metrics record survives checkpoints, old and new ----------------------------------------------

def test_history_metrics_round_trip_and_old_checkpoints_still_load(tmp_path):
    history = History(loss_D=[1.0], loss_G=[2.0], D_x=[0.6], D_G_z=[0.4], epoch_ends=[1], epoch_seconds=[0.1])
    history.record_metrics(1, 1, {"mnist_fid": 12.5, "classes_covered": 9})
    torch.save(history.to_dict(), tmp_path / "h.pt")
    back = History.from_dict(torch.load(tmp_path / "h.pt", weights_only=True))
    assert back == history and back.metric("classes_covered") == ([1], [9.0])
    old = history.to_dict()
    del old["metrics"]  # a checkpoint written before metrics existed
    assert History.from_dict(old).metrics == []
    with pytest.raises(ValueError, match="epoch"):
        history.record_metrics(2, 2, {"epoch": 1.0})


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED_DATA / "cifar10_train_10k_jpeg75.npz").is_file(), reason="no shared CIFAR-10 file")
def test_inception_fid_plumbing_with_random_weights(tmp_path, monkeypatch):
    """Without the real weights (91 MB, not downloadable here) only the plumbing can be checked: a file of
    random weights in the right format loads, images of any size and dtype go through, FID(x, x) = 0."""
    fidelity = pytest.importorskip("torch_fidelity.feature_extractor_inceptionv3")
    import numpy as np
    with monkeypatch.context() as patch:  # build torch-fidelity's network without loading any weights
        patch.setattr(fidelity, "load_state_dict_from_url", lambda *args, **kwargs: None)
        patch.setattr(fidelity.FeatureExtractorInceptionV3, "load_state_dict", lambda self, state: None)
        torch.manual_seed(0)
        random_net = fidelity.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
    path = tmp_path / "weights-inception-2015-12-05-6726825d.pth"
    torch.save(random_net.state_dict(), path)
    cifar = torch.from_numpy(np.load(SHARED_DATA / "cifar10_train_10k_jpeg75.npz")["x_train"][:4]).permute(0, 3, 1, 2)
    features = inception_module.inception_features(cifar, weights=path, batch_size=3)  # 32 px, resized to 299
    assert features.shape == (4, 2048) and torch.isfinite(features).all() and features.std(0).max() > 0
    assert frechet_distance(features, features) < 1e-6
    fid = inception_module.inception_fid(cifar[:2], to_unit_range(cifar[2:]), weights=path)  # uint8 and float
    assert fid > 0 and fid == pytest.approx(frechet_distance(features[:2], features[2:]), rel=1e-4)
    unsafe = tmp_path / "unsafe.pth"
    torch.save({"fn": print}, unsafe)  # a pickled function: refused before torch-fidelity would run it
    with pytest.raises(Exception, match="(?i)weights_only|unsupported|global"):
        inception_module.InceptionFeatures(unsafe)


def test_loading_the_classifier_leaves_the_global_random_numbers_alone():
    from gan_helpers.metrics import mnist_classifier
    mnist_classifier._load.cache_clear()
    before = torch.get_rng_state()
    load_mnist_classifier()
    assert torch.equal(before, torch.get_rng_state())
