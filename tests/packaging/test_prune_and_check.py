"""The bundle trimming rules (packaging/prune.py) and the listing check (packaging/check_bundle.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.packaging.conftest import REPO_ROOT


@pytest.mark.parametrize(
    ("dest", "unused"),
    [
        ("PySide6/Qt/plugins/platforms/libqvnc.so", True),
        ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", True),
        ("PySide6/Qt/plugins/generic/libqtuiotouchplugin.so", True),
        ("PySide6/Qt/plugins/platforms/libqxcb.so", False),
        ("PySide6/Qt/plugins/platforms/libqoffscreen.so", False),
        ("PySide6/Qt/plugins/platforms/libqwayland.so", False),
        ("PySide6/Qt/plugins/imageformats/libqjpeg.so", False),
    ],
)
def test_unused_plugins(prune_module, dest: str, unused: bool) -> None:
    assert prune_module.is_unused_plugin(dest) is unused


def test_roots_are_extensions_plugins_providers_and_libpython(prune_module) -> None:
    plain = prune_module.is_plain_library
    assert plain("libcairo.so.2") and plain("PySide6/Qt/lib/libQt6Network.so.6")
    assert not plain("PySide6/QtWidgets.abi3.so")
    assert not plain("numpy/_core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so")
    assert not plain("PySide6/Qt/plugins/platforms/libqxcb.so")
    assert not plain("onnxruntime/capi/libonnxruntime_providers_shared.so")
    assert not plain("libpython3.11.so.1.0")
    # ORT's C-API library is dropped only when nothing links it (the CUDA provider might).
    assert plain("onnxruntime/capi/libonnxruntime.so.1.32.0")


def test_soname_aliases(prune_module) -> None:
    assert prune_module.soname_aliases("libonnxruntime.so.1.32.0") == [
        "libonnxruntime.so.1.32.0",
        "libonnxruntime.so.1.32",
        "libonnxruntime.so.1",
        "libonnxruntime.so",
    ]
    assert prune_module.soname_aliases("libfoo.so") == ["libfoo.so"]


def test_orphans_are_libraries_no_root_reaches(prune_module) -> None:
    needed = {
        "app.abi3.so": {"libQt6Widgets.so.6"},
        "libQt6Widgets.so.6": {"libQt6Gui.so.6"},
        "libQt6Gui.so.6": {"libc.so.6"},
        "libQt6Network.so.6": {"libssl.so.3"},  # was only needed by a removed plugin
        "libssl.so.3": set(),
        "onnxruntime/capi/libonnxruntime_providers_cuda.so": {"libonnxruntime.so.1"},
        "onnxruntime/capi/libonnxruntime.so.1.32.0": set(),
        "unused/libonnxruntime.so.9.0.0": set(),
        "libcycle_a.so.1": {"libcycle_b.so.1"},
        "libcycle_b.so.1": {"libcycle_a.so.1"},
    }
    orphans = prune_module.orphaned_libraries(needed, lambda dest: not prune_module.is_plain_library(dest))
    assert orphans == {
        "libQt6Network.so.6",
        "libssl.so.3",
        "libcycle_a.so.1",
        "libcycle_b.so.1",
        "unused/libonnxruntime.so.9.0.0",
    }


def test_prune_drops_plugins_and_symlinks_to_dropped_files(prune_module) -> None:
    binaries = [
        ("PySide6/Qt/plugins/platforms/libqvnc.so", "/src/libqvnc.so", "BINARY"),
        ("PySide6/Qt/plugins/platforms/libqxcb.so", "/src/libqxcb.so", "BINARY"),
        ("libqvnc-link.so", "PySide6/Qt/plugins/platforms/libqvnc.so", "SYMLINK"),
        ("libqxcb-link.so", "PySide6/Qt/plugins/platforms/libqxcb.so", "SYMLINK"),
    ]
    datas = [("assets/models/a.onnx", "/src/a.onnx", "DATA"), ("latest.onnx", "assets/models/a.onnx", "SYMLINK")]
    translations = [("PySide6/Qt/translations/qtbase_de.qm", "/src/qtbase_de.qm", "DATA")]
    kept, kept_datas = prune_module.prune(binaries, datas + translations, linux=False, log=lambda _line: None)
    assert [dest for dest, *_ in kept] == ["PySide6/Qt/plugins/platforms/libqxcb.so", "libqxcb-link.so"]
    assert kept_datas == datas


@pytest.mark.parametrize(
    ("name", "forbidden"),
    [
        ("tensorflow.python.framework", True),
        ("_internal/tensorflow/libtensorflow_framework.so.2", True),
        ("keras", True),
        ("tf2onnx.convert", True),
        ("onnx.helper", True),
        ("_internal/onnx/onnx_cpp2py_export.so", True),
        ("torch", True),
        ("_internal/torch/lib/libtorch_cpu.so", True),
        ("matplotlib.pyplot", True),
        ("tkinter", True),
        ("_internal/PySide6/Qt/lib/libQt6Network.so.6", True),
        ("_internal/PySide6/Qt/lib/libQt6WebEngineCore.so.6", True),
        ("PySide6.QtQml", True),
        ("training.recipes", True),
        ("onnxruntime.capi._pybind_state", False),
        ("_internal/onnxruntime/capi/onnxruntime_pybind11_state.so", False),
        ("PySide6.QtWidgets", False),
        ("_internal/PySide6/Qt/lib/libQt6WaylandClient.so.6", False),
        ("_internal/PySide6/Qt/plugins/platforms/libqxcb.so", False),
        ("desktop_app.engine.registry", False),
        ("numpy.testing", False),
    ],
)
def test_forbidden_hits(check_module, name: str, forbidden: bool) -> None:
    assert (check_module.forbidden_hits([name]) == [name]) is forbidden


def test_missing_parts_names_what_a_broken_bundle_lacks(check_module) -> None:
    complete = [
        "image-classifier",
        "_internal/assets/models/deep_cnn.onnx",
        "_internal/assets/samples/cat/cat.jpg",
        "_internal/assets/icons/image-classifier.png",
        "_internal/onnxruntime/capi/onnxruntime_pybind11_state.cpython-311-x86_64-linux-gnu.so",
        "_internal/onnxruntime/capi/libonnxruntime_providers_shared.so",
        "_internal/PySide6/Qt/lib/libQt6Widgets.so.6",
        "_internal/PySide6/Qt/plugins/platforms/libqoffscreen.so",
    ]
    assert check_module.missing_parts(complete) == []
    without_models = [f for f in complete if "models" not in f]
    assert check_module.missing_parts(without_models) == ["a shipped model (assets/models/*.onnx)"]


def test_check_bundle_fails_on_a_folder_that_is_not_a_bundle(tmp_path) -> None:
    (tmp_path / "readme.txt").write_text("not a bundle")
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "packaging" / "check_bundle.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "missing: the executable" in result.stdout


@pytest.mark.parametrize("script", ["scripts/build_bundle.sh", "packaging/linux/install-user.sh"])
def test_shell_scripts_parse(script: str) -> None:
    result = subprocess.run(["bash", "-n", str(REPO_ROOT / script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
