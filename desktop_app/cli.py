"""The ``image-classifier`` command: the GUI, or the same engine headless.

    image-classifier                      open the GUI
    image-classifier photo.jpg ...        open the GUI with those images
    image-classifier classify PATH... [--model NAME] [--csv OUT | --json OUT]
    image-classifier models               list models and refused files
    image-classifier teach FOLDER [--out NAME.onnx] [--name TEXT]   teach a new model (one subfolder per class)
    image-classifier --self-test          classify the shipped samples with every shipped model

Exit codes: 0 everything classified; 1 some files failed (the others are
still classified and written); 2 usage error (also an output target that
must not be written); 3 no usable model; 4 the result file could not be
written (disk full, read-only; any old file is untouched); 5 the window
cannot start (Linux: system libraries or the display missing; the message
says which); 130 interrupted by Ctrl-C or SIGTERM (finished rows are kept);
141 the reader of stdout went away (``| head``). Qt is imported only when
the GUI starts.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext, suppress
from pathlib import Path
from typing import TextIO

EXIT_OK, EXIT_FAILED_FILES, EXIT_USAGE, EXIT_NO_MODEL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_WRITE_FAILED, EXIT_BROKEN_PIPE = 4, 141
COMMANDS = ("classify", "models", "teach")


def _version_text() -> str:
    import onnxruntime

    from desktop_app import __version__

    return f"image-classifier {__version__} (onnxruntime {onnxruntime.__version__})"


class _VersionAction(argparse.Action):
    """``--version``, worked out only when asked (reading it costs every other command ~50 ms)."""

    def __call__(self, parser, namespace, values, option_string=None):  # type: ignore[no-untyped-def]
        print(_version_text())
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    from desktop_app.engine.classifier import DEFAULT_UNSURE_THRESHOLD
    from desktop_app.engine.images import DEFAULT_FIT, FIT_MODES

    parser = argparse.ArgumentParser(
        prog="image-classifier",
        description="Classify images with ONNX models. Without a command, opens the GUI (with any image paths given).",
    )
    parser.add_argument("--version", action=_VersionAction, nargs=0, help="show the version and exit")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the engine does (providers, models)")
    parser.add_argument(
        "--self-test", action="store_true", help="classify the shipped samples with every shipped model"
    )
    parser.add_argument(
        "--device",
        dest="global_device",
        choices=("auto", "cpu", "cuda"),
        default=None,
        help="where to run models (default: auto)",
    )
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
    classify.add_argument(
        "--model",
        metavar="NAME_OR_PATH",
        help="model name, display name or .onnx path "
        "(default: the EfficientNet-Lite0 transfer model, else the most accurate model found)",
    )
    classify.add_argument("--top-k", type=_positive, default=3, metavar="K", help="best K labels per image (default 3)")
    classify.add_argument("--batch-size", type=_positive, default=64, metavar="N", help="images per inference batch")
    classify.add_argument(
        "--fit",
        choices=FIT_MODES,
        default=DEFAULT_FIT,
        help=f"how non-square images become the model's size (default {DEFAULT_FIT})",
    )
    classify.add_argument(
        "--unsure-threshold",
        type=_probability,
        default=DEFAULT_UNSURE_THRESHOLD,
        metavar="P",
        help=f"flag results whose top probability is below P (default {DEFAULT_UNSURE_THRESHOLD})",
    )
    classify.add_argument("--no-recursive", action="store_true", help="do not descend into sub-folders")
    classify.add_argument(
        "--no-scope-check",
        action="store_true",
        help="do not check whether a photo shows one of the model's classes at all (the ImageNet "
        "scope check of the CIFAR-10 models, the novelty check of taught models)",
    )
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


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a probability: give a number from 0 to 1")
    return value


def _registry(extra_dirs: Sequence[Path | str]):  # type: ignore[no-untyped-def]
    from desktop_app.engine.registry import ModelRegistry, shipped_models_dir

    return ModelRegistry([shipped_models_dir(), *extra_dirs])


def cmd_models(args: argparse.Namespace, out: TextIO) -> int:
    from desktop_app.engine.results import escape_for_terminal as shown

    registry = _registry(args.models_dir)
    default = registry.default_model()
    for info in registry.models:
        accuracy = f"{info.test_accuracy:.2%}" if info.test_accuracy is not None else "n/a"
        height, width = info.input_size
        marks = "".join(f"  ({mark})" for mark in _model_marks(info, registry, default))
        print(
            f"{shown(info.display_name)}  [{shown(info.name)}]  accuracy {accuracy}  input {height}x{width}  "
            f"{info.num_classes} labels{marks}  {shown(str(info.path))}",
            file=out,
        )
    for path, reason in registry.refused:
        print(f"refused {shown(str(path))}: {shown(reason)}", file=out)
    if not registry.models:
        folders = ", ".join(str(f) for f in registry.folders)
        print(f"error: no valid models found in {folders}", file=sys.stderr)
        return EXIT_NO_MODEL
    return EXIT_OK


def _model_marks(info, registry, default) -> list[str]:  # type: ignore[no-untyped-def]
    """What ``models`` says beside a model: default, general model, which check runs beside it."""
    from desktop_app.engine.derived import is_derived
    from desktop_app.engine.scope import check_kind, find_general_model, is_general_model

    marks = ["default"] if default is not None and info.path == default.path else []
    kind = check_kind(info)
    if is_general_model(info):
        marks.append("general model")
    elif is_derived(info):
        marks.append('"none of the ten" built in')
    elif kind == "scope" and find_general_model(registry.models) is not None:
        marks.append("scope check")
    elif kind == "novelty":
        marks.append("novelty check")
    return marks


def _pick_model(registry, name: str | None):  # type: ignore[no-untyped-def]
    if name:
        return registry.get(name)
    if not registry.models:
        folders = ", ".join(str(f) for f in registry.folders)
        raise KeyError(f"no valid models found in {folders}; add one with --models-dir or --model PATH")
    return registry.default_model()


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


def _print_row(prediction, out: TextIO, outside: str = "out of scope") -> None:  # type: ignore[no-untyped-def]
    """One terminal line; an out-of-scope result shows ``outside`` and the check's reason instead of the label."""
    from desktop_app.engine.results import escape_for_terminal

    if prediction.ok and prediction.in_scope is False:
        reason = escape_for_terminal(prediction.scope.reason)
        print(f"{outside:<12}  {escape_for_terminal(prediction.path or '')}  {reason}", file=out)
    elif prediction.ok:
        flag = "?" if prediction.unsure else " "
        label = escape_for_terminal(prediction.label)
        print(
            f"{label:<12}{flag} {prediction.probability:7.2%}  {escape_for_terminal(prediction.path or '')}", file=out
        )
    else:
        print(f"error: {escape_for_terminal(prediction.error or '')}", file=sys.stderr)


