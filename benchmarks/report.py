"""The Markdown report: machine, versions, commands, targets, one table per measurement."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Sequence
from importlib import metadata

from benchmarks.common import Section
from desktop_app.engine.machine import CPUINFO, cpu_name, logical_cpus

#: Distribution names whose versions the report lists (first installed name wins).
PACKAGES = (
    ("onnxruntime", ("onnxruntime", "onnxruntime-gpu")),
    ("tensorflow", ("tensorflow", "tensorflow-cpu")),
    ("keras", ("keras",)),
    ("numpy", ("numpy",)),
    ("pillow", ("pillow",)),
    ("PySide6", ("PySide6-Essentials", "PySide6")),
)
#: The report always has these headings (the smoke test checks them).
HEADINGS = ("## Machine", "## Targets", "## Commands")


def cpu_features() -> str:
    """The SIMD extensions that decide onnxruntime's and TensorFlow's kernels."""
    try:
        flags = next(line for line in CPUINFO.read_text().splitlines() if line.startswith("flags")).split()
    except (OSError, StopIteration):
        return "unknown"
    wanted = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "amx_tile")
    return ", ".join(f for f in wanted if f in flags) or "no AVX2"


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for label, names in PACKAGES:
        for name in names:
            try:
                found[label] = metadata.version(name)
                break
            except metadata.PackageNotFoundError:
                continue
        else:
            found[label] = "not installed"
    return found


def machine() -> dict[str, str]:
    cores = logical_cpus()
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return {
        "CPU": cpu_name(),
        "Cores available": str(cores),
        "SIMD": cpu_features(),
        "OS": f"{platform.system()} {platform.release()}",
        "Load average at start (1/5/15 min)": load,
    }


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(_cell(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _verdict(met: bool | None) -> str:
    return {True: "met", False: "**missed**", None: "not measured"}[met]


def render(
    sections: Sequence[Section], *, command: str, quick: bool, wall_s: float, machine_info: dict[str, str]
) -> str:
    """The whole report as Markdown."""
    lines = [
        "# Benchmarks",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M %Z')} with `{command}` in {wall_s:.0f} s"
        + (" (**--quick**: tiny sizes and tiny models, for checking the suite, not for numbers)." if quick else "."),
        "Every ratio compares two numbers measured in the same run; timings are medians over repeats after a "
        "warm-up. The machine is shared, so absolute numbers are noisy; ratios much less so.",
        "",
        "## Machine",
        "",
        *table(["", ""], [[k, v] for k, v in machine_info.items()]),
        "",
        *table(["Software", "Version"], [[k, v] for k, v in versions().items()]),
        "",
        "## Targets",
        "",
    ]
    target_rows = [[t.text, t.measured, _verdict(t.met)] for s in sections for t in s.targets]
    target_rows += [[f"{s.title}", "failed to run", _verdict(None)] for s in sections if s.error]
    lines += table(["Target (issue 6)", "Measured", "Result"], target_rows) if target_rows else ["(none measured)"]
    lines += ["", "## Commands", "", "```", command]
    lines += [f"{s.command}    # {s.key}, {s.seconds:.0f} s" for s in sections]
    lines += ["```", ""]
    for section in sections:
        lines += [f"## {section.title}", ""]
        if section.error:
            lines += ["**This measurement failed:**", "", "```", section.error.strip(), "```", ""]
        if section.rows:
            lines += [*table(section.columns, section.rows), ""]
        lines += [f"- {note}" for note in section.notes]
        lines += [""] if section.notes else []
    return "\n".join(lines).rstrip() + "\n"
