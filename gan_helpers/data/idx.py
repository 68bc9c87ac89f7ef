"""Read IDX files, the format MNIST is distributed in, straight into uint8 tensors.

An IDX file is a 4-byte magic number, one big-endian uint32 per dimension, then the raw
values in C order (http://yann.lecun.com/exdb/mnist/):

    byte 0-1   zero
    byte 2     type code (0x08 = unsigned byte)
    byte 3     number of dimensions, ndim
    4 * ndim   the size of each dimension
    rest       the data
"""
from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import torch

UBYTE = 0x08


class IDXFormatError(ValueError):
    """The file is not a valid IDX file (wrong magic number, truncated, or not gzip)."""


def _read_bytes(path: Path) -> bytes:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            return f.read()
    except (OSError, EOFError, zlib.error) as err:  # gzip.BadGzipFile is an OSError
        raise IDXFormatError(
            f"{path} could not be decompressed ({err}). The file is truncated or corrupt: "
            "delete it and copy or download it again."
        ) from err


def read_idx(path: str | Path) -> torch.Tensor:
    """Read an IDX file (optionally gzip-compressed) into a uint8 tensor of its stored shape.

    Raises IDXFormatError with the file name and what is wrong when the magic number, the
    type code or the length does not match.
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise IDXFormatError(
            f"{path} does not start with an IDX magic number (got {data[:4].hex() or 'an empty file'}). "
            "Is it an MNIST file? Copy the original file again."
        )
    type_code, ndim = data[2], data[3]
    if type_code != UBYTE:
        raise IDXFormatError(f"{path} holds IDX type 0x{type_code:02x}; only unsigned bytes (0x08) are supported.")
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise IDXFormatError(f"{path} is truncated inside its header; copy the file again.")
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    expected = header_size + (torch.Size(dims).numel() if dims else 1)
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "longer than its header says"
        raise IDXFormatError(
            f"{path} is {what}: its header promises shape {tuple(dims)} ({expected:,} bytes) "
            f"but the file holds {len(data):,} bytes. Copy or download the file again."
        )
    flat = torch.frombuffer(bytearray(data[header_size:]), dtype=torch.uint8)
    return flat.reshape(dims)
