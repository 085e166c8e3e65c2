"""The taught head against a plain multinomial logistic regression on the same features (docs/results.md).

    python scripts/teach_vs_plain_lr.py --data DATA [--test-per-class 300] [--draws 5]

Issue 20's yardstick: a plain multinomial logistic regression (scikit-learn's
defaults) on the backbone's pooled features, taught from a few photos per
class with their mirror images; the taught head should do at least as well.
Both are taught here from the same CIFAR-10 training photos (3, 5, 10 and 50
per class, several random draws) and scored on the same test photos, and on
the CIFAR-class real photos leave-one-out. Needs scikit-learn, which is not a
dependency of the project: ``pip install scikit-learn``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop_app.engine.teach import FeatureExtractor, extract_features  # noqa: E402
from desktop_app.engine.teach_head import cross_validate, fit_head  # noqa: E402
from scripts.teach_yardsticks import CLASSES, unpack  # noqa: E402

TRAIN_PER_CLASS = 50


def cifar_features(tarball: Path, extractor: FeatureExtractor, test_per_class: int) -> dict[str, np.ndarray]:
    """Features of the first 50 training photos per class (with mirror images) and of the test photos."""
    out: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory() as tmp:
        train, test = unpack(tarball, Path(tmp), TRAIN_PER_CLASS)
        for split, folder, limit in (("train", train, TRAIN_PER_CLASS), ("test", test, test_per_class)):
            paths, labels = [], []
            for k, cls in enumerate(CLASSES):
                files = sorted((folder / cls).glob("*.jpg"))[:limit]
                paths += files
                labels += [k] * len(files)
            feats, _, kept, _ = extract_features(paths, extractor, mirror=split == "train", batch_size=64)
            out[f"{split}_x"], out[f"{split}_y"] = feats, np.array(labels)[kept]
    return out


def taught_head(feats: np.ndarray, y: np.ndarray, classes: int):  # type: ignore[no-untyped-def]
    """The head as `teach` fits it: L2 by cross-validation over photos, then a fit on all rows."""
    photos, copies, width = feats.shape
    x, rows_y = feats.reshape(-1, width), np.repeat(y, copies)
    original = np.tile([True] + [False] * (copies - 1), photos)
    cv = cross_validate(x, rows_y, np.repeat(np.arange(photos), copies), original, classes)
    return fit_head(x, rows_y, classes, cv.l2)


def plain_lr(feats: np.ndarray, y: np.ndarray):  # type: ignore[no-untyped-def]
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=5000).fit(feats.reshape(-1, feats.shape[-1]), np.repeat(y, feats.shape[1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="folder with cifar10-jpeg.tar.gz and real-photos/")
    parser.add_argument("--backbone", type=Path, default=None)
    parser.add_argument("--test-per-class", type=int, default=300)
    parser.add_argument("--draws", type=int, default=5, help="random draws of the training photos per setting")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    extractor = FeatureExtractor(args.backbone)
    data = cifar_features(args.data / "cifar10-jpeg.tar.gz", extractor, args.test_per_class)
    test_x, test_y = data["test_x"][:, 0], data["test_y"]
    print(f"CIFAR-10, scored on {len(test_y)} test photos ({args.test_per_class} per class):")
    for shots in (3, 5, 10, TRAIN_PER_CLASS):
        ours, plain = [], []
        for seed in range(args.draws if shots < TRAIN_PER_CLASS else 1):
            rng = np.random.default_rng(seed)
            pick = np.concatenate(
                [rng.permutation(np.flatnonzero(data["train_y"] == k))[:shots] for k in range(len(CLASSES))]
            )
            feats, y = data["train_x"][pick], data["train_y"][pick]
            ours.append((taught_head(feats, y, len(CLASSES)).logits(test_x).argmax(1) == test_y).mean())
            plain.append((plain_lr(feats, y).predict(test_x) == test_y).mean())
        print(
            f"  {shots:2d} per class, {len(ours)} draw(s): taught head {np.mean(ours):.3f}, plain LR {np.mean(plain):.3f}"
        )
    real_paths, real_labels = [], []
    for cls in ("bird", "cat", "dog"):
        for path in sorted((args.data / "real-photos" / cls).glob("*.*")):
            real_paths.append(path)
            real_labels.append(cls)
    feats, _, kept, _ = extract_features(real_paths, extractor)
    _, y = np.unique(np.array(real_labels)[kept], return_inverse=True)
    right = {"taught head": 0, "plain LR": 0}
    for i in range(len(y)):
        rest = np.arange(len(y)) != i
        right["taught head"] += int(taught_head(feats[rest], y[rest], 3).logits(feats[i, :1]).argmax() == y[i])
        right["plain LR"] += int(plain_lr(feats[rest], y[rest]).predict(feats[i, :1])[0] == y[i])
    print("Real photos (bird, cat, dog), leave-one-out: " + ", ".join(f"{k} {v}/{len(y)}" for k, v in right.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
