"""Command line: ``python -m training`` / ``cifar-train`` (list, train, evaluate, compare).

Errors a user can fix (unknown model, a data folder that does not fit the
layout, a missing file) print one clear line and exit with status 2.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from dataclasses import replace
from pathlib import Path

from training.data_source import data_help, default_data
from training.models import MODEL_NAMES, get_spec

EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cifar-train", description="Train, evaluate and compare the CIFAR-10 models.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("list", help="list the models with the study's numbers and the recipe")

    train = sub.add_parser("train", help="train a model and write its run folder")
    train.add_argument("model", help=f"one of: {', '.join(MODEL_NAMES)}")
    _data_options(train)
    train.add_argument("--epochs", type=int, help="epochs of the (first) phase; default: the recipe's")
    train.add_argument("--batch-size", type=int, help="default: the recipe's")
    train.add_argument("--out", type=Path, help="run folder (default: runs/<model>)")
    train.add_argument("--seed", type=int, default=0, help="seed for splits, initialisation and augmentation")
    train.add_argument("--backbone-weights", help="transfer models: a local Keras weights file, or 'imagenet'")
    train.add_argument("--fine-tune-epochs", type=int, help="transfer models: epochs of phase 2 (0 = off)")
    train.add_argument(
        "--time-budget",
        type=float,
        metavar="SECONDS",
        help="wall-clock limit of the fit: the schedule decays over it and stops in time (epochs become a maximum)",
    )
    train.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        dest="settings",
        help="override one recipe field, e.g. --set fine_tune_batchnorm=false (repeatable; kept in report.json)",
    )
    train.add_argument("--tiny", action="store_true", help="narrow widths (smoke tests only)")
    train.add_argument("--no-calibrate", action="store_true", help="do not fit a temperature")

    evaluate = sub.add_parser("evaluate", help="evaluate trained weights on the test split; rewrite report.json")
    evaluate.add_argument("target", type=Path, metavar="RUN_DIR_OR_WEIGHTS")
    evaluate.add_argument("--model", required=True, help=f"one of: {', '.join(MODEL_NAMES)}")
    _data_options(evaluate)
    evaluate.add_argument("--seed", type=int, help="default: the one recorded in report.json")
    evaluate.add_argument("--tiny", action="store_true", default=None, help="the weights are of a --tiny model")
    evaluate.add_argument("--no-calibrate", action="store_true")

    copy = sub.add_parser("jpeg-copy", help="write CIFAR-10 from the Keras download as a JPEG folder (for --data)")
    copy.add_argument("out", type=Path, metavar="FOLDER")

    compare = sub.add_parser("compare", help="compare trained runs side by side (Markdown, JSON, PNG)")
    compare.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR")
    compare.add_argument("--out", type=Path, default=Path("runs/comparison"))
    return parser


def _data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, default=default_data(), help=data_help("the Keras download"))
    parser.add_argument("--limit", type=int, help="stratified subset: N training and N/5 test images")


def _list() -> int:
    from training.recipes import RECIPES

    print(f"{'name':<20}{'model':<32}{'study params':>14}{'study acc.':>12}  recipe")
    for name in MODEL_NAMES:
        spec, recipe = get_spec(name), RECIPES[name]
        params = f"{spec.study_params:,}" if spec.study_params else "-"
        acc = f"{100 * spec.study_accuracy:.2f}%" if spec.study_accuracy else "-"
        epochs = f"{recipe.epochs} ep" + (f" + {recipe.fine_tune_epochs} fine-tune" if recipe.fine_tune_epochs else "")
        print(f"{name:<20}{spec.display_name:<32}{params:>14}{acc:>12}  {epochs}, {recipe.optimizer}")
    return 0


def _train(args: argparse.Namespace) -> int:
    from training.pipeline import run_training
    from training.recipes import get_recipe, parse_setting

    try:
        settings = dict(parse_setting(text) for text in args.settings)
    except ValueError as error:
        print(f"cifar-train: error: --set {error}", file=sys.stderr)
        return EXIT_USAGE
    recipe = replace(
        get_recipe(args.model, epochs=args.epochs, batch_size=args.batch_size, fine_tune_epochs=args.fine_tune_epochs),
        **settings,
    )
    if args.backbone_weights and not get_spec(args.model).transfer:
        print(f"cifar-train: error: --backbone-weights: {args.model} is trained from scratch", file=sys.stderr)
        return EXIT_USAGE
    run_training(
        args.model,
        recipe,
        data=args.data,
        out=args.out or Path("runs") / args.model,
        limit=args.limit,
        seed=args.seed,
        tiny=args.tiny,
        backbone_weights=args.backbone_weights,
        calibrate=not args.no_calibrate,
        time_budget_s=args.time_budget,
    )
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from training.pipeline import run_evaluation

    report = run_evaluation(
        args.target,
        args.model,
        data=args.data,
        limit=args.limit,
        seed=args.seed,
        tiny=args.tiny,
        calibrate=not args.no_calibrate,
    )
    print(f"test accuracy {100 * report['metrics']['test_accuracy']:.2f}%")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from training.compare import compare_runs

    result = compare_runs(args.runs, args.out)
    for path in result.get("files", {}).values():
        print(f"wrote {path}")
    return 0


def _jpeg_copy(args: argparse.Namespace) -> int:
    from training.data.cifar import write_jpeg_copy
    from training.data_source import DATA_ENV

    count = write_jpeg_copy(args.out)
    print(f"wrote {count} JPEGs to {args.out}; use it with --data {args.out} or {DATA_ENV}={args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``cifar-train``; returns the exit status."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = _parser().parse_args(argv)
    if getattr(args, "model", None) is not None:
        try:
            get_spec(args.model)
        except ValueError as exc:
            print(f"cifar-train: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
    if getattr(args, "time_budget", None) is not None and args.time_budget <= 0:
        print("cifar-train: error: --time-budget must be a positive number of seconds", file=sys.stderr)
        return EXIT_USAGE
    if getattr(args, "limit", None) is not None and args.limit < 1:
        print("cifar-train: error: --limit must be a positive number of images", file=sys.stderr)
        return EXIT_USAGE
    handlers = {
        "list": lambda a: _list(),
        "train": _train,
        "evaluate": _evaluate,
        "compare": _compare,
        "jpeg-copy": _jpeg_copy,
    }
    from training.data.layout import DatasetLayoutError
    from training.reports import ReportError

    try:
        return handlers[args.command](args)
    except (DatasetLayoutError, ReportError, FileNotFoundError) as exc:
        print(f"cifar-train: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("cifar-train: interrupted", file=sys.stderr)
        return 130
