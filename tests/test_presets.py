"""Every preset of the command line builds its models and data and trains."""
import math
import shutil
from dataclasses import replace

import pytest
import torch

from conftest import SHARED_DATA, write_cifar_folder
from gan_helpers import fit
from gan_helpers.presets import PRESETS


@pytest.fixture(scope="module")
def preset_data(tmp_path_factory) -> dict:
    """Where each preset finds real data: MNIST in the repository, CIFAR-10 and anime faces from the
    shared development data (the tests of those presets skip when it is absent)."""
    root = tmp_path_factory.mktemp("preset-data")
    faces = SHARED_DATA / "anime_faces_sample.zip"

    def cifar():
        write_cifar_folder(root)
        return root

    def anime():
        if not faces.is_file():
            pytest.skip(f"{faces} is absent")
        shutil.unpack_archive(faces, root / "faces")
        return root / "faces"

    return {"mnist": None, "cifar10": cifar, "anime": anime}


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_trains_a_few_steps(name, preset_data):
    source = name.split("-")[0]                      # mnist-wgan-gp -> mnist
    if callable(preset_data[source]):
        preset_data[source] = preset_data[source]()
    preset = PRESETS[name]
    cfg = replace(preset.config, epochs=1, max_steps_per_epoch=2, batch_size=32, device="cpu")
    torch.manual_seed(0)
    G, D = preset.build_models(preset.features)
    limit = 2 * cfg.d_steps * cfg.batch_size         # two generator steps, each after d_steps critic steps
    data = preset.build_data(cfg, torch.device("cpu"), limit, preset_data[source])
    history = fit(G, D, data, cfg, progress=False)
    assert history.steps == 2 and all(math.isfinite(v) for v in history.loss_D + history.loss_G)
    assert history.samples[-1].shape[1:] == tuple(G.img_shape)
