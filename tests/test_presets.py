"""Every preset of the command line builds its models and data and trains."""
import math
from dataclasses import replace

import pytest
import torch

from gan_helpers import fit
from gan_helpers.presets import PRESETS


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_trains_a_few_steps(name):
    preset = PRESETS[name]
    cfg = replace(preset.config, epochs=1, max_steps_per_epoch=2, device="cpu")
    torch.manual_seed(0)
    G, D = preset.build_models()
    data = preset.build_data(cfg, torch.device("cpu"), 4 * cfg.batch_size)
    history = fit(G, D, data, cfg, progress=False)
    assert history.steps == 2 and all(math.isfinite(v) for v in history.loss_D + history.loss_G)
    assert history.samples[-1].shape[1:] == tuple(G.img_shape)
