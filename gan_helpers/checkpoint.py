"""The checkpoint format, in one place: what a training state is on disk, and how it comes back.

A checkpoint is one file holding plain data only (tensors, numbers, strings, lists, dicts):

    format            "gan_helpers.checkpoint/1"
    gan_helpers_version  the package that wrote it, e.g. "0.2.0" (since 0.2.0; older files have none: read
                      as written by 0.1.0 or earlier). Not checked on loading: it says which course a file,
                      and a bug report about it, came from (CHANGELOG.md: what each version changed)
    models            {"G": model_spec(G), "D": model_spec(D)}: how to rebuild each model
    G, D              their state_dicts
    G_ema             the moving average of G (with TrainConfig.ema_decay; absent without)
    opt_G, opt_D      the optimizers' state_dicts
    scalers           float16's gradient scalers {"G": ..., "D": ...} (TrainConfig.precision; absent without)
    game              what the game keeps between steps: CycleGAN's image pools (absent for a game that keeps none)
    epoch, step       epochs finished, generator steps done in all
    batch_in_epoch    batches done in the unfinished epoch (0 at an epoch's end)
    rng               every random number generator's state now
    rng_epoch_start   ... and at the start of the unfinished epoch (to replay its shuffle), or None
    config            asdict(TrainConfig)
    history           History.to_dict()
    torch_version     the torch that wrote it
    checksum          integrity.checksum of all the above (since gan_helpers 0.2; older files have none)

Plain data means `torch.load(weights_only=True)` can read it, so a file that would run
arbitrary code when unpickled is refused. Files are written to a temporary name and then
renamed: a process killed while saving leaves the previous checkpoints untouched. Before use,
a file's checksum is compared and its contents checked against the models (integrity.py): a
damaged or foreign file is refused with a CheckpointError that names the newest older checkpoint
of its folder that can be read, never loaded into G half-way.

    save_training_state(run)          what fit writes after every epoch and when stopped
    restore_training_state(run, src)  what fit(..., resume=...) reads back
    load_generator(path)              G ready to draw from, for sampling, notebooks and widgets
"""
from __future__ import annotations

import contextlib
import math
import pickle
import re
import shlex
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from . import __version__
from .advice import advise
from .callbacks import RunState
from .config import TrainConfig, config_differences
from .data.files import atomic_save
from .history import History
from .integrity import CHECKSUM, checksum, counter_problems, optimizer_problems, weights_problems
from .memory import check_fits, model_bytes
from .models import build_model, full_hparams, model_spec
from .pretrained import resolve_generator

FORMAT = "gan_helpers.checkpoint/1"
_NAME = re.compile(r"^epoch(\d+)_step(\d+)\.pt$")
_UNSAFE = re.compile(r"GLOBAL ([\w.]+)|unrecognized function", re.IGNORECASE)  # how weights_only names code
KEYS = ("models", "G", "D", "opt_G", "opt_D", "epoch", "step", "batch_in_epoch", "rng", "rng_epoch_start", "config",
        "history")   # what a training state holds (see above)
EXPLODED = 1e6   # |weight| beyond this: training diverged (the weights of a GAN that learns are of order 1)


class CheckpointError(RuntimeError):
    """A checkpoint is missing, corrupt, unsafe, or was written for another model or config."""


def checkpoint_name(epoch: int, step: int) -> str:
    """'epoch003_step0005625.pt': `epoch` epochs finished, `step` generator steps in all."""
    return f"epoch{epoch:03d}_step{step:07d}.pt"


