"""build.spec: parsed statically, then executed with recording stand-ins for PyInstaller's classes."""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.packaging.conftest import REPO_ROOT

SPEC = REPO_ROOT / "build.spec"


def _assigned_literal(tree: ast.Module, name: str):
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} is not assigned a literal in build.spec")


def test_spec_parses_and_excludes_every_forbidden_package(check_module) -> None:
    tree = ast.parse(SPEC.read_text(encoding="utf-8"), filename=str(SPEC))
    excluded = set(_assigned_literal(tree, "EXCLUDED_PACKAGES"))
    must_exclude = {"tensorflow", "keras", "tf2onnx", "onnx", "torch", "matplotlib", "jax", "tkinter", "IPython"}
    assert must_exclude <= excluded
    # Everything the listing check forbids is excluded up front.
    assert set(check_module.FORBIDDEN_PACKAGES) <= excluded
    assert _assigned_literal(tree, "APP_DIR_NAME") == "ImageClassifier"
    assert _assigned_literal(tree, "EXE_NAME") == "image-classifier"


def test_spec_never_enables_upx() -> None:
    tree = ast.parse(SPEC.read_text(encoding="utf-8"))
    upx_values = [
        ast.literal_eval(kw.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        for kw in node.keywords
        if kw.arg == "upx"
    ]
    dict_values = [
        ast.literal_eval(v)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict"
        for kw in node.keywords
        if kw.arg == "upx"
        for v in [kw.value]
    ]
    assert upx_values and all(value is False for value in upx_values + dict_values)


class _Recorder:
    """Stands in for Analysis/PYZ/EXE/COLLECT and remembers how it was called."""

    calls: list[tuple[str, tuple, dict]] = []

    def __init__(self, kind: str):
        self.kind = kind

    def __call__(self, *args, **kwargs):
        _Recorder.calls.append((self.kind, args, kwargs))
        return SimpleNamespace(scripts=[], pure=[], binaries=[], datas=[], kwargs=kwargs, args=args)


@pytest.fixture(scope="module")
def executed_spec(tmp_path_factory: pytest.TempPathFactory):
    pytest.importorskip("PyInstaller", reason="the build extra (PyInstaller) is not installed")
    _Recorder.calls = []
    namespace = {name: _Recorder(name) for name in ("Analysis", "PYZ", "EXE", "COLLECT")}
    namespace.update(SPECPATH=str(REPO_ROOT), workpath=str(tmp_path_factory.mktemp("work")), __name__="__main__")
    saved_path = list(sys.path)
    try:
        exec(compile(SPEC.read_text(encoding="utf-8"), str(SPEC), "exec"), namespace)
    finally:
        sys.path[:] = saved_path
    return {kind: (args, kwargs) for kind, args, kwargs in _Recorder.calls}


def test_spec_bundles_assets_onnxruntime_and_every_app_module(executed_spec) -> None:
    args, kwargs = executed_spec["Analysis"]
    assert Path(args[0][0]) == REPO_ROOT / "packaging" / "entry.py"
    destinations = {Path(dest).as_posix() for _src, dest in kwargs["datas"]}
    assert "assets/samples/cat" in destinations
    assert "assets/icons" in destinations
    assert "onnxruntime" in destinations  # licence texts via collect_data_files
    assert any("onnxruntime" in src for src, _dest in kwargs["binaries"])
    assert "desktop_app.ui.app" in kwargs["hiddenimports"]
    assert "desktop_app.cli" in kwargs["hiddenimports"]
    for name in (
        "tensorflow",
        "keras",
        "tf2onnx",
        "onnx",
        "torch",
        "matplotlib",
        "PySide6.QtNetwork",
        "PySide6.QtQml",
        "PySide6.QtWebEngineCore",
        "PySide6.QtMultimedia",
        "PySide6.QtSql",
    ):
        assert name in kwargs["excludes"]


def test_spec_builds_one_folder_named_image_classifier(executed_spec) -> None:
    exe_args, exe_kwargs = executed_spec["EXE"]
    assert exe_kwargs["exclude_binaries"] is True  # one folder: binaries go to COLLECT, not into the exe
    assert exe_kwargs["upx"] is False
    assert exe_kwargs["console"] is (sys.platform not in ("win32", "darwin"))
    assert Path(exe_kwargs["icon"]).is_file()
    _args, coll_kwargs = executed_spec["COLLECT"]
    assert coll_kwargs["name"] == "ImageClassifier"
    assert coll_kwargs["upx"] is False and coll_kwargs["strip"] is False


def test_entry_script_runs_the_cli_main() -> None:
    tree = ast.parse((REPO_ROOT / "packaging" / "entry.py").read_text(encoding="utf-8"))
    imports = {
        (node.module, alias.name) for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names
    }
    assert ("desktop_app.cli", "main") in imports


def test_packaging_folder_is_not_a_python_package() -> None:
    """An __init__.py would make ``packaging/`` shadow the PyPI ``packaging`` library from the repo root."""
    assert not (REPO_ROOT / "packaging" / "__init__.py").exists()
