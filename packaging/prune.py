"""Trim a PyInstaller Analysis: drop unused Qt plugins and the libraries only they needed.

PyInstaller's Qt hooks collect every plugin of a category (VNC, framebuffer and
EGL platforms, touch input, the GTK theme ...), and binary analysis then pulls
in whatever those plugins link against: QtNetwork for VNC and TUIO, a partial
copy of the system's GTK/cairo/pango stack for the GTK theme (which also breaks
on other distributions). ``build.spec`` removes the plugins by path and then,
on Linux, every plain shared library that no remaining binary needs.

The graph logic is pure (``orphaned_libraries``) so it is tested without a build.
"""

from __future__ import annotations

import os
from pathlib import PurePosixPath
from typing import Callable, Iterable, Mapping

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
# ONNX Runtime's C/C++ API library: on Linux the Python binding links the runtime
# statically and never loads it (35 MB). Provider libraries are dlopen()ed: kept.
UNUSED_LINUX_LIBRARIES = ("onnxruntime/capi/libonnxruntime.so",)


def is_unused_plugin(dest: str, *, linux: bool) -> bool:
    """True for a bundled file the app never loads (see the module docstring)."""
    dest = dest.replace("\\", "/")
    if any(fragment in dest for fragment in UNUSED_PLUGINS):
        return True
    return linux and any(fragment in dest for fragment in UNUSED_LINUX_LIBRARIES)


def is_plain_library(dest: str) -> bool:
    """A shared library that is loaded only because another binary links it.

    Everything else is a root: Python extensions, Qt plugins and onnxruntime's
    providers (loaded with dlopen), libpython (loaded by the bootloader).
    """
    path = PurePosixPath(dest.replace("\\", "/"))
    name = path.name
    if not name.startswith("lib") or ".so" not in name or name.startswith("libpython"):
        return False
    if "plugins" in path.parts or "onnxruntime" in path.parts or "lib-dynload" in path.parts:
        return False
    return ".cpython-" not in name and ".abi3." not in name


def orphaned_libraries(needed: Mapping[str, Iterable[str]], is_root: Callable[[str], bool]) -> set[str]:
    """Destinations not reachable from any root through ``needed`` (dest -> sonames it links)."""
    by_soname = {PurePosixPath(dest).name: dest for dest in needed}
    keep = {dest for dest in needed if is_root(dest)}
    stack = list(keep)
    while stack:
        for soname in needed[stack.pop()]:
            dest = by_soname.get(soname)
            if dest is not None and dest not in keep:
                keep.add(dest)
                stack.append(dest)
    return set(needed) - keep


def linked_sonames(path: str) -> set[str]:
    """Sonames ``path`` links against, via PyInstaller's own ldd wrapper."""
    from PyInstaller.depend.bindepend import get_imports

    return {os.path.basename(name) for name, _resolved in get_imports(path)}


def prune(binaries: list, datas: list, *, linux: bool, log: Callable[[str], None] = print) -> tuple[list, list]:
    """Return (binaries, datas) without unused plugins and, on Linux, orphaned libraries."""
    binaries = [entry for entry in binaries if not is_unused_plugin(entry[0], linux=linux)]
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


def strip_debug_info(binaries: list, workdir: str, *, prefixes: tuple[str, ...] = ("libpython",),
                     log: Callable[[str], None] = print) -> list:
    """Replace matching libraries by copies without debug sections (``strip --strip-debug``).

    Only named libraries: PyInstaller's global ``strip`` option also rewrites
    wheels' auditwheel-patched libraries (numpy's OpenBLAS), which then fail to
    load ("ELF load command address/offset not page-aligned"). libpython from
    some Python builds carries ~18 MB of debug info.
    """
    import shutil
    import subprocess

    strip = shutil.which("strip")
    if strip is None:
        return binaries
    result = []
    for dest, src, kind in binaries:
        name = os.path.basename(dest)
        if kind != "SYMLINK" and name.startswith(prefixes):
            target = os.path.join(workdir, "stripped", name)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(src, target)
            if subprocess.run([strip, "--strip-debug", target], capture_output=True).returncode == 0:
                log(f"prune: stripped debug info from {name}: {os.path.getsize(src) / 2**20:.1f} -> "
                    f"{os.path.getsize(target) / 2**20:.1f} MiB")
                src = target
        result.append((dest, src, kind))
    return result
