"""Trim a PyInstaller Analysis: drop unused Qt plugins and translations, and the libraries only they needed.

PyInstaller's Qt hooks collect every plugin of a category (VNC, framebuffer and
EGL platforms, touch input, the GTK theme ...), and binary analysis then pulls
in whatever those plugins link against: QtNetwork for VNC and TUIO, a partial
copy of the system's GTK/cairo/pango stack for the GTK theme (which also breaks
on other distributions). ``build.spec`` removes the plugins by path and then,
on Linux, every plain shared library that no remaining binary needs
(including onnxruntime's C-API library, which the Python binding does not use).

The graph logic is pure (``orphaned_libraries``) so it is tested without a build.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import PurePosixPath

# Plugins (destination path fragments) the app never loads.
UNUSED_PLUGINS = (
    "plugins/platforms/libqvnc",
    "plugins/platforms/libqlinuxfb",
    "plugins/platforms/libqeglfs",
    "plugins/platforms/libqminimalegl",
    "plugins/platforms/libqvkkhrdisplay",
    "plugins/egldeviceintegrations/",
    "plugins/generic/",
    "plugins/platformthemes/libqgtk3",
)
# Qt's own translations (7 MiB of .qm files): Qt loads them only through a
# QTranslator, which the English-only app never installs.
UNUSED_DATA = ("PySide6/Qt/translations/",)
# ONNX Runtime's C/C++ API library (35 MB): on Linux the Python binding links the
# runtime statically and never loads it, so it is treated as a plain library and
# kept only if some other binary links it. Provider libraries are dlopen()ed: roots.
ORT_C_API_LIBRARY = "onnxruntime/capi/libonnxruntime.so"


def is_unused_plugin(dest: str) -> bool:
    """True for a Qt plugin the app never loads (see the module docstring)."""
    dest = dest.replace("\\", "/")
    return any(fragment in dest for fragment in UNUSED_PLUGINS)


def is_unused_data(dest: str) -> bool:
    """True for a data file the app never reads (see ``UNUSED_DATA``)."""
    dest = dest.replace("\\", "/")
    return any(fragment in dest for fragment in UNUSED_DATA)


def is_plain_library(dest: str) -> bool:
    """A shared library that is loaded only because another binary links it.

    Everything else is a root: Python extensions, Qt plugins and onnxruntime's
    providers (loaded with dlopen), libpython (loaded by the bootloader).
    """
    if ORT_C_API_LIBRARY in dest.replace("\\", "/"):
        return True
    path = PurePosixPath(dest.replace("\\", "/"))
    name = path.name
    if not name.startswith("lib") or ".so" not in name or name.startswith("libpython"):
        return False
    if "plugins" in path.parts or "onnxruntime" in path.parts or "lib-dynload" in path.parts:
        return False
    return ".cpython-" not in name and ".abi3." not in name


def orphaned_libraries(needed: Mapping[str, Iterable[str]], is_root: Callable[[str], bool]) -> set[str]:
    """Destinations not reachable from any root through ``needed`` (dest -> sonames it links)."""
    by_soname = {alias: dest for dest in needed for alias in soname_aliases(PurePosixPath(dest).name)}
    keep = {dest for dest in needed if is_root(dest)}
    stack = list(keep)
    while stack:
        for soname in needed[stack.pop()]:
            dest = by_soname.get(soname)
            if dest is not None and dest not in keep:
                keep.add(dest)
                stack.append(dest)
    return set(needed) - keep


def soname_aliases(name: str) -> list[str]:
    """Names a library may be linked by: ``libx.so.1.2.3`` -> itself, ``libx.so.1.2``, ``libx.so.1``, ``libx.so``."""
    stem, sep, version = name.partition(".so.")
    if not sep:
        return [name]
    parts = version.split(".")
    return [f"{stem}.so.{'.'.join(parts[:n])}" for n in range(len(parts), 0, -1)] + [f"{stem}.so"]


def linked_sonames(path: str) -> set[str]:
    """Sonames ``path`` links against, via PyInstaller's own ldd wrapper."""
    from PyInstaller.depend.bindepend import get_imports

    return {os.path.basename(name) for name, _resolved in get_imports(path)}


def prune(binaries: list, datas: list, *, linux: bool, log: Callable[[str], None] = print) -> tuple[list, list]:
    """Return (binaries, datas) without unused plugins and data and, on Linux, orphaned libraries."""
    binaries = [entry for entry in binaries if not is_unused_plugin(entry[0])]
    datas = [entry for entry in datas if not is_unused_data(entry[0])]
    if linux:
        files = {dest: src for dest, src, kind in binaries if kind != "SYMLINK"}
        needed = {dest: linked_sonames(src) for dest, src in files.items()}
        orphans = orphaned_libraries(needed, lambda dest: not is_plain_library(dest))
        for dest in sorted(orphans):
            log(f"prune: dropping {dest} (no remaining binary links it)")
        binaries = [entry for entry in binaries if entry[0] not in orphans]
    kept = {entry[0] for entry in binaries} | {entry[0] for entry in datas}
    # Symbolic links whose target was dropped (PyInstaller 6 lists them as SYMLINK entries).
    binaries = [e for e in binaries if e[2] != "SYMLINK" or _symlink_target(e) in kept]
    datas = [e for e in datas if e[2] != "SYMLINK" or _symlink_target(e) in kept]
    return binaries, datas


def _symlink_target(entry: tuple) -> str:
    dest, target, _kind = entry
    return os.path.normpath(os.path.join(os.path.dirname(dest), target)).replace("\\", "/")


def is_python_build_binary(dest: str) -> bool:
    """libpython and the standard library's extension modules (``lib-dynload``)."""
    dest = dest.replace("\\", "/")
    return os.path.basename(dest).startswith("libpython") or "/lib-dynload/" in f"/{dest}"


def strip_debug_info(binaries: list, workdir: str, *, log: Callable[[str], None] = print) -> list:
    """Replace Python's own binaries by copies without debug sections (``strip --strip-debug``).

    Only those: PyInstaller's global ``strip`` option also rewrites wheels'
    auditwheel-patched libraries (numpy's OpenBLAS), which then fail to load
    ("ELF load command address/offset not page-aligned"). libpython and
    lib-dynload from some Python builds carry ~25 MB of debug info.
    """
    import shutil
    import subprocess

    strip = shutil.which("strip")
    if strip is None:
        return binaries
    result, before, after = [], 0, 0
    for dest, src, kind in binaries:
        if kind != "SYMLINK" and is_python_build_binary(dest):
            target = os.path.join(workdir, "stripped", dest)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(src, target)
            if subprocess.run([strip, "--strip-debug", target], capture_output=True).returncode == 0:
                before, after = before + os.path.getsize(src), after + os.path.getsize(target)
                src = target
        result.append((dest, src, kind))
    log(f"prune: stripped debug info from Python's binaries: {before / 2**20:.1f} -> {after / 2**20:.1f} MiB")
    return result
