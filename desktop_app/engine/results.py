"""CSV / JSON result files, streamed and written atomically.

Rows go to a hidden temporary file (``.<name>.<pid>.<random>.tmp``) beside
the destination as they come; only a successful close renames it into place
(``os.replace``), so a crash or an error never leaves a half-written file and
never damages an existing one. A destination that is a symlink is written
through to the file it points to (the temporary file sits beside that file,
so another file system works too). Temporary files left by a killed run
(their process is gone, or they are over a day old) are removed by the next
run into the same folder (not written for a minute). :func:`check_output_target` refuses targets that
must not be written (a folder, a device/FIFO/socket, an input file, a
read-only or missing folder) before anything is classified.

Columns: ``path, label, probability, unsure, top_k, model, in_scope,
looks_like, scope_reason, <class columns>, error``; ``top_k`` reads
``"cat:0.91;dog:0.05;..."``; ``model`` is the model's name when the writer
was given one. ``in_scope`` is the scope / novelty check's verdict (True,
False, empty / null when no check ran or the image was too small),
``looks_like`` what the general model sees (e.g. ``hot dog``), and
``scope_reason`` the one line people read ("None of the ten classes: this
looks like a hot dog (99%)"; empty when in scope). Class columns
(:func:`class_columns`): ``p_<label>`` per class, for models of at most
:data:`MAX_CLASS_COLUMNS` classes; no fixed column starts with ``p_``, so a
label can never clash with one (a label ``path`` gets ``p_path``, a label
``p_path`` gets ``p_p_path``). Bigger label sets (ImageNet's 1,000) get only
``top_k``. Probabilities keep 6 significant digits (float32 carries about 7).
JSON is a list of objects with the same keys; ``top_k`` there is a list of
``[label, probability]`` pairs.

Hostile text: names that are not valid UTF-8 (``os.fsdecode`` keeps their
bytes as surrogates) are written with backslash escapes (``bad\\xff.jpg``)
in both formats. Every CSV cell that starts with ``= + - @``, a tab or a
carriage return gets a leading apostrophe, so a spreadsheet shows it as text
instead of running it as a formula (:func:`csv_safe`); JSON keeps the text.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import stat
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

from desktop_app.engine.classifier import Prediction

if TYPE_CHECKING:
    import _csv

FORMATS = {".csv": "csv", ".json": "json"}
#: Columns every row has, in order; the class columns go before ``error``.
FIXED_COLUMNS = (
    "path",
    "label",
    "probability",
    "unsure",
    "top_k",
    "model",
    "in_scope",
    "looks_like",
    "scope_reason",
    "error",
)
#: Prefix of every per-class probability column (no fixed column starts with it).
CLASS_PREFIX = "p_"
#: Per-class columns only up to this many classes: 1,000 columns are unreadable; ``top_k`` says the rest.
MAX_CLASS_COLUMNS = 20
#: A CSV cell starting with one of these is a formula (or becomes one) in a spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_CHARS = "".join(FORMULA_STARTS)
#: A temporary file of a killed run is removed when its process is gone and it has not been written
#: for ORPHAN_IDLE_S (a run in another PID namespace sharing the folder keeps writing), or after STALE_TMP_S.
STALE_TMP_S = 24 * 3600
ORPHAN_IDLE_S = 60
_TMP_PATTERN = re.compile(r"^\.(?P<name>.+\.(?:csv|json))\.(?P<pid>\d+)\.[A-Za-z0-9_]+\.tmp$", re.IGNORECASE)

assert not any(column.startswith(CLASS_PREFIX) for column in FIXED_COLUMNS)


class OutputTargetError(ValueError):
    """The result file must not (or cannot) be written there; ``str()`` says why in one line."""


def class_columns(labels: Sequence[str]) -> list[str]:
    """Per-class column names: ``p_<label>`` (never a fixed column), none above :data:`MAX_CLASS_COLUMNS` classes."""
    if len(labels) > MAX_CLASS_COLUMNS:
        return []
    return [CLASS_PREFIX + label for label in labels]


def result_columns(labels: Sequence[str]) -> list[str]:
    """Every column of a result file for a model with ``labels``, in order."""
    return [*FIXED_COLUMNS[:-1], *class_columns(labels), FIXED_COLUMNS[-1]]


def escape_undecodable(text: str) -> str:
    """``text`` with the surrogates ``os.fsdecode`` uses for undecodable bytes written as ``\\xff`` escapes."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        try:
            return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:  # a lone surrogate that is no escaped byte (e.g. from JSON metadata)
            return text.encode("utf-8", "backslashreplace").decode("utf-8")


