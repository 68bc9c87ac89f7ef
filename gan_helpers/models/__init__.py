"""Generators and discriminators. Every model records its constructor arguments in `hparams`,
so a checkpoint can rebuild it (`build_model`) and name what differs from another model."""
from __future__ import annotations

from torch import nn

from .dcgan import DCGANDiscriminator, DCGANGenerator, dcgan_init
from .mlp import MLPDiscriminator, MLPGenerator

MODELS = {cls.__name__: cls for cls in (MLPGenerator, MLPDiscriminator, DCGANGenerator, DCGANDiscriminator)}


def model_spec(model: nn.Module) -> dict:
    """What is needed to rebuild `model`: its class name and constructor arguments."""
    return {"class": type(model).__name__, "hparams": dict(model.hparams)}


def build_model(spec: dict) -> nn.Module:
    """Rebuild a model from `model_spec(...)`. Only the package's own model classes are accepted."""
    name = spec["class"]
    if name not in MODELS:
        raise ValueError(f"Unknown model class {name!r}; this version of gan_helpers has {sorted(MODELS)}.")
    return MODELS[name](**spec["hparams"])


__all__ = ["MLPGenerator", "MLPDiscriminator", "DCGANGenerator", "DCGANDiscriminator", "dcgan_init", "MODELS",
           "model_spec", "build_model"]
