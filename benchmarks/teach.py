"""Teaching a model end to end: 200 12-MP photos in 4 classes, then 2,000; time and peak memory.

Each size is taught in a fresh process (:mod:`benchmarks.teach_child`):
scan, decode (draft-mode JPEG), backbone features of each photo and its
mirror image, cross-validated head, calibration, writing the file. The
baseline, measured in the same run, is classifying the same 200 photos
with the general model (``classify_stream``: same decoding, one backbone
pass per photo), so the ratio says what teaching costs beyond looking.
The 2,000 photos are hard links to the 200 (10 each): decoding costs the
same, the disk stays free.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from benchmarks import data
from benchmarks.common import Context, Section, Target, rate, ratio, run_child

NAME = "teach"
TITLE = "Teaching a model from photo folders"
CLASSES = 4
TARGET_SMALL_S, TARGET_LARGE_S, TARGET_GROWTH_MB = 20.0, 180.0, 60.0


def backbone(ctx: Context) -> tuple[Path, str]:
    """The shipped general model; in --quick runs without it, the tests' small stand-in."""
    from desktop_app.engine.teach import general_model_path

    shipped = general_model_path()
    if shipped.is_file():
        return shipped, f"the shipped {shipped.name}"
    if not ctx.quick:
        raise FileNotFoundError(f"{shipped} not found: teaching needs the general model")
    from tests.teach.factory import make_backbone

    return make_backbone(ctx.work / "stand_in.onnx"), "a 32x32 stand-in backbone (general model not shipped)"


def class_folders(root: Path, photos: list[Path], count: int) -> Path:
    """``count`` photos in ``CLASSES`` subfolders, hard links to ``photos`` (copies where links fail)."""
    for i in range(count):
        folder = root / f"class_{i % CLASSES}"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{i:05d}.jpg"
        try:
            os.link(photos[i % len(photos)], target)
        except OSError:
            target.write_bytes(photos[i % len(photos)].read_bytes())
    return root


def child(folder: Path, out: Path, model: Path) -> dict:
    return run_child("teach_child", str(folder), str(out), str(model), timeout=900)


def classify_seconds(model: Path, folder: Path) -> tuple[float, int]:
    """Seconds per photo to classify ``folder`` with ``model``, and the photo count."""
    from desktop_app.engine.batch import classify_stream
    from desktop_app.engine.classifier import Classifier
    from desktop_app.engine.contract import read_model_info

    classifier = Classifier(read_model_info(model))
    start = time.perf_counter()
    count = sum(1 for _ in classify_stream([folder], classifier, batch_size=32))
    return (time.perf_counter() - start) / max(count, 1), count


def run(ctx: Context) -> Section:
    section = Section(NAME, TITLE, "python -m benchmarks --only teach")
    model, source = backbone(ctx)
    small, large = ctx.size(200, 8), ctx.size(2_000, 24)
    size = data.PHOTO_SIZE if not ctx.quick else (400, 300)
    start = time.perf_counter()
    photos = data.large_photos(ctx.work / "teach-photos", small, size)
    ctx.log(f"teach: {small} photos of {size[0]}x{size[1]} in {time.perf_counter() - start:.0f} s")
    runs = {}
    for count in (small, large):
        folder = class_folders(ctx.work / f"teach-{count}", photos, count)
        runs[count] = child(folder, ctx.work / f"taught-{count}.onnx", model)
        ctx.log(f"teach: {count} photos in {runs[count]['seconds']:.1f} s")
    per_photo, counted = classify_seconds(model, ctx.work / f"teach-{small}")
    baseline = per_photo * small
    section.columns = ["Photos", "Teach time", "CPU time", "Rate", "Peak RSS after loading", "Peak RSS of the run"]
    section.rows = [
        [
            f"{count:,}",
            f"{r['seconds']:.1f} s",
            f"{r.get('cpu_s', float('nan')):.1f} s",
            rate(r["photos"] / r["seconds"]),
            f"{r['loaded_mb']:.0f} MB",
            f"{r['peak_mb']:.0f} MB",
        ]
        for count, r in runs.items()
    ]
    growth = runs[large]["peak_mb"] - runs[small]["peak_mb"]
    section.targets += [
        Target(
            f"{small} photos taught in at most {TARGET_SMALL_S:.0f} s",
            f"{runs[small]['seconds']:.1f} s",
            runs[small]["seconds"] <= TARGET_SMALL_S if not ctx.quick else None,
        ),
        Target(
            f"{large:,} photos taught in at most {TARGET_LARGE_S:.0f} s",
            f"{runs[large]['seconds']:.1f} s",
            runs[large]["seconds"] <= TARGET_LARGE_S if not ctx.quick else None,
        ),
        Target(
            f"peak memory for {large:,} photos within {TARGET_GROWTH_MB:.0f} MB of {small} (features only)",
            f"{growth:+.0f} MB",
            growth <= TARGET_GROWTH_MB,
        ),
    ]
    section.notes.append(
        f"{small} distinct {size[0]}x{size[1]} JPEGs (quality 90) in {CLASSES} class folders; the {large:,}-photo "
        f"run hard-links each {large // small} times. Backbone: {source}. Baseline in the same run: classifying the "
        f"{counted} photos with the general model took {baseline:.1f} s, so teaching cost "
        f"{ratio(runs[small]['seconds'] / baseline)} that (two backbone passes per photo: it and its mirror image, "
        "plus the cross-validated head). Peak = the child process's VmHWM. CPU time (user + system of the child) "
        "does not depend on other load on the machine; on a shared machine compare it, not the wall time."
    )
    section.numbers = {str(k): v for k, v in runs.items()} | {"baseline_classify_s": baseline, "growth_mb": growth}
    return section