@contextmanager
def _signals_cancel(cancel: threading.Event) -> Iterator[None]:
    """During a run, Ctrl-C and SIGTERM set ``cancel``: the run ends at its next check and the rows so far are
    committed; a second signal raises KeyboardInterrupt. A watcher thread sets ``cancel`` at once, even while
    the main thread is inside onnxruntime (the signal's C handler writes to the wakeup fd), so a model run is
    terminated. Outside the main thread this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signals_seen = 0

    def stop(signum: int, frame: object) -> None:  # runs in the main thread between bytecodes
        nonlocal signals_seen
        signals_seen += 1
        cancel.set()
        if signals_seen > 1:
            raise KeyboardInterrupt

    old_handlers = {signum: signal.signal(signum, stop) for signum in (signal.SIGINT, signal.SIGTERM)}
    watcher = None if os.name == "nt" else _SignalWatcher(cancel)  # Windows wants a socket for the wakeup fd
    try:
        yield
    finally:
        if watcher is not None:
            watcher.close()
        for signum, handler in old_handlers.items():
            signal.signal(signum, handler)


class _SignalWatcher:
    """Sets ``cancel`` as soon as SIGINT or SIGTERM arrives, whatever the main thread is doing."""

    def __init__(self, cancel: threading.Event) -> None:
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._write_fd, False)
        self._old_fd = signal.set_wakeup_fd(self._write_fd, warn_on_full_buffer=False)
        self._thread = threading.Thread(target=self._watch, args=(cancel,), name="signal-watch", daemon=True)
        self._thread.start()

    def _watch(self, cancel: threading.Event) -> None:
        while data := os.read(self._read_fd, 16):
            if {signal.SIGINT, signal.SIGTERM} & set(data):
                cancel.set()

    def close(self) -> None:
        signal.set_wakeup_fd(self._old_fd)
        os.close(self._write_fd)  # ends the watcher
        self._thread.join(1.0)
        os.close(self._read_fd)


def _check_destination(args: argparse.Namespace) -> str | None:
    """Why the ``--csv/--json`` target must not be written (one line), or None."""
    from desktop_app.engine.results import OutputTargetError, check_output_target

    destination = args.csv or args.json
    if destination is None:
        return None
    try:
        check_output_target(destination, args.paths)
    except OutputTargetError as exc:
        return str(exc)
    return None


def cmd_classify(args: argparse.Namespace, out: TextIO) -> int:
    from desktop_app.engine.batch import classify_stream
    from desktop_app.engine.derived import classifier_for
    from desktop_app.engine.results import escape_for_terminal, open_result_writer
    from desktop_app.engine.scope import check_kind, second_opinion_for
    from desktop_app.engine.sessions import Device, runtime_warnings

    destination = args.csv or args.json
    problem = _check_destination(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    for warning in runtime_warnings():
        print(f"warning: {warning}", file=sys.stderr)
    try:
        registry = _registry(args.models_dir)
        info = _pick_model(registry, args.model)
        classifier = classifier_for(info, Device(_device(args)), unsure_threshold=args.unsure_threshold)
        scope = second_opinion_for(info, registry.models, Device(_device(args)), enabled=not args.no_scope_check)
    except KeyError as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return EXIT_NO_MODEL
    except Exception as exc:  # ModelContractError, or onnxruntime's own error types
        print(f"error: the model could not be loaded: {exc}", file=sys.stderr)
        return EXIT_NO_MODEL
    if classifier.report.notice:
        print(f"note: {classifier.report.notice}", file=sys.stderr)
    check = {"scope": "scope check", "novelty": "novelty check"}.get(check_kind(info), "") if scope is not None else ""
    print(
        f"model: {escape_for_terminal(info.display_name)} ({escape_for_terminal(info.name)}) on "
        f"{classifier.report.provider_label}" + (f", with its {check}" if check else ""),
        file=sys.stderr,
    )
    outside = "none of the ten" if check_kind(info) == "scope" else "out of scope"

    cancel = threading.Event()
    progress = ProgressLine(sys.stderr)
    done = failed = out_of_scope = 0
    broken_pipe = False
    fmt = "csv" if args.csv else "json"
    sink = (
        open_result_writer(destination, info.labels, top_k=args.top_k, fmt=fmt, model=info.name)
        if destination
        else nullcontext()
    )
    # An exception inside the with block removes the temporary file; an
    # interrupt is caught inside it, so the rows finished so far are committed.
    try:
        with _signals_cancel(cancel), sink as writer:
            stream = classify_stream(
                args.paths,
                classifier,
                top_k=args.top_k,
                batch_size=args.batch_size,
                cancel=cancel,
                on_progress=progress,
                fit=args.fit,
                recursive=not args.no_recursive,
                scope=scope,
            )
            try:
                for prediction in stream:
                    done += 1
                    failed += not prediction.ok
                    out_of_scope += prediction.in_scope is False
                    if writer is not None:
                        writer.write(prediction)
                    else:
                        _print_row(prediction, out, outside)
                out.flush()  # a closed pipe shows here, not in the interpreter's last flush
            except KeyboardInterrupt:
                cancel.set()
                stream.close()
            except BrokenPipeError:  # `... | head`: the reader has what it wanted
                broken_pipe = True
                cancel.set()
                stream.close()
            finally:
                progress.close()
    except OSError as exc:  # disk full, read-only file system, ... while writing or committing the file
        shown = escape_for_terminal(str(destination))
        print(
            f"error: cannot write {shown}: {exc.strerror or exc}; nothing was written and any existing file "
            "is unchanged",
            file=sys.stderr,
        )
        return EXIT_WRITE_FAILED
    if broken_pipe:
        _silence_stdout(out)
        return EXIT_BROKEN_PIPE
    return _summary(done, failed, destination, cancel.is_set(), out_of_scope)


def _silence_stdout(out: TextIO) -> None:
    """Point stdout at /dev/null so that the interpreter's last flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, out.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass  # not a real file (tests): nothing to flush


