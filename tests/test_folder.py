"""The image-folder data set: real anime faces, broken and unusual files, and the cache."""
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from gan_helpers import load_image_folder
from gan_helpers.data import default_cache_path

from conftest import SHARED_DATA, fill_disk

SAMPLE_ZIP = SHARED_DATA / "anime_faces_sample.zip"


@pytest.fixture(scope="module")
def anime_sample(tmp_path_factory):
    """The 250 real anime faces (200 at 64 px, 50 at 96 px), unzipped into a temporary folder."""
    if not SAMPLE_ZIP.is_file():
        pytest.skip(f"{SAMPLE_ZIP} is not here (only developers and CI have the shared data)")
    root = tmp_path_factory.mktemp("anime")
    with zipfile.ZipFile(SAMPLE_ZIP) as z:
        z.extractall(root)
    return root / "anime_faces_sample"


def test_real_faces_are_decoded_resized_and_cached(anime_sample, tmp_path):
    cache = tmp_path / "faces.pt"
    first = load_image_folder(anime_sample, size=64, cache=cache, progress=False)
    assert first.images.shape == (250, 3, 64, 64) and first.images.dtype == torch.uint8
    assert not first.skipped and not first.from_cache and cache.is_file()
    assert sum("mlds_96px" in p for p in first.paths) == 50  # the 96 px faces were resized
    assert first.images.float().std() > 30                   # real pictures, not a blank tensor
    second = load_image_folder(anime_sample, size=64, cache=cache, progress=False)
    assert second.from_cache and torch.equal(second.images, first.images) and second.paths == first.paths
    at_32 = load_image_folder(anime_sample, size=32, cache=tmp_path / "faces32.pt", progress=False)
    assert at_32.images.shape == (250, 3, 32, 32) and not at_32.from_cache


def test_an_unchanged_64px_face_keeps_its_pixels_closely(anime_sample):
    path = sorted((anime_sample / "kaggle_64px").iterdir())[0]
    decoded = load_image_folder(path.parent, size=64, cache=False, progress=False).images[0]
    original = torch.from_numpy(np.asarray(Image.open(path).convert("RGB")).copy())
    assert torch.equal(decoded.permute(1, 2, 0), original)  # already 64x64: no resampling


