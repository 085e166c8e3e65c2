"""One image with and without the scope check: what the window's single result costs.

``Classifier.classify(photo)`` against ``classify(photo, scope=checker)``
(one decode for both models, then the general model EfficientNet-Lite0 at
224x224 beside the CIFAR-10 model), timed alternately on the same photos in
the same run, for the model the app starts with and for deep_cnn. Photos:
the real photos (a few hundred pixels to 720p) and generated 12-MP phone
photos. Folder rates with and without the check are in the end-to-end
section.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks import data
from benchmarks.common import Context, Section, measure, median, ms

NAME = "scope_check"
TITLE = "Scope check: one image with and without it"


def _photos(ctx: Context) -> list[tuple[str, list[Path]]]:
    source = next((folder for folder in data.PHOTO_SOURCES if folder.is_dir()), None)
    real = (
        sorted(p for p in source.rglob("*") if p.suffix.lower() in {".jpg", ".png"})[: ctx.size(11, 2)]
        if source
        else []
    )
    phone, _ = data.phone_photos(ctx.work / "phone_single", ctx.size(6, 1))
    groups = [(f"real photos ({source})", real)] if real else []
    return groups + [(f"phone photos {data.PHOTO_SIZE[0]}x{data.PHOTO_SIZE[1]} (q90)", phone)]


def _time_pair(classifier, scope, photos: list[Path], repeats: int) -> tuple[float, float]:
    """Median seconds per image without and with the check, the two timed alternately per photo."""
    off, on = [], []
    for photo in photos:
        for _ in range(repeats):
            off += measure(lambda: classifier.classify(photo), warmup=0, repeats=1, min_repeats=1)
            on += measure(lambda: classifier.classify(photo, scope=scope), warmup=0, repeats=1, min_repeats=1)
    return median(off), median(on)


def run(ctx: Context) -> Section:
    from desktop_app.engine.classifier import get_classifier
    from desktop_app.engine.registry import ModelRegistry
    from desktop_app.engine.scope import second_opinion_for
    from desktop_app.engine.sessions import Device

    section = Section(NAME, TITLE, "python -m benchmarks --only scope_check")
    registry = ModelRegistry()
    default = registry.default_model()
    names = [m for m in (default.name if default else None, "deep_cnn") if m]
    groups = _photos(ctx)
    section.columns = ["Model", "Photos", "Without the check p50", "With it p50", "Added"]
    repeats = ctx.size(3, 1)
    for name in dict.fromkeys(names):
        info = registry.get(name)
        classifier = get_classifier(info, Device.CPU)
        scope = second_opinion_for(info, registry.models, Device.CPU)
        if scope is None:
            section.notes.append(f"{name}: no scope check (the general model is not in assets/models).")
            continue
        classifier.classify(groups[0][1][0], scope=scope)  # warm-up: both sessions, code paths
        for label, photos in groups:
            off, on = _time_pair(classifier, scope, photos, repeats)
            section.rows.append(
                [f"{info.display_name} (`{name}`)", f"{len(photos)} {label}", ms(off), ms(on), f"+{ms(on - off)}"]
            )
            section.numbers[f"{name}/{label.split(' (')[0]}"] = {
                "off_p50_s": off,
                "on_p50_s": on,
                "photos": len(photos),
            }
    section.notes += [
        f"`Classifier.classify(path)` against `classify(path, scope=second_opinion_for(...))` on the CPU, "
        f"{repeats} timing(s) per photo and way, alternating (without, with, without, ...), after one warm-up; "
        "medians over all timings. With the check the photo is decoded once (JPEG draft for 448 px instead of "
        "twice the model's input) and resized for both models; the general model then runs at 224x224.",
        "The window's single image goes through the same `classify` call (its worker thread adds the same "
        "for both). Files under 48 px on a side are not checked and cost nothing extra.",
    ]
    return section
