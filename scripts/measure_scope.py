"""Measure the scope check ("none of the ten classes") and every model on real photos and CIFAR-10.

Reproduces the numbers of docs/results.md ("Photos of other things"):

* the general model's mapped mass (``desktop_app.engine.scope``) on CIFAR-class
  real photos, on photos of other things, on the CIFAR-10 test split (32x32
  photos, upscaled to 224 by the app's loader) and on the other-things photos
  shrunk to 32x32 first (what a CIFAR-sized photo of another thing looks like);
* for a sweep of thresholds: the share of CIFAR-class photos wrongly called
  out of scope, the share of other things caught, the same on CIFAR-10 test
  images, and how much the check lowers each 10-class model's CIFAR-10 test
  accuracy (an answer counts as right only when it is the true class *and*
  in scope, so the drop is the share of test images a model got right that
  the check calls out of scope);
* the threshold chosen by :func:`choose_threshold`, and per model (the trained
  ones, the general model through the map, and the via-ImageNet derived model)
  its top-1 and unsure/out-of-scope behaviour on the real photos.

Photos: ``--photos`` (default assets/samples: class folders, and
``_not-cifar`` for other things) plus photos that PyPI packages ship with a
clear licence, found in the installed packages or under ``--package-photos``
(a folder holding the unpacked ``skimage/data`` and ``sklearn/datasets/images``
of the scikit-image and scikit-learn wheels, e.g. from ``pip download
--no-deps scikit-image scikit-learn`` and ``unzip``); matplotlib's
grace_hopper.jpg comes from the training extra.

    PYTHONPATH=. python scripts/measure_scope.py --data PATH \\
        [--package-photos DIR] [--limit 10000] [--json out.json]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from desktop_app.engine.classifier import DEFAULT_UNSURE_THRESHOLD, get_classifier  # noqa: E402
from desktop_app.engine.contract import ModelInfo  # noqa: E402
from desktop_app.engine.derived import derived_probabilities, is_derived  # noqa: E402
from desktop_app.engine.images import IMAGE_SUFFIXES, load_image  # noqa: E402
from desktop_app.engine.registry import ModelRegistry  # noqa: E402
from desktop_app.engine.scope import (  # noqa: E402
    CIFAR10_LABELS,
    DEFAULT_SCOPE_THRESHOLD,
    MIN_CHECK_SIDE,
    checkable,
    default_map,
    find_general_model,
    has_scope_check,
    image_size,
    mapped_mass,
)
from desktop_app.engine.sessions import Device  # noqa: E402
from training.data_source import DATA_ENV, data_help, default_data  # noqa: E402

DEFAULT_PHOTOS = REPO / "assets" / "samples"
OUT_FOLDER = "_not-cifar"
#: Photos that packages ship: (package data folder, file, CIFAR-10 class or None for other things).
PACKAGE_PHOTOS = [
    ("skimage/data", "chelsea.png", "cat"),
    *[
        ("skimage/data", f, None)
        for f in (
            "astronaut.png",
            "coffee.png",
            "rocket.jpg",
            "camera.png",
            "hubble_deep_field.jpg",
            "moon.png",
            "motorcycle_left.png",
            "brick.png",
            "grass.png",
            "gravel.png",
            "coins.png",
            "page.png",
            "text.png",
            "ihc.png",
            "retina.jpg",
            "clock_motion.png",
        )
    ],
    ("sklearn/datasets/images", "china.jpg", None),
    ("sklearn/datasets/images", "flower.jpg", None),
    ("matplotlib/mpl-data/sample_data", "grace_hopper.jpg", None),
]
THRESHOLDS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7)
#: Limits the choice must keep (issue 16).
MAX_PHOTOS_WRONGLY_OUT = 0.05
CHUNK = 250


@dataclass
class Photo:
    path: Path
    label: str | None  # CIFAR-10 class, or None: a photo of something else


@dataclass
class Scores:
    """Per model: probabilities on each photo set and on the CIFAR-10 test split."""

    photos_in: dict[str, np.ndarray] = field(default_factory=dict)
    photos_out: dict[str, np.ndarray] = field(default_factory=dict)
    cifar: dict[str, list[np.ndarray]] = field(default_factory=dict)


def package_root(name: str, extra: Path | None) -> Path | None:
    """The folder holding ``name/`` (an installed package, else ``extra``)."""
    spec = importlib.util.find_spec(name) if importlib.util.find_spec is not None else None
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations))).parent
    return extra if extra is not None and (extra / name).is_dir() else None


def gather_photos(photos: Path, package_photos: Path | None) -> tuple[list[Photo], list[str]]:
    """Labelled photos (folder name = class, ``_not-cifar`` = other things) and the packages missing."""
    found = [
        Photo(p, None if p.parent.name == OUT_FOLDER else p.parent.name)
        for p in sorted(photos.rglob("*"))
        if p.suffix.lower() in IMAGE_SUFFIXES
    ]
    missing = []
    for folder, name, label in PACKAGE_PHOTOS:
        root = package_root(folder.split("/")[0], package_photos)
        path = root / folder / name if root is not None else None
        if path is None or not path.is_file():
            missing.append(f"{folder}/{name}")
            continue
        found.append(Photo(path, label))
    return found, missing


def extract_test_split(data: Path, into: Path) -> tuple[list[Path], np.ndarray]:
    """The CIFAR-10 test images as files (a .tar.gz is unpacked once) and their class indices."""
    from training.data.layout import list_dataset

    listing = list_dataset(data)
    names = listing.files["test"]
    if listing.is_archive:
        with tarfile.open(listing.source) as archive:
            wanted = {n for n, _ in names}
            archive.extractall(into, members=[m for m in archive.getmembers() if m.name in wanted], filter="data")
        root = into
    else:
        root = listing.source
    order = {label: CIFAR10_LABELS.index(label) for label in listing.labels}
    return [root / n for n, _ in names], np.array([order[listing.labels[c]] for _, c in names])


def predict(info: ModelInfo, paths: Sequence[Path], *, shrink: bool | int = False) -> np.ndarray:
    """Probabilities of ``info`` on ``paths``, decoded by the app's loader (``shrink``: via 32x32, or N x N, first)."""
    classifier = get_classifier(info, Device.CPU)
    rows = []
    for start in range(0, len(paths), CHUNK):
        arrays = []
        for path in paths[start : start + CHUNK]:
            if shrink:
                side = 32 if shrink is True else int(shrink)
                small = load_image(path, (side, side)).astype(np.uint8)
                from io import BytesIO

                from PIL import Image

                buffer = BytesIO()
                Image.fromarray(small).save(buffer, "PNG")
                arrays.append(load_image(buffer.getvalue(), info.input_size))
            else:
                arrays.append(load_image(path, info.input_size))
        rows.append(classifier.predict_arrays(np.stack(arrays)))
    return np.concatenate(rows)


