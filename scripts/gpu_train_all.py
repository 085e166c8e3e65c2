"""Train the shipped models side by side on one GPU within a fixed time, and pack the results.

Runs on the lent GPU machine (Keras 3 on JAX; docs/training.md, "On the GPU
machine"): it decodes the data set once into the cache, starts one
``python -m training train NAME --time-budget S`` per model at the same time
(each takes a share of the GPU's memory; the schedules adapt to the time
each one actually gets), waits until all have written their run folders or
the deadline has passed, and packs every run folder (report.json, PNGs, log,
weights made small by :mod:`training.compact_weights`) into a tar archive
split into 15 MiB parts under ``--pack``, the most a call may bring back.

    python scripts/gpu_train_all.py --data .device/cifar10-jpeg.tar.gz \\
        --backbone-weights .device/efficientnet-lite0-57934424.pth --runs /tmp/runs --pack $OUT --deadline 450

``--full MODEL`` afterwards packs one model's weights in float16 without int8
(for a second call on the still-warm machine). Join and restore the parts
with ``scripts/unpack_gpu_runs.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_MODELS = ("efficientnet_lite0", "vgg", "deep_cnn", "compact_vgg")
PART_BYTES = 15 * 1024 * 1024
EVALUATE_RESERVE_S = 50.0  # after the fit: float32 rebuild, predict on val + test, calibration, PNGs
START_RESERVE_S = 25.0  # before the fit: imports, cached data, model build, weight port
INT8_MIN = 4_000_000  # only VGG's 4096x4096 kernel is int8 in the first pack
MEMORY_SHARES = {"efficientnet_lite0": 2.5}  # 224x224 activations; the others get 1 share each
RUN_FILES = ("report.json", "history.png", "confusion.png", "reliability.png", "train.log")


def _split(archive: Path, pack: Path, stem: str) -> list[Path]:
    parts = []
    with archive.open("rb") as handle:
        index = 0
        while chunk := handle.read(PART_BYTES):
            part = pack / f"{stem}.part{index:02d}"
            part.write_bytes(chunk)
            parts.append(part)
            index += 1
    archive.unlink()
    return parts


def pack_runs(runs: Path, pack: Path, models: list[str], *, int8_min: int | None, stem: str) -> list[Path]:
    """Tar every model's run files and compact weights, split into parts under ``pack``."""
    from training.compact_weights import compact

    pack.mkdir(parents=True, exist_ok=True)
    archive = runs / f"{stem}.tar"
    with tarfile.open(archive, "w") as tar:
        for name in models:
            run = runs / name
            for file in RUN_FILES:
                if (run / file).exists():
                    tar.add(run / file, arcname=f"{name}/{file}")
            weights = run / "model.weights.h5"
            if weights.exists():
                small = compact(weights, runs / f"{name}.compact.weights.h5", int8_min=int8_min)
                tar.add(small, arcname=f"{name}/model.compact.weights.h5")
    return _split(archive, pack, stem)


def _train_command(name: str, args: argparse.Namespace, budget: float) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "training",
        "train",
        name,
        "--data",
        str(args.data),
        "--out",
        str(args.runs / name),
        "--time-budget",
        f"{budget:.0f}",
    ]
    if name == "efficientnet_lite0" and args.backbone_weights:
        command += ["--backbone-weights", str(args.backbone_weights)]
    for setting in args.settings:
        model, _, field = setting.partition(":")
        if model == name:
            command += ["--set", field]
    if args.limit:
        command += ["--limit", str(args.limit)]
    if args.tiny:
        command += ["--tiny"]
    return command


