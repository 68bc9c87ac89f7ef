"""`python -m gan_helpers translate CHECKPOINT IMAGE... --out FOLDER` (translate.py): files, folders, both
directions of a CycleGAN, and bad inputs as one `error:` line."""
import numpy as np
import pytest
import torch
from PIL import Image

from gan_helpers import fit
from gan_helpers.checkpoint import load_generator
from gan_helpers.cli import main
from gan_helpers.data.pairs import PairedBatches, UnpairedBatches
from gan_helpers.models import (
    CycleDiscriminators,
    CycleGenerators,
    DCGANDiscriminator,
    DCGANGenerator,
    PatchDiscriminator,
    UNetGenerator,
)
from gan_helpers.translate import translate_files

from conftest import tiny_config


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Checkpoints of one step each: a pix2pix (grey 16 px -> colour), a CycleGAN (grey RGB <-> colour, 16 px)
    and a DCGAN (noise)."""
    root = tmp_path_factory.mktemp("translate-runs")
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (8, 3, 16, 16), dtype=torch.uint8, generator=g)
    torch.manual_seed(0)
    cfg = dict(epochs=1, batch_size=8, n_samples=4, max_steps_per_epoch=1)
    fit(UNetGenerator(in_channels=1, out_channels=3, img_size=16, features=4),
        PatchDiscriminator(in_channels=4, features=4, layers=1), PairedBatches(images[:, :1], images, batch_size=8),
        tiny_config(game="pix2pix", checkpoint_dir=str(root / "pix2pix"), **cfg), progress=False)
    fit(CycleGenerators(channels_a=3, channels_b=3, features=4, blocks=1),
        CycleDiscriminators(channels_a=3, channels_b=3, features=4, layers=1),
        UnpairedBatches(images, images.flip(0), batch_size=8),
        tiny_config(game="cyclegan", loss="least-squares", checkpoint_dir=str(root / "cyclegan"), **cfg),
        progress=False)
    fit(DCGANGenerator(img_size=16, features=4), DCGANDiscriminator(img_size=16, features=4),
        [images.float() / 127.5 - 1], tiny_config(checkpoint_dir=str(root / "dcgan"), **cfg), progress=False)
    return root


@pytest.fixture
def pictures(tmp_path):
    """Two photos of other sizes in a folder (one in a subfolder), and a lone file."""
    folder = tmp_path / "pictures"
    (folder / "more").mkdir(parents=True)
    Image.new("RGB", (40, 30), (200, 30, 30)).save(folder / "red.png")
    Image.new("L", (20, 20), 90).save(folder / "more" / "grey.jpg")
    Image.new("RGB", (16, 16), (0, 0, 255)).save(tmp_path / "blue.png")
    return tmp_path


def test_translate_a_file_and_a_folder_with_pix2pix(runs, pictures, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["translate", str(runs / "pix2pix"), str(pictures / "blue.png"), str(pictures / "pictures"),
                 "--out", str(out)]) == 0
    assert "Translated 3 images with" in capsys.readouterr().out
    written = sorted(p.name for p in out.iterdir())
    assert written == ["blue.png", "grey.png", "red.png"]
    for name in written:
        with Image.open(out / name) as picture:
            assert picture.size == (16, 16) and picture.mode == "RGB"      # G's size, G's three output channels


def test_translated_pixels_are_Gs_output_for_the_grey_input(runs, pictures, tmp_path):
    """What translate writes is G(x) for x the grey, resized image: checked against G called directly."""
    G = load_generator(runs / "pix2pix")
    [path] = translate_files(G, [pictures / "blue.png"], tmp_path / "out")
    grey = torch.full((1, 1, 16, 16), round(0.299 * 0 + 0.587 * 0 + 0.114 * 255), dtype=torch.float)
    with torch.no_grad():
        want = ((G(grey / 127.5 - 1).clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)[0].permute(1, 2, 0)
    with Image.open(path) as picture:
        got = torch.from_numpy(np.asarray(picture).copy())
    assert (got.int() - want.int()).abs().max() <= 1


def test_a_cyclegan_translates_both_ways(runs, pictures, tmp_path):
    G = load_generator(runs / "cyclegan")
    [forward] = translate_files(G, [pictures / "blue.png"], tmp_path / "ab", size=16)
    [backward] = translate_files(G, [pictures / "blue.png"], tmp_path / "ba", size=16, reverse=True)
    with Image.open(forward) as a, Image.open(backward) as b:
        assert a.size == b.size == (16, 16) and a.tobytes() != b.tobytes()   # two different generators


@pytest.mark.parametrize("case, expected", [
    ("missing", "does not exist: name image files or folders"),
    ("corrupt", "as an image"),
    ("empty_folder", "No images"),
    ("noise", "draws images from noise, not from images: draw from it with `sample`"),
    ("reverse_pix2pix", "--reverse needs a CycleGAN"),
    ("not_a_checkpoint", "No checkpoint"),
    ("sketch_for_cyclegan", "--sketch makes one-channel line drawings, but this ResnetGenerator takes 3 channels"),
])
def test_bad_inputs_end_with_one_error_line(case, expected, runs, pictures, tmp_path, capsys):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n but not really")
    (tmp_path / "empty").mkdir()
    checkpoint, images, extra = str(runs / "pix2pix"), [str(pictures / "blue.png")], []
    if case == "missing":
        images = [str(tmp_path / "nowhere.png")]
    elif case == "corrupt":
        images = [str(tmp_path / "broken.png")]
    elif case == "empty_folder":
        images = [str(tmp_path / "empty")]
    elif case == "noise":
        checkpoint = str(runs / "dcgan")
    elif case == "reverse_pix2pix":
        extra = ["--reverse"]
    elif case == "not_a_checkpoint":
        checkpoint = str(tmp_path / "empty")
    elif case == "sketch_for_cyclegan":
        checkpoint, extra = str(runs / "cyclegan"), ["--sketch"]
    assert main(["translate", checkpoint, *images, "--out", str(tmp_path / "out"), *extra]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and expected in err, err


def test_sample_on_a_translator_points_to_translate(runs, tmp_path, capsys):
    assert main(["sample", str(runs / "pix2pix"), "--out", str(tmp_path / "x.png")]) == 1
    err = capsys.readouterr().err
    assert "translates images rather than drawing them from noise: use `python -m gan_helpers translate" in err


def test_train_a_translation_preset_then_translate_from_the_command_line(tmp_path, capsys):
    """The whole path a learner takes: `train mnist-cyclegan` (a few steps), then `translate --reverse` a digit."""
    out = tmp_path / "run"
    assert main(["train", "mnist-cyclegan", "--out", str(out), "--features", "4", "--limit", "32", "--batch-size",
                 "8", "--max-steps", "2", "--epochs", "1", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "Translate images with:\n  python -m gan_helpers translate" in printed
    assert (out / "samples.png").is_file() and (out / "training.gif").is_file()
    digit = tmp_path / "digit.png"
    Image.new("RGB", (28, 28), (30, 120, 200)).save(digit)
    assert main(["translate", str(out / "checkpoints"), str(digit), "--out", str(tmp_path / "t"), "--reverse"]) == 0
    with Image.open(tmp_path / "t" / "digit.png") as picture:
        assert picture.size == (28, 28)
