"""The image cache survives what Colab does to a data folder: unpacked again, with new file dates."""
import os
import shutil

import torch

from gan_helpers import load_image_folder
from gan_helpers.data.standin import write_standin_folder


def test_a_copy_with_new_modification_times_reuses_the_cache(tmp_path):
    original = write_standin_folder(tmp_path / "session1" / "faces", n=12, size=16)
    cache = tmp_path / "drive" / "faces.cache-16px.pt"                  # on Drive: outlives the session
    first = load_image_folder(original, size=16, cache=cache, progress=False)
    assert not first.from_cache
    again = tmp_path / "session2" / "faces"                             # the archive unpacked anew elsewhere
    shutil.copytree(original, again)
    for path in again.rglob("*.png"):
        os.utime(path, ns=(1_000_000_000, 1_000_000_000))              # new dates, same names and sizes
    second = load_image_folder(again, size=16, cache=cache, progress=False)
    assert second.from_cache and torch.equal(second.images, first.images)


def test_a_file_of_another_size_or_name_rebuilds_the_cache(tmp_path):
    folder = write_standin_folder(tmp_path / "faces", n=6, size=16)
    cache = tmp_path / "c.pt"
    load_image_folder(folder, size=16, cache=cache, progress=False)
    victim = sorted(folder.rglob("*.png"))[0]
    victim.write_bytes(victim.read_bytes() + b"\0")                     # longer: rewritten
    assert not load_image_folder(folder, size=16, cache=cache, progress=False).from_cache
    victim.rename(victim.with_name("renamed.png"))
    assert not load_image_folder(folder, size=16, cache=cache, progress=False).from_cache
