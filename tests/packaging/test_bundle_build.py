"""The real build: PyInstaller + the smoke tests through the built executable (about a minute)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.packaging.conftest import REPO_ROOT


@pytest.mark.slow
def test_build_bundle_script_builds_a_working_bundle() -> None:
    pytest.importorskip("PyInstaller", reason="the build extra (PyInstaller) is not installed")
    if not list((REPO_ROOT / "assets" / "models").glob("*.onnx")):
        pytest.skip("no shipped model in assets/models to bundle")
    result = subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / "build_bundle.sh")],
        cwd=REPO_ROOT,
        env=dict(os.environ, PYTHON=sys.executable),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "self-test passed" in result.stdout or "self-test passed" in result.stderr
    assert "OK: no TensorFlow" in result.stdout