def choose_threshold(mass_in: np.ndarray, mass_out: np.ndarray) -> float:
    """The grid threshold nearest (on a log scale) to the middle of the gap between the two photo sets.

    The gap runs from the 95th percentile of the other photos' mapped mass to
    the 5th percentile of the CIFAR-class photos'; its geometric middle
    leaves both sides the same factor of room. Thresholds that call more than
    5% of the CIFAR-class photos out of scope are never chosen.
    """
    middle = np.sqrt(np.percentile(mass_out, 95) * np.percentile(mass_in, 5))
    ok = [t for t in THRESHOLDS if (mass_in < t).mean() <= MAX_PHOTOS_WRONGLY_OUT] or [min(THRESHOLDS)]
    return min(ok, key=lambda t: abs(np.log(t / middle)))


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=Path, default=REPO / "assets" / "models")
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument(
        "--package-photos", type=Path, help="folder with unpacked skimage/data and sklearn/datasets/images"
    )
    parser.add_argument("--data", type=Path, default=default_data(), help=data_help("required"))
    parser.add_argument("--limit", type=int, default=0, help="CIFAR-10 test images (0 = all 10,000)")
    parser.add_argument("--json", type=Path, help="write every number here too")
    parser.add_argument(
        "--small-photos",
        action="store_true",
        help="only measure the photos shrunk to 32..96 px squares (the ground for MIN_CHECK_SIDE)",
    )
    args = parser.parse_args(argv)
    if args.small_photos:
        return small_photos(args)

    registry = ModelRegistry([args.models])
    general = find_general_model(registry.models)
    if general is None:
        print(f"no general model in {args.models}", file=sys.stderr)
        return 2
    cifar_models = [m for m in registry.models if has_scope_check(m)]
    derived = [m for m in registry.models if is_derived(m)]
    matrix = default_map().matrix()

    if args.data is None:
        print(f"error: no CIFAR-10 test images: pass --data PATH or set {DATA_ENV}=PATH", file=sys.stderr)
        return 2
    photos, missing = gather_photos(args.photos, args.package_photos)
    if missing:
        print(f"not found (install or unpack the package, or pass --package-photos): {', '.join(missing)}")
    inside = [p for p in photos if p.label is not None]
    outside = [p for p in photos if p.label is None]
    print(
        f"{len(inside)} CIFAR-class photos, {len(outside)} photos of other things; "
        f"models: {', '.join(m.name for m in [general, *cifar_models, *derived])}"
    )

    with tempfile.TemporaryDirectory(prefix="measure-scope-") as tmp:
        test_paths, test_targets = extract_test_split(args.data, Path(tmp))
        if args.limit:
            step = max(1, len(test_paths) // args.limit)
            test_paths, test_targets = test_paths[::step][: args.limit], test_targets[::step][: args.limit]
        checked_test = np.array([checkable(image_size(p)) for p in test_paths])  # before the files go
        general_in = predict(general, [p.path for p in inside])
        general_out = predict(general, [p.path for p in outside])
        general_out_small = predict(general, [p.path for p in outside], shrink=True)
        print(f"general model on {len(test_paths)} CIFAR-10 test images ...", flush=True)
        general_test = predict(general, test_paths)
        trained = {}
        for model in cifar_models:
            print(f"{model.name} ...", flush=True)
            trained[model.name] = (
                predict(model, [p.path for p in inside]),
                predict(model, [p.path for p in outside]),
                predict(model, test_paths),
            )

    mass_in = mapped_mass(general_in, matrix).sum(1)
    mass_out = mapped_mass(general_out, matrix).sum(1)
    mass_out_small = mapped_mass(general_out_small, matrix).sum(1)
    mass_test = mapped_mass(general_test, matrix).sum(1)
    truth_in = np.array([CIFAR10_LABELS.index(p.label) for p in inside])

    checked_in = np.array([checkable(image_size(p.path)) for p in inside])
    checked_out = np.array([checkable(image_size(p.path)) for p in outside])

    sweep = []
    for t in THRESHOLDS:
        forced = {
            name: float(((probs[2].argmax(1) == test_targets) & (mass_test < t)).mean())
            for name, probs in trained.items()
        }
        sweep.append(
            {
                "threshold": t,
                "photos_wrongly_out": float((mass_in < t).mean()),
                "other_photos_caught": float((mass_out < t).mean()),
                "cifar_test_wrongly_out_if_checked": float((mass_test < t).mean()),
                "other_photos_32px_caught_if_checked": float((mass_out_small < t).mean()),
                "accuracy_drop_if_checked": forced,
            }
        )
    chosen = choose_threshold(mass_in, mass_out)

    print(
        "\nEvery image checked, whatever its size (the shipped check skips images under "
        f"{MIN_CHECK_SIDE} px, so the CIFAR-10 columns are what it would do without that rule):"
    )
    print(
        "\n| threshold | CIFAR-class photos called out | other photos caught | CIFAR-10 test called out "
        "| other photos at 32x32 caught | largest CIFAR-10 test accuracy drop |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for row in sweep:
        mark = " (chosen)" if row["threshold"] == chosen else ""
        print(
            f"| {row['threshold']:.2f}{mark} | {pct(row['photos_wrongly_out'])} | {pct(row['other_photos_caught'])} "
            f"| {pct(row['cifar_test_wrongly_out_if_checked'])} | {pct(row['other_photos_32px_caught_if_checked'])} "
            f"| {100 * max(row['accuracy_drop_if_checked'].values(), default=0):.2f} points |"
        )

    out_in = checked_in & (mass_in < chosen)
    caught = checked_out & (mass_out < chosen)
    out_test = checked_test & (mass_test < chosen)
    drops = {name: float(((probs[2].argmax(1) == test_targets) & out_test).mean()) for name, probs in trained.items()}
    shipped = {
        "threshold": chosen,
        "min_side": MIN_CHECK_SIDE,
        "photos_wrongly_out": float(out_in.mean()),
        "other_photos_caught": float(caught.mean()),
        "cifar_test_checked": float(checked_test.mean()),
        "cifar_test_wrongly_out": float(out_test.mean()),
        "other_photos_32px_caught": 0.0,
        "accuracy_drop": drops,
    }
    print(
        f"\nAs shipped (threshold {chosen}, images under {MIN_CHECK_SIDE} px not checked): CIFAR-class photos called "
        f"out of scope {out_in.sum()}/{len(inside)} ({pct(out_in.mean())}); other photos caught {caught.sum()}/"
        f"{len(outside)} ({pct(caught.mean())}); CIFAR-10 test images checked {pct(checked_test.mean())}, called out "
        f"{pct(out_test.mean())}; CIFAR-10 test accuracy drop per model: "
        + ", ".join(f"{n} {100 * d:.2f} points" for n, d in drops.items())
    )

    deer = test_targets == CIFAR10_LABELS.index("deer")
    per_class_out = {c: float((mass_test[test_targets == i] < chosen).mean()) for i, c in enumerate(CIFAR10_LABELS)}
    print(
        f"\nthreshold {chosen} if the 32x32 CIFAR-10 test images were checked, called out of scope per class: "
        + ", ".join(f"{c} {pct(v)}" for c, v in per_class_out.items())
    )
    deer_top = mapped_mass(general_test[deer], matrix).argmax(1)
    print(
        f"deer test images: mapped mass median {np.median(mass_test[deer]):.2f}; their largest mapped class: "
        + ", ".join(f"{CIFAR10_LABELS[i]} {pct((deer_top == i).mean())}" for i in np.unique(deer_top))
    )

    print("\nPer photo (general model): mapped mass, looks like")
    for photo, mass, probs in [*zip(inside, mass_in, general_in), *zip(outside, mass_out, general_out)]:
        top = int(probs.argmax())
        print(
            f"  {photo.label or 'other':9s} {photo.path.name:24s} {mass:.3f} {general.labels[top]} {probs[top]:.2f}"
            f" {'OUT' if mass < chosen else 'in'}"
        )

    # Which model serves real photos best (issue 16, section 4).
    rows = []
    for name, (p_in, p_out, p_test) in trained.items():
        rows.append(model_row(name, p_in, p_out, p_test, truth_in, test_targets, out_in, caught, out_test))

    def mapped_top(probs: np.ndarray) -> np.ndarray:
        """The CIFAR-10 class of the general model's top-1 label (-1: none of the ten)."""
        top = probs.argmax(1)
        return np.where(matrix.sum(1)[top] > 0, matrix.argmax(1)[top], -1)

    rows.append(
        {
            "model": general.name + " (top-1 label through the map)",
            "photos_top1": float((mapped_top(general_in) == truth_in).mean()),
            "photos_unsure": None,
            "other_unsure": None,
            "other_caught_with_check": float(caught.mean()),
            "cifar_test_accuracy": float((mapped_top(general_test) == test_targets).mean()),
            "cifar_test_accuracy_with_check": None,
        }
    )
    for model in derived:
        d_in, d_out, d_test = (derived_probabilities(p, matrix) for p in (general_in, general_out, general_test))
        rows.append(
            {
                "model": model.name,
                "photos_top1": float((d_in.argmax(1) == truth_in).mean()),
                "photos_unsure": float((d_in.max(1) < DEFAULT_UNSURE_THRESHOLD).mean()),
                "other_unsure": float((d_out.max(1) < DEFAULT_UNSURE_THRESHOLD).mean()),
                "other_caught_with_check": float((d_out.argmax(1) == 10).mean()),
                "cifar_test_accuracy": float((d_test.argmax(1) == test_targets).mean()),
                "cifar_test_accuracy_ten_only": float((d_test[:, :10].argmax(1) == test_targets).mean()),
                "cifar_test_accuracy_with_check": None,
            }
        )
    print(
        f"\n| model | top-1 on {len(inside)} CIFAR-class photos | unsure on them | {len(outside)} other photos: "
        "unsure | other photos: unsure or out of scope | CIFAR-10 test accuracy | with the scope check |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")

    def show(value: float | None) -> str:
        return "-" if value is None else pct(value)

    for r in rows:
        print(
            f"| {r['model']} | {show(r['photos_top1'])} | {show(r['photos_unsure'])} | {show(r['other_unsure'])} "
            f"| {show(r['other_caught_with_check'])} | {show(r['cifar_test_accuracy'])}"
            + (f" (ten only: {pct(r['cifar_test_accuracy_ten_only'])})" if "cifar_test_accuracy_ten_only" in r else "")
            + f" | {show(r['cifar_test_accuracy_with_check'])} |"
        )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "chosen": chosen,
                    "shipped": shipped,
                    "sweep": sweep,
                    "models": rows,
                    "per_class_out": per_class_out,
                    "num_test": len(test_paths),
                    "photos_in": [str(p.path) for p in inside],
                    "photos_out": [str(p.path) for p in outside],
                },
                indent=1,
            )
        )
    return 0


