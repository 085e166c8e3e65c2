"""Accuracy yardsticks of teaching (docs/results.md, "Taught models").

    python scripts/teach_yardsticks.py --data DATA [--backbone FILE] [--shots 10 50] [--test-limit N]

1. CIFAR-10 few-shot: teach from the first 10 (and 50) training photos of each
   class of DATA/cifar10-jpeg.tar.gz, score on the full test split.
   The test features are computed once with the backbone and the taught
   head is read from the written file (its last MatMul/Add), which is what
   the file computes; a few test images are checked against the file itself.
2. Novelty check: taught from 50 photos of five classes, how often it fires on
   the test photos of those five and on the test photos of the other five.
3. Real photos: teach from the CIFAR-class real photos (leave-one-out, the
   teach's own held-out accuracy) and check the novelty verdict on _not-cifar.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop_app.engine.classifier import Classifier  # noqa: E402
from desktop_app.engine.contract import read_model_info  # noqa: E402
from desktop_app.engine.images import load_pixels  # noqa: E402
from desktop_app.engine.novelty import NoveltyCheck, NoveltyModel  # noqa: E402
from desktop_app.engine.teach import FeatureExtractor, extract_features, teach  # noqa: E402

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def unpack(tarball: Path, dest: Path, shots: int) -> tuple[Path, Path]:
    """train/<class>/ first ``shots`` photos and the whole test split, into ``dest``."""
    with tarfile.open(tarball) as tar:
        for member in tar:
            parts = member.name.split("/")
            if len(parts) != 3 or not member.isfile():
                continue
            split, _, name = parts
            if split == "test" or (split == "train" and int(name.split(".")[0]) < shots):
                tar.extract(member, dest, filter="data")
    return dest / "train", dest / "test"


def head_of(path: Path) -> tuple[np.ndarray, np.ndarray]:
    model = onnx.load(str(path))
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    return inits["taught_head/weights"], inits["taught_head/bias"]


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def subset(src: Path, dest: Path, classes: tuple[str, ...], shots: int) -> Path:
    for cls in classes:
        (dest / cls).mkdir(parents=True)
        for photo in sorted((src / cls).glob("*.jpg"))[:shots]:
            shutil.copy(photo, dest / cls / photo.name)
    return dest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        type=Path,
        required=True,
        help="folder holding cifar10-jpeg.tar.gz and real-photos/ (the team's data folder)",
    )
    parser.add_argument("--backbone", type=Path, default=None)
    parser.add_argument("--shots", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--test-limit", type=int, default=None, help="test photos per class (default: all 1,000)")
    args = parser.parse_args()
    report: dict = {}
    extractor = FeatureExtractor(args.backbone)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        train, test = unpack(args.data / "cifar10-jpeg.tar.gz", tmp_path / "cifar", max(args.shots))
        test_paths, test_labels = [], []
        for k, cls in enumerate(CLASSES):
            files = sorted((test / cls).glob("*.jpg"))[: args.test_limit]
            test_paths += files
            test_labels += [k] * len(files)
        start = time.perf_counter()
        feats, test_general, kept, _ = extract_features(test_paths, extractor, mirror=False, batch_size=64)
        y_test = np.array(test_labels)[kept]
        test_feats = feats[:, 0]
        report["test_photos"] = int(len(y_test))
        report["test_feature_seconds"] = round(time.perf_counter() - start, 1)
        for shots in args.shots:
            folder = subset(train, tmp_path / f"shots{shots}", CLASSES, shots)
            result = teach(folder, tmp_path / f"cifar_{shots}.onnx", backbone=extractor.path, workers=2)
            w, b = head_of(result.path)
            probs = softmax(test_feats @ w + b)
            check = Classifier(read_model_info(result.path))
            direct = check.classify(test_paths[0]).probabilities
            assert np.allclose(direct, probs[0], atol=1e-4), "head read from the file disagrees with the file"
            report[f"cifar10_{shots}_per_class"] = {
                "test_accuracy": round(float((probs.argmax(1) == y_test).mean()), 4),
                "held_out_accuracy_reported": result.held_out_accuracy,
                "mean_top_probability": round(float(probs.max(1).mean()), 4),
                "teach_seconds": round(result.seconds, 1),
                "l2": result.metadata["training"]["l2"],
                "temperature": result.metadata["training"]["temperature"],
            }
        # Novelty: taught five classes, shown all ten.
        five = CLASSES[:5]
        folder = subset(train, tmp_path / "five", five, max(args.shots))
        result = teach(folder, tmp_path / "five.onnx", backbone=extractor.path)
        meta = {p.key: p.value for p in onnx.load(str(result.path), load_external_data=False).metadata_props}
        model = NoveltyModel.from_metadata(meta, result.labels)
        fired = model.out_of_scope(test_feats, test_general[:, 0].astype(np.float32))[0]
        taught_mask = y_test < 5
        report["novelty_cifar_five_classes"] = {
            "taught_photos_per_class": max(args.shots),
            "held_out_taught_photos_flagged": result.novelty_held_out_rate,
            "test_photos_of_taught_classes_flagged": round(float(fired[taught_mask].mean()), 4),
            "test_photos_of_other_classes_flagged": round(float(fired[~taught_mask].mean()), 4),
            "distance_threshold": model.thresholds.distance,
            "mass_threshold": model.thresholds.mass,
        }
        # Real photos.
        real = tmp_path / "real"
        for cls in ("bird", "cat", "dog"):
            shutil.copytree(args.data / "real-photos" / cls, real / cls)
        result = teach(real, tmp_path / "real.onnx", backbone=extractor.path)
        nov = NoveltyCheck(result.path, backbone=extractor.path)
        others = sorted((args.data / "real-photos" / "_not-cifar").glob("*.*"))
        verdicts = nov.check_arrays(np.stack([load_pixels(p, nov.input_size) for p in others]))
        report["real_photos_leave_one_out"] = {
            "photos": sum(result.counts.values()),
            "held_out_accuracy": result.held_out_accuracy,
            "misclassified": [f"{p.name}: {t} -> {g}" for p, t, g in result.misclassified],
            "held_out_flagged_unlike_taught": result.novelty_held_out_rate,
            "not_cifar_flagged": {p.name: not v.in_scope for p, v in zip(others, verdicts)},
        }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
