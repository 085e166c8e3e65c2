"""Command-line start-up: ``image-classifier classify ONE.jpg --model M`` vs a minimal onnxruntime script.

Both are fresh processes on the same photo and model, run alternately in
the same suite run (so load on a shared machine hits both alike); the
target is the ratio of their medians. The CLI gets its own metadata cache
folder, filled by one untimed warm-up run, as on any start after the first.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import REPO_ROOT, Context, Section, Target, median, ms

NAME = "cli_start"
TITLE = "Command line: one photo, start to answer"
RATIO_TARGET = 1.3
MODEL = "deep_cnn"
IMAGE = REPO_ROOT / "assets" / "samples" / "cat" / "cat_720p.jpg"
MINIMAL_SCRIPT = """\
import sys
import numpy as np
import onnxruntime as ort
from PIL import Image
session = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
spec = session.get_inputs()[0]
image = Image.open(sys.argv[2]).convert("RGB").resize((spec.shape[2], spec.shape[1]))
print(session.run(None, {spec.name: np.asarray(image, dtype=np.float32)[None]})[0].argmax())
"""


def cli_command() -> list[str]:
    """The installed ``image-classifier`` script beside this interpreter, else ``python -m desktop_app``."""
    script = Path(sys.executable).with_name("image-classifier")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "desktop_app"]


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited with {result.returncode}:\n{result.stderr[-2000:]}")
    return elapsed


def run(ctx: Context) -> Section:
    section = Section(NAME, TITLE, "python -m benchmarks --only cli_start")
    model = REPO_ROOT / "assets" / "models" / f"{MODEL}.onnx"
    script = ctx.work / "minimal_classify.py"
    script.write_text(MINIMAL_SCRIPT, encoding="utf-8")
    env = dict(os.environ, IMAGE_CLASSIFIER_CACHE_DIR=str(ctx.work / "cli-cache"), PYTHONPATH=str(REPO_ROOT))
    env.pop("QT_QPA_PLATFORM", None)
    cli = [*cli_command(), "classify", str(IMAGE), "--model", MODEL, "--device", "cpu"]
    minimal = [sys.executable, str(script), str(model), str(IMAGE)]
    timed(cli, env), timed(minimal, env)  # warm-up: disk cache, the CLI's metadata cache
    runs = ctx.size(11, 2)
    cli_s, minimal_s = [], []
    for _ in range(runs):
        minimal_s.append(timed(minimal, env))
        cli_s.append(timed(cli, env))
    value = median(cli_s) / median(minimal_s)
    section.columns = ["Process", "Median", "Min", "Runs"]
    section.rows = [
        [
            f"`{' '.join(Path(c).name if i == 0 else c for i, c in enumerate(cli_command()))} classify "
            f"{IMAGE.name} --model {MODEL} --device cpu`",
            ms(median(cli_s)),
            ms(min(cli_s)),
            str(runs),
        ],
        [
            f"minimal onnxruntime script (open session, decode, resize, run; {MINIMAL_SCRIPT.count(chr(10))} lines)",
            ms(median(minimal_s)),
            ms(min(minimal_s)),
            str(runs),
        ],
    ]
    section.targets.append(
        Target(
            f"CLI within {RATIO_TARGET}x of the minimal script (one photo, fresh processes)",
            f"{value:.2f}x",
            value <= RATIO_TARGET,
        )
    )
    section.notes.append(
        f"Fresh processes, alternating, after one untimed warm-up of each; the CLI reads model metadata from its "
        f"cache (filled by the warm-up, keyed by path, size and mtime; engine/model_cache.py). "
        f"Interpreter: `{shutil.which(Path(sys.executable).name) or sys.executable}`."
    )
    section.numbers = {"cli_s": cli_s, "minimal_s": minimal_s, "ratio": value}
    return section
