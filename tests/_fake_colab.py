"""A stand-in for Google Colab's `google.colab` package: what the course's code calls, nothing more.

    drive.mount(mountpoint)               creates mountpoint/MyDrive (a temporary folder, not Google's);
                                          FAKE_COLAB_DRIVE=decline raises MessageError, as a declined dialog does
    userdata.get(key)                     raises the real exception types: SecretNotFoundError (default),
                                          NotebookAccessError (FAKE_COLAB_SECRETS=refused), TimeoutException (=timeout)
    output.enable_custom_widget_manager() recorded

Every call is appended as one JSON line to the file named by FAKE_COLAB_LOG, so a test can see what a
notebook's kernel (another process) called. `write_fake_colab(root)` writes the package below `root`;
put `root` on PYTHONPATH and import google.colab in the kernel, as Colab's own kernel does at start.
"""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

FILES = {
    "google/__init__.py": '''# A namespace package: google.protobuf and friends are still found in site-packages.
__path__ = __import__("pkgutil").extend_path(__path__, __name__)
''',
    "google/colab/__init__.py": '''"""A stand-in for Google Colab's package (tests/_fake_colab.py)."""
from . import _message, drive, errors, output, userdata  # noqa: F401
''',
    "google/colab/_log.py": '''import json
import os


def record(call, *args):
    if os.environ.get("FAKE_COLAB_LOG"):
        with open(os.environ["FAKE_COLAB_LOG"], "a") as f:
            f.write(json.dumps({"call": call, "args": [str(a) for a in args]}) + "\\n")
''',
    "google/colab/errors.py": '''class Error(Exception):
    """Base class of Colab's errors."""
''',
    "google/colab/_message.py": '''class MessageError(RuntimeError):
    """What Colab raises when the browser side refuses a request (a declined dialog)."""
''',
    "google/colab/drive.py": '''import os
from pathlib import Path

from ._log import record
from ._message import MessageError


def mount(mountpoint, force_remount=False, timeout_ms=120000, readonly=False):
    record("drive.mount", mountpoint)
    if os.environ.get("FAKE_COLAB_DRIVE") == "decline":
        raise MessageError("Error: credential propagation was unsuccessful")
    (Path(mountpoint) / "MyDrive").mkdir(parents=True, exist_ok=True)
    print(f"Mounted at {mountpoint}")
''',
    "google/colab/userdata.py": '''import os

from . import errors
from ._log import record


class NotebookAccessError(Exception):
    def __init__(self, key):
        super().__init__(f"Notebook does not have access to secret {key}")


class SecretNotFoundError(errors.Error):
    def __init__(self, key):
        super().__init__(f"Secret {key} does not exist.")


class TimeoutException(errors.Error):
    def __init__(self, key):
        super().__init__(f"Requesting secret {key} timed out.")


def get(key):
    record("userdata.get", key)
    mode = os.environ.get("FAKE_COLAB_SECRETS", "missing")
    if mode == "refused":
        raise NotebookAccessError(key)
    if mode == "timeout":
        raise TimeoutException(key)
    raise SecretNotFoundError(key)
''',
    "google/colab/output.py": '''from ._log import record


def enable_custom_widget_manager():
    record("output.enable_custom_widget_manager")
''',
}


def write_fake_colab(root: Path) -> Path:
    """Write the stand-in package below `root` (root/google/colab/...) and return `root`."""
    for name, text in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def calls(log: Path) -> list[dict]:
    """The calls recorded in `log`, in order: [{"call": "drive.mount", "args": [...]}, ...]."""
    return [json.loads(line) for line in log.read_text().splitlines()] if log.is_file() else []


def import_fake_colab(root: Path) -> object:
    """Import the stand-in as `google.colab` in this process, without touching any real `google` namespace
    package already imported. Undo with `forget_fake_colab()`."""
    package = write_fake_colab(root) / "google" / "colab"
    forget_fake_colab()
    spec = importlib.util.spec_from_file_location("google.colab", package / "__init__.py",
                                                  submodule_search_locations=[str(package)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["google.colab"] = module
    spec.loader.exec_module(module)   # imports its submodules as google.colab.drive, ...
    return module


def forget_fake_colab() -> None:
    """Remove google.colab and its submodules from sys.modules."""
    for name in [n for n in sys.modules if n == "google.colab" or n.startswith("google.colab.")]:
        del sys.modules[name]
