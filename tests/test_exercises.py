"""The exercises: the learner's copies are what scripts/make_exercises.py writes, every exercise has a check,
and every check passes the solution, and reports failure (never an AssertionError) for the stub and for a
typical wrong answer, naming the mistake."""
import importlib.util
import json
import linecache
import shutil
from pathlib import Path

import pytest

from gan_helpers.exercises import CHECKS
from gan_helpers.exercises.report import STUB

from conftest import REPO, SHARED_DATA

_spec = importlib.util.spec_from_file_location("make_exercises", REPO / "scripts" / "make_exercises.py")
make_exercises = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_exercises)

SOURCES = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def exercises(folder: Path) -> dict[str, tuple[str, str]]:
    """exercise name -> (notebook name, the code of its cell), over every notebook in `folder`."""
    found = {}
    for path in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            name = make_exercises.exercise_name(cell)
            if name:
                assert name not in found, f"exercise {name} appears twice"
                found[name] = (path.name, make_exercises.source_text(cell))
    return found


def run_cell(code: str, label: str) -> dict:
    """Execute a cell's code in a fresh namespace, with its source registered for inspect.getsource."""
    filename = f"<{label}>"
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    namespace = {"__name__": f"exercise_{label}"}
    exec(compile(code, filename, "exec"), namespace)
    return namespace


def run_check(name: str, code: str, label: str):
    check, names = CHECKS[name]
    namespace = run_cell(code, label)
    return check(*(namespace[n] for n in names))


def test_learner_copies_are_up_to_date():
    stale = [path.name for path, text in make_exercises.copies().items()
             if not path.is_file() or path.read_text(encoding="utf-8") != text]
    assert not stale, f"out of date: {stale}; run python scripts/make_exercises.py"


def test_every_chapter_has_exercises_with_checks():
    found = exercises(REPO / "notebooks")
    assert set(found) == set(CHECKS), set(found) ^ set(CHECKS)
    per_notebook = {path.name: [n for n, (nb, _) in found.items() if nb == path.name] for path in SOURCES}
    assert all(2 <= len(names) <= 4 for names in per_notebook.values()), per_notebook
    for path in SOURCES:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for i, cell in enumerate(cells):
            name = make_exercises.exercise_name(cell)
            if name:   # its check is called within the next three cells
                after = "".join(make_exercises.source_text(c) for c in cells[i + 1:i + 4] if c["cell_type"] == "code")
                assert f"{CHECKS[name][0].__name__}(" in after, (path.name, name)


def test_stubs_keep_the_rest_of_the_notebook():
    """The learner's copy differs from the source only in the exercise cells and the added markdown."""
    for path in SOURCES:
        source = json.loads(path.read_text(encoding="utf-8"))
        copy = make_exercises.learner_copy(source, path.name)
        kept = [c for c in copy["cells"] if c["cell_type"] == "code" and not make_exercises.exercise_name(c)]
        assert kept == [c for c in source["cells"] if c["cell_type"] == "code" and not make_exercises.exercise_name(c)]
        stubs = [make_exercises.source_text(c) for c in copy["cells"] if make_exercises.exercise_name(c)]
        assert all("NotImplementedError" in s and "BEGIN SOLUTION" not in s for s in stubs), path.name


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_check_passes_the_solution(name, capsys):
    notebook, code = exercises(REPO / "notebooks")[name]
    result = run_check(name, code, f"solution_{name}")
    assert result.passed, f"{notebook}: {result.message}"
    assert "\n✓ " in "\n" + capsys.readouterr().out   # the verdict (after anything the solution prints)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_check_reports_the_stub(name, capsys):
    notebook, code = exercises(REPO / "exercises")[name]
    assert "# BEGIN SOLUTION" not in code
    result = run_check(name, code, f"stub_{name}")
    assert not result.passed and result.mistake == STUB, result
    assert "not written yet. Hint:" in capsys.readouterr().out