def small_photos(args: argparse.Namespace) -> int:
    """Mapped mass of the photos shrunk to a square of each side, then upscaled by the app's loader."""
    general = find_general_model(ModelRegistry([args.models]).models)
    photos, _ = gather_photos(args.photos, args.package_photos)
    matrix = default_map().matrix()
    inside = [p.path for p in photos if p.label is not None]
    outside = [p.path for p in photos if p.label is None]
    print(
        f"| side | lowest mass of {len(inside)} CIFAR-class photos | CIFAR-class under {DEFAULT_SCOPE_THRESHOLD} "
        f"| highest mass of {len(outside)} other photos | other photos under {DEFAULT_SCOPE_THRESHOLD} |"
    )
    print("| --- | --- | --- | --- | --- |")
    for side in (32, 48, 64, 96):
        mass_in = mapped_mass(predict(general, inside, shrink=side), matrix).sum(1)
        mass_out = mapped_mass(predict(general, outside, shrink=side), matrix).sum(1)
        print(
            f"| {side} px | {mass_in.min():.2f} | {(mass_in < DEFAULT_SCOPE_THRESHOLD).sum()} "
            f"| {mass_out.max():.2f} | {(mass_out < DEFAULT_SCOPE_THRESHOLD).sum()} |"
        )
    return 0


def model_row(name, p_in, p_out, p_test, truth_in, targets, out_in, caught, out_test) -> dict:
    """Top-1 and unsure/out-of-scope shares of one 10-class model (``out_*``: the check's out-of-scope calls)."""
    unsure_out = p_out.max(1) < DEFAULT_UNSURE_THRESHOLD
    right = p_test.argmax(1) == targets
    return {
        "model": name,
        "photos_top1": float((p_in.argmax(1) == truth_in).mean()),
        "photos_unsure": float((p_in.max(1) < DEFAULT_UNSURE_THRESHOLD).mean()),
        "photos_in_scope_and_right": float(((p_in.argmax(1) == truth_in) & ~out_in).mean()),
        "other_unsure": float(unsure_out.mean()),
        "other_caught_with_check": float((unsure_out | caught).mean()),
        "cifar_test_accuracy": float(right.mean()),
        "cifar_test_accuracy_with_check": float((right & ~out_test).mean()),
    }


if __name__ == "__main__":
    sys.exit(main())
