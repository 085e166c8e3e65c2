"""Emit Qt signals from Python without tripping a PySide6 6.12.0 reference-count bug.

PySide6 6.12.0 returns the ``bool`` result of ``SignalInstance.emit()``
without taking a reference, so every call from Python drops one reference of
``True``. On Python 3.11 (where ``True`` is not immortal) the interpreter
aborts after a few thousand emits ("Fatal Python error: bool_dealloc"). 6.11
and earlier are fine, and on Python >= 3.12 the drop is harmless. :func:`emit`
detects the bug once, at import, and gives the reference back when needed;
every ``emit`` in ``desktop_app/ui`` goes through it.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal


class _Probe(QObject):
    ping = Signal()


def _references_dropped_by_emit(calls: int = 16) -> int:
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(calls):
        probe.ping.emit()
    return before - sys.getrefcount(True)


_incref = ctypes.pythonapi.Py_IncRef
_incref.argtypes = [ctypes.py_object]
_incref.restype = None
_dropped = _references_dropped_by_emit()
EMIT_DROPS_REFERENCE = _dropped >= 8
for _ in range(max(0, _dropped)):  # repay what the probe itself took
    _incref(True)


def emit(signal: Any, *args: Any) -> None:
    """``signal.emit(*args)``; safe on every PySide6 version."""
    result = signal.emit(*args)
    if EMIT_DROPS_REFERENCE and isinstance(result, bool):
        _incref(result)