WRONG = {  # exercise name -> (a typical wrong answer, the mistake its check must name)
    "losses": ('''
import torch
def d_loss_from_logits(real_logits, fake_logits):   # the formula of the equation, from probabilities
    return -torch.log(torch.sigmoid(real_logits)).mean() - torch.log(1 - torch.sigmoid(fake_logits)).mean()
def g_loss_from_logits(fake_logits):
    return -torch.log(torch.sigmoid(fake_logits)).mean()
''', "sigmoid_then_log"),
    "d_step": ('''
from gan_helpers import d_loss
def d_step(G, D, opt_D, x_real, z):
    x_fake = G(z)
    loss_D = d_loss(D(x_real), D(x_fake))           # no detach
    opt_D.zero_grad()
    loss_D.backward()
    opt_D.step()
    return x_fake, loss_D
''', "no_detach"),
    "g_step": ('''
from gan_helpers import g_loss
def g_step(D, opt_G, x_fake):
    loss_G = g_loss(D(x_fake))
    loss_G.backward()                               # no zero_grad: gradients pile up
    opt_G.step()
    return loss_G
''', "no_zero_grad"),
    "conv_transpose_out": ('''
def conv_transpose_out(n, kernel, stride, padding):
    return (n - 1) * stride - 2 * padding + kernel + 1   # a size off by one
''', "off_by_one_high"),
    "generator_block": ('''
from torch import nn
def generator_block(in_channels, out_channels):
    return nn.Sequential(nn.ConvTranspose2d(in_channels, out_channels, 3, 2, 1, bias=False),
                         nn.BatchNorm2d(out_channels), nn.ReLU())
''', "size_off_by_one"),
    "adam_step": ('''
def adam_step(theta, grad, m, v, t, *, lr, beta1, beta2, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    return theta - lr * m / (v.sqrt() + eps), m, v    # no bias correction
''', "no_bias_correction"),
    "nearest_in": ('''
def nearest_in(queries, block):
    d = ((queries.flatten(1)[:, None] - block.flatten(1)[None]).float() ** 2).mean(dim=2)  # uint8 subtraction
    distance, index = d.min(dim=1)
    return index, distance
''', "uint8"),
    "image_dataset": ('''
from pathlib import Path
from torch.utils.data import Dataset
from gan_helpers.data.folder import SUFFIXES, decode_image
class FaceFolder(Dataset):
    def __init__(self, folder, size):
        self.size, self.paths, self.skipped = size, [], []
        for path in sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in SUFFIXES):
            try:
                decode_image(path, size)
            except:
                continue
            self.paths.append(str(path))
    def __len__(self):
        return len(self.paths)
    def __getitem__(self, i):
        return decode_image(self.paths[i], self.size)
''', "bare_except"),
    "generator_widths": ('''
def generator_widths(img_size, features, channels):
    start = 7 if img_size == 28 else 4
    n = (img_size // start).bit_length() - 1
    return [2 * features * 2 ** (n - 1 - i) for i in range(n)] + [channels]   # the paper's widths
''', "paper_width"),
    "slerp": ('''
def my_slerp(z0, z1, t):
    return (1 - t) * z0 + t * z1                    # lerp
''', "lerp"),
    "ink_direction": ('''
def ink_direction(z, ink, fraction=0.1):
    order = ink.argsort(descending=True)            # most ink first, then subtracted the wrong way round
    k = int(fraction * len(z))
    return z[order[-k:]].mean(dim=0) - z[order[:k]].mean(dim=0)
''', "reversed"),
    "fid": ('''
import torch
def fid_inline(features_a, features_b):
    a, b = features_a.double(), features_b.double()
    mu_a, mu_b = a.mean(0), b.mean(0)
    S_a = (a - mu_a).T @ (a - mu_a) / (len(a) - 1)
    S_b = (b - mu_b).T @ (b - mu_b) / (len(b) - 1)
    cross = (S_a @ S_b).sqrt().trace()              # a square root of each entry
    return ((mu_a - mu_b).square().sum() + S_a.trace() + S_b.trace() - 2 * cross).item()
''', "elementwise_sqrt"),
    "coverage": ('''
import math
import torch
def coverage(predicted, num_classes=10, threshold=0.01):
    counts = torch.bincount(predicted, minlength=num_classes)
    p = counts / counts.sum()
    return int((p >= threshold).sum()), (-(p * p.log()).sum() / math.log(num_classes)).item()   # 0 log 0
''', "zero_log_zero"),
    "precision_recall": ('''
import torch
def precision_recall_inline(real_features, fake_features, k=3):
    def radii(features):
        return torch.cdist(features, features).kthvalue(k, dim=1).values   # counts each point as its own neighbour
    def inside(queries, centres):
        return (torch.cdist(queries, centres) <= radii(centres)).any(dim=1)
    precision = inside(fake_features, real_features).float().mean().item()
    return precision, inside(real_features, fake_features).float().mean().item()
''', "counts_itself"),
    "gradient_penalty": ('''
import torch
def gradient_penalty_inline(D, x_real, x_fake, generator=None):
    eps = torch.rand(x_real.shape, generator=generator)   # one eps per pixel
    x_hat = (eps * x_real + (1 - eps) * x_fake).requires_grad_(True)
    grad, = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
''', "per_pixel_eps"),
    "power_iteration": ('''
import torch.nn.functional as F
def power_iteration_step(W, u):
    v = F.normalize(W.T @ u, dim=0)
    sigma = u @ W @ v                               # with the old u
    u = F.normalize(W @ v, dim=0)
    return u, v, sigma
''', "old_u"),
    "G_input": ('''
import torch
import torch.nn.functional as F
def G_input(z, labels, num_classes):
    return torch.cat([z, F.one_hot(labels, num_classes).float()], dim=1)   # no image dimensions
''', "no_image_dims"),
    "D_input": ('''
import torch
import torch.nn.functional as F
def D_input(x, labels, num_classes):
    y = F.one_hot(labels, num_classes).float()[:, :, None, None]
    return torch.cat([x, y], dim=1)                 # not expanded to the image's size
''', "not_expanded"),
    "amp_d_step": ('''
import torch
from gan_helpers import d_loss
def amp_d_step(G, D, opt_D, scaler, x_real, z):
    with torch.autocast(x_real.device.type, dtype=torch.float16):
        x_fake = G(z)
        loss_D = d_loss(D(x_real).float(), D(x_fake.detach()).float())
    opt_D.zero_grad()
    scaler.scale(loss_D).backward()
    opt_D.step()                                    # not through the scaler: still scaled, never skipped
    scaler.update()
    return loss_D
''', "opt_step_not_scaler"),
    "mapping": ('''
import math
import torch.nn.functional as F
def map_z(z, layers):
    x = z                                                   # z not normalised
    for layer in layers:
        x = F.leaky_relu(layer(x), 0.2) * math.sqrt(2)
    return x
''', "no_normalisation"),
    "modulated_conv": ('''
import torch
import torch.nn.functional as F
def modulated_conv(x, weight, styles):
    B, C_in, H, W = x.shape
    C_out, _, k, _ = weight.shape
    w = weight[None] * styles[:, None, :, None, None]       # modulated, never demodulated
    out = F.conv2d(x.reshape(1, B * C_in, H, W), w.reshape(B * C_out, C_in, k, k), padding=k // 2, groups=B)
    return out.reshape(B, C_out, H, W)
''', "no_demodulation"),
    "truncation": ('''
def my_truncate(w, w_avg, psi):
    return w + psi * (w_avg - w)                            # reversed: psi = 1 gives w_avg
''', "reversed"),
    "shard": ('''
def my_shard(batch, rank, world_size):
    return batch[rank::world_size]                  # every N-th row: not the block fit gives a rank
''', "interleaved"),
    "receptive_field": ('''
def receptive_field(layers):
    r = 1
    for k, s in layers:                             # from the input, not back from the output
        r = (r - 1) * s + k
    return r
''', "from_input"),
    "patch_discriminator": ('''
from torch import nn
def patch_discriminator(in_channels, features, layers):
    blocks = [nn.Conv2d(in_channels, features, 4, 2, 1), nn.LeakyReLU(0.2)]
    width = features
    for n in range(1, layers + 2):                  # stride 2 in the last two convs too
        wider = features * min(2 ** n, 8)
        blocks += [nn.Conv2d(width, wider, 4, 2, 1), nn.BatchNorm2d(wider), nn.LeakyReLU(0.2)]
        width = wider
    return nn.Sequential(*blocks[:-3], nn.Conv2d(blocks[-3].in_channels, 1, 4, 2, 1))   # 1 channel, logits
''', "stride_at_end"),
    "cycle_loss": ('''
import torch.nn.functional as F
def cycle_loss(G_AB, G_BA, x_a, x_b):
    return F.mse_loss(G_BA(G_AB(x_a)), x_a) + F.mse_loss(G_AB(G_BA(x_b)), x_b)   # L2, not L1
''', "l2"),
    "image_pool": ('''
class ImagePool:
    def __init__(self, size):
        self.size, self.images = size, []
    def __call__(self, images):
        self.images = (self.images + [x.detach().clone() for x in images])[-self.size:]   # stored, never shown
        return images
''', "never_old"),
}


