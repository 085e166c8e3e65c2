"""The ``image-classifier`` command: the GUI, or the same engine headless.

    image-classifier                      open the GUI
    image-classifier photo.jpg ...        open the GUI with those images
    image-classifier classify PATH... [--model NAME] [--csv OUT | --json OUT]
    image-classifier models               list models and refused files
    image-classifier teach FOLDER [--out NAME.onnx] [--name TEXT]   teach a new model (one subfolder per class)
    image-classifier --self-test          classify the shipped samples with every shipped model

Exit codes: 0 everything classified; 1 some files failed (the others are
still classified and written); 2 usage error; 3 no usable model; 130
interrupted (finished rows are kept). Qt is imported only when the GUI starts.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from contextlib import nullcontext
from pathlib import Path
from typing import Sequence, TextIO

from desktop_app import __version__

EXIT_OK, EXIT_FAILED_FILES, EXIT_USAGE, EXIT_NO_MODEL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
COMMANDS = ("classify", "models", "teach")


def _version_text() -> str:
    import onnxruntime

    return f"image-classifier {__version__} (onnxruntime {onnxruntime.__version__})"


def build_parser() -> argparse.ArgumentParser:
    from desktop_app.engine.classifier import DEFAULT_UNSURE_THRESHOLD
    from desktop_app.engine.images import DEFAULT_FIT, FIT_MODES

    parser = argparse.ArgumentParser(
        prog="image-classifier",
        description="Classify images with ONNX models. Without a command, opens the GUI (with any image paths given).",
    )
    parser.add_argument("--version", action="version", version=_version_text())
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the engine does (providers, models)")
    parser.add_argument("--self-test", action="store_true", help="classify the shipped samples with every shipped model")
    parser.add_argument("--device", dest="global_device", choices=("auto", "cpu", "cuda"), default=None,
                        help="where to run models (default: auto)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    models_dir = argparse.ArgumentParser(add_help=False)
    models_dir.add_argument(
        "--models-dir", action="append", default=[], metavar="DIR", help="also look for *.onnx models here (repeatable)"
    )
    device = argparse.ArgumentParser(add_help=False)
    device.add_argument("--device", choices=("auto", "cpu", "cuda"), default=None, help="where to run (default: auto)")

    classify = commands.add_parser(
        "classify", parents=[models_dir, device], help="classify files and folders", description="Classify images."
    )
    classify.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders (walked recursively)")
    classify.add_argument("--model", metavar="NAME_OR_PATH", help="model name, display name or .onnx path "
                          "(default: the most accurate model found)")
    classify.add_argument("--top-k", type=_positive, default=3, metavar="K", help="best K labels per image (default 3)")
    classify.add_argument("--batch-size", type=_positive, default=64, metavar="N", help="images per inference batch")
    classify.add_argument("--fit", choices=FIT_MODES, default=DEFAULT_FIT,
                          help=f"how non-square images become the model's size (default {DEFAULT_FIT})")
    classify.add_argument("--unsure-threshold", type=float, default=DEFAULT_UNSURE_THRESHOLD, metavar="P",
                          help=f"flag results whose top probability is below P (default {DEFAULT_UNSURE_THRESHOLD})")
    classify.add_argument("--no-recursive", action="store_true", help="do not descend into sub-folders")
    output = classify.add_mutually_exclusive_group()
    output.add_argument("--csv", type=Path, metavar="OUT", help="write results to a CSV file")
    output.add_argument("--json", type=Path, metavar="OUT", help="write results to a JSON file")

    commands.add_parser("models", parents=[models_dir], help="list the models found and the files refused")

    from desktop_app.teach_cli import add_teach_parser

    add_teach_parser(commands)
    return parser


def _device(args: argparse.Namespace) -> str:
    return getattr(args, "device", None) or args.global_device or "auto"


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _registry(extra_dirs: Sequence[Path | str]):  # type: ignore[no-untyped-def]
    from desktop_app.engine.registry import ModelRegistry, shipped_models_dir

    return ModelRegistry([shipped_models_dir(), *extra_dirs])


def cmd_models(args: argparse.Namespace, out: TextIO) -> int:
    registry = _registry(args.models_dir)
    for info in registry.models:
        accuracy = f"{info.test_accuracy:.2%}" if info.test_accuracy is not None else "n/a"
        height, width = info.input_size
        print(f"{info.display_name}  [{info.name}]  accuracy {accuracy}  input {height}x{width}  "
              f"{info.num_classes} labels  {info.path}", file=out)
    for path, reason in registry.refused:
        print(f"refused {path}: {reason}", file=out)
    if not registry.models:
        folders = ", ".join(str(f) for f in registry.folders)
        print(f"error: no valid models found in {folders}", file=sys.stderr)
        return EXIT_NO_MODEL
    return EXIT_OK


def _pick_model(registry, name: str | None):  # type: ignore[no-untyped-def]
    if name:
        return registry.get(name)
    if not registry.models:
        folders = ", ".join(str(f) for f in registry.folders)
        raise KeyError(f"no valid models found in {folders}; add one with --models-dir or --model PATH")
    return registry.most_accurate()


class ProgressLine:
    """A one-line progress display on a terminal (``\\r`` updates, no dependency)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = stream.isatty()

    def __call__(self, progress) -> None:  # type: ignore[no-untyped-def]
        if not self.enabled:
            return
        total = f"/{progress.total}" if progress.total is not None else ""
        eta = f"  ETA {progress.eta_s:.0f} s" if progress.eta_s is not None else ""
        failed = f"  {progress.failed} failed" if progress.failed else ""
        self.stream.write(f"\r{progress.done}{total} images  {progress.rate:.0f}/s{failed}{eta}\x1b[K")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _print_row(prediction, out: TextIO) -> None:  # type: ignore[no-untyped-def]
    if prediction.ok:
        flag = "?" if prediction.unsure else " "
        print(f"{prediction.label:<12}{flag} {prediction.probability:7.2%}  {prediction.path}", file=out)
    else:
        print(f"error: {prediction.error}", file=sys.stderr)


