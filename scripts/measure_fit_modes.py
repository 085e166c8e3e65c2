"""Measure the fit modes (squash / centre crop / pad) on the real photos.

Every photo goes through the engine's ``load_image`` with each fit mode and
is classified; per photo the script prints the top-1 label and the
probability of the true class (the photo's folder name), then a summary per
fit mode. Photos in ``_not-cifar`` have no true class: their top-1
probability is printed instead (they should come out "unsure").

Models:
  --model PATH      any ONNX classifier that follows the contract (repeatable),
                    e.g. the shipped models in assets/models/*.onnx
  --imagenet-proxy  EfficientNet-Lite0 with its ImageNet head (needs the
                    training extra: TensorFlow, Keras and the weights package).
                    A hit is a top-1 inside the true class's ImageNet range
                    (cat 281-285, dog 151-268, bird 7-24/80-100/127-146); the
                    "true probability" is the summed probability of that range.
                    Measured twice: at 224x224 directly, and at 32x32 upsampled
                    back to 224 (what the shipped CIFAR transfer model sees).

    PYTHONPATH=. python scripts/measure_fit_modes.py --imagenet-proxy
    PYTHONPATH=. python scripts/measure_fit_modes.py --model assets/models/*.onnx
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from desktop_app.engine.images import FIT_MODES, IMAGE_SUFFIXES, load_image

REPO = Path(__file__).resolve().parents[1]
DEFAULT_PHOTOS = REPO / "assets" / "samples"  # the shipped photos; --photos for your own
IMAGENET_RANGES = {
    "cat": [range(281, 286)],
    "dog": [range(151, 269)],
    "bird": [range(7, 25), range(80, 101), range(127, 147)],
}

#: (photo -> model input for one fit mode) and (input batch -> probabilities).
Loader = Callable[[Path, str], np.ndarray]
Scorer = Callable[[np.ndarray], np.ndarray]


def photos_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


def class_indices(true: str, labels: Sequence[str] | None) -> list[int]:
    """Output indices that count as the true class (a label, or an ImageNet range)."""
    if labels is None:
        return [i for r in IMAGENET_RANGES.get(true, []) for i in r]
    return [labels.index(true)] if true in labels else []


def measure(name: str, photos: list[Path], load: Loader, score: Scorer, labels: Sequence[str] | None) -> dict:
    """Print the per-photo table for every fit mode; return {fit: (hits, scored, mean p_true)}."""
    print(f"\n== {name}")
    print(f"{'photo':<26}" + "".join(f"{fit:>26}" for fit in FIT_MODES))
    totals = {fit: [0, 0, []] for fit in FIT_MODES}
    for photo in photos:
        true = photo.parent.name
        wanted = class_indices(true, labels)
        cells = []
        for fit in FIT_MODES:
            probs = score(load(photo, fit)[None])[0]
            top = int(np.argmax(probs))
            top_name = labels[top] if labels is not None else str(top)
            if wanted:
                p_true = float(probs[wanted].sum())
                hit = top in wanted
                totals[fit][0] += hit
                totals[fit][1] += 1
                totals[fit][2].append(p_true)
                cells.append(f"{top_name} {probs[top]:.2f} {'ok' if hit else '--'} p={p_true:.2f}")
            else:
                cells.append(f"{top_name} top1={probs[top]:.2f}")
        print(f"{true + '/' + photo.name:<26}" + "".join(f"{c:>26}" for c in cells))
    summary = {}
    for fit, (hits, scored, p_true) in totals.items():
        mean = float(np.mean(p_true)) if p_true else float("nan")
        summary[fit] = (hits, scored, mean)
        print(f"  {fit:<7} top-1 right {hits}/{scored}   mean p(true) {mean:.3f}")
    return summary


def onnx_runs(paths: Sequence[str]) -> list[tuple[str, Loader, Scorer, Sequence[str]]]:
    from desktop_app.engine.classifier import Classifier
    from desktop_app.engine.contract import read_model_info
    from desktop_app.engine.sessions import Device

    runs = []
    for path in paths:
        info = read_model_info(path)
        classifier = Classifier(info, Device.AUTO)
        runs.append(
            (
                f"{info.display_name} ({Path(path).name})",
                lambda photo, fit, size=info.input_size: load_image(photo, size, fit=fit),
                classifier.predict_arrays,
                list(info.labels),
            )
        )
    return runs


def imagenet_runs() -> list[tuple[str, Loader, Scorer, None]]:
    import keras

    from training.models.efficientnet_lite0 import build_imagenet_classifier

    model = build_imagenet_classifier()

    def score(batch: np.ndarray) -> np.ndarray:
        return np.asarray(model.predict(batch, verbose=0))

    def via_32(photo: Path, fit: str) -> np.ndarray:
        small = load_image(photo, (32, 32), fit=fit)
        return np.asarray(keras.ops.image.resize(small[None], (224, 224), interpolation="bilinear"))[0]

    return [
        ("EfficientNet-Lite0 ImageNet, 224x224", lambda p, f: load_image(p, (224, 224), fit=f), score, None),
        ("EfficientNet-Lite0 ImageNet, 32x32 upsampled to 224", via_32, score, None),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", action="append", default=[], metavar="PATH", help="ONNX model (repeatable)")
    parser.add_argument("--imagenet-proxy", action="store_true", help="use EfficientNet-Lite0's ImageNet head")
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS, help=f"default {DEFAULT_PHOTOS}")
    args = parser.parse_args(argv)
    if not args.model and not args.imagenet_proxy:
        parser.error("give --model PATH and/or --imagenet-proxy")
    photos = photos_in(args.photos)
    if not photos:
        print(f"no photos in {args.photos}", file=sys.stderr)
        return 1
    runs = onnx_runs(args.model) + (imagenet_runs() if args.imagenet_proxy else [])
    for name, load, score, labels in runs:
        measure(name, photos, load, score, labels)
    return 0


if __name__ == "__main__":
    sys.exit(main())
