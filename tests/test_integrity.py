"""A checkpoint is checked before use (issue 26): a flipped byte is caught by its checksum, weights that are
not finite or of the wrong shape, counters that are not numbers and random number states of the wrong size
are refused with a CheckpointError naming the older checkpoint that can be read; release 0.1.0's files,
written without a checksum, still load."""
import pytest
import torch

from gan_helpers import CheckpointError, fit, list_checkpoints, load_checkpoint, load_generator
from gan_helpers.checkpoint import save_checkpoint, save_generator

from conftest import REPO, tiny_config, tiny_data, tiny_models

FIXTURES = REPO / "tests" / "fixtures"


@pytest.fixture(scope="module")
def run(tmp_path_factory, mnist_small):
    """A tiny run of 2 epochs: its folder holds epoch001_step0000008.pt and epoch002_step0000016.pt."""
    folder = tmp_path_factory.mktemp("run") / "ckpt"
    cfg = tiny_config(epochs=2, checkpoint_dir=str(folder))
    G, D = tiny_models()
    fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False)
    return folder, cfg


def copy_run(run, tmp_path):
    import shutil
    folder, cfg = run
    shutil.copytree(folder, tmp_path / "ckpt")
    return tmp_path / "ckpt", tiny_config(epochs=3, checkpoint_dir=str(tmp_path / "ckpt"))


def resume(mnist_small, cfg, source=True):
    G, D = tiny_models()
    return fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False, resume=source)


def test_one_flipped_byte_in_a_weight_is_caught_and_the_older_checkpoint_offered(run, tmp_path, mnist_small):
    folder, cfg = copy_run(run, tmp_path)
    newest = list_checkpoints(folder)[-1]
    data = bytearray(newest.read_bytes())
    weight = load_checkpoint(newest)["G"]["net.0.weight"].numpy().tobytes()
    at = data.index(weight[:64]) + 30                                # inside G's first weight matrix
    data[at] ^= 0x01                                                 # one bit of one float
    newest.write_bytes(bytes(data))
    for attempt in (lambda: load_checkpoint(newest), lambda: load_generator(folder),
                    lambda: resume(mnist_small, cfg)):
        with pytest.raises(CheckpointError, match="damaged: its contents do not match the checksum") as err:
            attempt()
        assert "epoch001_step0000008.pt can be read: resume from it" in str(err.value)
    assert resume(mnist_small, cfg, source=list_checkpoints(folder)[0]).epoch_ends == [8, 16, 24]


def test_the_checksum_covers_every_tensor_and_number():
    from gan_helpers.integrity import checksum
    state = {"G": {"w": torch.ones(3)}, "epoch": 2, "history": {"loss_D": [0.5]}}
    base = checksum(state)
    assert checksum({**state, "G": {"w": torch.tensor([1.0, 1.0, 1.0000001])}}) != base
    assert checksum({**state, "G": {"w": torch.ones(1, 3)}}) != base                         # same bytes, shape
    assert checksum({"w": torch.zeros(4, dtype=torch.int32)}) != checksum({"w": torch.zeros(4)})   # ... dtype
    assert checksum({**state, "epoch": 3}) != base
    assert checksum({**state, "history": {"loss_D": [0.5000001]}}) != base
    assert checksum({"epoch": 2, "history": {"loss_D": [0.5]}, "G": {"w": torch.ones(3)}}) == base   # dict order


def test_checkpoints_of_release_0_1_0_without_a_checksum_still_load():
    state = load_checkpoint(FIXTURES / "checkpoint_v0.1.0_epoch1.pt")
    assert "checksum" not in state and state["epoch"] == 1
    G = load_generator(FIXTURES / "checkpoint_v0.1.0_epoch1.pt")
    assert G.checkpoint["step"] == 2


def test_a_generator_whose_weights_hold_nan_draws_nothing(tmp_path):
    G, _ = tiny_models()
    save_generator(G, tmp_path / "epoch001_step0000008.pt", epoch=1, step=8)
    with torch.no_grad():
        next(G.parameters())[0, 0] = float("nan")
    save_generator(G, tmp_path / "epoch002_step0000016.pt", epoch=2, step=16)
    with pytest.raises(CheckpointError, match="holds nan among its weights") as err:
        load_generator(tmp_path)
    assert "epoch001_step0000008.pt can be read" in str(err.value)


def tampered(run, tmp_path, change) -> tuple:
    """The run's newest checkpoint changed by `change(state)` and saved with a valid checksum (a foreign file)."""
    folder, cfg = copy_run(run, tmp_path)
    newest = list_checkpoints(folder)[-1]
    state = load_checkpoint(newest)
    del state["path"], state["format"]
    change(state)
    save_checkpoint(state, newest)
    return folder, cfg


def _set(where: dict, key, value):
    where[key] = value


CHANGES = {
    "a weight of another shape": (lambda s: _set(s["G"], "net.0.weight", torch.zeros(5, 5)),
                                  r"G.net.0.weight has shape \(5, 5\), the model needs \(32, 16\)"),
    "a weight missing": (lambda s: s["D"].pop("net.1.bias"), "D lacks net.1.bias"),
    "an unknown tensor": (lambda s: _set(s["G"], "extra", torch.zeros(1)), "G holds extra"),
    "a moment of another shape": (lambda s: _set(s["opt_G"]["state"][0], "exp_avg", torch.zeros(2)),
                                  r"opt_G's exp_avg of parameter 0 has shape \(2,\)"),
    "an epoch that is not a number": (lambda s: _set(s, "epoch", "two"), "epoch is 'two', not a whole number"),
    "a random number state of the wrong size": (lambda s: _set(s["rng"], "torch", torch.zeros(7, dtype=torch.uint8)),
                                                r"rng\['torch'\] holds 7"),
    "a history that is not a dict": (lambda s: _set(s, "history", [1, 2]), "history is a list, not a dict"),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_foreign_checkpoint_is_checked_against_the_models_before_anything_is_loaded(run, tmp_path, mnist_small,
                                                                                      change):
    modify, message = CHANGES[change]
    folder, cfg = tampered(run, tmp_path, modify)
    G, D = tiny_models()
    before = {k: v.clone() for k, v in G.state_dict().items()}
    with pytest.raises(CheckpointError, match=message) as err:
        fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False, resume=True)
    assert "epoch001_step0000008.pt can be read" in str(err.value)
    assert all(torch.equal(before[k], v) for k, v in G.state_dict().items())   # nothing loaded half-way


def test_load_generator_checks_the_shapes_and_the_size_of_the_model_a_file_describes(run, tmp_path):
    folder, _ = tampered(run, tmp_path, lambda s: _set(s["G"], "net.0.weight", torch.zeros(5, 5)))
    with pytest.raises(CheckpointError, match=r"G.net.0.weight has shape \(5, 5\)"):
        load_generator(folder)
    huge = {"class": "MLPGenerator", "hparams": {"latent_dim": 16, "hidden_dims": [10**6, 10**6]}}   # 4 TB
    save_checkpoint({"models": {"G": huge}, "G": {}, "epoch": 1, "step": 1}, tmp_path / "huge.pt")
    with pytest.raises(CheckpointError, match="needs about .* GB of memory, more than"):
        load_generator(tmp_path / "huge.pt")
