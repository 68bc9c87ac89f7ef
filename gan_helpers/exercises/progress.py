"""What the notebook knows about the learner's exercises: the last verdict of each check, which version
a later cell uses, and the progress line at the end of a chapter.

Every check imported from `gan_helpers.exercises` records its verdict here (`recorded`), with the
objects it checked. A later cell that builds on an exercise asks for the learner's version:

    slerp_fn = yours_or_package("slerp", my_slerp, package=slerp)

which returns `my_slerp` when its check passed on that very function, and otherwise says which exercise
is unfinished and returns the package's version (`package`, or else the course's solution of the
exercise, `solutions.package_version`), so that the rest of the notebook runs on. The last cell of a
chapter prints one line:

    progress("slerp", "ink_direction")   # Exercises: 1 of 2 pass · ✓ slerp · … ink_direction (not written yet)
"""
from __future__ import annotations

import contextlib
import functools
import io
from collections.abc import Callable

from .report import STUB, CheckResult

RESULTS: dict[str, tuple[CheckResult, tuple]] = {}   # exercise name -> (last verdict, the objects it checked)


def recorded(name: str, check: Callable[..., CheckResult]) -> Callable[..., CheckResult]:
    """The check `check` of exercise `name`, which also keeps its verdict in RESULTS."""
    @functools.wraps(check)
    def run(*learner, **options) -> CheckResult:
        result = check(*learner, **options)
        RESULTS[name] = (result, learner)
        return result
    return run


def verdict(name: str, *learner) -> CheckResult | None:
    """The last verdict of exercise `name` on exactly these objects (None when its check has not run on them)."""
    result, checked = RESULTS.get(name, (None, ()))
    if result is None or len(checked) != len(learner) or any(a is not b for a, b in zip(checked, learner, strict=True)):
        return None
    return result


def yours_or_package(name: str, *learner, package=None):
    """The learner's objects of exercise `name` when its check passes on them, else the package's version.

    learner: what the exercise cell defined (the names its check takes, in order). The check runs now,
    quietly, when it has not run on these objects yet. package: the package's version (one object, or a
    tuple as many as `learner`); None: the course's solution of the exercise, run in a namespace of its own.
    Returns one object, or a tuple when the exercise defines several. Prints which version is used."""
    from . import CHECKS
    from .solutions import package_version

    if name not in CHECKS:
        raise ValueError(f"no exercise named {name!r}; the exercises are: {', '.join(CHECKS)}.")
    check, names = CHECKS[name]
    if len(learner) != len(names):
        raise ValueError(f"exercise {name!r} defines {', '.join(names)}: pass those {len(names)}, "
                         f"got {len(learner)}.")
    result = verdict(name, *learner)
    if result is None:
        with contextlib.redirect_stdout(io.StringIO()):   # the check cell above shows its verdict
            result = check(*learner)
    shown = ", ".join(names)
    if result.passed:
        print(f"↪ this cell uses your {shown} (exercise {name}: its check passed).")
        return learner[0] if len(learner) == 1 else learner
    state = "not written yet" if result.mistake == STUB else f"its check failed: {result.mistake}"
    if package is None:
        package, instead = package_version(name), f"the course's solution of {shown}"
    else:
        instead = "the package's " + ", ".join(f"{getattr(p, '__module__', '')}.{getattr(p, '__name__', p)}".lstrip(".")
                                               for p in (package if isinstance(package, tuple) else (package,)))
    print(f"↪ exercise {name} is unfinished ({state}): this cell goes on with {instead}. "
          f"Finish it, or run `solution({name!r})`, and run this cell again to use yours.")
    return package


def progress(*names: str) -> dict[str, CheckResult | None]:
    """Print one line: how many of this chapter's exercises `names` pass, and each one's state.
    Returns name -> the last verdict (None: its check has not run in this session)."""
    from . import CHECKS

    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        raise ValueError(f"no exercise named {', '.join(map(repr, unknown))}; the exercises are: {', '.join(CHECKS)}.")
    results = {n: RESULTS.get(n, (None, ()))[0] for n in names}
    parts = []
    for n, result in results.items():
        if result is None:
            parts.append(f"– {n} (check not run)")
        elif result.passed:
            parts.append(f"✓ {n}")
        elif result.mistake == STUB:
            parts.append(f"… {n} (not written yet)")
        else:
            parts.append(f"✗ {n} ({result.mistake})")
    passed = sum(bool(r) for r in results.values())
    print(f"Exercises: {passed} of {len(names)} pass · " + " · ".join(parts))
    return results
