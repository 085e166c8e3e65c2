"""Check a built one-folder bundle: what must be in it, what must not, its size.

Lists every file of ``dist/ImageClassifier`` and every module inside the
executable's embedded archive (PyInstaller's own reader), then fails when a
forbidden package (TensorFlow, Keras, tf2onnx, onnx, PyTorch, matplotlib, ...)
or an unused Qt module slipped in, when a required part is missing, or when the
folder is over the size budget.

    python packaging/check_bundle.py dist/ImageClassifier [--budget-mb 260]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parents[1]))  # desktop_app.platform_check (Qt-free)

BUDGET_MB = 260.0  # issue 16: all shipped models, the ImageNet general model included
EXE_NAME = "image-classifier"

# Top-level Python packages that must never be bundled (matched exactly, so
# "onnx" does not match "onnxruntime").
FORBIDDEN_PACKAGES = frozenset(
    {
        "tensorflow",
        "tensorboard",
        "keras",
        "tf_keras",
        "tf2onnx",
        "onnx",
        "torch",
        "torchvision",
        "jax",
        "jaxlib",
        "matplotlib",
        "scipy",
        "pandas",
        "sklearn",
        "h5py",
        "tkinter",
        "_tkinter",
        "IPython",
        "pytest",
        "_pytest",
        "training",
        "export",
        "tests",
        "benchmarks",
    }
)
# Qt modules (Python bindings or shared libraries) the app does not use.
FORBIDDEN_QT = (
    "WebEngine",
    "WebChannel",
    "WebSockets",
    "3D",
    "Quick",
    "Qml",
    "Multimedia",
    "Network",
    "Sql",
    "Pdf",
    "Charts",
    "DataVisualization",
    "Graphs",
    "Bluetooth",
    "Positioning",
    "Location",
    "Designer",
    "UiTools",
    "Test",
)
_QT_PATTERN = re.compile(r"(?:^|[/._])(?:lib)?Qt6?(" + "|".join(FORBIDDEN_QT) + r")", re.IGNORECASE)
_NATIVE_PATTERN = re.compile(r"(?:^|/)lib(tensorflow|torch|c10|jax|tf2onnx|onnx_proto|tk|tcl)[\w.-]*\.(so|dylib|dll)")


def forbidden_hits(names: Iterable[str]) -> list[str]:
    """The names (dotted modules or relative paths) that belong to forbidden parts."""
    hits = []
    for name in names:
        normalised = name.replace("\\", "/")
        parts = re.split(r"[/.]", normalised)
        top = [p for p in parts if p and p != "_internal"][:1]
        if (
            (top and top[0] in FORBIDDEN_PACKAGES)
            or _QT_PATTERN.search(normalised)
            or _NATIVE_PATTERN.search(normalised)
        ):
            hits.append(name)
    return hits


def bundle_files(bundle: Path) -> list[str]:
    """Every file below the bundle folder, as a POSIX path relative to it."""
    return sorted(p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file())


def archive_modules(executable: Path) -> list[str]:
    """Module names stored in the executable's embedded PYZ archive."""
    from PyInstaller.archive.readers import pkg_archive_contents

    return pkg_archive_contents(str(executable), recursive=True)


def _disk_usage(path: Path) -> int:
    """Bytes on disk like ``du`` counts them (allocated blocks where the OS reports them)."""
    stat = path.lstat()
    blocks = getattr(stat, "st_blocks", None)
    return blocks * 512 if blocks is not None else stat.st_size


def folder_size_mb(bundle: Path) -> float:
    """Size of the folder in MiB, as ``du -s`` reports it (symbolic links count as nothing)."""
    return sum(_disk_usage(p) for p in bundle.rglob("*") if p.is_file() and not p.is_symlink()) / 2**20


def largest_entries(bundle: Path, count: int = 8) -> list[tuple[str, float]]:
    """The biggest top-level parts of ``_internal`` (folders summed), in MiB (as `du -h` counts)."""
    internal = bundle / "_internal"
    root = internal if internal.is_dir() else bundle
    sizes = []
    for entry in root.iterdir():
        files = [entry] if entry.is_file() else [p for p in entry.rglob("*") if p.is_file()]
        sizes.append((entry.name, sum(_disk_usage(p) for p in files if not p.is_symlink()) / 2**20))
    return sorted(sizes, key=lambda item: -item[1])[:count]