def cmd_classify(args: argparse.Namespace, out: TextIO) -> int:
    from desktop_app.engine.batch import classify_stream
    from desktop_app.engine.classifier import Classifier
    from desktop_app.engine.results import open_result_writer
    from desktop_app.engine.sessions import Device, runtime_warnings

    destination = args.csv or args.json
    if destination is not None:
        folder = destination.resolve().parent
        if not folder.is_dir() or not os.access(folder, os.W_OK):
            print(f"error: cannot write {destination}: its folder does not exist or is read-only", file=sys.stderr)
            return EXIT_USAGE
    for warning in runtime_warnings():
        print(f"warning: {warning}", file=sys.stderr)
    try:
        info = _pick_model(_registry(args.models_dir), args.model)
        classifier = Classifier(info, Device(_device(args)), unsure_threshold=args.unsure_threshold)
    except KeyError as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return EXIT_NO_MODEL
    except Exception as exc:  # ModelContractError, or onnxruntime's own error types
        print(f"error: the model could not be loaded: {exc}", file=sys.stderr)
        return EXIT_NO_MODEL
    if classifier.report.notice:
        print(f"note: {classifier.report.notice}", file=sys.stderr)
    print(f"model: {info.display_name} ({info.name}) on {classifier.report.provider_label}", file=sys.stderr)

    cancel = threading.Event()
    progress = ProgressLine(sys.stderr)
    done = failed = 0
    fmt = "csv" if args.csv else "json"
    sink = open_result_writer(destination, info.labels, top_k=args.top_k, fmt=fmt) if destination else nullcontext()
    # An exception inside the with block removes the temporary file; an
    # interrupt is caught inside it, so the rows finished so far are committed.
    with sink as writer:
        stream = classify_stream(args.paths, classifier, top_k=args.top_k, batch_size=args.batch_size, cancel=cancel,
                                 on_progress=progress, fit=args.fit, recursive=not args.no_recursive)
        try:
            for prediction in stream:
                done += 1
                failed += not prediction.ok
                if writer is not None:
                    writer.write(prediction)
                else:
                    _print_row(prediction, out)
        except KeyboardInterrupt:
            cancel.set()
            stream.close()
        finally:
            progress.close()
    return _summary(done, failed, destination, cancel.is_set())


def _summary(done: int, failed: int, destination: Path | None, interrupted: bool) -> int:
    written = f"; wrote {destination}" if destination else ""
    print(f"{done - failed} classified, {failed} failed{written}", file=sys.stderr)
    if interrupted:
        print("interrupted: the finished results were kept", file=sys.stderr)
        return EXIT_INTERRUPTED
    if done == 0:
        print("error: no image files found", file=sys.stderr)
        return EXIT_FAILED_FILES
    return EXIT_FAILED_FILES if failed else EXIT_OK


def run_gui(paths: list[str]) -> int:
    """Start the PySide6 app (imported only now, so headless use never loads Qt)."""
    try:
        from desktop_app.ui.app import run
    except ImportError as exc:
        print(f"error: the GUI is not available ({exc}); use 'image-classifier classify PATH...'", file=sys.stderr)
        return EXIT_FAILED_FILES
    return int(run(paths) or 0)


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Entry point of the ``image-classifier`` console script and ``python -m desktop_app``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    out = out or sys.stdout
    if not argv:
        return run_gui([])
    if argv[0] not in COMMANDS and not argv[0].startswith("-"):
        return run_gui(argv)
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse: 2 for usage errors, 0 for --help / --version
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    # The CLI prints the engine's notices itself; the log is for --verbose.
    logging.basicConfig(level=logging.INFO if args.verbose else logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    if args.self_test:
        from desktop_app.selftest import run_self_test

        return run_self_test(out, device=_device(args))
    if args.command == "models":
        return cmd_models(args, out)
    if args.command == "classify":
        return cmd_classify(args, out)
    if args.command == "teach":
        from desktop_app.teach_cli import cmd_teach

        return cmd_teach(args, out)
    build_parser().print_usage(sys.stderr)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
