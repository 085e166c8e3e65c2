"""onnxruntime sessions on the CPU or CUDA, with the providers really in use.

The provider choice is a pure function (:func:`choose_providers`) so it can be
tested with fake provider lists; :func:`create_session` then reads back what
the session actually got, because onnxruntime silently drops CUDA when its
libraries (CUDA, cuDNN) cannot be loaded. A fallback is never silent: it is
logged and put in :attr:`SessionReport.notice` for the UI and the CLI.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import onnxruntime as ort

from desktop_app.engine.machine import physical_cores

log = logging.getLogger(__name__)

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"
#: Upper bound for intra-op threads: small CNNs gain nothing beyond this.
MAX_INTRA_OP_THREADS = 8


class Device(str, Enum):
    """Where the user wants inference to run."""

    AUTO = "auto"
    CPU = "cpu"
    CUDA = "cuda"


@dataclass(frozen=True)
class SessionReport:
    """What was asked for, what the session really uses, and why they differ."""

    requested: Device
    providers: tuple[str, ...]
    notice: str | None = None

    @property
    def provider_label(self) -> str:
        return "CUDA" if self.providers and self.providers[0] == CUDA else "CPU"


def available_providers() -> list[str]:
    """Execution providers this onnxruntime build offers."""
    return list(ort.get_available_providers())


def duplicate_runtime_warning(distributions: Iterable[str]) -> str | None:
    """The warning for both ``onnxruntime`` and ``onnxruntime-gpu`` installed, else None."""
    names = {name.lower().replace("_", "-") for name in distributions}
    if {"onnxruntime", "onnxruntime-gpu"} <= names:
        return (
            "both 'onnxruntime' and 'onnxruntime-gpu' are installed; they share one module and the CPU "
            "package can hide the CUDA provider. Uninstall both and install only one of them."
        )
    return None


def runtime_warnings() -> list[str]:
    """Problems with the installed onnxruntime that the user should hear about."""
    warning = duplicate_runtime_warning(name for name in ("onnxruntime", "onnxruntime-gpu") if _installed(name))
    return [warning] if warning else []


def _installed(distribution: str) -> bool:
    """Whether ``distribution`` is installed beside the imported onnxruntime (the only place where the two clash).

    A look at the dist-info folders there: ``importlib.metadata`` costs 50 ms
    to import and listing every distribution 0.15 s, on every command.
    """
    site = Path(ort.__file__).resolve().parents[1]
    return any(site.glob(f"{distribution.replace('-', '_')}-*.dist-info"))


def choose_providers(requested: Device, available: Sequence[str]) -> tuple[list[str], str | None]:
    """Providers to ask onnxruntime for, and a notice when the request cannot be met."""
    requested = Device(requested)
    if requested is Device.CPU:
        return [CPU], None
    if CUDA in available:
        return [CUDA, CPU], None
    if requested is Device.CUDA:
        return [CPU], (
            "CUDA was requested but is not available (this onnxruntime offers "
            f"{', '.join(available) or 'no providers'}; install onnxruntime-gpu and an NVIDIA driver); "
            "running on the CPU"
        )
    return [CPU], None


def check_providers(requested: Device, wanted: Sequence[str], got: Sequence[str]) -> str | None:
    """A notice when the session did not get CUDA although it was chosen, else None."""
    if CUDA in wanted and CUDA not in got:
        who = "was requested" if Device(requested) is Device.CUDA else "is installed"
        return (
            f"CUDA {who} but onnxruntime could not start it (CUDA or cuDNN libraries missing or "
            "incompatible; see the log); running on the CPU"
        )
    return None


def intra_op_threads() -> int:
    """onnxruntime's intra-op threads: one per physical core, at most :data:`MAX_INTRA_OP_THREADS`."""
    return min(physical_cores(), MAX_INTRA_OP_THREADS)


def session_options(threads: int | None = None) -> ort.SessionOptions:
    """All graph optimisations, one intra-op thread per physical core (or ``threads``), sequential execution.

    The intra-op threads stop spinning when a run ends, so the decode threads
    of a folder run get those cycles between batches (2 cores, deep CNN:
    1,182 -> 1,214 images/s end to end, single image 0.87 -> 0.98 ms).
    Never spinning (``session.intra_op.allow_spinning=0``) was no faster for
    folders and cost single images 30-45% (docs/benchmarks.md). Dynamic
    block sizes for the parallel loops (``session.dynamic_block_base=4``)
    made no difference to folders either (docs/engine.md).
    """
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.intra_op_num_threads = threads or intra_op_threads()
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.force_spinning_stop", "1")
    return options


def create_session(
    path: str | Path, device: Device = Device.AUTO, *, threads: int | None = None
) -> tuple[ort.InferenceSession, SessionReport]:
    """Open ``path`` on the requested device; fall back to the CPU with a notice.

    ``threads``: intra-op threads on the CPU (default: :func:`intra_op_threads`).
    """
    device = Device(device)
    wanted, notice = choose_providers(device, available_providers())
    try:
        session = ort.InferenceSession(str(path), session_options(threads), providers=wanted)
    except Exception as exc:
        if wanted == [CPU]:
            raise
        log.warning("could not open %s with %s (%s); retrying on the CPU", path, wanted, exc)
        session = ort.InferenceSession(str(path), session_options(threads), providers=[CPU])
    got = tuple(session.get_providers())
    notice = notice or check_providers(device, wanted, got)
    if notice:
        log.warning("%s: %s", Path(path).name, notice)
    log.info("%s runs on %s", Path(path).name, ", ".join(got))
    return session, SessionReport(device, got, notice)
