"""``image-classifier teach FOLDER [--out NAME.onnx] [--name "Display name"]``.

FOLDER holds one subfolder per class. Prints the classes with their photo
counts, progress, the skipped files with reasons, the held-out accuracy and
where the model went. Exit codes as for ``classify``: 0 taught from every
file; 1 taught, but some files were skipped (or nothing could be taught);
2 usage error; 3 no usable general model to teach from; 130 interrupted
(nothing written).
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

EXIT_OK, EXIT_FAILED_FILES, EXIT_USAGE, EXIT_NO_MODEL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def add_teach_parser(commands: Any) -> None:
    """Add the ``teach`` subcommand to the CLI's subparsers."""
    teach = commands.add_parser(
        "teach",
        help="teach a new model from a folder with one subfolder of photos per class",
        description="Teach a new model: FOLDER holds one subfolder per class (the subfolder's name is the label).",
    )
    teach.add_argument("folder", type=Path, metavar="FOLDER", help="folder of class subfolders")
    teach.add_argument(
        "--out", type=Path, metavar="NAME.onnx", help="where to write the model (default: the user's models folder)"
    )
    teach.add_argument("--name", metavar="TEXT", help="display name (default: from the file name)")
    teach.add_argument(
        "--backbone",
        type=Path,
        metavar="FILE.onnx",
        help="general model whose backbone to reuse (default: the shipped EfficientNet-Lite0 ImageNet)",
    )


class _Progress:
    """One updating line on a terminal; nothing when output is redirected."""

    def __init__(self, stream: TextIO) -> None:
        self.stream, self.enabled = stream, stream.isatty()

    def __call__(self, progress: Any) -> None:
        if not self.enabled:
            return
        text = f"features {progress.done}/{progress.total} photos" if progress.stage == "features" else progress.stage
        self.stream.write(f"\r{text}  {progress.elapsed_s:.0f} s\x1b[K")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def cmd_teach(args: argparse.Namespace, out: TextIO) -> int:
    from desktop_app.engine.taught_models import file_name_for, user_models_dir
    from desktop_app.engine.teach import TeachError, general_model_path, scan_folder, teach
    from desktop_app.engine.teach_head import Cancelled

    if not args.folder.is_dir():
        print(f"error: {args.folder} is not a folder", file=sys.stderr)
        return EXIT_USAGE
    backbone = args.backbone or general_model_path()
    if not backbone.is_file():
        print(f"error: the general model {backbone} was not found: teaching reuses its backbone", file=sys.stderr)
        return EXIT_NO_MODEL
    destination = args.out or user_models_dir() / file_name_for(args.name or args.folder.resolve().name)
    if destination.suffix.lower() != ".onnx":
        print(f"error: --out must end in .onnx: {destination}", file=sys.stderr)
        return EXIT_USAGE
    try:
        plan = scan_folder(args.folder)
    except TeachError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED_FILES
    for cls in plan.classes:
        print(f"class {cls.name}: {len(cls.paths)} photos", file=out)
    for warning in plan.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    shown = len(plan.warnings)  # teaching may add some (a class whose photos are all unreadable)
    cancel = threading.Event()
    progress = _Progress(sys.stderr)
    try:
        result = teach(plan, destination, name=args.name, backbone=backbone, cancel=cancel, on_progress=progress)
    except KeyboardInterrupt:
        progress.close()
        print("interrupted: nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Cancelled:
        progress.close()
        return EXIT_INTERRUPTED
    except TeachError as exc:
        progress.close()
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_NO_MODEL if "backbone" in str(exc) or "general model" in str(exc) else EXIT_FAILED_FILES
    progress.close()
    for path, reason in result.skipped:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    for warning in result.warnings[shown:]:
        print(f"warning: {warning}", file=sys.stderr)
    photos = sum(result.counts.values())
    print(f"held-out accuracy {result.held_out_accuracy:.1%} ({photos} photos, cross-validated)", file=out)
    for label, recall in result.per_class_recall.items():
        print(f"  {label}: {recall:.0%} of {result.counts[label]} recognised", file=out)
    print(f"taught in {result.seconds:.1f} s; wrote {result.path}", file=out)
    return EXIT_FAILED_FILES if result.skipped else EXIT_OK
