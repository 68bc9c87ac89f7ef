"""Generators and discriminators. Every model records its constructor arguments in `hparams`,
so a checkpoint can rebuild it (`build_model`) and name what differs from another model."""
from __future__ import annotations

import inspect

from torch import nn

from .conditioning import balanced_labels, one_hot_labels
from .cycle import CycleDiscriminators, CycleGenerators
from .dcgan import DCGANDiscriminator, DCGANGenerator, dcgan_init
from .mapping import MappingNetwork, truncate
from .mlp import MLPDiscriminator, MLPGenerator
from .modulated_conv import ModulatedConv2d, modulated_conv2d
from .normalization import NORMS, add_spectral_norm, norm_layer
from .patchgan import PatchDiscriminator, receptive_field
from .residual_d import ResidualDiscriminator, minibatch_stddev
from .resnet_g import ResnetGenerator
from .stylegan import StyleGenerator
from .unet import UNetGenerator

MODELS = {cls.__name__: cls for cls in (MLPGenerator, MLPDiscriminator, DCGANGenerator, DCGANDiscriminator,
                                         StyleGenerator, ResidualDiscriminator, UNetGenerator,
                                         PatchDiscriminator, ResnetGenerator, CycleGenerators,
                                         CycleDiscriminators)}


def model_spec(model: nn.Module) -> dict:
    """What is needed to rebuild `model`: its class name and constructor arguments."""
    return {"class": type(model).__name__, "hparams": dict(model.hparams)}


def full_hparams(spec: dict) -> dict:
    """A spec's constructor arguments with the defaults filled in, so a checkpoint written before an
    option existed (e.g. `num_classes`) compares equal to a model built with that option's default."""
    cls = MODELS.get(spec["class"])
    defaults = {} if cls is None else {name: p.default for name, p in inspect.signature(cls).parameters.items()
                                       if p.default is not inspect.Parameter.empty}
    return {**defaults, **spec["hparams"]}


def build_model(spec: dict) -> nn.Module:
    """Rebuild a model from `model_spec(...)`. Only the package's own model classes are accepted."""
    name = spec["class"]
    if name not in MODELS:
        raise ValueError(f"Unknown model class {name!r}; this version of gan_helpers has {sorted(MODELS)}.")
    return MODELS[name](**spec["hparams"])


__all__ = ["MLPGenerator", "MLPDiscriminator", "DCGANGenerator", "DCGANDiscriminator", "dcgan_init", "MODELS",
           "model_spec", "full_hparams", "build_model", "NORMS", "norm_layer", "add_spectral_norm", "one_hot_labels",
           "balanced_labels", "StyleGenerator", "ResidualDiscriminator", "MappingNetwork", "truncate",
           "ModulatedConv2d", "modulated_conv2d", "minibatch_stddev", "UNetGenerator", "PatchDiscriminator",
           "receptive_field", "ResnetGenerator", "CycleGenerators", "CycleDiscriminators"]
