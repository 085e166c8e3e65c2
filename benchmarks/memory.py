"""Peak memory of a folder run: 2,000 against 20,000 small files, each in a fresh process.

``classify_stream`` promises bounded memory: files are walked lazily and at
most ``2 * batch_size + workers`` decodes are in flight, and the result
writer streams rows to disk. If that holds, ten times the files costs no
more peak memory. Each size runs in its own child process
(:mod:`benchmarks.memory_child`) that reports its own peak (``VmHWM``).
"""

from __future__ import annotations

import time

from benchmarks import data
from benchmarks.common import Context, Section, Target, rate, run_child
from benchmarks.models import prepare

NAME = "memory"
TITLE = "Peak memory of a folder run"
TARGET_MB = 50.0


def child_run(model: str, out: str, folders: list[str]) -> dict:
    """Run one batch in a fresh interpreter and return its JSON report."""
    return run_child("memory_child", model, out, *folders, timeout=600)


def run(ctx: Context) -> Section:
    section = Section(NAME, TITLE, "python -m benchmarks --only memory")
    # The cheapest architecture: the model does not change what the batch adds, and 20,000 files stay quick.
    model = next(m for m in prepare(ctx) if m.arch == "compact_vgg" and m.variant == "float32")
    small, large = ctx.size(2_000, 100), ctx.size(20_000, 1_000)
    start = time.perf_counter()
    per_folder = min(1000, small)
    folders = data.small_files(ctx.work / "many", large, per_folder=per_folder)
    ctx.log(f"memory: {large:,} files in {time.perf_counter() - start:.0f} s")
    runs = {}
    for count in (small, large):
        chosen = folders[: count // per_folder] if count < large else [folders[0].parent]
        runs[count] = child_run(str(model.path), str(ctx.work / f"memory-{count}.csv"), [str(f) for f in chosen])
        if runs[count]["files"] != count:
            raise RuntimeError(f"expected {count} results, got {runs[count]['files']}")
    growth = runs[large]["peak_mb"] - runs[small]["peak_mb"]
    section.columns = [
        "Files",
        "Peak RSS after loading the model",
        "Peak RSS of the whole run",
        "Added by the batch",
        "Rate",
    ]
    section.rows = [
        [
            f"{count:,}",
            f"{r['loaded_mb']:.0f} MB",
            f"{r['peak_mb']:.0f} MB",
            f"{r['peak_mb'] - r['loaded_mb']:+.0f} MB",
            rate(r["files"] / r["seconds"]),
        ]
        for count, r in runs.items()
    ]
    section.targets.append(
        Target(
            f"peak memory for {large:,} files within {TARGET_MB:.0f} MB of {small:,} files",
            f"{growth:+.1f} MB ({runs[small]['peak_mb']:.0f} -> {runs[large]['peak_mb']:.0f} MB)",
            abs(growth) <= TARGET_MB,
        )
    )
    section.notes.append(
        f"24x24 PNGs in folders of {per_folder:,}, classified with compact_vgg ({model.source}; the cheapest model, so the run is short) by "
        "`classify_stream` into a CSV (`open_result_writer`), batch 64, in a fresh `python -m "
        "benchmarks.memory_child` process per size; peak = that process's `VmHWM` (Linux high-water RSS; "
        "`ru_maxrss`, also via `RUSAGE_CHILDREN`, would include the forked copy of this ~1 GB suite process "
        "from before `exec`)."
    )
    section.numbers = {str(k): v for k, v in runs.items()} | {"growth_mb": growth}
    return section
