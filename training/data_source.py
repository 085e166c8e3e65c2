"""Where a command finds CIFAR-10: ``--data PATH``, else the ``CIFAR10_DATA`` environment variable.

Kept apart from :mod:`training.data` (which imports tqdm and the decoders) so
that light commands such as ``python -m export check`` can build their
``--data`` option with only the app's runtime installed.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The environment variable that names the CIFAR-10 copy when ``--data`` is not given.
DATA_ENV = "CIFAR10_DATA"


def default_data() -> Path | None:
    """``$CIFAR10_DATA`` as a path, or None (then training uses the Keras download)."""
    value = os.environ.get(DATA_ENV, "").strip()
    return Path(value).expanduser() if value else None


def data_help(fallback: str) -> str:
    """The ``--data`` help text, the same in every command."""
    return f"CIFAR-10 folder or .tar.gz laid out train|test/<class>/<image> (default: ${DATA_ENV}, else {fallback})"
