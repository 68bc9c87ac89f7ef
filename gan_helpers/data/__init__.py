"""Data: reading MNIST from its IDX files and serving batches from memory."""
from .batches import TensorBatches, from_unit_range, to_unit_range
from .idx import IDXFormatError, read_idx
from .mnist import MNISTNotFoundError, default_data_root, load_mnist

__all__ = ["TensorBatches", "to_unit_range", "from_unit_range", "IDXFormatError", "read_idx", "MNISTNotFoundError",
           "default_data_root", "load_mnist"]