def train_all(args: argparse.Namespace) -> dict[str, dict]:
    """Decode once, train every model at once, wait until done or the deadline; return a summary."""
    started = time.monotonic()
    deadline = started + args.deadline
    from training.data import load_dataset
    from training.reports import ReportError, load_report

    load_dataset(args.data, limit=args.limit, seed=0)  # fills the cache the trainers read
    print(f"data ready after {time.monotonic() - started:.0f} s", flush=True)
    budget = deadline - time.monotonic() - START_RESERVE_S - EVALUATE_RESERVE_S
    env = dict(
        os.environ,
        XLA_PYTHON_CLIENT_PREALLOCATE="false",
        PYTHONPATH=os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(ROOT)])),
    )
    env.pop("JAX_PLATFORMS", None)
    shares = {name: MEMORY_SHARES.get(name, 1.0) for name in args.models}
    processes = {}
    for name in args.models:
        env["XLA_PYTHON_CLIENT_MEM_FRACTION"] = f"{0.85 * shares[name] / sum(shares.values()):.3f}"
        (args.runs / name).mkdir(parents=True, exist_ok=True)
        log = (args.runs / name / "train.log").open("w")
        processes[name] = (
            subprocess.Popen(
                _train_command(name, args, budget), stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT
            ),
            log,
            time.monotonic(),
        )
        print(f"started {name} with a fit budget of {budget:.0f} s", flush=True)
    summary: dict[str, dict] = {}
    while processes:
        for name, (process, log, begun) in list(processes.items()):
            code = process.poll()
            late = time.monotonic() > deadline + args.grace
            if code is None and not late:
                continue
            killed = code is None
            if killed:
                process.kill()
                code = process.wait()
            log.close()
            summary[name] = {"exit": code, "wall_s": round(time.monotonic() - begun, 1), "killed": killed}
            try:
                data = load_report(args.runs / name)
            except ReportError:  # no report (killed or failed run): its checkpoint is still packed
                data = None
            if data is not None:
                training = data.get("training", {})
                summary[name].update(
                    test_accuracy=data.get("metrics", {}).get("test_accuracy"),
                    ece_after=data.get("calibration", {}).get("ece_after"),
                    epochs=training.get("epochs"),
                    best_epoch=training.get("best_epoch"),
                    fit_s=training.get("duration_s"),
                    stopped_by_budget=training.get("stopped_by_budget"),
                    epoch_s=training.get("epoch_seconds", [])[:4],
                    hardware=training.get("hardware"),
                )
            print(f"{name}: {json.dumps(summary[name])}", flush=True)
            del processes[name]
        time.sleep(1)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=False)
    parser.add_argument("--backbone-weights", type=Path, help="EfficientNet-Lite0's ImageNet .pth file")
    parser.add_argument("--runs", type=Path, default=Path("/tmp/runs"))
    parser.add_argument("--pack", type=Path, required=True, help="folder for the parts (e.g. $OUT)")
    parser.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS))
    parser.add_argument("--deadline", type=float, default=450.0, help="seconds from start until every run ends")
    parser.add_argument("--grace", type=float, default=30.0, help="seconds past the deadline before a kill")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        dest="settings",
        metavar="MODEL:KEY=VALUE",
        help="a recipe override for one model's run, e.g. vgg:mixup_alpha=0.2 (repeatable)",
    )
    parser.add_argument("--limit", type=int, help="smoke runs: a stratified subset")
    parser.add_argument("--tiny", action="store_true", help="smoke runs: narrow widths")
    parser.add_argument("--full", metavar="MODEL", help="only pack MODEL's weights as float16 (second call)")
    args = parser.parse_args(argv)
    os.environ.setdefault("CIFAR_CLASSIFIER_CACHE", str(args.runs / "cache"))
    os.environ["JAX_PLATFORMS"] = "cpu"  # this process never takes the GPU from the trainers
    args.runs.mkdir(parents=True, exist_ok=True)
    if args.full:
        parts = pack_runs(args.runs, args.pack, [args.full], int8_min=None, stem=f"{args.full}-full")
        print("packed", *[f"{p.name} {p.stat().st_size}" for p in parts])
        return 0
    if args.data is None:
        parser.error("--data is required for training")
    for setting in args.settings:
        model, colon, field = setting.partition(":")
        if not colon or model not in args.models or "=" not in field:
            parser.error(f"--set {setting!r}: expected MODEL:KEY=VALUE with MODEL one of {', '.join(args.models)}")
    summary = train_all(args)
    (args.pack / "summary.json").parent.mkdir(parents=True, exist_ok=True)
    (args.pack / "summary.json").write_text(json.dumps(summary, indent=1))
    parts = pack_runs(args.runs, args.pack, args.models, int8_min=INT8_MIN, stem="runs")
    print("packed", *[f"{p.name} {p.stat().st_size}" for p in parts])
    return 0 if all(entry.get("test_accuracy") is not None for entry in summary.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