def _summary(done: int, failed: int, destination: Path | None, interrupted: bool, out_of_scope: int = 0) -> int:
    written = f"; wrote {destination}" if destination else ""
    outside = f" ({out_of_scope} out of scope)" if out_of_scope else ""
    print(f"{done - failed} classified{outside}, {failed} failed{written}", file=sys.stderr)
    if interrupted:
        print("interrupted: the finished results were kept", file=sys.stderr)
        return EXIT_INTERRUPTED
    if done == 0:
        print("error: no image files found", file=sys.stderr)
        return EXIT_FAILED_FILES
    return EXIT_FAILED_FILES if failed else EXIT_OK


def _exit_without_waiting(code: int) -> None:
    """End the process now: a decode thread stuck in a read (a hung network drive) would keep it alive at exit.

    The result file is already committed; only the streams need flushing.
    """
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if not any(t.is_alive() for t in others):
        return
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def run_gui(paths: list[str], *, device: str | None = None, models_dirs: Sequence[str] = ()) -> int:
    """Start the PySide6 app (imported only now, so headless use never loads Qt)."""
    from desktop_app.platform_check import EXIT_MISSING_LIBRARIES, check_gui_libraries

    if problem := check_gui_libraries():  # instead of Qt's abort on a Linux without the xcb libraries
        print(problem, file=sys.stderr)
        return EXIT_MISSING_LIBRARIES
    try:
        from desktop_app.ui.app import run
    except ImportError as exc:
        print(f"error: the GUI is not available ({exc}); use 'image-classifier classify PATH...'", file=sys.stderr)
        return EXIT_FAILED_FILES
    return int(run(paths, device=device, models_dirs=[str(d) for d in models_dirs]) or 0)


