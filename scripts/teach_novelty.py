"""How often the novelty check of a taught model fires (docs/results.md, "Taught models").

    python scripts/teach_novelty.py --data DATA [--others DIR ...] [--cifar-test N]

Teaches two models through the real engine (``teach``) and runs their
``NoveltyCheck`` (the same second opinion the app runs) on:

* real: the CIFAR-class real photos (bird, cat, dog) of DATA/real-photos;
* cifar5: the first 50 training photos of airplane .. deer of the CIFAR-10 tarball.

Shown to each: held-out taught photos (teach's own cross-validation), _not-cifar,
the images in each ``--others`` folder (e.g. the sample images scikit-image and
scikit-learn ship, unpacked from their wheels; a file whose name contains
"chelsea" is a cat and is left out), and the first N test photos per class of
CIFAR-10, taught classes and untaught ones apart.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop_app.engine.images import load_pixels  # noqa: E402
from desktop_app.engine.novelty import NoveltyCheck  # noqa: E402
from desktop_app.engine.teach import general_model_path, teach  # noqa: E402

CIFAR = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def cifar(tarball: Path, dest: Path, train: int, test: int) -> Path:
    with tarfile.open(tarball) as tar:
        for member in tar:
            parts = member.name.split("/")
            if len(parts) == 3 and member.isfile():
                limit = train if parts[0] == "train" else test
                if int(parts[2].split(".")[0]) < limit:
                    tar.extract(member, dest, filter="data")
    return dest


def fired(check: NoveltyCheck, paths: list[Path]) -> float:
    flags = []
    for i in range(0, len(paths), 32):
        batch = np.stack([load_pixels(p, check.input_size) for p in paths[i : i + 32]]).astype(np.float32)
        flags += [not v.in_scope for v in check.check_arrays(batch)]
    return round(float(np.mean(flags)), 4) if flags else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        type=Path,
        required=True,
        help="folder holding cifar10-jpeg.tar.gz and real-photos/ (the team's data folder)",
    )
    parser.add_argument("--others", type=Path, nargs="*", default=[])
    parser.add_argument("--cifar-test", type=int, default=100, help="CIFAR-10 test photos per class")
    args = parser.parse_args()
    others = sorted(
        p for d in args.others for p in d.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and "chelsea" not in p.name
    )
    not_cifar = sorted(
        p for p in (args.data / "real-photos" / "_not-cifar").iterdir() if p.suffix.lower() in IMAGE_SUFFIXES
    )
    report: dict = {"other_images": len(others)}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        data = cifar(args.data / "cifar10-jpeg.tar.gz", tmp_path / "cifar", 50, args.cifar_test)
        real = tmp_path / "real"
        for cls in ("bird", "cat", "dog"):
            shutil.copytree(args.data / "real-photos" / cls, real / cls)
        five = tmp_path / "five"
        for cls in CIFAR[:5]:
            shutil.copytree(data / "train" / cls, five / cls)
        for name, folder, taught in (
            ("real_bird_cat_dog", real, ("bird", "cat", "dog")),
            ("cifar_5_classes_50_each", five, CIFAR[:5]),
        ):
            result = teach(folder, tmp_path / f"{name}.onnx", backbone=general_model_path())
            check = NoveltyCheck(result.path)
            test = {cls: sorted((data / "test" / cls).glob("*.jpg")) for cls in CIFAR}
            report[name] = {
                "taught_photos": sum(result.counts.values()),
                "held_out_taught_photos_flagged": round(result.novelty_held_out_rate, 4),
                "not_cifar_flagged": fired(check, not_cifar),
                "other_images_flagged": fired(check, others),
                "cifar_test_taught_classes_flagged": fired(check, [p for c in taught for p in test[c]]),
                "cifar_test_untaught_classes_flagged": fired(
                    check, [p for c in CIFAR if c not in taught for p in test[c]]
                ),
                "thresholds": {"distance": check.model.thresholds.distance, "mass": check.model.thresholds.mass},
            }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
