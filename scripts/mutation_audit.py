"""Mutation audit: break one promised behaviour at a time in a scratch copy and see which test notices.

    git worktree add --detach /tmp/mut HEAD          # a scratch copy (never the working tree itself)
    python scripts/mutation_audit.py /tmp/mut         # every mutation; or name some: ... /tmp/mut 0 7 13
    git worktree remove --force /tmp/mut

Each mutation replaces one line of the package (the text must occur exactly once), runs the named tests in
the scratch copy (PYTHONPATH points at it, so its gan_helpers is the one imported), puts the line back and
prints one JSON line: the mutation, whether a test failed, and which. A mutation no test catches is a test to
write. The list holds the behaviours of issues 14 and 15 (EMA, DiffAugment, R1, mixed precision, channels-last,
data parallelism, the shipped generators, the live view) that issue 27 audited.
"""
# ruff: noqa: E501 - a table of mutations, one line of code each
import json
import os
import subprocess
import sys
import time
from pathlib import Path

MUTATIONS = [
 ("load_generator skips loading the weights", "gan_helpers/checkpoint.py",
  '        G.load_state_dict(state[name])', '        pass', ["tests/test_pretrained.py"]),
 ("fit drops DiffAugment (augment = None)", "gan_helpers/train.py",
  "augment = None if cfg.diff_augment is None else (lambda x: diff_augment(x, cfg.diff_augment))", "augment = None",
  ["tests/test_better_pictures.py"]),
 ("fit never applies R1 (_r1_weight always 0)", "gan_helpers/train.py",
  "    return cfg.r1_gamma / 2 * cfg.r1_every if cfg.r1_gamma and run.step % cfg.r1_every == 0 else 0.0",
  "    return 0.0", ["tests/test_better_pictures.py"]),
 ("R1 on every step, weight gamma/2 (not lazy)", "gan_helpers/train.py",
  "    return cfg.r1_gamma / 2 * cfg.r1_every if cfg.r1_gamma and run.step % cfg.r1_every == 0 else 0.0",
  "    return cfg.r1_gamma / 2 if cfg.r1_gamma else 0.0", ["tests/test_better_pictures.py"]),
 ("R1 term computed but not added to loss_D", "gan_helpers/step.py",
  "                loss_D = loss_D + r1_weight * r1_penalty(D, x_seen, y)", "                r1_penalty(D, x_seen, y)",
  ["tests/test_better_pictures.py", "tests/test_step.py"]),
 ("resume does not restore the float16 scalers", "gan_helpers/checkpoint.py",
  '        run.precision.load_state_dict(state.get("scalers"))', '        pass', ["tests/test_precision.py"]),
 ("resume leaves G and D in the default memory layout after a channels-last run", "gan_helpers/checkpoint.py",
  "            obj.load_state_dict(state[key])",
  "            obj.load_state_dict(state[key])\n            if hasattr(obj, 'to') and not hasattr(obj, 'param_groups'):\n                obj.to(memory_format=torch.contiguous_format)",
  ["tests/test_precision.py"]),
 ("Precision.step bypasses the scaler", "gan_helpers/precision.py",
  "        if who not in self.scalers:", "        if True:", ["tests/test_precision.py"]),
 ("LiveView ignores every=", "gan_helpers/live.py",
  "        gap = max(self.every, cost * (1 / share - 1))", "        gap = cost * (1 / share - 1)", ["tests/test_live.py"]),
 ("LiveView draws whenever every= has passed (no 5% budget)", "gan_helpers/live.py",
  "        return now - self._last_end >= gap and within_budget", "        return now - self._last_end >= self.every",
  ["tests/test_live.py"]),
 ("EMA never updated", "gan_helpers/ema.py", "        p_ema.lerp_(p.detach(), 1.0 - decay)", "        pass",
  ["tests/test_ema.py", "tests/test_better_pictures.py::test_ema_is_kept_used_for_the_samples_saved_and_resumed_exactly"]),
 ("EMA weights decay and 1 - decay swapped", "gan_helpers/ema.py", "        p_ema.lerp_(p.detach(), 1.0 - decay)",
  "        p_ema.lerp_(p.detach(), decay)", ["tests/test_ema.py", "tests/test_better_pictures.py"]),
 ("EMA warm-up ignored", "gan_helpers/ema.py", "    return min(decay, (1 + step) / (10 + step)) if warmup else decay",
  "    return decay", ["tests/test_ema.py", "tests/test_better_pictures.py"]),
 ("fit never calls update_ema", "gan_helpers/train.py",
  "update_ema(run.G_ema, G, decay=ema_decay_at(run.step, cfg.ema_decay, warmup=cfg.ema_warmup))", "None",
  ["tests/test_better_pictures.py::test_ema_is_kept_used_for_the_samples_saved_and_resumed_exactly", "tests/test_ema.py", "tests/test_better_pictures.py::test_fit_averages_G_after_every_generator_step_with_the_warm_up"]),
 ("load_generator ignores G_ema", "gan_helpers/checkpoint.py",
  '    use_ema = ema and state.get("G_ema") is not None', "    use_ema = False",
  ["tests/test_better_pictures.py", "tests/test_checkpoint.py", "tests/test_pretrained.py"]),
 ("translation shifts nothing", "gan_helpers/augment.py",
  "    dy, dx = torch.randint(-s, s + 1, (2, B, 1), generator=generator).to(x.device)",
  "    dy, dx = torch.zeros(2, B, 1, dtype=torch.long).to(x.device)", ["tests/test_augment.py"]),
 ("diff_augment applies nothing", "gan_helpers/augment.py", "            x = transform(x, generator=generator)",
  "            pass", ["tests/test_augment.py", "tests/test_better_pictures.py"]),
 ("R1 penalty not squared", "gan_helpers/penalty.py", "    return grad.flatten(1).pow(2).sum(dim=1).mean()",
  "    return grad.flatten(1).abs().sum(dim=1).mean()", ["tests/test_penalty.py"]),
 ("keep_best keeps the worst epoch", "gan_helpers/metrics/callback.py",
  "better = values[self.keep_best], (max if self.higher_is_better else min)",
  "better = values[self.keep_best], (min if self.higher_is_better else max)", ["tests/test_better_pictures.py"]),
 ("Shard.take gives every rank the whole batch", "gan_helpers/distributed.py",
  "        return batch[self.rank * b:(self.rank + 1) * b]", "        return batch", ["tests/test_step.py", "tests/test_distributed.py"]),
 ("save_generator stores float32 (half ignored)", "gan_helpers/checkpoint.py",
  "(v.detach().half() if half and v.is_floating_point() else v.detach())", "(v.detach())",
  ["tests/test_pretrained.py"]),
 ("the float16 scaler's state is not saved", "gan_helpers/checkpoint.py",
  '        state["scalers"] = scalers', "        pass", ["tests/test_precision.py::test_float16_keeps_one_gradient_scaler_per_optimizer_in_the_checkpoint"]),
 ("bfloat16 autocast does nothing", "gan_helpers/precision.py", '        if self.name == "float32":', "        if True:",
  ["tests/test_precision.py::test_each_option_trains_close_to_float32_on_the_same_seed"]),
 ("resume does not restore the optimizers", "gan_helpers/checkpoint.py",
  '        for obj, key in models + ((run.opt_G, "opt_G"), (run.opt_D, "opt_D")):',
  '        for obj, key in models:', ["tests/test_checkpoint.py::test_a_checkpoint_of_release_0_1_0_loads_and_resumes_exactly"]),
 ("resume does not restore the random numbers", "gan_helpers/checkpoint.py", '    set_rng_state(state["rng"])', "    pass",
  ["tests/test_checkpoint.py::test_a_checkpoint_of_release_0_1_0_loads_and_resumes_exactly"]),
]


def main() -> None:
    root, only = Path(sys.argv[1]).resolve(), sys.argv[2:]
    for i, (what, file, old, new, tests) in enumerate(MUTATIONS):
        if only and str(i) not in only:
            continue
        path = root / file
        original = path.read_text()
        if original.count(old) != 1:
            raise SystemExit(f"mutation {i} ({what}): its line occurs {original.count(old)} times in {file}")
        path.write_text(original.replace(old, new))
        start = time.time()
        try:
            done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests],
                                  cwd=root, env=dict(os.environ, PYTHONPATH=str(root)), capture_output=True,
                                  text=True, timeout=900)
        finally:
            path.write_text(original)
        failed = [line.split(" - ")[0].removeprefix("FAILED ") for line in done.stdout.splitlines()
                  if line.startswith("FAILED")]
        print(json.dumps({"i": i, "mutation": what, "caught": done.returncode != 0, "by": failed,
                          "seconds": round(time.time() - start)}), flush=True)


if __name__ == "__main__":
    main()