def _gui_parser() -> argparse.ArgumentParser:
    """The options that also reach the window: ``image-classifier [--device D] [--models-dir DIR] [PATH...]``."""
    parser = argparse.ArgumentParser(prog="image-classifier", add_help=False)
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default=None)
    parser.add_argument("--models-dir", action="append", default=[], metavar="DIR")
    parser.add_argument("paths", nargs="*")
    return parser


def _is_gui_call(argv: Sequence[str]) -> bool:
    """No sub-command and none of the options that do something else (help, version, self-test)."""
    return not any(a in COMMANDS or a in ("-h", "--help", "--version", "--self-test") for a in argv)


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Entry point of the ``image-classifier`` console script and ``python -m desktop_app``."""
    argv_is_process = argv is None  # the console script: this process ends when main returns
    argv = list(sys.argv[1:] if argv is None else argv)
    out = out or sys.stdout
    if not argv:
        return run_gui([])
    if _is_gui_call(argv):
        try:
            gui = _gui_parser().parse_args(argv)
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else EXIT_USAGE
        if gui.device is None and not gui.models_dir:
            return run_gui(gui.paths)
        return run_gui(gui.paths, device=gui.device, models_dirs=gui.models_dir)
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse: 2 for usage errors, 0 for --help / --version
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    # The CLI prints the engine's notices itself; the log is for --verbose.
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.ERROR, format="%(levelname)s %(name)s: %(message)s"
    )
    if args.self_test:
        from desktop_app.selftest import run_self_test

        return run_self_test(out, device=_device(args))
    if args.command == "models":
        return cmd_models(args, out)
    if args.command == "classify":
        try:
            code = cmd_classify(args, out)
        except KeyboardInterrupt:  # before the run started (loading the model)
            print("interrupted", file=sys.stderr)
            code = EXIT_INTERRUPTED
        if argv_is_process and code in (EXIT_INTERRUPTED, EXIT_BROKEN_PIPE):
            _exit_without_waiting(code)
        return code
    if args.command == "teach":
        from desktop_app.teach_cli import cmd_teach

        return cmd_teach(args, out)
    build_parser().print_usage(sys.stderr)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
