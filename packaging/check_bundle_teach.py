"""Prove the built executable can teach: generated class folders -> ``teach`` -> ``classify`` with the result.

Runs only the packaged executable (never the source tree): writes two small
classes of noisy photos (red-ish "apples", blue-ish "sky"), teaches a model
from them with ``image-classifier teach``, then classifies the same photos
with ``image-classifier classify --model`` and checks that every row got a
taught label and that (nearly) every photo got its own class back.

    python packaging/check_bundle_teach.py dist/ImageClassifier/image-classifier
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

CLASSES = {"apples": (200, 40, 40), "sky": (60, 90, 210)}
PER_CLASS = 4


def make_folders(root: Path) -> list[tuple[Path, str]]:
    """``root/<class>/<class>_<i>.jpg`` (noisy photos around each class's colour); returns (photo, class)."""
    photos = []
    for k, (name, colour) in enumerate(CLASSES.items()):
        (root / name).mkdir(parents=True)
        for i in range(PER_CLASS):
            rng = np.random.default_rng(100 * k + i)
            pixels = np.clip(np.array(colour) + rng.normal(0, 25, (96, 128, 3)), 0, 255).astype(np.uint8)
            path = root / name / f"{name}_{i}.jpg"
            Image.fromarray(pixels).save(path, quality=90)
            photos.append((path, name))
    return photos


def run(command: list[str], cwd: Path, env: dict[str, str]) -> None:
    print("$ " + " ".join([Path(command[0]).name, *command[1:]]))
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    print(result.stdout.rstrip())
    if result.returncode != 0:
        print(result.stderr.rstrip(), file=sys.stderr)
        raise SystemExit(f"FAIL: {Path(command[0]).name} {command[1]} exited with {result.returncode}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("executable", type=Path, help="the built image-classifier executable")
    exe = str(parser.parse_args(argv).executable.resolve())
    with tempfile.TemporaryDirectory(prefix="bundle-teach-") as tmp:
        work = Path(tmp)
        env = dict(os.environ, IMAGE_CLASSIFIER_DATA=str(work / "data"))  # never the user's models folder
        photos = make_folders(work / "photos")
        model = work / "tiny.onnx"
        run([exe, "teach", str(work / "photos"), "--out", str(model), "--name", "Tiny bundle check"], work, env)
        if not model.is_file():
            raise SystemExit(f"FAIL: teach wrote no model at {model}")
        table = work / "rows.csv"
        run([exe, "classify", str(work / "photos"), "--model", str(model), "--csv", str(table)], work, env)
        with table.open(newline="") as f:
            rows = {Path(r["path"]).name: r for r in csv.DictReader(f)}
        if len(rows) != len(photos):
            raise SystemExit(f"FAIL: classify wrote {len(rows)} rows for {len(photos)} photos")
        unknown = [r["label"] for r in rows.values() if r["label"] not in CLASSES]
        if unknown:
            raise SystemExit(f"FAIL: labels that were never taught: {unknown}")
        right = sum(rows[p.name]["label"] == name for p, name in photos)
        print(f"taught model: {right} of {len(photos)} taught photos given their own class")
        if right < len(photos) - 1:
            raise SystemExit("FAIL: the taught model does not recognise its own photos")
    print("OK: the packaged build teaches and classifies with what it taught")
    return 0


if __name__ == "__main__":
    sys.exit(main())
