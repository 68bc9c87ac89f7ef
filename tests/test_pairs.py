"""PairedBatches (pix2pix) and UnpairedBatches (CycleGAN): alignment, shuffles, lengths, examples, errors."""
import pytest
import torch

from gan_helpers.data import PairedBatches, UnpairedBatches, from_unit_range


def numbered(n: int, channels: int = 1, size: int = 4, offset: int = 0) -> torch.Tensor:
    """uint8 (n, channels, size, size) whose image i is filled with the value i + offset (an id per image)."""
    return (torch.arange(n) + offset).to(torch.uint8).view(n, 1, 1, 1).expand(n, channels, size, size).clone()


def ids(x: torch.Tensor) -> list[int]:
    """The ids of a batch of numbered images, read back from [-1, 1]."""
    return from_unit_range(x)[:, 0, 0, 0].tolist()


def test_pairs_stay_aligned_through_the_shuffle():
    inputs = numbered(50)                                               # (50, 1, 4, 4), image i = i
    targets = torch.cat([numbered(50, offset=100), numbered(50, 2, offset=7)], dim=1)   # (50, 3, 4, 4)
    data = PairedBatches(inputs, targets, batch_size=8)
    assert len(data) == 6                                               # 50 // 8, the last 2 dropped
    seen = []
    for x_input, x_target in data:
        assert x_input.shape == (8, 1, 4, 4) and x_target.shape == (8, 3, 4, 4)
        assert x_input.dtype == torch.float32 and x_input.min() >= -1 and x_target.max() <= 1
        assert ids(x_target) == [i + 100 for i in ids(x_input)]         # the target of input i is target i
        assert from_unit_range(x_target[:, 1:])[:, :, 0, 0].tolist() == [[i + 7] * 2 for i in ids(x_input)]
        seen += ids(x_input)
    assert len(set(seen)) == 48 and seen != sorted(seen)                # each image at most once, shuffled


def test_paired_order_follows_the_torch_seed_and_examples_do_not():
    data = PairedBatches(numbered(40), numbered(40, 3, offset=1), batch_size=10)

    def epoch():
        torch.manual_seed(3)
        return [ids(x_input) for x_input, _ in data]
    first = epoch()
    assert first == epoch()
    torch.manual_seed(3)
    assert sum(first, []) == torch.randperm(40)[:40].tolist()          # one randperm per epoch, like TensorBatches
    x_input, x_target = data.examples(5)
    assert ids(x_input) == [0, 1, 2, 3, 4] and ids(x_target) == [1, 2, 3, 4, 5]
    assert x_target.shape == (5, 3, 4, 4)
    unshuffled = PairedBatches(numbered(40), numbered(40), batch_size=10, shuffle=False)
    assert sum((ids(x) for x, _ in unshuffled), []) == list(range(40))


def test_unpaired_domains_are_shuffled_independently():
    a, b = numbered(30), numbered(50, 3, size=6, offset=100)            # different counts, channels and sizes
    data = UnpairedBatches(a, b, batch_size=4, labels_a=torch.arange(30), labels_b=torch.arange(50))
    assert len(data) == 7                                               # min(30, 50) // 4
    torch.manual_seed(0)
    batches = list(data)
    assert len(batches) == 7 and batches[0][0].shape == (4, 1, 4, 4) and batches[0][1].shape == (4, 3, 6, 6)
    order_a = sum((ids(x_a) for x_a, _ in batches), [])
    order_b = sum((ids(x_b) for _, x_b in batches), [])
    torch.manual_seed(0)
    assert order_a == torch.randperm(30)[:28].tolist()                  # a drawn first, then b
    assert order_b == [i + 100 for i in torch.randperm(50)[:28].tolist()]
    assert [i + 100 for i in order_a] != order_b                        # not one index for both
    assert data.labels_a.tolist() == list(range(30)) and len(data.labels_b) == 50
    x_a, x_b = data.examples(3)
    assert ids(x_a) == [0, 1, 2] and ids(x_b) == [100, 101, 102]


@pytest.mark.parametrize("make, message", [
    (lambda: PairedBatches(numbered(8).float(), numbered(8), batch_size=2), "uint8"),
    (lambda: PairedBatches(numbered(8)[:, 0], numbered(8), batch_size=2), r"\(N, C, H, W\)"),
    (lambda: PairedBatches(numbered(0), numbered(0), batch_size=2), "empty"),
    (lambda: PairedBatches(numbered(8), numbered(7), batch_size=2), "8 inputs but 7 targets"),
    (lambda: PairedBatches(numbered(8), numbered(8, size=5), batch_size=2), "same size"),
    (lambda: PairedBatches(numbered(8), numbered(8), batch_size=9), "batch_size=9"),
    (lambda: PairedBatches(numbered(8), numbered(8), batch_size=0), "batch_size=0"),
    (lambda: PairedBatches(numbered(8), numbered(8), batch_size=2).examples(9), "examples"),
    (lambda: UnpairedBatches(numbered(8), numbered(4), batch_size=5), "batch_size=5 does not fit 4"),
    (lambda: UnpairedBatches(numbered(8), numbered(4).int(), batch_size=2), "images_b"),
    (lambda: UnpairedBatches(numbered(8), numbered(4), batch_size=2, labels_a=torch.arange(7)), "labels_a"),
    (lambda: UnpairedBatches(numbered(8), numbered(4), batch_size=2).examples(5), "examples"),
])
def test_bad_input_is_refused_in_one_line(make, message):
    with pytest.raises(ValueError, match=message) as err:
        make()
    assert "\n" not in str(err.value)
