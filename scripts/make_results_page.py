"""Write the results page ``docs/results.md`` with small PNGs under ``docs/results/``.

Usage (from the repository root):

    PYTHONPATH=. python scripts/make_results_page.py runs/deep_cnn runs/vgg ... \
        --models assets/models [--photos FOLDER_OF_PHOTOS_BY_CLASS]   # default: assets/samples

Inputs are run folders (or their ``report.json`` files). The page holds the
comparison with the study's numbers, per-class F1, and per model its
confusion matrix, training curves, calibration and recipe. With ``--models``
(ONNX files or folders of them) it also runs every model through the app's
engine on the real photos, including the ``_not-cifar`` ones; without it the
page is built from the reports alone.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # runnable as a plain script from anywhere
    sys.path.insert(0, str(REPO))

from training.compare import compare_runs, comparison_markdown  # noqa: E402
from training.reports import ReportError, load_report, plot_confusion, plot_history  # noqa: E402

DEFAULT_PHOTOS = REPO / "assets" / "samples"  # the shipped photos; --photos for your own
NOT_CIFAR = "_not-cifar"
#: Reliability diagrams a training run may leave in its folder (``training.calibration.plot_reliability``).
RELIABILITY_NAMES = ("reliability.png", "calibration.png")


def rel(path: Path, page: Path) -> str:
    """``path`` as a link relative to the page, with forward slashes."""
    return Path(os.path.relpath(path, page.parent)).as_posix()


def load_runs(inputs: Sequence[str | Path]) -> list[tuple[Path, dict[str, Any]]]:
    """(run folder, report) for every input; a bad input stops with its reason."""
    runs = []
    for item in map(Path, inputs):
        report = load_report(item)
        runs.append((item if item.is_dir() else item.parent, report))
    return runs


def calibration_lines(report: dict[str, Any]) -> list[str]:
    cal = report.get("calibration")
    if not cal:
        return ["No calibration recorded for this run."]
    lines = [f"Temperature **T = {cal['temperature']:.3f}** fitted on the validation split; on the test split:", ""]
    lines += ["| | before | after |", "|---|---|---|"]
    bins = cal.get("bins", 15)
    lines.append(f"| ECE ({bins} bins) | {100 * cal['ece_before']:.2f}% | {100 * cal['ece_after']:.2f}% |")
    if cal.get("nll_before") is not None:
        lines.append(f"| NLL | {cal['nll_before']:.4f} | {cal['nll_after']:.4f} |")
    return lines


def model_section(run_dir: Path, report: dict[str, Any], assets: Path, page: Path) -> list[str]:
    """Confusion matrix, curves, calibration and recipe of one run."""
    name, title = report["model"], report.get("display_name") or report["model"]
    metrics, training = report.get("metrics") or {}, report.get("training") or {}
    lines = [f"### {title}", ""]
    if report.get("description"):
        lines += [report["description"], ""]
    if metrics.get("test_accuracy") is not None:
        lines += [
            f"Test accuracy {100 * metrics['test_accuracy']:.2f}% on {metrics.get('num_test_images', '?')} "
            f"images; {report.get('params', 0):,} parameters; architecture: {report.get('architecture', '—')}.",
            "",
        ]
    if metrics.get("confusion_matrix"):
        png = plot_confusion(
            metrics["confusion_matrix"],
            report["labels"],
            assets / f"{name}_confusion.png",
            title=f"{title}: confusion matrix (test)",
        )
        lines += [f"![{title} confusion matrix]({rel(png, page)})", ""]
    history = report.get("history") or {}
    if any(history.values()):
        png = plot_history(history, assets / f"{name}_curves.png", title=title)
        lines += [f"![{title} training curves]({rel(png, page)})", ""]
    lines += ["**Calibration.** " + calibration_lines(report)[0], *calibration_lines(report)[1:], ""]
    for candidate in RELIABILITY_NAMES:
        if (run_dir / candidate).is_file():
            target = shutil.copyfile(run_dir / candidate, assets / f"{name}_reliability.png")
            lines += [f"![{title} reliability before and after]({rel(Path(target), page)})", ""]
            break
    facts = {
        k: training.get(k)
        for k in ("epochs", "duration_s", "hardware", "backend", "seed", "train_images", "val_images")
        if training.get(k) is not None
    }
    lines += [
        "**Recipe.**",
        "",
        "```json",
        json.dumps({"recipe": training.get("recipe"), **facts}, indent=2),
        "```",
        "",
    ]
    return lines


def find_photos(folder: Path) -> list[Path]:
    from desktop_app.engine.walk import is_image_name

    return sorted(p for p in folder.rglob("*") if p.is_file() and is_image_name(p.name))


def load_models(specs: Sequence[str | Path]) -> list[Any]:
    """``ModelInfo`` for every ONNX file given or found in a given folder; refused files are reported."""
    from desktop_app.engine.registry import ModelRegistry

    files = [Path(s) for s in specs if Path(s).is_file()]
    registry = ModelRegistry([Path(s) for s in specs if Path(s).is_dir()])
    infos = list(registry.models) + [registry.get(f) for f in files]
    for path, reason in registry.refused:
        print(f"warning: skipped {path}: {reason}", file=sys.stderr)
    return infos


def contact_sheet(photos: Sequence[Path], path: Path, side: int = 96) -> Path:
    """All photos as one strip of thumbnails with their names (a small PNG)."""
    from PIL import Image, ImageDraw, ImageOps

    from desktop_app.engine.images import open_image

    sheet = Image.new("RGB", (side * len(photos), side + 16), "white")
    draw = ImageDraw.Draw(sheet)
    for i, photo in enumerate(photos):
        thumb = ImageOps.pad(open_image(photo, max_side=4 * side).convert("RGB"), (side - 4, side - 4), color="white")
        sheet.paste(thumb, (i * side + 2, 2))
        draw.text((i * side + 3, side), photo.stem[:15], fill="black")
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path, optimize=True)
    return path


def shipped_section(models: Sequence[Any]) -> list[str]:
    """The ONNX files themselves: precision, size and the accuracy recorded in each file's metadata."""
    if not models:
        return []
    lines = [
        "## Shipped files",
        "",
        "What the app loads: each file's own test accuracy (measured on the 10,000 test images after "
        "the size reduction, and stored in its metadata) beside the float32 model's.",
        "",
        "| File | Model | Stored as | Size | Test accuracy | float32 accuracy |",
        "|---|---|---|---|---|---|",
    ]
    for info in models:
        own, full = info.test_accuracy, info.float32_test_accuracy
        lines.append(
            f"| `{Path(info.path).name}` | {info.display_name} | {info.stored_as} "
            f"| {Path(info.path).stat().st_size / 2**20:.2f} MiB "
            f"| {'—' if own is None else f'{100 * own:.2f}%'} | {'—' if full is None else f'{100 * full:.2f}%'} |"
        )
    return lines + [""]


