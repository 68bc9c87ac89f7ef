"""Data: MNIST from its IDX files, CIFAR-10 from its batch files, any image folder (decoded once,
cached), batches from memory (paired and unpaired for translation), sketches and MNIST-M-style digits,
and where the files are (files.py, the ground floor)."""
from .batches import TensorBatches, from_unit_range, to_unit_range
from .cifar10 import CIFAR10NotFoundError, load_cifar10, read_cifar_batch
from .files import atomic_save, default_data_root, shared_data_dir
from .folder import ImageFolder, decode_image, default_cache_path, find_images, load_image_folder
from .idx import IDXFormatError, read_idx
from .mnist import MNISTNotFoundError, load_mnist
from .mnist_m import blend_digits, mnist_m_backgrounds, mnist_m_domains, procedural_backgrounds
from .pairs import PairedBatches, UnpairedBatches
from .sketch import grayscale, sketch, sketch_pairs

__all__ = ["TensorBatches", "to_unit_range", "from_unit_range", "atomic_save", "default_data_root", "shared_data_dir",
           "IDXFormatError", "read_idx", "MNISTNotFoundError", "load_mnist", "ImageFolder", "decode_image",
           "default_cache_path", "find_images", "load_image_folder", "CIFAR10NotFoundError", "load_cifar10",
           "read_cifar_batch", "PairedBatches", "UnpairedBatches", "sketch", "grayscale", "sketch_pairs",
           "blend_digits", "procedural_backgrounds", "mnist_m_backgrounds", "mnist_m_domains"]
