"""Smoke test: the whole benchmark suite runs with ``--quick`` and writes a complete report.

Benchmarks are not pass/fail on speed: this checks that every measurement
runs end to end (real models exported with tf2onnx, real onnxruntime
sessions, real files, the real window offscreen) and reports its numbers.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.suite import SECTIONS

# find_spec, not importorskip: importing TensorFlow here would cost seconds for nothing.
pytestmark = pytest.mark.skipif(
    any(importlib.util.find_spec(name) is None for name in ("tensorflow", "tf2onnx", "PySide6")),
    reason="the benchmark suite needs TensorFlow, tf2onnx and PySide6",
)

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_quick_suite_writes_every_section(tmp_path: Path) -> None:
    out, numbers = tmp_path / "benchmarks.md", tmp_path / "numbers.json"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", TMPDIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--out", str(out), "--json", str(numbers)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]

    text = out.read_text(encoding="utf-8")
    for heading in ("## Machine", "## Targets", "## Commands"):
        assert heading in text
    for module in SECTIONS:
        title = __import__(f"benchmarks.{module}", fromlist=["TITLE"]).TITLE
        assert f"## {title}" in text
        assert f"python -m benchmarks --only {module}" in text
    for package in ("python", "onnxruntime", "tensorflow", "keras", "numpy", "pillow", "PySide6"):
        assert f"| {package} |" in text
    assert "--quick" in text

    raw = json.loads(numbers.read_text(encoding="utf-8"))
    assert set(raw) == set(SECTIONS)
    assert all(raw[name]["error"] is None for name in SECTIONS)
    # Each measurement produced real, positive numbers.
    assert raw["model_latency"]["deep_cnn"]["ort_p50_s"] > 0
    assert raw["model_latency"]["deep_cnn"]["keras_predict_p50_s"] > 0
    assert raw["end_to_end"]["images"] == 300 and raw["end_to_end"]["failed"] == 0
    phone = raw["end_to_end"]["phone"]
    assert phone["pure_rate"] > 0 and all(
        phone[name]["rows"] == 8 for name in ("decode_bound", "default_model", "checked")
    )
    assert raw["decode"]["speedup"] > 0
    assert raw["memory"]["100"]["files"] == 100 and raw["memory"]["1000"]["files"] == 1000
    assert raw["memory"]["1000"]["peak_mb"] < 500, "the child's peak must not include the forked parent"
    assert raw["app_timing"]["switches"], "the quick suite has two models, so a model switch is timed"
    assert raw["thumbnails"]["rows"] == 200 and raw["thumbnails"]["loaded"] and raw["thumbnails"]["at_bottom"]
