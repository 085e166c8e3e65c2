"""Teach a new model from folders of photos: one subfolder per class, offline, on the CPU.

    scan_folder(FOLDER)  -> the classes, their photos, the files skipped and why
    teach(FOLDER, OUT)   -> features from the general model's backbone (each
                            photo and its mirror image), an L2 logistic-regression
                            head chosen by cross-validation, temperature
                            calibration and a novelty check on the held-out
                            predictions, then one contract ONNX file

Decoding uses the engine's image path (:func:`~desktop_app.engine.images.load_pixels`)
on a few threads with a bounded number of files in flight; only the
features (1,280 float32 values per photo and per mirror image) are kept,
so memory stays flat in the number of photos. This loop is its own (not
``engine.batch``): it needs features, not predictions. A file that cannot
be decoded becomes a skipped row with its reason; ``cancel`` stops at the
next batch.
"""

from __future__ import annotations

import datetime as _dt
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from desktop_app.engine import novelty
from desktop_app.engine.contract import FORMAT_VERSION, encode_metadata, read_model_info
from desktop_app.engine.images import DEFAULT_FIT, decoded_or_error, load_pixels
from desktop_app.engine.registry import shipped_models_dir
from desktop_app.engine.teach_head import Cancelled, cross_validate, fit_head, fit_temperature, softmax
from desktop_app.engine.walk import is_image_name, iter_image_files

#: The general model whose backbone every taught model reuses.
GENERAL_MODEL_FILE = "efficientnet_lite0_imagenet.onnx"
MIN_CLASSES = 2
#: Below this many photos a class is taught, with a warning.
FEW_PHOTOS = 5
BATCH_SIZE = 16
#: JPEGs decode (DCT-scaled) to at least this many times the backbone's side: 1/8 scale for a 12-MP photo.
DRAFT_FACTOR = 1
#: Written into ``training.recipe`` so a file says how it was made.
RECIPE = "teach-v1"


class TeachError(ValueError):
    """The folder cannot be taught (too few classes, no backbone ...); the message says why."""


@dataclass
class ClassPhotos:
    name: str
    paths: list[Path]


@dataclass
class TeachSet:
    """What :func:`scan_folder` found."""

    folder: Path
    classes: list[ClassPhotos]
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def labels(self) -> list[str]:
        return [c.name for c in self.classes]

    @property
    def photo_count(self) -> int:
        return sum(len(c.paths) for c in self.classes)


@dataclass
class TeachProgress:
    """``stage`` is "features" (``done``/``total`` photos), "fitting" or "writing"."""

    stage: str
    done: int
    total: int
    elapsed_s: float


@dataclass
class TeachResult:
    """The written model and what the held-out photos said about it."""

    path: Path
    labels: list[str]
    counts: dict[str, int]
    skipped: list[tuple[Path, str]]
    warnings: list[str]
    held_out_accuracy: float
    per_class_recall: dict[str, float]
    misclassified: list[tuple[Path, str, str]]  # (photo, true label, predicted label)
    novelty_held_out_rate: float
    metadata: dict[str, Any]
    seconds: float


def general_model_path() -> Path:
    return shipped_models_dir() / GENERAL_MODEL_FILE


def scan_folder(folder: str | Path) -> TeachSet:
    """The classes (subfolders with images, in name order) of ``folder``; raises :class:`TeachError`."""
    root = Path(folder)
    if not root.is_dir():
        raise TeachError(f"{root} is not a folder")
    skipped: list[tuple[Path, str]] = []
    warnings: list[str] = []
    classes: list[ClassPhotos] = []
    try:
        entries = sorted((e for e in os.scandir(root) if not e.name.startswith(".")), key=lambda e: e.name)
    except OSError as exc:
        raise TeachError(f"cannot read {root}: {exc.strerror or exc}") from exc
    for entry in entries:
        path = Path(entry.path)
        if not entry.is_dir():
            skipped.append((path, "not inside a class folder (put photos in one subfolder per class)"))
            continue
        errors: list[tuple[Path, str]] = []
        photos = list(iter_image_files([path], errors=errors))
        skipped += errors
        skipped += [(p, "not an image file type") for p in _other_files(path)]
        if not photos:
            warnings.append(f"class '{entry.name}' has no images: left out")
            continue
        if len(photos) < FEW_PHOTOS:
            warnings.append(f"class '{entry.name}' has only {len(photos)} photo(s); {FEW_PHOTOS} or more teach better")
        classes.append(ClassPhotos(entry.name, photos))
    if len(classes) < MIN_CLASSES:
        found = ", ".join(c.name for c in classes) or "none"
        raise TeachError(f"{root} needs at least {MIN_CLASSES} subfolders with images, one per class (found: {found})")
    return TeachSet(root, classes, skipped, warnings)


