"""What the machine offers: CPU name and physical cores, read from /proc/cpuinfo where there is one.

Plain Python (no onnxruntime, no Keras) so the engine, the training reports
and the benchmarks describe the machine the same way.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")


def cpu_name() -> str:
    """E.g. "Intel(R) Xeon(R) Processor"; the platform's processor string elsewhere."""
    try:
        for line in CPUINFO.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def logical_cpus() -> int:
    """Logical CPUs this process may run on (its affinity mask where the OS has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def physical_cores() -> int:
    """Physical CPU cores available to this process (hyper-threads do not help here)."""
    logical = logical_cpus()
    try:
        pairs = set()
        physical = core = ""
        for line in CPUINFO.read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "physical id":
                physical = value.strip()
            elif key.strip() == "core id":
                core = value.strip()
                pairs.add((physical, core))
        if pairs:
            return max(1, min(len(pairs), logical))
    except OSError:
        pass
    return max(1, logical // 2 if logical > 2 else logical)
