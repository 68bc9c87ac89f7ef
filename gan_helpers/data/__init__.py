"""Data: MNIST from its IDX files, CIFAR-10 from its batch files, any image folder (decoded once,
cached), and batches from memory."""
from .batches import TensorBatches, from_unit_range, to_unit_range
from .cifar10 import CIFAR10NotFoundError, load_cifar10, read_cifar_batch
from .folder import ImageFolder, decode_image, default_cache_path, find_images, load_image_folder
from .idx import IDXFormatError, read_idx
from .mnist import MNISTNotFoundError, default_data_root, load_mnist

__all__ = ["TensorBatches", "to_unit_range", "from_unit_range", "IDXFormatError", "read_idx", "MNISTNotFoundError",
           "default_data_root", "load_mnist", "ImageFolder", "decode_image", "default_cache_path", "find_images",
           "load_image_folder", "CIFAR10NotFoundError", "load_cifar10", "read_cifar_batch"]
