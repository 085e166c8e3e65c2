"""The app from the user's side: start-up, first prediction after a drop, model switch.

Each run is a fresh ``python -m benchmarks.app_harness`` process (offscreen
Qt, isolated settings) that opens the window with ``desktop_app.ui.app.start``
(what ``run`` does before the event loop) and stamps events with ``perf_counter``
(CLOCK_MONOTONIC, the same clock in parent and child on Linux), so "process
start" is the parent's stamp just before it spawns the interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import REPO_ROOT, Context, Section, Target, median, ms
from benchmarks.models import prepare

NAME = "app_timing"
TITLE = "App timing (offscreen)"
WINDOW_TARGET_S = 1.0
SWITCH_TARGET_S = 0.200
IMAGES = (
    REPO_ROOT / "assets" / "samples" / "cat" / "cat_720p.jpg",
    REPO_ROOT / "assets" / "samples" / "dog" / "dog_test_0.jpg",
)


def harness_run(ctx: Context, models: Path, switch_rounds: int) -> dict:
    """One fresh app process; its stamps are made relative to the spawn time."""
    settings = ctx.work / f"qsettings-{time.monotonic_ns()}"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(settings))
    command = [
        sys.executable,
        "-m",
        "benchmarks.app_harness",
        "--models",
        str(models),
        "--settings",
        str(settings),
        "--switch-rounds",
        str(switch_rounds),
        *(arg for image in IMAGES for arg in ("--image", str(image))),
    ]
    spawn = time.perf_counter()
    result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"app harness printed no result ({result.returncode}):\n{result.stderr[-3000:]}")
    report = json.loads(lines[-1])
    if report["error"]:
        raise RuntimeError(f"app harness: {report['error']}\n{result.stderr[-2000:]}")
    report["at"] = {k: v - spawn for k, v in report["stamps"].items()}
    return report


def run(ctx: Context) -> Section:
    section = Section(NAME, TITLE, "python -m benchmarks --only app_timing")
    models = prepare(ctx)
    folder = next(m.path.parent for m in models if m.variant == "float32")
    runs = ctx.size(4, 1)
    reports = []
    for i in range(runs):
        last = i == runs - 1
        reports.append(harness_run(ctx, folder, switch_rounds=ctx.size(3, 1) if last else 0))
    timed = reports[1:] if len(reports) > 1 else reports  # the first start warms the disk cache
    at = {key: [r["at"][key] for r in timed] for key in timed[0]["at"]}

    def rel(a: str, b: str) -> list[float]:
        return [r["at"][b] - r["at"][a] for r in timed]

    shown = median(at["window_painted"])
    section.columns = ["Event", "Median", "Runs"]
    section.rows = [
        ["process start -> Python + PySide6 imported", ms(median(at["pyside_imported"])), str(len(timed))],
        [
            "process start -> app modules imported (UI, engine, onnxruntime)",
            ms(median(at["ui_imported"])),
            str(len(timed)),
        ],
        ["process start -> main window painted", ms(shown), str(len(timed))],
        ["process start -> model list loaded (background)", ms(median(at["models_loaded"])), str(len(timed))],
        ["drop at first paint -> first prediction shown", ms(median(rel("drop_1", "prediction_1"))), str(len(timed))],
        ["process start -> first prediction shown", ms(median(at["prediction_1"])), str(len(timed))],
        ["second drop (model ready) -> prediction shown", ms(median(rel("drop_2", "prediction_2"))), str(len(timed))],
    ]
    section.targets.append(
        Target(
            f"main window shown within {WINDOW_TARGET_S:.1f} s of starting from source",
            ms(shown),
            shown <= WINDOW_TARGET_S,
        )
    )
    switches = reports[-1]["switches"]
    by_model: dict[str, list[float]] = {}
    first: dict[str, float] = {}
    for switch in switches:
        name = Path(switch["model"]).stem
        duration = switch["end"] - switch["start"]
        if name in first:
            by_model.setdefault(name, []).append(duration)
        else:
            first[name] = duration
    worst = None
    for name, durations in by_model.items():
        value = median(durations)
        worst = value if worst is None else max(worst, value)
        section.rows.append(
            [
                f"switch to {name} once loaded -> new prediction shown (first switch: {ms(first[name])})",
                ms(value),
                str(len(durations)),
            ]
        )
    if worst is not None:
        section.targets.append(
            Target(
                f"model switch under {SWITCH_TARGET_S * 1000:.0f} ms once loaded (slowest model)",
                ms(worst),
                worst < SWITCH_TARGET_S,
            )
        )
    else:
        section.notes.append("Only one model: no model switch measured.")
    section.notes += [
        f"{len(reports)} fresh processes (`python -m benchmarks.app_harness`, QT_QPA_PLATFORM=offscreen, "
        f"temporary QSettings); the first only warms the disk cache and is not counted when there are more. "
        f"Models: the {len({Path(s['model']).stem for s in switches}) or 1} float32 files in `{folder}`.",
        "The harness imports `desktop_app.cli`, stores the models folder in the (temporary) settings and calls "
        '`desktop_app.ui.app.start([])`, which `run()` calls before the event loop; "painted" is the first '
        "Paint event of the main window. "
        f"It then drops `{IMAGES[0].name}` at once (the app holds it until the model list is loaded), drops "
        f"`{IMAGES[1].name}` once the first result is shown, and switches through every model with the "
        "model dropdown, re-classifying the shown image each time (first round opens the sessions, later "
        "rounds use the engine's classifier cache). A switch ends at `MainWindow.prediction_shown`.",
    ]
    section.numbers = {"runs": [r["at"] for r in reports], "switches": switches}
    return section