@pytest.fixture
def odd_folder(tmp_path):
    """A folder with every kind of file a learner's download can hold."""
    folder = tmp_path / "faces"
    (folder / "sub").mkdir(parents=True)
    Image.new("RGB", (80, 40), (200, 10, 10)).save(folder / "wide.jpg")                 # not square
    rgba = Image.new("RGBA", (32, 32), (0, 0, 255, 255))
    rgba.paste((0, 0, 0, 0), (0, 0, 16, 32))                                              # left half transparent
    rgba.save(folder / "sub" / "transparent.png")
    Image.new("L", (32, 32), 77).save(folder / "sub" / "grey.bmp")
    Image.new("P", (32, 32), 3).save(folder / "palette.png")
    Image.new("RGB", (32, 32), (0, 128, 0)).save(folder / "green.webp")
    good = (folder / "wide.jpg").read_bytes()
    (folder / "cut.jpg").write_bytes(good[: len(good) // 2])                              # truncated JPEG
    (folder / "fake.jpg").write_text("this is not a picture")                             # text named .jpg
    (folder / "notes.txt").write_text("downloaded from somewhere")                        # not an image
    return folder


def test_odd_files_are_converted_or_skipped_and_reported(odd_folder, tmp_path):
    with pytest.warns(UserWarning) as caught:
        data = load_image_folder(odd_folder, size=16, cache=tmp_path / "c.pt", progress=False)
    names = [p.split("/")[-1] for p in data.paths]
    assert names == ["green.webp", "palette.png", "grey.bmp", "transparent.png", "wide.jpg"]
    assert sorted(p.split("/")[-1] for p, _ in data.skipped) == ["cut.jpg", "fake.jpg"]
    assert [p.split("/")[-1] for p in data.ignored] == ["notes.txt"]
    messages = " ".join(str(w.message) for w in caught)
    assert "2 of the files" in messages and "cut.jpg" in messages and "notes.txt" in messages
    by_name = dict(zip(names, data.images, strict=True))
    grey, transparent, wide = by_name["grey.bmp"], by_name["transparent.png"], by_name["wide.jpg"]
    assert grey.shape == (3, 16, 16) and (grey == 77).all()                  # grayscale -> equal RGB
    assert (transparent[:, :, :7] == 255).all()                              # transparent -> white
    assert (transparent[:, :, 9:] == torch.tensor([0, 0, 255]).view(3, 1, 1)).all()
    assert (wide[0].float().mean() > 180) and (wide[1:].float().mean() < 40)  # centre crop of a red image


def test_cache_is_rebuilt_when_the_folder_changes(odd_folder, tmp_path):
    cache = tmp_path / "c.pt"
    with pytest.warns(UserWarning):
        before = load_image_folder(odd_folder, size=16, cache=cache, progress=False)
        assert load_image_folder(odd_folder, size=16, cache=cache, progress=False).from_cache
        Image.new("RGB", (32, 32), (9, 9, 9)).save(odd_folder / "new.png")
        after = load_image_folder(odd_folder, size=16, cache=cache, progress=False)
    assert not after.from_cache and len(after.paths) == len(before.paths) + 1
    with pytest.warns(UserWarning):
        cache.write_bytes(b"garbage")  # a damaged cache is rebuilt, not trusted
        assert not load_image_folder(odd_folder, size=16, cache=cache, progress=False).from_cache


def test_default_cache_sits_beside_the_folder(tmp_path):
    folder = tmp_path / "pics"
    folder.mkdir()
    Image.new("RGB", (8, 8)).save(folder / "a.png")
    load_image_folder(folder, size=8, progress=False)
    assert default_cache_path(folder, 8) == tmp_path / "pics.cache-8px.pt"
    assert (tmp_path / "pics.cache-8px.pt").is_file()


def test_missing_empty_and_all_broken_folders_are_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_image_folder(tmp_path / "nope", size=8)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("x")
    with pytest.raises(ValueError, match="No images"):
        load_image_folder(tmp_path / "empty", size=8)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "a.jpg").write_text("x")
    with pytest.raises(ValueError, match="None of the 1 image files"):
        load_image_folder(tmp_path / "bad", size=8, cache=False)


def test_a_read_only_place_for_the_cache_only_warns(tmp_path, monkeypatch):
    folder = tmp_path / "pics"
    folder.mkdir()
    Image.new("RGB", (8, 8)).save(folder / "a.png")
    from gan_helpers.data import folder as folder_module

    def read_only(*args, **kwargs):
        raise PermissionError("read-only file system")
    monkeypatch.setattr(folder_module, "atomic_save", read_only)
    with pytest.warns(UserWarning, match="Could not write the cache"):
        data = load_image_folder(folder, size=8, progress=False)
    assert data.images.shape == (1, 3, 8, 8)


def test_16_bit_pngs_are_scaled_not_clipped(tmp_path):
    """Defect 7: 16-bit greyscale PNGs were clipped to near-white (mean 254.7 of 255 from random 0-65535 data)."""
    folder = tmp_path / "deep"
    folder.mkdir()
    values = np.random.default_rng(0).integers(0, 65536, size=(16, 16), dtype=np.uint16)
    Image.fromarray(values).save(folder / "sixteen.png")
    assert Image.open(folder / "sixteen.png").mode.startswith("I")          # Pillow reads it as 16/32-bit integers
    decoded = load_image_folder(folder, size=16, cache=False, progress=False).images[0]
    expected = torch.from_numpy((values / 257).round().astype(np.uint8))
    assert decoded.shape == (3, 16, 16) and (decoded == expected).all()     # every channel: the scaled grey
    assert 100 < decoded.float().mean() < 155


def test_a_full_disk_while_writing_the_cache_only_warns(tmp_path, monkeypatch):
    """Defect 4: torch reports a full disk as RuntimeError, so the cache's `except OSError` never ran."""
    folder = tmp_path / "pics"
    folder.mkdir()
    Image.new("RGB", (8, 8)).save(folder / "a.png")
    fill_disk(monkeypatch, after_bytes=100)
    with pytest.warns(UserWarning, match="Could not write the cache"):
        data = load_image_folder(folder, size=8, progress=False)
    assert data.images.shape == (1, 3, 8, 8)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pics"]           # no half-written cache