def escape_for_terminal(text: str) -> str:
    """``text`` safe to print: undecodable bytes and control characters (ESC, CR, ...) as backslash escapes."""
    text = escape_undecodable(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def csv_safe(cell: object) -> object:
    """A CSV cell a spreadsheet shows as text: a leading apostrophe before a formula start; escapes for bad bytes."""
    if not isinstance(cell, str) or not cell:
        return cell
    if cell.isascii() and cell[0] not in _FORMULA_CHARS:  # most cells (numbers, plain names): 31 -> 18 us a row
        return cell
    cell = escape_undecodable(cell)
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def _number(value: float | None) -> float | None:
    return None if value is None else float(f"{value:.6g}")


def _text(value: str | None) -> str | None:
    return None if value is None else escape_undecodable(value)


def prediction_row(
    prediction: Prediction,
    labels: Sequence[str],
    top_k: int = 3,
    *,
    columns: Sequence[str] | None = None,
    model: str | None = None,
) -> dict[str, Any]:
    """One result as a flat dict of plain values (column order = key order); JSON's row.

    ``columns``: ``class_columns(labels)``, when the caller already has it.
    """
    probabilities = prediction.probabilities
    row: dict[str, Any] = {
        "path": _text(prediction.path) or "",
        "label": _text(prediction.label),
        "probability": _number(prediction.probability),
        "unsure": prediction.unsure if prediction.ok else None,
        "top_k": [[_text(label), _number(p)] for label, p in prediction.top_k[:top_k]],
        "model": model,
        "in_scope": prediction.in_scope,
        "looks_like": _text(prediction.looks_like),
        "scope_reason": _text(prediction.scope.reason or None) if prediction.scope is not None else None,
    }
    names = class_columns(labels) if columns is None else columns
    if names:
        if probabilities is None:
            row.update(dict.fromkeys(names))
        else:
            row.update(zip(names, (_number(p) for p in probabilities.tolist())))
    row["error"] = _text(prediction.error)
    return row


def _number_text(value: float) -> str:
    """``value`` to 6 significant digits, the same text as ``repr(_number(value))`` (``1.0``, ``0.25``, ``3e-05``)."""
    text = f"{value:.6g}"
    return text if "." in text or "e" in text or "n" in text else text + ".0"


def csv_cells(prediction: Prediction, top_k: int, n_classes: int, model: str | None = None) -> list[Any]:
    """The CSV row of ``prediction``: :func:`prediction_row`'s values in column order, as the CSV shows them.

    ``n_classes``: the number of class columns (``len(class_columns(labels))``).
    Built directly rather than from the row dict: 9 instead of 16 us per row
    (tests/engine/test_results.py checks that the text is the same). The
    writer passes every cell through :func:`csv_safe`.
    """
    model_cell = model or ""
    if not prediction.ok:
        return [prediction.path or "", "", "", "", "", model_cell, "", "", "", *([""] * n_classes), prediction.error]
    scope = prediction.scope
    scope_cells = (
        ["", "", ""]
        if scope is None
        else ["" if scope.in_scope is None else scope.in_scope, scope.looks_like, scope.reason]
    )
    top = ";".join(f"{label}:{p:.6g}" for label, p in prediction.top_k[:top_k])
    probabilities = prediction.probabilities
    if not n_classes:
        classes: list[str] = []
    elif probabilities is None:
        classes = [""] * n_classes
    else:
        classes = [_number_text(p) for p in probabilities.tolist()]
    probability = "" if prediction.probability is None else _number_text(prediction.probability)
    return [
        prediction.path or "",
        prediction.label or "",
        probability,
        prediction.unsure,
        top,
        model_cell,
        *scope_cells,
        *classes,
        "",
    ]


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def check_output_target(path: str | Path, inputs: Iterable[str | Path] = ()) -> Path:
    """The real file a result file at ``path`` will replace (symlinks resolved); raise :class:`OutputTargetError`.

    Refused: a folder, a device, FIFO or socket, one of the ``inputs`` (or an
    image-named file inside an input folder, which the run would read), a
    folder that does not exist or is not writable (read-only file system).
    """
    from desktop_app.engine.walk import is_image_name

    shown = escape_for_terminal(os.fspath(path))
    target = Path(os.path.realpath(path))
    try:
        info: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise OutputTargetError(f"cannot write {shown}: {exc.strerror or exc}") from None
    if info is not None:
        if stat.S_ISDIR(info.st_mode):
            raise OutputTargetError(f"cannot write {shown}: it is a folder; give a file name such as results.csv")
        if not stat.S_ISREG(info.st_mode):
            raise OutputTargetError(f"cannot write {shown}: it is a device, FIFO or socket, not a regular file")
        for item in inputs:
            try:
                source = os.stat(item)
            except OSError:
                continue
            inside = stat.S_ISDIR(source.st_mode) and is_image_name(target.name) and _is_below(target, item)
            if _same_file(info, source) or inside:
                raise OutputTargetError(f"cannot write {shown}: it is one of the images to classify")
    folder = target.parent
    if not folder.is_dir():
        raise OutputTargetError(f"cannot write {shown}: its folder {escape_for_terminal(str(folder))} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputTargetError(f"cannot write {shown}: its folder is read-only (or a read-only file system)")
    return target


def _is_below(target: Path, folder: str | Path) -> bool:
    return Path(os.path.realpath(folder)) in target.parents


def remove_stale_temporary_files(folder: str | Path, *, now: float | None = None) -> list[Path]:
    """Delete temporary result files of killed runs in ``folder`` (only our own pattern); return them."""
    now = time.time() if now is None else now
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TMP_PATTERN.match(entry.name)
        if match is None or not entry.is_file(follow_symlinks=False):
            continue
        try:
            idle = now - entry.stat(follow_symlinks=False).st_mtime
            if idle > STALE_TMP_S or (idle > ORPHAN_IDLE_S and not _process_alive(int(match["pid"]))):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process: leave its file alone
    return True


class ResultWriter:
    """Context manager writing predictions one by one; see the module doc.

    ``model``: the model's name, written in the ``model`` column (empty when None).
    Raises ``OSError`` (the old file untouched, no temporary file left) when
    the disk is full or the file system read-only.
    """

    def __init__(
        self,
        path: str | Path,
        labels: Sequence[str],
        *,
        top_k: int = 3,
        fmt: str | None = None,
        model: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.labels = list(labels)
        self.top_k = top_k
        self.model = model
        self.fmt = fmt or FORMATS.get(self.path.suffix.lower())
        if self.fmt not in ("csv", "json"):
            raise ValueError(f"{self.path.name}: results are written as .csv or .json, not {self.path.suffix!r}")
        self.count = 0
        self._file: IO[str] | None = None
        self._tmp: Path | None = None
        self._target: Path | None = None
        self._csv: _csv.Writer | None = None  # csv.writer while writing CSV
        self._class_columns = class_columns(self.labels)

    def __enter__(self) -> ResultWriter:
        self._target = Path(os.path.realpath(self.path))  # a symlink is written through
        folder = self._target.parent
        remove_stale_temporary_files(folder)
        fd, tmp = tempfile.mkstemp(prefix=f".{self._target.name}.{os.getpid()}.", suffix=".tmp", dir=folder)
        self._tmp = Path(tmp)
        self._file = os.fdopen(fd, "w", encoding="utf-8", newline="")
        try:
            if self.fmt == "csv":
                self._csv = csv.writer(self._file)
                self._csv.writerow([csv_safe(c) for c in result_columns(self.labels)])
            else:
                self._file.write("[")
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise
        return self

    def write(self, prediction: Prediction) -> None:
        if self._file is None:
            raise RuntimeError("ResultWriter.write() outside its 'with' block")
        if self._csv is not None:
            cells = csv_cells(prediction, self.top_k, len(self._class_columns), self.model)
            self._csv.writerow([csv_safe(cell) for cell in cells])
        else:
            row = prediction_row(prediction, self.labels, self.top_k, columns=self._class_columns, model=self.model)
            self._file.write(("\n  " if self.count == 0 else ",\n  ") + json.dumps(row, ensure_ascii=False))
        self.count += 1

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._file is not None and self._tmp is not None and self._target is not None
        try:
            if exc_type is None:
                if self.fmt == "json":
                    self._file.write("\n]\n" if self.count else "]\n")
                self._file.flush()
                os.fsync(self._file.fileno())
            self._file.close()
            if exc_type is None:
                # mkstemp makes 0600 files; keep an existing file's mode, else the usual 0644
                mode = self._target.stat().st_mode & 0o777 if self._target.exists() else 0o644
                os.chmod(self._tmp, mode)
                os.replace(self._tmp, self._target)
        finally:
            if not self._file.closed:
                with contextlib.suppress(OSError):  # a full disk fails the close too; the temporary file goes below
                    self._file.close()
            self._file = None
            if self._tmp.exists():
                self._tmp.unlink()


def open_result_writer(
    path: str | Path, labels: Sequence[str], *, top_k: int = 3, fmt: str | None = None, model: str | None = None
) -> ResultWriter:
    """A :class:`ResultWriter` (use it in a ``with`` block)."""
    return ResultWriter(path, labels, top_k=top_k, fmt=fmt, model=model)


def write_results(
    path: str | Path,
    predictions: Iterable[Prediction],
    labels: Sequence[str],
    *,
    top_k: int = 3,
    model: str | None = None,
) -> Path:
    """Write all ``predictions`` (any iterable, consumed lazily) and return the path."""
    with open_result_writer(path, labels, top_k=top_k, model=model) as writer:
        for prediction in predictions:
            writer.write(prediction)
    return Path(path)