def list_checkpoints(folder: str | Path) -> list[Path]:
    """The checkpoints in `folder`, oldest first (by step)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = [(int(m.group(2)), p) for p in folder.iterdir() if (m := _NAME.match(p.name))]
    return [p for _, p in sorted(found)]


def save_checkpoint(state: dict, path: str | Path) -> Path:
    """Write a training state to `path` atomically, marked as a gan_helpers checkpoint of this version, with
    its checksum."""
    state = {"format": FORMAT, "gan_helpers_version": __version__, **state}
    return atomic_save({**state, CHECKSUM: checksum(state)}, path)


def prune_checkpoints(folder: str | Path, keep: int) -> None:
    """Delete all but the newest `keep` checkpoints in `folder`."""
    for old in list_checkpoints(folder)[:-keep]:
        old.unlink(missing_ok=True)


def load_checkpoint(path: str | Path, *, map_location: str | torch.device = "cpu") -> dict:
    """Load a checkpoint file, or the newest in a folder (a checkpoint folder, or a run folder holding
    `checkpoints/`). Raises CheckpointError saying what to do."""
    path = Path(path)
    if path.is_dir():
        found = list_checkpoints(path) or list_checkpoints(path / "checkpoints")   # a run folder: its checkpoints/
        if not found:
            raise CheckpointError(f"No checkpoint (epochNNN_stepNNNNNNN.pt) in {path}: nothing to resume or "
                                  "draw from yet (a run saves one at the end of every epoch).")
        path = found[-1]
    if not path.is_file():
        raise CheckpointError(f"Checkpoint {path} does not exist.")
    try:
        state = _read(path, map_location)
    except CheckpointError as err:
        raise _unusable(path, str(err)) from err.__cause__
    state["path"] = str(path)
    return state


def _read(path: Path, map_location) -> dict:
    """The checkpoint in the file `path`, its format and checksum checked; a CheckpointError saying what is wrong."""
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        if unsafe := _UNSAFE.search(str(err)):           # a refused class or function, not damage
            raise CheckpointError(
                f"{path} holds a call to {unsafe.group(1) or 'a function'}, which would run code when loaded: refused, "
                "as is any file that could run arbitrary code (a checkpoint holds only numbers). Load only "
                "checkpoints written by gan_helpers or by someone you trust."
            ) from None
        raise CheckpointError(_corrupt(path, err.__context__ or err)) from err
    except Exception as err:  # noqa: BLE001 - whatever fails to unpickle (KeyError from a text file, ...) is damage
        raise CheckpointError(_corrupt(path, err)) from err
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a gan_helpers checkpoint (format {FORMAT!r} expected).")
    stored = state.pop(CHECKSUM, None)                   # files of gan_helpers 0.1 have none
    if stored is not None and stored != checksum(state):
        raise CheckpointError(f"{path} is damaged: its contents do not match the checksum stored when it was "
                              "saved (a changed byte: a failing disk, an interrupted copy, an edit).")
    return state


def _corrupt(path: Path, err: Exception) -> str:
    return f"{path} is corrupt or incomplete ({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''})."


def _require(state: dict, keys: tuple[str, ...]) -> None:
    if missing := [key for key in keys if key not in state]:
        raise _unusable(Path(state["path"]), f"{state['path']} is an incomplete gan_helpers checkpoint: it lacks "
                                             f"{', '.join(missing)}.")


def _require_specs(state: dict) -> None:
    if problems := _spec_problems(state["models"]):
        raise _unusable(Path(state["path"]), f"{state['path']} does not say how to rebuild its models: "
                                             f"{'; '.join(problems)}.")


def _spec_problems(models) -> list[str]:
    if not isinstance(models, dict):
        return [f"models is a {type(models).__name__}, not a dict"]
    return [f"models.{name} is not {{'class': name, 'hparams': {{...}}}}" for name, spec in models.items()
            if not (isinstance(spec, dict) and isinstance(spec.get("class"), str)
                    and isinstance(spec.get("hparams"), dict))]


def _unusable(path: Path, what: str) -> CheckpointError:
    """The error for a checkpoint file that cannot be used: what is wrong with it, and the newest older
    checkpoint of its folder that can be read, to go on from."""
    older = [p for p in list_checkpoints(path.parent) if p.name != path.name and _step(p) < _step(path)]
    if not older:
        return CheckpointError(f"{what} No older checkpoint is in that folder.")
    good = next((p for p in reversed(older) if _readable(p)), None)
    if good is None:
        return CheckpointError(f"{what} The older checkpoints in that folder cannot be read either.")
    quoted = shlex.quote(str(good))
    return advise(CheckpointError(f"{what} The previous checkpoint {good} can be read: resume from it with "
                                  f"resume='{good}' (or draw from it with load_generator('{good}'))."),
                  cli=f"{what} The previous checkpoint {good} can be read: resume from it with "
                      f"--resume-from {quoted} (or sample {quoted}).")


def _step(path: Path) -> int:
    match = _NAME.match(path.name)
    return int(match.group(2)) if match else 1 << 62      # best.pt and other names: newer than any


def _readable(path: Path) -> bool:
    try:
        _read(path, "cpu")
    except CheckpointError:
        return False
    return True


def check_compatible(state: dict, *, G: nn.Module, D: nn.Module, cfg: TrainConfig) -> None:
    """Raise CheckpointError naming every difference between the checkpoint and these models/config."""
    if isinstance(state["models"], dict) and "D" not in state["models"]:
        raise CheckpointError(
            f"Cannot resume from {state.get('path', 'the checkpoint')}: it holds a generator only (no D, no "
            "optimizers), for sampling with load_generator. Train with a checkpoint_dir of your own instead.")
    _require(state, KEYS)
    _require_specs(state)
    if problems := counter_problems(state, ("config",)):
        raise _unusable(Path(state["path"]), f"{state['path']} is not a training state that fits: {problems[0]}.")
    for name, model in (("G", G), ("D", D)):
        saved, now = state["models"][name], model_spec(model)
        if saved["class"] != now["class"]:
            problems.append(f"{name} is a {now['class']}, the checkpoint holds a {saved['class']}")
            continue
        saved_h, now_h = full_hparams(saved), full_hparams(now)
        for key in sorted(set(saved_h) | set(now_h)):
            if saved_h.get(key) != now_h.get(key):
                problems.append(f"{name}.{key}: checkpoint has {saved_h.get(key)!r}, now {now_h.get(key)!r}")
    problems += config_differences(state["config"], cfg)
    if problems:
        what = (f"Cannot resume from {state.get('path', 'the checkpoint')}: it was written for another model or "
                f"config.\n  - " + "\n  - ".join(problems))
        raise advise(CheckpointError(f"{what}\nBuild the models and TrainConfig as they were (the learning rates, "
                                     "epochs and max_steps_per_epoch may change), or use a new checkpoint_dir to "
                                     "start afresh."),
                     cli=f"{what}\nGive the settings of that run (--lr-G, --lr-D, --epochs and --max-steps may "
                         "change), or another --out to start afresh.")


def state_problems(run: RunState) -> list[str]:
    """What keeps `run` from being a good checkpoint: numbers that are not finite in G, D (weights and
    buffers) or their optimizers' state, or weights grown beyond EXPLODED. Empty when all is well."""
    problems = []
    models = (("G", run.G), ("D", run.D)) + ((("G_ema", run.G_ema),) if run.G_ema is not None else ())
    for name, model in models:
        weights, statistics = _largest(list(model.parameters())), _largest(list(model.buffers()))
        if not math.isfinite(weights):
            problems.append(f"{name}'s weights hold {weights}")
        elif weights > EXPLODED:
            problems.append(f"{name}'s weights grew to {weights:.1e}")
        if not math.isfinite(statistics):
            problems.append(f"{name}'s running statistics (BatchNorm) hold {statistics}")
    for name, opt in (("opt_G", run.opt_G), ("opt_D", run.opt_D)):
        largest = _largest([t for state in opt.state.values() for t in state.values() if torch.is_tensor(t)])
        if not math.isfinite(largest):
            problems.append(f"{name}'s state holds {largest}")
    return problems


