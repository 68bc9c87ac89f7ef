"""The translation chapter's data: XDoG sketches and grayscale copies of faces, MNIST-M-style digits."""
import importlib

import pytest
import torch

from gan_helpers.data import grayscale, load_cifar10, load_mnist, sketch, sketch_pairs
from gan_helpers.data.mnist_m import blend_digits, mnist_m_backgrounds, mnist_m_domains, procedural_backgrounds

from conftest import shared_faces, write_cifar_folder

sketch_module = importlib.import_module("gan_helpers.data.sketch")   # the package's `sketch` is the function


def flat(value: int, size: int = 16) -> torch.Tensor:
    return torch.full((1, 3, size, size), value, dtype=torch.uint8)


def test_sketch_shape_range_and_determinism():
    faces = torch.randint(0, 256, (5, 3, 20, 24), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    drawing = sketch(faces)
    assert drawing.shape == (5, 1, 20, 24) and drawing.dtype == torch.uint8
    assert torch.equal(drawing, sketch(faces))
    assert torch.equal(drawing[3:4], sketch(faces[3:4]))               # each image on its own, whatever the batch
    assert sketch(faces[:, :1]).shape == (5, 1, 20, 24)                 # a gray input works too


def test_sketch_chunks_do_not_change_the_result(monkeypatch):
    faces = torch.randint(0, 256, (7, 3, 16, 16), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    whole = sketch(faces)
    monkeypatch.setattr(sketch_module, "CHUNK", 3)
    assert torch.equal(sketch(faces), whole)


@pytest.mark.parametrize("value", [90, 128, 200, 255])
def test_a_flat_image_draws_no_line(value):
    assert sketch(flat(value)).eq(255).all()


def test_a_flat_dark_image_is_inked_as_xdog_fills_dark_areas():
    assert sketch(flat(0)).max() < 10


@pytest.mark.parametrize("vertical", [True, False])
def test_a_step_edge_draws_a_line_at_the_edge(vertical):
    x = flat(230)
    x[..., :8] = 120                                                    # dark left half (or top half, transposed)
    x = x if vertical else x.transpose(2, 3)
    drawing = sketch(x)[0, 0]
    drawing = drawing if vertical else drawing.T                        # columns across the edge
    assert (drawing[:, 6:8] < 64).all()                                 # a dark line just on the dark side
    assert drawing[:, :4].eq(255).all() and drawing[:, 9:].eq(255).all()   # paper away from the edge


def test_grayscale_is_bt601_luma():
    colours = torch.tensor([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255], [10, 20, 30]], dtype=torch.uint8)
    images = colours.T.reshape(1, 3, 1, 5)
    assert grayscale(images).flatten().tolist() == [76, 150, 29, 255, 18]   # 0.299 R + 0.587 G + 0.114 B, rounded
    assert grayscale(images).shape == (1, 1, 1, 5)


def test_sketch_pairs_and_their_errors():
    faces = torch.randint(0, 256, (4, 3, 16, 16), dtype=torch.uint8, generator=torch.Generator().manual_seed(2))
    inputs, targets = sketch_pairs(faces)
    assert torch.equal(inputs, sketch(faces)) and targets is faces
    assert torch.equal(sketch_pairs(faces, kind="grayscale")[0], grayscale(faces))
    with pytest.raises(ValueError, match="kind must be one of"):
        sketch_pairs(faces, kind="edges")
    with pytest.raises(ValueError, match="uint8"):
        sketch(faces.float())


def test_sketch_of_real_faces_draws_lines_not_blots():
    faces = shared_faces(lambda order: order[:64])                      # skips without the shared data
    ink = (sketch(faces) < 128).float().mean(dim=(1, 2, 3))             # share of inked pixels, per face
    assert 0.15 < ink.mean() < 0.4 and ink.max() < 0.7 and ink.min() > 0.05   # measured: 0.30, 0.46, 0.12


def test_blend_is_the_absolute_difference_with_a_crop():
    digits = torch.zeros(3, 1, 28, 28, dtype=torch.uint8)
    digits[:, :, 10:18, 12:16] = torch.tensor([255, 200, 90], dtype=torch.uint8).view(3, 1, 1, 1)
    g = torch.Generator().manual_seed(5)
    backgrounds = torch.randint(0, 256, (2, 3, 30, 31), dtype=torch.uint8, generator=g)
    out = blend_digits(digits, backgrounds, seed=0)
    assert out.shape == (3, 3, 28, 28) and out.dtype == torch.uint8
    for image, digit in zip(out, digits.int(), strict=True):
        candidates = [(crop.int() - digit).abs() for bg in backgrounds.int()
                      for crop in bg.unfold(1, 28, 1).unfold(2, 28, 1).permute(1, 2, 0, 3, 4).reshape(-1, 3, 28, 28)]
        assert any(torch.equal(image.int(), c) for c in candidates)    # |patch - digit| for one 28 x 28 crop
    tiny = blend_digits(digits[:1], torch.full((1, 3, 28, 28), 100, dtype=torch.uint8), seed=0)
    assert tiny[0, :, 12, 13].tolist() == [155, 155, 155] and tiny[0, :, 0, 0].tolist() == [100, 100, 100]


def test_blend_is_seeded_and_leaves_the_global_generator_alone():
    digits, _ = load_mnist(limit=20)
    backgrounds = procedural_backgrounds(8, seed=0)
    state = torch.get_rng_state()
    first = blend_digits(digits, backgrounds, seed=1)
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(first, blend_digits(digits, backgrounds, seed=1))
    assert not torch.equal(first, blend_digits(digits, backgrounds, seed=2))
    with pytest.raises(ValueError, match="H, W >= 28"):
        blend_digits(digits, procedural_backgrounds(2, seed=0)[:, :, :20, :20], seed=0)


def test_procedural_backgrounds_are_seeded_colourful_and_varied():
    state = torch.get_rng_state()
    x = procedural_backgrounds(16, size=32, seed=3)
    assert torch.equal(torch.get_rng_state(), state)
    assert x.shape == (16, 3, 32, 32) and x.dtype == torch.uint8
    assert torch.equal(x, procedural_backgrounds(16, size=32, seed=3))
    assert not torch.equal(x, procedural_backgrounds(16, size=32, seed=4))
    assert (x.flatten(1).amin(dim=1) == 0).all() and (x.flatten(1).amax(dim=1) == 255).all()   # each stretched
    xf = x.float()
    assert (xf.std(dim=(2, 3)) > 20).all()                              # each texture varies across the picture
    assert (xf.std(dim=1).mean(dim=(1, 2)) > 15).all()                  # in colour, not gray
    assert xf.mean(dim=(1, 2, 3)).std() > 5 and xf.flatten(1).std(dim=0).mean() > 30   # and differ from each other


def test_backgrounds_fall_back_to_procedural_without_cifar(tmp_path):
    images, source = mnist_m_backgrounds(6, root=tmp_path, seed=2)
    assert source == "procedural" and torch.equal(images, procedural_backgrounds(6, seed=2))


def test_backgrounds_come_from_cifar_when_it_is_there(tmp_path):
    write_cifar_folder(tmp_path)                                        # skips without the shared data
    images, source = mnist_m_backgrounds(12, root=tmp_path, seed=0)
    assert source == "CIFAR-10" and images.shape == (12, 3, 32, 32)
    cifar, _ = load_cifar10(tmp_path, download=False)
    assert all((cifar == image).flatten(1).all(dim=1).any() for image in images)   # real CIFAR-10 pictures
    _, _, digits_b, _, source = mnist_m_domains(limit=40, cifar_root=tmp_path)
    assert source == "CIFAR-10" and digits_b.shape == (20, 3, 28, 28)


def test_mnist_m_domains_are_two_disjoint_halves(tmp_path):
    images, labels = load_mnist(limit=200)
    digits_a, labels_a, digits_b, labels_b, source = mnist_m_domains(limit=200, seed=4, cifar_root=tmp_path)
    assert source == "procedural"
    assert torch.equal(digits_a, images[:100]) and torch.equal(labels_a, labels[:100])
    assert torch.equal(labels_b, labels[100:])
    backgrounds, _ = mnist_m_backgrounds(100, root=tmp_path, seed=4)
    assert torch.equal(digits_b, blend_digits(images[100:], backgrounds, seed=4))
    with pytest.raises(ValueError, match="at least 2"):
        mnist_m_domains(limit=1, cifar_root=tmp_path)


def test_mnist_m_domains_of_the_test_set_with_a_as_grey_rgb():
    """train=False splits MNIST's test set; rgb=True gives A the three channels of B, each the grey digit."""
    digits_a, labels_a, digits_b, labels_b, _ = mnist_m_domains(limit=40, train=False, rgb=True, seed=1)
    test_digits, test_labels = load_mnist(train=False, limit=40)
    assert digits_a.shape == digits_b.shape == (20, 3, 28, 28)
    assert all(torch.equal(digits_a[:, c:c + 1], test_digits[:20]) for c in range(3))
    assert torch.equal(labels_a, test_labels[:20]) and torch.equal(labels_b, test_labels[20:])
