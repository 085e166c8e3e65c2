"""What every measurement shares: the run context, timing helpers, result types."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
CIFAR_TARBALL = SHARED_DATA / "cifar10-jpeg.tar.gz"


def run_child(
    module: str, *args: str, timeout: float, env: dict[str, str] | None = None, check: bool = True
) -> dict[str, Any]:
    """Run ``python -m benchmarks.<module> ARGS`` in a fresh interpreter and return the last JSON line it printed.

    Measurements that must not share the suite's process (peak memory, a fresh
    Qt app, a cold teach) report one JSON object on stdout. ``check``: a
    non-zero exit is an error even when a result was printed.
    """
    done = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{module}", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if (check and done.returncode != 0) or not lines:
        raise RuntimeError(f"{module} failed or printed no result ({done.returncode}):\n{done.stderr[-3000:]}")
    return dict(json.loads(lines[-1]))


@dataclass
class Context:
    """Settings and scratch space for one suite run."""

    quick: bool
    work: Path  # temporary folder, removed after the run
    models_cache: Path | None = None  # where exported models are kept between runs
    log: Callable[[str], Any] = lambda text: print(text, file=sys.stderr, flush=True)
    _cache: dict[str, Any] = field(default_factory=dict)

    def size(self, full: int, quick: int) -> int:
        """``full`` normally, ``quick`` with ``--quick``."""
        return quick if self.quick else full

    def once(self, key: str, make: Callable[[], Any]) -> Any:
        """``make()`` the first time ``key`` is asked for, the cached value afterwards."""
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]


@dataclass(frozen=True)
class Target:
    """One target of issue 6 and whether this run met it (None: not measured)."""

    text: str
    measured: str
    met: bool | None


@dataclass
class Section:
    """One measurement's results: a table, the targets it checks, notes."""

    key: str
    title: str
    command: str
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)  # raw values for --json
    error: str | None = None
    seconds: float = 0.0


def measure(
    fn: Callable[[], Any], *, warmup: int = 2, repeats: int = 20, max_s: float = 5.0, min_repeats: int = 3
) -> list[float]:
    """Seconds per call of ``fn``: ``warmup`` untimed calls, then up to ``repeats`` timed ones.

    Stops early once ``max_s`` seconds were spent timing (but never before
    ``min_repeats``), so slow models cost bounded time.
    """
    for _ in range(warmup):
        fn()
    times: list[float] = []
    spent = 0.0
    while len(times) < repeats and (spent < max_s or len(times) < min_repeats):
        start = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - start
        times.append(elapsed)
        spent += elapsed
    return times


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0..100), linear interpolation."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def ms(seconds: float) -> str:
    """Seconds as a readable millisecond figure."""
    value = seconds * 1000.0
    return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


def ratio(value: float) -> str:
    return f"{value:.1f}x" if value < 100 else f"{value:.0f}x"


def rate(value: float) -> str:
    return f"{value:,.0f}/s" if value >= 10 else f"{value:.2f}/s"