def _largest(tensors: list[torch.Tensor]) -> float:
    """The largest |value| in the floating-point tensors, or the first value that is not finite; 0.0 for none."""
    largest = 0.0
    for t in tensors:
        if t.is_floating_point() and t.numel():
            value = t.detach().abs().amax().item()
            if not math.isfinite(value):
                return value
            largest = max(largest, value)
    return largest


def rng_state() -> dict:
    """Every random number generator's state: torch's CPU generator and each CUDA device's."""
    return {"torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}


def set_rng_state(state: dict) -> None:
    """Put back what rng_state() returned (CUDA states only where the same GPUs are there)."""
    torch.set_rng_state(state["torch"].cpu())
    if state["cuda"] and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


def save_training_state(run: RunState, *, batch_in_epoch: int = 0, rng_epoch_start: dict | None = None) -> str | None:
    """Write `run` as `cfg.checkpoint_dir/epochNNN_stepNNNNNNN.pt`, keep the newest `cfg.keep_checkpoints`,
    and return the path (also kept in run.checkpoint). None when cfg.checkpoint_dir is None.

    batch_in_epoch / rng_epoch_start: where in an unfinished epoch the run stopped (0 / None at an epoch's end).
    """
    cfg = run.cfg
    if cfg.checkpoint_dir is None:
        return None
    state = {
        "models": {"G": model_spec(run.G), "D": model_spec(run.D)},
        "G": run.G.state_dict(), "D": run.D.state_dict(),
        "opt_G": run.opt_G.state_dict(), "opt_D": run.opt_D.state_dict(),
        "epoch": run.epoch, "step": run.step, "batch_in_epoch": batch_in_epoch,
        "rng": rng_state(), "rng_epoch_start": rng_epoch_start,
        "config": asdict(cfg), "history": run.history.to_dict(), "torch_version": str(torch.__version__),
    }
    if run.G_ema is not None:
        state["G_ema"] = run.G_ema.state_dict()
    if run.precision is not None and (scalers := run.precision.state_dict()):
        state["scalers"] = scalers
    if run.game is not None and (game := run.game.state_dict()):
        state["game"] = game
    path = save_checkpoint(state, Path(cfg.checkpoint_dir) / checkpoint_name(run.epoch, run.step))
    prune_checkpoints(cfg.checkpoint_dir, keep=cfg.keep_checkpoints)
    run.checkpoint = str(path)
    return run.checkpoint


@dataclass
class Position:
    """Where a resumed run goes on: batches already done in its unfinished epoch, and the random
    numbers at that epoch's start (to replay its shuffle). 0 and None at an epoch's end."""
    batch_in_epoch: int = 0
    rng_epoch_start: dict | None = None


def restore_training_state(run: RunState, source: str | Path) -> Position:
    """Load a checkpoint (a file, or the newest in a folder) into `run`: models, optimizers, history,
    counters and random numbers. The models and config must match it (CheckpointError names what differs)."""
    state = load_checkpoint(source)
    _require(state, ("models",))
    check_compatible(state, G=run.G, D=run.D, cfg=run.cfg)
    path, problems = Path(state["path"]), counter_problems(state, KEYS)
    models = ((run.G, "G"), (run.D, "D")) + (((run.G_ema, "G_ema"),) if run.G_ema is not None else ())
    for model, key in models:
        problems += weights_problems(key, state.get(key), model)
    for opt, key in ((run.opt_G, "opt_G"), (run.opt_D, "opt_D")):
        problems += optimizer_problems(key, state[key], opt)
    if problems:                                         # checked before anything is loaded into the models
        raise _unusable(path, f"{path} does not fit these models: {'; '.join(problems)}.")
    with _loading(path):
        for obj, key in models + ((run.opt_G, "opt_G"), (run.opt_D, "opt_D")):
            obj.load_state_dict(state[key])              # (G_ema: check_compatible made sure the config asks for it)
        if run.precision is not None:                    # float16's scales; none from another precision
            run.precision.load_state_dict(state.get("scalers"))
        if run.game is not None:                         # CycleGAN's image pools, as they were
            run.game.load_state_dict(state.get("game"))
        history = History.from_dict(state["history"])
    if problems := state_problems(run):                  # written before gan_helpers checked before saving
        raise _unusable(path, f"{path} cannot be trained from: {', '.join(problems)}.")
    for opt, name in ((run.opt_G, "lr_G"), (run.opt_D, "lr_D")):   # changed on resume: the new rate, not the saved
        if state["config"].get(name) != getattr(run.cfg, name):
            for group in opt.param_groups:
                group["lr"] = getattr(run.cfg, name)
    run.history = history
    run.epoch, run.step, run.checkpoint = state["epoch"], state["step"], state["path"]
    set_rng_state(state["rng"])
    return Position(state["batch_in_epoch"], state["rng_epoch_start"])


@contextlib.contextmanager
def _loading(path: Path):
    """What the checks above did not foresee still ends in a CheckpointError about the file, not torch's own."""
    try:
        yield
    except (RuntimeError, ValueError, KeyError, TypeError, IndexError, MemoryError) as err:
        raise _unusable(path, f"{path} does not fit these models ({type(err).__name__}: "
                              f"{str(err).splitlines()[0] if str(err) else ''}).") from err


def load_generator(path: str | Path, *, device: str | torch.device | None = None, ema: bool = True) -> nn.Module:
    """G from a checkpoint file, a checkpoint folder, a run folder (its newest checkpoint) or the name of a
    generator shipped with the package ("mnist-dcgan", "anime-stylegan-32", ...: pretrained.SHIPPED), in eval
    mode on `device` (default the CPU), ready for draw_samples; the moving average G_ema when the run kept
    one, unless `ema=False` (then the trained G itself, to compare the two). `G.checkpoint` says where it came
    from: {"path", "epoch", "step", "metrics", "ema"} (metrics: what a shipped file recorded, else {}; ema:
    whether these are G_ema's weights)."""
    state = load_checkpoint(resolve_generator(path))
    _require(state, ("models", "G", "epoch", "step"))
    _require_specs(state)
    path = Path(state["path"])
    with _loading(path):                               # its size first: a tampered spec could ask for terabytes
        spec = state["models"]["G"]
        check_fits(model_bytes(lambda: build_model(spec)), what=f"The {spec['class']} that {path} describes",
                   fix="Draw from it on a machine with more memory.")
        G = build_model(spec)
    use_ema = ema and state.get("G_ema") is not None
    name = "G_ema" if use_ema else "G"
    if problems := counter_problems(state, ("epoch", "step")) + weights_problems(name, state[name], G):
        raise _unusable(path, f"{path} does not fit the {type(G).__name__} it describes: {'; '.join(problems)}.")
    with _loading(path):
        G.load_state_dict(state[name])                 # float16 weights of a shipped file are copied into G's float32
    if not math.isfinite(largest := _largest([*G.parameters(), *G.buffers()])):
        raise _unusable(path, f"{path}'s {name} holds {largest} among its weights: it would draw nothing but "
                              "noise (the run diverged before this checkpoint was written).")
    G.checkpoint = {"path": state["path"], "epoch": state["epoch"], "step": state["step"],
                    "metrics": state.get("metrics", {}), "ema": use_ema}
    return G.to(device or "cpu").eval()


def save_generator(G: nn.Module, path: str | Path, *, epoch: int, step: int, metrics: dict | None = None,
                   half: bool = True) -> Path:
    """Write G alone as a G-only checkpoint (models: {"G": spec}, G, epoch, step, metrics): for sampling
    with load_generator, never resumable (no D, no optimizers). `half` stores the floating-point weights
    in float16 (half the bytes; load_generator casts them back)."""
    weights = {k: (v.detach().half() if half and v.is_floating_point() else v.detach()).cpu().clone()
               for k, v in G.state_dict().items()}
    return save_checkpoint({"models": {"G": model_spec(G)}, "G": weights, "epoch": epoch, "step": step,
                            "metrics": dict(metrics or {}), "torch_version": str(torch.__version__)}, path)