def photo_section(models: Sequence[Any], photos_dir: Path, assets: Path, page: Path) -> list[str]:
    """Each model's answer for each real photo, through the app's engine on the CPU."""
    from desktop_app.engine.classifier import get_classifier
    from desktop_app.engine.sessions import Device

    lines = ["## Predictions on real photos", ""]
    photos = find_photos(photos_dir) if photos_dir.is_dir() else []
    if not photos:
        return lines + [f"Not run: no photos in `{photos_dir}`.", ""]
    if not models:
        return lines + ["Not run: no ONNX models were given (`--models`).", ""]
    sheet = contact_sheet(photos, assets / "real_photos.png")
    lines += [
        f"![The real photos]({rel(sheet, page)})",
        "",
        "Each cell: the top class and its probability as the app shows it; ✓/✗ against the folder's class; "
        f"*unsure* when the top probability is under the app's threshold. Photos in `{NOT_CIFAR}` show "
        "nothing CIFAR-10 knows: any answer is wrong there, and *unsure* is the honest one.",
        "",
    ]
    classifiers = [get_classifier(info, Device.CPU) for info in models]
    lines += [
        "| Photo | Class | " + " | ".join(info.display_name for info in models) + " |",
        "|---|---|" + "---|" * len(models),
    ]
    score = {info.display_name: [0, 0, 0, 0] for info in models}  # right, cifar photos, unsure, not-cifar photos
    for photo in photos:
        truth = photo.parent.name
        cells = []
        for info, classifier in zip(models, classifiers):
            pred = classifier.classify(photo)
            tally = score[info.display_name]
            if not pred.ok:
                cells.append(f"error: {pred.error}")
                continue
            general = truth != NOT_CIFAR and truth not in info.labels  # a general model's labels are ImageNet's
            mark = "" if truth == NOT_CIFAR or general else (" ✓" if pred.label == truth else " ✗")
            cells.append(f"{pred.label} {100 * pred.probability:.1f}%{mark}" + (" *unsure*" if pred.unsure else ""))
            if truth == NOT_CIFAR:
                tally[2] += pred.unsure
                tally[3] += 1
            elif not general:
                tally[0] += pred.label == truth
                tally[1] += 1
        shown = "not CIFAR-10" if truth == NOT_CIFAR else truth
        lines.append(f"| {photo.name} | {shown} | " + " | ".join(cells) + " |")
    lines += ["", "| Model | CIFAR-10 photos right | not-CIFAR photos flagged unsure |", "|---|---|---|"]
    lines += [f"| {name} | {r}/{n} | {u}/{m} |" for name, (r, n, u, m) in score.items()]
    return lines + [""]