def _other_files(folder: Path) -> Iterable[Path]:
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in sorted(filenames):
            if not name.startswith(".") and not is_image_name(name):
                yield Path(dirpath) / name


class FeatureExtractor:
    """The general model with its pooled features as a second output, as an onnxruntime session.

    One run gives the features (what the head is taught on) and the general
    model's own probabilities (what the novelty check's profile is made of).
    """

    def __init__(self, backbone: str | Path | None = None) -> None:
        import onnxruntime as ort

        from desktop_app.engine.sessions import session_options
        from desktop_app.engine.teach_graph import BackboneError, backbone_of, load_model, with_extra_output

        self.path = Path(backbone) if backbone is not None else general_model_path()
        if not self.path.is_file():
            raise TeachError(
                f"the general model {self.path.name} was not found in {self.path.parent}: teaching reuses its backbone"
            )
        try:
            source = load_model(self.path)
            self.backbone = backbone_of(source)
        except BackboneError as exc:
            raise TeachError(f"{self.path.name} cannot serve as a backbone: {exc}") from exc
        self.width = self.backbone.width
        self._session = ort.InferenceSession(
            with_extra_output(source, self.backbone.feature), session_options(), providers=["CPUExecutionProvider"]
        )
        spec = self._session.get_inputs()[0]
        self.input_name = spec.name
        self.input_size = (int(spec.shape[1]), int(spec.shape[2]))

    def run(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(N, D)`` features and ``(N, C)`` general-model probabilities of an NHWC batch (RGB 0..255)."""
        probabilities, features = self._session.run(None, {self.input_name: np.asarray(batch, np.float32)})
        return features, probabilities

    def features(self, batch: np.ndarray) -> np.ndarray:
        """``(N, D)`` features of an NHWC uint8/float batch (RGB 0..255)."""
        return self.run(batch)[0]


def _decode(path: Path, size: tuple[int, int]) -> np.ndarray | str:
    return decoded_or_error(path, lambda: load_pixels(path, size, fit=DEFAULT_FIT, draft_factor=DRAFT_FACTOR))


def extract_features(
    paths: list[Path],
    extractor: FeatureExtractor,
    *,
    cancel: threading.Event | None = None,
    on_photo: Callable[[int], None] | None = None,
    workers: int = 2,
    batch_size: int = BATCH_SIZE,
    mirror: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[Path, str]]]:
    """Features of each photo and of its mirror image ``(M, 2, D)``, the general model's probabilities
    ``(M, 2, C)`` (float16), the kept indices, the skipped.

    ``mirror=False`` (scoring, not teaching) skips the mirror images: ``(M, 1, D)``.
    At most ``2 * batch_size`` decodes are in flight; decoded pixels are
    dropped as soon as their batch has run.
    """
    cancel = cancel or threading.Event()
    copies = 2 if mirror else 1
    out = np.zeros((len(paths), copies, extractor.width), np.float32)
    general: np.ndarray | None = None
    kept: list[int] = []
    skipped: list[tuple[Path, str]] = []
    pending: deque[tuple[int, Future[np.ndarray | str]]] = deque()
    batch: list[np.ndarray] = []
    batch_index: list[int] = []
    upcoming = iter(range(len(paths)))
    done = 0

    def run_batch() -> None:
        pixels = np.stack(batch)
        if mirror:  # the mirror images ride in the same run
            pixels = np.concatenate([pixels, pixels[:, :, ::-1]])
        nonlocal general
        feats, probs = extractor.run(pixels)
        if general is None:
            general = np.zeros((len(paths), copies, probs.shape[1]), np.float16)
        n = len(batch)
        out[batch_index, 0], general[batch_index, 0] = feats[:n], probs[:n]
        if mirror:
            out[batch_index, 1], general[batch_index, 1] = feats[n:], probs[n:]
        kept.extend(batch_index)
        batch.clear()
        batch_index.clear()

    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="teach-decode") as pool:
        try:
            for i in upcoming:
                pending.append((i, pool.submit(_decode, paths[i], extractor.input_size)))
                if len(pending) >= 2 * batch_size:
                    break
            while pending:
                if cancel.is_set():
                    raise Cancelled()
                i, future = pending.popleft()
                nxt = next(upcoming, None)
                if nxt is not None:
                    pending.append((nxt, pool.submit(_decode, paths[nxt], extractor.input_size)))
                result = future.result()
                if isinstance(result, str):
                    skipped.append((paths[i], result))
                else:
                    batch.append(result)
                    batch_index.append(i)
                    if len(batch) >= batch_size:
                        run_batch()
                done += 1
                if on_photo:
                    on_photo(done)
            if batch:
                run_batch()
        finally:
            for _, future in pending:
                future.cancel()
    order = np.array(sorted(kept), dtype=int)
    if general is None:
        general = np.zeros((len(paths), copies, 1), np.float16)
    if len(order) == len(paths):  # nothing skipped: no copies (the features of 2,000 photos are 20 MB)
        return out, general, order, skipped
    return out[order], general[order], order, skipped


def teach(
    folder: str | Path | TeachSet,
    out: str | Path,
    *,
    name: str | None = None,
    backbone: str | Path | None = None,
    cancel: threading.Event | None = None,
    on_progress: Callable[[TeachProgress], None] | None = None,
    workers: int = 2,
) -> TeachResult:
    """Teach a model from ``folder`` and write it to ``out`` (see module doc).

    Raises :class:`TeachError` for an unusable folder or backbone and
    :class:`~desktop_app.engine.teach_head.Cancelled` when ``cancel`` is set;
    nothing is written then.
    """
    from desktop_app.engine.teach_graph import with_head

    start = time.perf_counter()
    cancel = cancel or threading.Event()
    plan = folder if isinstance(folder, TeachSet) else scan_folder(folder)
    extractor = FeatureExtractor(backbone)
    paths = [p for c in plan.classes for p in c.paths]
    labels_of = np.array([k for k, c in enumerate(plan.classes) for _ in c.paths], dtype=int)

    def report(stage: str, done: int, total: int) -> None:
        if on_progress:
            on_progress(TeachProgress(stage, done, total, time.perf_counter() - start))

    def check() -> None:
        if cancel.is_set():
            raise Cancelled()

    report("features", 0, len(paths))
    feats, general, kept, bad = extract_features(
        paths,
        extractor,
        cancel=cancel,
        workers=workers,
        on_photo=lambda done: report("features", done, len(paths)),
    )
    skipped = list(plan.skipped) + bad
    y_photo = labels_of[kept]
    photo_paths = [paths[i] for i in kept]
    label_names = plan.labels
    present = np.bincount(y_photo, minlength=len(label_names))
    if (present > 0).sum() < MIN_CLASSES:
        raise TeachError("fewer than two classes have a photo that could be read")
    if (present == 0).any():  # a class whose every photo was unreadable: drop it
        keep_classes = np.flatnonzero(present > 0)
        remap = {old: new for new, old in enumerate(keep_classes)}
        dropped = [label_names[k] for k in np.flatnonzero(present == 0)]
        plan.warnings += [f"class '{n}' has no readable photos: left out" for n in dropped]
        label_names = [label_names[k] for k in keep_classes]
        y_photo = np.array([remap[k] for k in y_photo], dtype=int)
    classes = len(label_names)
    check()
    report("fitting", 0, 1)
    x = feats.reshape(-1, feats.shape[-1])  # rows: photo 0, mirror 0, photo 1, mirror 1 ...
    y = np.repeat(y_photo, 2)
    group = np.repeat(np.arange(len(y_photo)), 2)
    original = np.tile([True, False], len(y_photo))
    cv = cross_validate(x, y, group, original, classes, check=check)
    temperature = fit_temperature(cv.logits, y_photo)
    held_pred = cv.logits.argmax(axis=1)
    held_dist, held_mass = _held_out_scores(feats, general, y_photo, cv.fold_of_photo, classes)
    thresholds = novelty.Thresholds.from_held_out(held_dist, held_mass)
    held_fired = thresholds.fires(held_dist, held_mass)
    check()
    centres = novelty.class_centres(x, y, classes)
    head = fit_head(x, y, classes, cv.l2, overwrite=True).scaled(temperature)  # x is not needed after this
    check()
    report("writing", 0, 1)
    metrics = _metrics(y_photo, held_pred, softmax(cv.logits / temperature), label_names, cv.folds)
    metadata = _metadata(
        plan, label_names, y_photo, metrics, name, out, extractor, cv, temperature, thresholds, held_fired
    )
    props = encode_metadata(metadata)
    props[novelty.METADATA_KEY] = novelty.encode(
        centres, thresholds, novelty.general_profile(general), extractor.width, held_dist, held_mass
    )
    data = with_head(extractor.backbone, head.weights, head.bias, props)
    check()
    path = write_checked(data, Path(out))
    report("writing", 1, 1)
    misclassified = [
        (photo_paths[i], label_names[y_photo[i]], label_names[held_pred[i]])
        for i in np.flatnonzero(held_pred != y_photo)
    ]
    return TeachResult(
        path=path,
        labels=label_names,
        counts={n: int(c) for n, c in zip(label_names, np.bincount(y_photo, minlength=classes))},
        skipped=skipped,
        warnings=plan.warnings,
        held_out_accuracy=metrics["test_accuracy"],
        per_class_recall={n: metrics["per_class"][n]["recall"] for n in label_names},
        misclassified=misclassified,
        novelty_held_out_rate=float(held_fired.mean()),
        metadata=metadata,
        seconds=time.perf_counter() - start,
    )


def _held_out_scores(
    feats: np.ndarray, general: np.ndarray, y: np.ndarray, fold: np.ndarray, classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each photo's novelty scores against what the other folds taught: centre distance, general-model mass."""
    dist = np.zeros(len(y), np.float32)
    mass = np.zeros(len(y), np.float32)
    for f in np.unique(fold):
        train, test = fold != f, fold == f
        x_train = feats[train].reshape(-1, feats.shape[-1])
        y_train = np.repeat(y[train], feats.shape[1])
        present = [k for k in range(classes) if (y_train == k).any()]
        centres = novelty.class_centres(x_train, np.searchsorted(present, y_train), len(present))
        dist[test] = novelty.distances(feats[test, 0], centres)[0]
        mass[test] = novelty.general_mass(general[test, 0], novelty.general_profile(general[train]))
    return dist, mass


def _metrics(y: np.ndarray, pred: np.ndarray, probs: np.ndarray, labels: list[str], folds: int) -> dict[str, Any]:
    """The models' usual ``metrics`` shape, measured on held-out photos (cross-validation)."""
    k = len(labels)
    confusion = np.zeros((k, k), dtype=int)
    np.add.at(confusion, (y, pred), 1)
    per_class = {}
    f1s = []
    for i, name in enumerate(labels):
        tp = confusion[i, i]
        support = int(confusion[i].sum())
        predicted = int(confusion[:, i].sum())
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        f1s.append(f1)
        per_class[name] = {
            "precision": round(float(precision), 4),
            "recall": round(float(recall), 4),
            "f1": round(float(f1), 4),
            "support": support,
        }
    loss = -float(np.log(probs[np.arange(len(y)), y] + 1e-12).mean())
    return {
        "test_accuracy": round(float((pred == y).mean()), 4),
        "test_loss": round(loss, 4),
        "num_test_images": int(len(y)),
        "per_class": per_class,
        "confusion_matrix": confusion.tolist(),
        "macro_f1": round(float(np.mean(f1s)), 4),
        "held_out": f"{folds}-fold cross-validation over the taught photos (each scored by a head "
        "that never saw it or its mirror image); not a separate test set",
    }


def _metadata(
    plan: TeachSet,
    labels: list[str],
    y: np.ndarray,
    metrics: dict[str, Any],
    name: str | None,
    out: str | Path,
    extractor: FeatureExtractor,
    cv: Any,
    temperature: float,
    thresholds: novelty.Thresholds,
    held_fired: np.ndarray,
) -> dict[str, Any]:
    today = _dt.date.today().isoformat()
    photos, k = int(len(y)), len(labels)
    general = _general_name(extractor.path)
    return {
        "labels": labels,
        "display_name": name or Path(out).stem.replace("_", " "),
        "description": f"taught from {photos} photos in {k} classes on {today}",
        "architecture": f"{general} backbone ({extractor.width} pooled features, unchanged) + "
        f"logistic-regression head ({k} classes) + softmax",
        "dataset": f"taught: {plan.folder.name} ({photos} photos)",
        "params": int(extractor.width * k + k),
        "metrics": metrics,
        "training": {
            "recipe": RECIPE,
            "taught_from": str(plan.folder),
            "source_folder": str(plan.folder.resolve()),  # what reteach() and the Correct loop reopen
            "taught_on": today,
            "photos": {n: int(c) for n, c in zip(labels, np.bincount(y, minlength=k))},
            "backbone": extractor.path.name,
            "feature_tensor_width": extractor.width,
            "mirror_copies": True,
            "l2": cv.l2,
            "l2_cross_validation_log_loss": {str(key): round(v, 4) for key, v in cv.losses.items()},
            "folds": cv.folds,
            "temperature": round(float(temperature), 4),
            "novelty_threshold": round(float(thresholds.distance), 4),
            "novelty_mass_threshold": round(float(thresholds.mass or 0.0), 4),
            "novelty_held_out_rate": round(float(held_fired.mean()), 4),
        },
        "format_version": FORMAT_VERSION,
    }


def _general_name(path: Path) -> str:
    try:
        return read_model_info(path).display_name
    except Exception:  # the name is decoration only
        return path.stem


def write_checked(data: bytes, out: Path) -> Path:
    """Write an ONNX model next to ``out``, check the contract, rename into place (nothing left on failure)."""
    import tempfile

    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=".onnx.tmp", dir=out.parent)
    os.close(fd)
    try:
        Path(tmp).write_bytes(data)
        read_model_info(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, out)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return out