MORE_WRONG = [  # (exercise, a wrong answer found where real use differs from the first checks, the mistake named)
    ("modulated_conv", '''
import torch
import torch.nn.functional as F
def modulated_conv(x, weight, styles):
    B, C_in, H, W = x.shape
    C_out, _, k, _ = weight.shape
    w = weight[None] * styles[:, None, :, None, None]
    w = w * torch.rsqrt(w.square().sum(dim=(1, 3, 4), keepdim=True) + 1e-8)   # over C_out, not C_in
    out = F.conv2d(x.reshape(1, B * C_in, H, W), w.reshape(B * C_out, C_in, k, k), padding=k // 2, groups=B)
    return out.reshape(B, C_out, H, W)
''', "wrong_axes_out"),
    ("modulated_conv", '''
import torch
import torch.nn.functional as F
def modulated_conv(x, weight, styles):
    B, C_in, H, W = x.shape
    C_out, _, k, _ = weight.shape
    w = weight[None] * styles[:, None, :, None, None]
    w = w * torch.rsqrt(w.square().sum(dim=(2, 3, 4), keepdim=True) + 1e-8)
    out = F.conv2d(x, w.reshape(B * C_out, C_in, k, k), padding=k // 2, groups=B)  # the batch not folded
    return out.reshape(B, C_out, H, W)
''', "batch_not_folded"),
    ("mapping", '''
import math
import torch.nn.functional as F
def map_z(z, layers):
    x = F.normalize(z, dim=1)                               # unit length, not unit mean square
    for layer in layers:
        x = F.leaky_relu(layer(x), 0.2) * math.sqrt(2)
    return x
''', "unit_length"),
    ("truncation", '''
def my_truncate(w, w_avg, psi):
    return psi * w                                          # towards 0, not towards the mean w
''', "towards_zero"),
    ("d_step", '''
from gan_helpers import d_loss
def d_step(G, D, opt_D, x_real, z):
    x_fake = G(z)
    real_term, fake_term = d_loss(D(x_real), D(x_fake.detach())), 0.0
    opt_D.zero_grad()
    real_term.backward()
    loss_D = real_term + fake_term
    loss_D.backward()                               # a second backward through the same graph (detach is there)
    opt_D.step()
    return x_fake, loss_D
''', "double_backward"),
    ("d_step", '''
from gan_helpers import d_loss
def d_step(G, D, opt_D, x_real, z):
    x_fake = G(z)
    loss_D = d_loss(D(x_fake.detach()), D(x_real))  # the logits swapped
    opt_D.zero_grad()
    loss_D.backward()
    opt_D.step()
    return x_fake, loss_D
''', "swapped"),
    ("g_step", '''
from gan_helpers import g_loss
def g_step(D, opt_G, x_fake):
    loss_G = -g_loss(D(x_fake))                     # the sign flipped
    opt_G.zero_grad()
    loss_G.backward()
    opt_G.step()
    return loss_G
''', "sign"),
    ("g_step", '''
from gan_helpers import g_loss
def g_step(D, opt_G, x_fake):
    loss_G = g_loss(D(x_fake))
    opt_G.zero_grad()
    loss_G.backward()
    loss_G.backward()                               # twice
    opt_G.step()
    return loss_G
''', "double_backward"),
    ("adam_step", '''
def adam_step(theta, grad, m, v, t, *, lr, beta1, beta2, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return theta - lr * (m_hat / v_hat.sqrt() + eps), m, v    # eps added to the fraction
''', "eps_precedence"),
    ("adam_step", '''
def adam_step(theta, grad, m, v, t, *, lr, beta1, beta2, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return theta - lr * m_hat / v_hat.sqrt() + eps, m, v      # eps added to theta
''', "eps_on_theta"),
    ("gradient_penalty", '''
import torch
def gradient_penalty_inline(D, x_real, x_fake, generator=None):
    eps = torch.rand(len(x_real), 1, 1, 1, generator=generator)
    x_hat = (eps * x_real + (1 - eps) * x_fake).requires_grad_(True)
    grad, = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
    return (grad.flatten(1).norm(dim=1).mean() - 1) ** 2    # the mean before the square
''', "mean_before_square"),
    ("slerp", '''
import torch
def my_slerp(z0, z1, t):                            # no fallback for parallel points: NaN for z0 == z1
    omega = torch.arccos(torch.dot(z0, z1) / (z0.norm() * z1.norm()))
    return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)
''', "parallel"),
    ("image_dataset", '''
from pathlib import Path
from torch.utils.data import Dataset
from gan_helpers.data.folder import SUFFIXES, decode_image
class FaceFolder(Dataset):
    def __init__(self, folder, size):
        self.size, self.paths, self.skipped = size, [], []
        for path in sorted(p for p in Path(folder).rglob("*") if p.suffix in SUFFIXES):   # .JPG is left out
            try:
                decode_image(path, size)
            except (OSError, ValueError, SyntaxError) as err:
                self.skipped.append((str(path), str(err)))
                continue
            self.paths.append(str(path))
    def __len__(self):
        return len(self.paths)
    def __getitem__(self, i):
        return decode_image(self.paths[i], self.size)
''', "suffix_case"),
    ("G_input", '''
import torch
import torch.nn.functional as F
def G_input(z, labels, num_classes):
    return torch.cat([z, F.one_hot(labels).float()], dim=1)[:, :, None, None]   # no num_classes
''', "no_num_classes"),
    ("D_input", '''
import torch
import torch.nn.functional as F
def D_input(x, labels, num_classes):
    y = F.one_hot(labels).float()[:, :, None, None]                              # no num_classes
    return torch.cat([x, y.expand(-1, -1, *x.shape[2:])], dim=1)
''', "no_num_classes"),
    ("coverage", '''
import math
import torch
def coverage(predicted, num_classes=10, threshold=0.01):
    p = torch.bincount(predicted, minlength=10) / len(predicted)
    seen = p[p > 0]
    return int((p >= threshold).sum()), -(seen * seen.log()).sum().item() / math.log(10)   # 10, not num_classes
''', "ten_classes"),
    ("precision_recall", '''
import torch
def precision_recall_inline(real_features, fake_features, k=3):
    def inside(queries, centres):
        radii = torch.cdist(centres, centres).kthvalue(k + 1, dim=1).values
        return (torch.cdist(queries, centres) <= radii).any(dim=1).float().mean().item()
    return inside(real_features, fake_features), inside(fake_features, real_features)   # reals in the fake balls first
''', "swapped"),
    ("precision_recall", '''
import torch
def precision_recall_inline(real_features, fake_features, k=3):
    def inside(queries, centres):
        radii = torch.cdist(centres, centres).kthvalue(4, dim=1).values                  # k = 3 always
        return (torch.cdist(queries, centres) <= radii).any(dim=1).float().mean().item()
    return inside(fake_features, real_features), inside(real_features, fake_features)
''', "k_fixed"),
    ("shard", '''
import torch
def my_shard(batch, rank, world_size):
    return torch.chunk(batch, world_size)[rank]     # unequal parts when the batch does not divide
''', "unequal_parts"),
]


