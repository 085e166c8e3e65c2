"""Run the measurements in order and write the report (``python -m benchmarks``)."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shlex
import sys
import tempfile
import time
import traceback
from pathlib import Path

from benchmarks.common import Context, Section

#: Measurement modules, in the order they run; each has NAME, TITLE and run(ctx) -> Section.
SECTIONS = (
    "model_latency",
    "end_to_end",
    "scope_check",
    "decode",
    "memory",
    "app_timing",
    "thumbnails",
    "cli_start",
    "teach",
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description="Measure the engine, the models and the app."
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes and tiny models: checks the suite in seconds")
    parser.add_argument(
        "--only", nargs="+", choices=SECTIONS, metavar="NAME", help=f"run only these: {', '.join(SECTIONS)}"
    )
    parser.add_argument("--out", type=Path, help="write the Markdown report here (default: print it)")
    parser.add_argument("--json", type=Path, help="also write the raw numbers as JSON")
    parser.add_argument("--models-cache", type=Path, help="keep exported untrained models here between runs")
    return parser.parse_args(argv)


def run_section(name: str, ctx: Context) -> Section:
    """Run one measurement; a failure becomes a section with the traceback, not a crash."""
    start = time.perf_counter()
    module = importlib.import_module(f"benchmarks.{name}")
    try:
        section = module.run(ctx)
    except Exception:  # report it and keep going: one broken part must not hide the others
        section = Section(name, module.TITLE, f"python -m benchmarks --only {name}", error=traceback.format_exc())
        ctx.log(f"{name} FAILED:\n{section.error}")
    section.seconds = time.perf_counter() - start
    ctx.log(f"{name}: done in {section.seconds:.0f} s")
    return section


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = parse_args(argv)
    from benchmarks.report import machine, render

    machine_info = machine()  # load average before we add to it
    command = "python -m benchmarks " + shlex.join(sys.argv[1:] if argv is None else argv)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="benchmarks-") as tmp:
        ctx = Context(quick=args.quick, work=Path(tmp), models_cache=args.models_cache)
        sections = [run_section(name, ctx) for name in (args.only or SECTIONS)]
    text = render(
        sections,
        command=command.strip(),
        quick=args.quick,
        wall_s=time.perf_counter() - start,
        machine_info=machine_info,
    )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        ctx.log(f"wrote {args.out}")
    else:
        print(text)
    if args.json:
        numbers = {s.key: {"seconds": s.seconds, "error": s.error, **s.numbers} for s in sections}
        args.json.write_text(json.dumps(numbers, indent=2, default=str), encoding="utf-8")
    return 1 if any(s.error for s in sections) else 0