def build_page(
    runs: list[tuple[Path, dict[str, Any]]], models: Sequence[Any], photos: Path, page: Path, note: str = ""
) -> Path:
    """Write the page and its PNGs; return the page's path. ``note``: a status paragraph under the title."""
    assets = page.parent / page.stem  # docs/results.md -> docs/results/
    assets.mkdir(parents=True, exist_ok=True)
    comparison = compare_runs([run for run, _ in runs], assets)
    tables = comparison_markdown(comparison["models"], comparison["labels"]).splitlines()
    # Reuse the comparison's tables with links from the page's folder and a smaller heading level.
    tables = [line.replace("](", f"]({rel(assets, page)}/") if line.startswith("![") else line for line in tables[1:]]
    lines = [
        "# Results",
        "",
        *([f"> {note}", ""] if note else []),
        "Generated by `scripts/make_results_page.py` from the training runs' `report.json` files "
        "(definitions: [results-format.md](results-format.md)).",
        "",
        "## Comparison with the study",
        *[("#" + line) if line.startswith("## ") else line for line in tables],
        "",
        "## Models",
        "",
    ]
    for run_dir, report in runs:
        lines += model_section(run_dir, report, assets, page)
    lines += shipped_section(models)
    lines += photo_section(models, photos, assets, page)
    page.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    return page


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="run folders or report.json files")
    parser.add_argument("--models", nargs="*", default=[], help="ONNX files or folders for the photo predictions")
    parser.add_argument(
        "--photos", type=Path, default=DEFAULT_PHOTOS, help="folder of real photos by class (default: assets/samples)"
    )
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "results.md", help="the Markdown page to write")
    parser.add_argument("--note", default="", help="a status paragraph shown under the title (Markdown)")
    args = parser.parse_args(argv)
    try:
        runs = load_runs(args.runs)
        models = load_models(args.models)
    except (ReportError, KeyError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    page = build_page(runs, models, args.photos, args.out, args.note)
    print(f"wrote {page} and {len(list((page.parent / page.stem).glob('*.png')))} PNGs in {page.parent / page.stem}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
