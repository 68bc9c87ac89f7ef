"""Exercise checks: each runs a learner's function on fixed inputs and prints a verdict that teaches.

In every chapter a few pieces are exercises. The exercise cell holds the signature, a docstring and (in the
learner's copy, written by scripts/make_exercises.py) a stub that raises NotImplementedError with a hint;
the check cell after it calls one of the functions below:

    from gan_helpers.exercises import check_d_step
    check_d_step(d_step);

A check compares with a closed form or the package, recognises typical mistakes by what they do (a
gradient reaching G in D's step: a missing detach; an interpolation weight that changes within an image:
eps drawn per pixel; a size off by one), prints ✓ what passed, or ✗ what was expected, what came out and
the likely mistake, and returns a CheckResult (truthy when it passed). It never raises an AssertionError.

CHECKS maps each exercise's name (the `# EXERCISE name` marker of its cell) to its check and the names the
exercise cell defines, in the order the check takes them. The checks imported from here keep their verdicts
(progress.py), so that a later cell can use the learner's version when it passed and the package's when
not (`yours_or_package`), and the chapter ends with a progress line (`progress`). `solution(name)` runs the
course's solution in the notebook in one action (solutions.py); `python -m gan_helpers check NOTEBOOK`
checks a learner's notebook from outside (grading.py).
"""
from .adam import check_adam_step
from .conditioning import check_D_input, check_G_input
from .convolutions import check_conv_transpose_out, check_generator_block, check_generator_widths
from .evaluation import check_coverage, check_frechet_distance, check_precision_recall
from .image_dataset import check_image_dataset
from .in_training import penalty_in_fit
from .latent_space import check_ink_direction, check_slerp
from .mixed_precision import check_amp_d_step
from .nearest import check_nearest_in
from .patchgan import check_patch_discriminator, check_receptive_field
from .progress import progress, recorded, yours_or_package
from .report import CheckResult
from .sharding import check_shard
from .solutions import solution
from .stability import check_gradient_penalty, check_power_iteration
from .style import check_mapping, check_modulated_conv, check_truncation
from .training_step import check_d_step, check_g_step, check_losses
from .translation import check_cycle_loss, check_image_pool

CHECKS = {
    "losses": (check_losses, ("d_loss_from_logits", "g_loss_from_logits")),
    "d_step": (check_d_step, ("d_step",)),
    "g_step": (check_g_step, ("g_step",)),
    "conv_transpose_out": (check_conv_transpose_out, ("conv_transpose_out",)),
    "generator_block": (check_generator_block, ("generator_block",)),
    "adam_step": (check_adam_step, ("adam_step",)),
    "nearest_in": (check_nearest_in, ("nearest_in",)),
    "image_dataset": (check_image_dataset, ("FaceFolder",)),
    "generator_widths": (check_generator_widths, ("generator_widths",)),
    "slerp": (check_slerp, ("my_slerp",)),
    "ink_direction": (check_ink_direction, ("ink_direction",)),
    "fid": (check_frechet_distance, ("fid_inline",)),
    "coverage": (check_coverage, ("coverage",)),
    "precision_recall": (check_precision_recall, ("precision_recall_inline",)),
    "gradient_penalty": (check_gradient_penalty, ("gradient_penalty_inline",)),
    "power_iteration": (check_power_iteration, ("power_iteration_step",)),
    "G_input": (check_G_input, ("G_input",)),
    "D_input": (check_D_input, ("D_input",)),
    "amp_d_step": (check_amp_d_step, ("amp_d_step",)),
    "shard": (check_shard, ("my_shard",)),
    "mapping": (check_mapping, ("map_z",)),
    "modulated_conv": (check_modulated_conv, ("modulated_conv",)),
    "truncation": (check_truncation, ("my_truncate",)),
    "receptive_field": (check_receptive_field, ("receptive_field",)),
    "patch_discriminator": (check_patch_discriminator, ("patch_discriminator",)),
    "cycle_loss": (check_cycle_loss, ("cycle_loss",)),
    "image_pool": (check_image_pool, ("ImagePool",)),
}
CHECKS = {name: (recorded(name, check), names) for name, (check, names) in CHECKS.items()}
(check_losses, check_d_step, check_g_step, check_conv_transpose_out, check_generator_block, check_adam_step,
 check_nearest_in, check_image_dataset, check_generator_widths, check_slerp, check_ink_direction,
 check_frechet_distance, check_coverage, check_precision_recall, check_gradient_penalty, check_power_iteration,
 check_G_input, check_D_input, check_amp_d_step, check_shard, check_mapping, check_modulated_conv,
 check_truncation, check_receptive_field, check_patch_discriminator, check_cycle_loss,
 check_image_pool) = (check for check, _ in CHECKS.values())

__all__ = [
    "CHECKS", "CheckResult", "penalty_in_fit", "progress", "solution", "yours_or_package",
    "check_losses", "check_d_step", "check_g_step",
    "check_conv_transpose_out", "check_generator_block", "check_generator_widths",
    "check_adam_step", "check_nearest_in", "check_image_dataset",
    "check_slerp", "check_ink_direction", "check_frechet_distance", "check_coverage", "check_precision_recall",
    "check_gradient_penalty", "check_power_iteration", "check_G_input", "check_D_input",
    "check_amp_d_step", "check_shard", "check_mapping", "check_modulated_conv", "check_truncation",
    "check_receptive_field", "check_patch_discriminator", "check_cycle_loss", "check_image_pool",
]
