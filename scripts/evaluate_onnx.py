"""Evaluate ONNX model files through the app's engine on the CIFAR-10 test split.

Each file is run with ``desktop_app.engine`` (``Classifier.predict_arrays`` on
images decoded by the engine's ``load_image``) over the test images of the
JPEG copy, and the accuracy is compared with the one written in the file's
metadata (issue 8: a shipped file must reproduce it to within 0.1 points).

    python scripts/evaluate_onnx.py assets/models/*.onnx --data path/to/cifar10-jpeg   # or CIFAR10_DATA=...
    python scripts/evaluate_onnx.py model.onnx --limit 1000 --data path/to/cifar10-jpeg.tar.gz

The data is the CIFAR-10 test split as JPEG files (``test/<class>/<image>.jpg``
in a folder or ``.tar.gz``); ``cifar-train jpeg-copy FOLDER`` writes one from
the Keras download.

Exit status 1 when a file is refused or differs from its metadata by more
than ``--tolerance`` points (only checked on the full test split).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from desktop_app.engine.contract import ModelContractError, read_model_info  # noqa: E402
from desktop_app.engine.scope import is_general_model  # noqa: E402
from training.data_source import DATA_ENV, data_help, default_data  # noqa: E402

NO_DATA = (
    "error: no CIFAR-10 test images: pass --data PATH or set {env}=PATH (a folder or .tar.gz laid out "
    "test/<class>/<image>.jpg). To make one from the Keras download (needs the training extra and a network "
    "connection): cifar-train jpeg-copy data/cifar10-jpeg"
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path, help="ONNX model files")
    parser.add_argument("--data", type=Path, default=default_data(), help=data_help("none: see below"))
    parser.add_argument("--limit", type=int, help="evaluate only the first N test images (balanced over classes)")
    parser.add_argument("--tolerance", type=float, default=0.1, help="allowed difference in points (default 0.1)")
    return parser


def evaluate_file(path: Path, data: Path, limit: int | None, tolerance: float) -> bool:
    """Print one file's accuracy and loss beside its metadata; return whether it reproduces it."""
    from export.data import load_split  # the training extra (tqdm, the dataset decoders)
    from export.evaluate import evaluate

    info = read_model_info(path)
    if is_general_model(info):
        print(
            f"{path.name}: a general model ({info.dataset}, {info.num_classes} classes): no CIFAR-10 test accuracy "
            "to reproduce (scripts/measure_scope.py measures it through the class map)"
        )
        return True
    start = time.perf_counter()
    images, targets = load_split(data, info.labels, split="test", limit=limit, size=info.input_size)
    metrics = evaluate(path, images, targets)
    seconds = time.perf_counter() - start
    accuracy = 100 * metrics["test_accuracy"]
    line = (
        f"{path.name}: accuracy {accuracy:.2f}%  loss {metrics['test_loss']:.4f}  "
        f"on {metrics['num_test_images']} test images ({seconds:.1f} s)"
    )
    if info.test_accuracy is None:
        print(f"{line}; the metadata records no test accuracy")
        return True
    recorded = 100 * info.test_accuracy
    diff = accuracy - recorded
    recorded_n = info.metrics.get("num_test_images")
    full = limit is None and recorded_n in (None, metrics["num_test_images"])
    verdict = (
        ("reproduces it" if abs(diff) <= tolerance else f"DIFFERS by more than {tolerance} points")
        if full
        else "not compared (a subset of the test split)"
    )
    print(f"{line}; metadata {recorded:.2f}% ({diff:+.2f} points): {verdict}")
    return not full or abs(diff) <= tolerance


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.data is None:
        print(NO_DATA.format(env=DATA_ENV), file=sys.stderr)
        return 2
    try:
        import export.data  # noqa: F401
    except ModuleNotFoundError as exc:
        print(f'error: this script needs the training extra (pip install -e ".[training]"): {exc}', file=sys.stderr)
        return 2
    ok = True
    for path in args.files:
        try:
            ok &= evaluate_file(path, args.data, args.limit, args.tolerance)
        except (ModelContractError, FileNotFoundError, ValueError) as exc:
            print(f"{path}: {exc}", file=sys.stderr)
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
