"""TrainConfig validation and the fast-mode switch."""
import pytest

from gan_helpers import TrainConfig, fast_mode


@pytest.mark.parametrize("value, expected", [("1", True), ("yes", True), ("true", True), ("0", False),
                                             ("false", False), ("no", False), ("", False), (None, False)])
def test_fast_mode_reads_gan_fast(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("GAN_FAST", raising=False)
    else:
        monkeypatch.setenv("GAN_FAST", value)
    assert fast_mode() is expected


@pytest.mark.parametrize("field", ["epochs", "batch_size", "d_steps", "n_samples", "keep_checkpoints"])
def test_counts_below_one_are_refused(field):
    with pytest.raises(ValueError, match=f"TrainConfig.{field} must be at least 1"):
        TrainConfig(**{field: 0})