def missing_parts(files: list[str]) -> list[str]:
    """Required parts of a working bundle that are absent from ``files``."""
    required = {
        "the executable": rf"^{EXE_NAME}(\.exe)?$",
        "a shipped model (assets/models/*.onnx)": r"(^|/)assets/models/.+\.onnx$",
        "the sample images (assets/samples)": r"(^|/)assets/samples/.+\.(jpe?g|png)$",
        "the app icon (assets/icons)": r"(^|/)assets/icons/image-classifier\.png$",
        "the onnxruntime native library": r"(^|/)onnxruntime/capi/(lib)?onnxruntime[\w.]*\.(so|dylib|dll)",
        "the onnxruntime Python binding": r"(^|/)onnxruntime/capi/onnxruntime_pybind11_state",
        "Qt's widgets library": r"Qt6?Widgets",
        "Qt's offscreen platform plugin": r"platforms/(lib)?qoffscreen",
    }
    return [what for what, pattern in required.items() if not any(re.search(pattern, f) for f in files)]


def unresolved_plugin_libraries(bundle: Path) -> dict[str, list[str]]:
    """Bundled Qt plugin (relative path) -> the libraries ``ldd`` finds neither bundled nor installed (Linux)."""
    from desktop_app.platform_check import missing_libraries

    internal = bundle / "_internal"
    plugins = sorted((internal / "PySide6" / "Qt" / "plugins").rglob("*.so"))
    if not sys.platform.startswith("linux") or shutil.which("ldd") is None:
        return {}
    env = dict(os.environ, LD_LIBRARY_PATH=f"{internal}:{internal / 'PySide6' / 'Qt' / 'lib'}")
    found = {}
    for plugin in plugins:
        result = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True, env=env, timeout=60)
        missing = missing_libraries(result.stdout)
        if missing:
            found[plugin.relative_to(internal).as_posix()] = missing
    return found


def plugin_library_report(unresolved: dict[str, list[str]]) -> tuple[list[str], list[str]]:
    """(one line per plugin, the install lines for the packages that provide the missing libraries)."""
    from desktop_app.platform_check import install_hint

    lines = [f"{plugin}: {', '.join(names)} not found" for plugin, names in unresolved.items()]
    every = list(dict.fromkeys(name for names in unresolved.values() for name in names))
    return lines, [line.strip() for line in install_hint(every).splitlines()[1:-1]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path, help="the one-folder build, e.g. dist/ImageClassifier")
    parser.add_argument("--budget-mb", type=float, default=BUDGET_MB)
    parser.add_argument(
        "--require-plugin-libraries",
        action="store_true",
        help="fail (not only warn) when a bundled Qt plugin's library is missing (CI)",
    )
    args = parser.parse_args(argv)

    bundle: Path = args.bundle
    executable = next((bundle / n for n in (EXE_NAME, f"{EXE_NAME}.exe") if (bundle / n).is_file()), None)
    files = bundle_files(bundle) if bundle.is_dir() else []
    modules = archive_modules(executable) if executable else []
    size = folder_size_mb(bundle) if bundle.is_dir() else 0.0

    print(f"bundle: {bundle}  files: {len(files)}  archived modules: {len(modules)}  size: {size:.1f} MiB")
    if bundle.is_dir():
        print("largest parts: " + ", ".join(f"{name} {mb:.1f} MiB" for name, mb in largest_entries(bundle)))
    models = [f for f in files if re.search(r"(^|/)assets/models/.+\.onnx$", f)]
    models_mb = sum(_disk_usage(bundle / m) for m in models) / 2**20
    print(f"models: {len(models)}, {models_mb:.1f} MiB ({', '.join(Path(m).name for m in models) or 'none'})")

    problems = [f"missing: {what}" for what in missing_parts(files)]
    problems += [f"forbidden: {name}" for name in forbidden_hits(files + modules)]
    if size > args.budget_mb:
        problems.append(f"size {size:.1f} MiB is over the {args.budget_mb:.0f} MiB budget")
    unresolved = unresolved_plugin_libraries(bundle) if bundle.is_dir() else {}
    hints: list[str] = []
    if unresolved:
        report, hints = plugin_library_report(unresolved)
        if args.require_plugin_libraries:
            problems += [f"Qt plugin library {line}" for line in report]
        else:
            print(
                "WARNING: Qt plugins that cannot load here (their libraries are neither bundled nor installed):\n  "
                + "\n  ".join(report + hints)
            )
    for problem in problems:
        print(f"FAIL {problem}")
    if problems:
        if hints and args.require_plugin_libraries:
            print("Install the missing libraries, then rebuild:\n  " + "\n  ".join(hints))
        return 1
    print("OK: no TensorFlow/Keras/tf2onnx/onnx/torch/matplotlib/jax/tkinter or unused Qt module in the bundle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