@pytest.mark.parametrize("name, code, mistake", MORE_WRONG, ids=[f"{n}-{m}" for n, _, m in MORE_WRONG])
def test_check_names_a_mistake_of_real_use(name, code, mistake, capsys):
    result = run_check(name, code, f"more_wrong_{name}_{mistake}")
    out = capsys.readouterr().out
    assert not result.passed and result.mistake == mistake, (result, out)
    assert "likely mistake:" in out, out


def test_every_check_has_a_wrong_answer():
    assert set(WRONG) == set(CHECKS)


@pytest.mark.parametrize("name", sorted(WRONG))
def test_check_names_a_typical_mistake(name, capsys):
    code, mistake = WRONG[name]
    result = run_check(name, code, f"wrong_{name}")
    out = capsys.readouterr().out
    assert not result.passed and result.mistake == mistake, (result, out)
    assert "\n✗ " in "\n" + out and "likely mistake:" in out, out


def test_image_dataset_check_with_real_faces(tmp_path, capsys):
    faces = SHARED_DATA / "anime_faces_sample.zip"
    if not faces.is_file():
        pytest.skip(f"{faces} is absent")
    shutil.unpack_archive(faces, tmp_path)
    _, code = exercises(REPO / "notebooks")["image_dataset"]
    namespace = run_cell(code, "solution_image_dataset_real")
    result = CHECKS["image_dataset"][0](namespace["FaceFolder"], real_folder=tmp_path)
    assert result.passed, result.message
    assert "generated and real" in capsys.readouterr().out
