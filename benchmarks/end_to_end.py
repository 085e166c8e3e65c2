"""A folder classified into a CSV through the engine, against the bare model.

The engine path is the one the app and ``image-classifier classify`` use:
``classify_stream`` (walk, decode on threads, infer in batches) feeding
``open_result_writer``. The baseline is the same deep_cnn model running on
the same images already decoded into one array, the faster of its two
arrangements (one batch at a time on all cores, or runs side by side as the
engine does): the end-to-end rate can only approach it, and the ratio says
how much decoding, walking and writing cost on top.

Phone photos (12-MP JPEGs made from the real photos) are the other kind of
folder: there decoding is the work. The command line classifies the folder
into a CSV in a fresh process, against the decode-only limit: one process
per logical CPU doing nothing but Pillow's draft decode and the resize to
32x32. Both are measured in the same run, alternating.

The scope check (issue 16: the ImageNet general model beside every CIFAR-10
model) is measured on and off: on the CIFAR-10 JPEGs it skips every file
(32x32 is under ``MIN_CHECK_SIDE``), on phone photos it runs EfficientNet-Lite0
at 224x224 on every photo. The command line's default settings run it. The
phone-photo target is judged with ``--model deep_cnn --no-scope-check``, the
decode-bound case; the default model's runs are reported beside it.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from benchmarks import data
from benchmarks.common import CIFAR_TARBALL, REPO_ROOT, Context, Section, Target, rate
from benchmarks.models import prepare

NAME = "end_to_end"
TITLE = "End to end: folder -> CSV through the engine"
TARGET_FRACTION = 0.80
BATCH = 64
#: Engine runs over the 10,000 JPEGs per model (each between two pure-model passes).
ROUNDS = 2
#: Phone photos: the command line's rate against the decode-only limit.
PHONE_TARGET_FRACTION = 0.90
PHONE_PHOTOS = 240

#: One decode-only process: Pillow's draft decode and the resize to 32x32, nothing else.
_DECODE_ONLY = """
import sys, time
from PIL import Image, ImageOps
start = time.perf_counter()
for path in sys.argv[1:]:
    with Image.open(path) as image:
        image.draft("RGB", (64, 64))
        ImageOps.fit(image.convert("RGB"), (32, 32), Image.Resampling.LANCZOS)
print(time.perf_counter() - start)
"""


def _pure_sequential(classifier, arrays: np.ndarray) -> float:
    """Seconds for one pass over ``arrays`` in batches of :data:`BATCH` (no decoding), one batch at a time."""
    start = time.perf_counter()
    for i in range(0, len(arrays), BATCH):
        classifier.predict_arrays(arrays[i : i + BATCH])
    return time.perf_counter() - start


def _pure_parallel(classifier, arrays: np.ndarray) -> float:
    """Seconds for one pass with ``parallel_runs`` runs side by side, each on its share of :data:`BATCH`.

    That is how the engine runs a folder on the CPU.
    """
    from desktop_app.engine.batch import share_of_batch

    runs = classifier.parallel_runs
    size = share_of_batch(BATCH, runs)
    starts = range(0, len(arrays), size)
    with ThreadPoolExecutor(runs) as pool:
        start = time.perf_counter()
        list(pool.map(lambda i: classifier.predict_arrays(arrays[i : i + size], parallel=True), starts))
        return time.perf_counter() - start


def _pure_pass(classifier, arrays: np.ndarray) -> tuple[float, float]:
    """The bare model's seconds over ``arrays``: one batch at a time, and side by side (equal if only one run)."""
    sequential = _pure_sequential(classifier, arrays)
    return sequential, _pure_parallel(classifier, arrays) if classifier.parallel_runs > 1 else sequential


def _alternating_runs(classifier, root: Path, arrays: np.ndarray, out: Path, rounds: int, scope=None) -> dict:
    """``rounds`` engine runs over the whole of ``root`` (one CSV each), between passes of the pure model.

    Pure, engine, pure, engine, ..., pure: each engine run is compared with
    the mean of the two pure passes on either side, so a change in the shared
    machine's load during the run hits both sides alike. One engine run over
    the whole tree is what a user does (drop the folder); shorter runs each
    pay the pipeline's start (the first batch waits for its decodes alone).
    Each pure pass runs the model both ways the engine could (one batch at a
    time on all cores, or batches side by side on one core each) and the
    faster one is the baseline.
    """
    from desktop_app.engine.batch import classify_stream
    from desktop_app.engine.results import open_result_writer

    engine_s, pure_s, ratios, failed = 0.0, 0.0, [], 0
    sequential_s, parallel_s = 0.0, 0.0
    before = _pure_pass(classifier, arrays)
    for _ in range(rounds):
        failed = 0
        start = time.perf_counter()
        with open_result_writer(out, classifier.info.labels) as writer:
            for prediction in classify_stream([root], classifier, batch_size=BATCH, scope=scope):
                writer.write(prediction)
                failed += not prediction.ok
        elapsed = time.perf_counter() - start
        after = _pure_pass(classifier, arrays)
        sequential, parallel = (before[0] + after[0]) / 2, (before[1] + after[1]) / 2
        pure = min(sequential, parallel)
        engine_s, pure_s, before = engine_s + elapsed, pure_s + pure, after
        sequential_s, parallel_s = sequential_s + sequential, parallel_s + parallel
        ratios.append(pure / elapsed)
    with open(out, newline="", encoding="utf-8") as fp:  # the last run's CSV
        rows = sum(1 for _ in csv.DictReader(fp))
    images = rows * rounds
    return {
        "rows": rows,
        "failed": failed,
        "rounds": rounds,
        "engine_s": engine_s,
        "pure_s": pure_s,
        "run_ratios": ratios,
        "engine_rate": images / engine_s,
        "pure_rate": images / pure_s,
        "pure_sequential_rate": images / sequential_s,
        "pure_parallel_rate": images / parallel_s,
        "parallel_runs": classifier.parallel_runs,
        "fraction": pure_s / engine_s,
    }


def _decode_only_s(files: list[Path], processes: int) -> float:
    """Seconds for ``processes`` processes to decode ``files`` (each its share), start-up excluded."""
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _DECODE_ONLY, *map(str, files[i::processes])], stdout=subprocess.PIPE, text=True
        )
        for i in range(processes)
    ]
    return max(float(child.communicate()[0]) for child in children)


def _cli_s(folder: Path, out: Path, *options: str) -> tuple[float, str]:
    """Wall seconds of ``image-classifier classify FOLDER --csv OUT [OPTIONS]`` in a fresh process, and its stderr."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "desktop_app", "classify", str(folder), "--csv", str(out), *options],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
    )
    return time.perf_counter() - start, done.stderr


def _model_line(stderr: str) -> str:
    """The CLI's ``model: ...`` line (what ran, with or without its scope check), else the end of stderr."""
    return next((line for line in stderr.splitlines() if line.startswith("model:")), stderr[-300:])


#: The phone-photo runs: name -> the CLI's options. The target is judged on ``decode_bound``: a
#: CIFAR-10 model whose work per photo is far below decoding it, so the run measures the pipeline's
#: use of the cores for decoding. The default model (EfficientNet-Lite0 transfer, 224x224 inside)
#: costs more per photo than the decode, so its rows show what the default costs, not the pipeline.
PHONE_RUNS = {
    "decode_bound": ("--model", "deep_cnn", "--no-scope-check"),
    "default_model": ("--no-scope-check",),
    "checked": (),
}


def _phone_photo_runs(ctx: Context) -> dict:
    """The CLI over a folder of phone photos with each of :data:`PHONE_RUNS`, alternating with the
    decode-only limit.

    Limit, CLI runs, limit, CLI runs, ..., limit: each CLI run is compared
    with the mean of the limits on either side. The CLI's start-up (imports,
    model load: the same command on an empty folder, timed before each run)
    is taken off its wall time, as the decode-only processes time their loop.
    """
    from desktop_app.engine.machine import logical_cpus

    files, origin = ctx.once("phone_photos", lambda: data.phone_photos(ctx.work / "phone", ctx.size(PHONE_PHOTOS, 8)))
    empty = ctx.work / "phone_empty"
    empty.mkdir(exist_ok=True)
    processes = logical_cpus()
    _decode_only_s(files[:processes], processes)  # warm-up: page cache, code paths
    limits = [_decode_only_s(files, processes)]
    timed: dict[str, dict[str, list]] = {name: {"runs": [], "startups": [], "walls": []} for name in PHONE_RUNS}
    models: dict[str, str] = {}
    for _ in range(ctx.size(ROUNDS, 1)):
        for name, options in PHONE_RUNS.items():
            startup, _ = _cli_s(empty, ctx.work / "phone_empty.csv", *options)
            wall, stderr = _cli_s(files[0].parent, ctx.work / f"phone_{name}.csv", *options)
            models[name] = _model_line(stderr)
            timed[name]["startups"].append(startup)
            timed[name]["walls"].append(wall)
            timed[name]["runs"].append(wall - startup)
        limits.append(_decode_only_s(files, processes))
    count = len(files)
    result: dict = {
        "photos": count,
        "origin": origin,
        "processes": processes,
        "mb": sum(f.stat().st_size for f in files) / count / 1e6,
        "pure_rate": count * len(limits) / sum(limits),
    }
    for name, t in timed.items():
        with open(ctx.work / f"phone_{name}.csv", newline="", encoding="utf-8") as fp:
            rows = sum(1 for _ in csv.DictReader(fp))
        runs = t["runs"]
        ratios = [(limits[i] + limits[i + 1]) / 2 / runs[i] for i in range(len(runs))]
        result[name] = {
            "options": " ".join(PHONE_RUNS[name]),
            "model": models[name],
            "rows": rows,
            "run_ratios": ratios,
            "fraction": sum(ratios) / len(ratios),
            "engine_rate": count * len(runs) / sum(runs),
            "wall_rate": count * len(t["walls"]) / sum(t["walls"]),
            "startup_s": sum(t["startups"]) / len(t["startups"]),
        }
    return result


def _scope_checker():  # type: ignore[no-untyped-def]
    """The shipped general model's scope check on the CPU, or None when it is not shipped."""
    from desktop_app.engine.registry import ModelRegistry
    from desktop_app.engine.scope import ScopeChecker, find_general_model
    from desktop_app.engine.sessions import Device

    general = find_general_model(ModelRegistry().models)
    return None if general is None else ScopeChecker(general, Device.CPU)


def _min_side() -> int:
    from desktop_app.engine.scope import MIN_CHECK_SIDE

    return MIN_CHECK_SIDE


def _table_row(label: str, run: dict, ratio_digits: int = 0) -> list[str]:
    """One line of the section's table for an :func:`_alternating_runs` result."""
    return [
        label,
        f"{run['rows']:,}",
        rate(run["engine_rate"]),
        rate(run["pure_rate"]),
        f"{100 * run['fraction']:.{ratio_digits}f}%",
    ]


def run(ctx: Context) -> Section:
    from desktop_app.engine.classifier import Classifier
    from desktop_app.engine.contract import read_model_info
    from desktop_app.engine.images import load_image
    from desktop_app.engine.sessions import Device

    section = Section(NAME, TITLE, "python -m benchmarks --only end_to_end")
    models = prepare(ctx)
    model = next(m for m in models if m.arch == "deep_cnn" and m.variant == "float32")
    classifier = Classifier(read_model_info(model.path), Device.CPU)
    # What users get: the shipped file, when it is a reduced copy (float32 is measured above anyway).
    shipped = next(
        (m for m in models if m.arch == "deep_cnn" and m.source == "shipped" and m.variant != "float32"), None
    )
    count = ctx.size(10_000, 300)
    start = time.perf_counter()
    files, origin = data.cifar_jpegs(ctx.work / "cifar", count)
    ctx.log(f"end_to_end: {len(files)} JPEGs from {origin} in {time.perf_counter() - start:.1f} s")

    root = ctx.work / "cifar"
    rounds = ctx.size(ROUNDS, 1)
    start = time.perf_counter()
    arrays = np.stack([load_image(f, classifier.input_size) for f in files])
    decode_s = time.perf_counter() - start
    _pure_pass(classifier, arrays[: BATCH * 4])  # warm-up (opens the side-by-side session too)
    run = _alternating_runs(classifier, root, arrays, ctx.work / "results.csv", rounds)
    rows, failed = run["rows"], run["failed"]
    pure_rate, e2e_rate, fraction = run["pure_rate"], run["engine_rate"], run["fraction"]

    shipped_run = None
    if shipped is not None:
        shipped_classifier = Classifier(read_model_info(shipped.path), Device.CPU)
        _pure_pass(shipped_classifier, arrays[: BATCH * 4])  # warm-up
        shipped_run = _alternating_runs(shipped_classifier, root, arrays, ctx.work / "results_shipped.csv", rounds)

    checked_run = None
    scope = _scope_checker()
    if scope is not None:
        _pure_pass(classifier, arrays[: BATCH * 4])
        checked_run = _alternating_runs(classifier, root, arrays, ctx.work / "results_checked.csv", rounds, scope)

    phone = _phone_photo_runs(ctx)

    section.columns = ["Input", "Images", "Engine: folder -> CSV", "Baseline, same run", "Ratio"]
    section.rows = [_table_row(f"{origin}, model deep_cnn (float32), against the pure model", run)]
    if shipped_run is not None:
        section.rows.append(
            _table_row(f"{origin}, model deep_cnn as shipped ({shipped.variant}), against the pure model", shipped_run)
        )
    if checked_run is not None:
        section.rows.append(
            _table_row(
                f"{origin}, model deep_cnn (float32) with the scope check (it skips files under {_min_side()} px: all "
                "of these), against the pure model",
                checked_run,
            )
        )
    photo_kind = f"phone photos {data.PHOTO_SIZE[0]}x{data.PHOTO_SIZE[1]} (q90)"
    for name, what in (
        ("decode_bound", "the decode-bound case, the target"),
        ("default_model", "the default model, model-bound"),
        ("checked", "default settings: default model and scope check"),
    ):
        run_ = phone[name]
        command = f"image-classifier classify {run_['options']}".rstrip()  # default settings: no options
        section.rows.append(
            [
                f"{photo_kind}, `{command}` ({what}), against the decode-only limit",
                f"{run_['rows']:,}",
                rate(run_["engine_rate"]),
                rate(phone["pure_rate"]),
                f"{100 * run_['fraction']:.1f}%",
            ]
        )
    section.targets.append(
        Target(
            f"deep_cnn folder -> CSV >= {100 * TARGET_FRACTION:.0f}% of the pure model throughput",
            f"{100 * fraction:.0f}% ({rate(e2e_rate)} of {rate(pure_rate)})",
            fraction >= TARGET_FRACTION,
        )
    )
    target_run = phone["decode_bound"]
    section.targets.append(
        Target(
            f"phone photos: CLI folder -> CSV (`{target_run['options']}`) >= {100 * PHONE_TARGET_FRACTION:.0f}% of "
            "the decode-only limit",
            f"{100 * target_run['fraction']:.0f}% ({rate(target_run['engine_rate'])} of {rate(phone['pure_rate'])})",
            target_run["fraction"] >= PHONE_TARGET_FRACTION,
        )
    )
    section.notes += [
        f"Engine: `classify_stream([folder], Classifier(deep_cnn, CPU), batch_size={BATCH})` with its default "
        "decode threads, every prediction written by `open_result_writer(...csv)`; the CSV is read back to count "
        f"rows ({failed} error rows). Pure model: `predict_arrays` on the same images pre-decoded with "
        f"`load_image`, batches of {BATCH}. Each engine run classifies the whole extracted tree ({len(files):,} "
        f"files in {len({f.parent for f in files})} class folders) in one call, as a user dropping the folder "
        f"would; {run['rounds']} such runs, each between two pure-model passes (pure, engine, pure, ...) and "
        "compared with their mean, so a change in the shared machine's load hits both sides alike. Per-run ratios: "
        f"{', '.join(f'{100 * r:.1f}%' for r in run['run_ratios'])}.",
        f"On the CPU the engine runs {run['parallel_runs']} runs side by side, each on one core and on its share "
        f"of the batch of {BATCH} (`Classifier.parallel_runs`). Each pure pass measures the model both ways and "
        "the faster is the "
        f"baseline: one batch at a time on all cores {rate(run['pure_sequential_rate'])}, "
        f"{run['parallel_runs']} side by side {rate(run['pure_parallel_rate'])}"
        + (
            f" (shipped {shipped.variant}: {rate(shipped_run['pure_sequential_rate'])} and "
            f"{rate(shipped_run['pure_parallel_rate'])})"
            if shipped_run is not None
            else ""
        )
        + ".",
        f"Decoding the {len(files):,} JPEGs alone on one thread took {decode_s:.1f} s ({rate(len(files) / decode_s)}).",
        f"Phone photos: {phone['photos']} JPEGs of {data.PHOTO_SIZE[0]}x{data.PHOTO_SIZE[1]} at quality 90 "
        f"({phone['mb']:.1f} MB each) made from {phone['origin']}. `image-classifier classify FOLDER --csv OUT "
        "[OPTIONS]` in a fresh process, its start-up (the same command on an empty folder, timed before each run) "
        f"taken off. Decode-only limit: {phone['processes']} processes doing only Pillow's "
        "`draft('RGB', (64, 64))` decode and `ImageOps.fit` to 32x32, each on its share of the files (loop time). "
        "Limit, the three CLI runs, limit, ...: each CLI run against the mean of the limits on either side.",
        *(
            f"Phone photos, `{phone[name]['options'] or 'default settings'}`: {phone[name]['model']}; "
            f"{phone[name]['rows']} rows; start-up {phone[name]['startup_s']:.1f} s (with it "
            f"{rate(phone[name]['wall_rate'])}); per-run ratios "
            f"{', '.join(f'{100 * r:.1f}%' for r in phone[name]['run_ratios'])}."
            for name in PHONE_RUNS
        ),
        "The phone-photo target is judged on a CIFAR-10 model (deep_cnn as shipped), whose work per photo is far "
        "below decoding it: that run measures how the pipeline uses the cores for decoding. The default model "
        "(EfficientNet-Lite0 transfer) runs at 224x224 inside and costs more per photo than the decode, so its "
        "rate is bound by the model and its ratio to the decode-only limit is what the default costs. With the "
        "scope check every photo is decoded once for both models (draft for 448 px instead of 64) and runs "
        "through the general model at 224x224 too.",
    ]
    if checked_run is not None:
        section.notes.append(
            f"Scope check on the CIFAR-10 JPEGs: `classify_stream(..., scope=ScopeChecker(general model))`, after "
            f"the runs without it. Every file is 32x32, under {_min_side()} px, so no file is resized to "
            "224x224 or run through the general model (each row says `Too small for the check`): the rate shows "
            f"the check's bookkeeping only. Per-run ratios: {', '.join(f'{100 * r:.1f}%' for r in checked_run['run_ratios'])}."
        )
    else:
        section.notes.append("The general model is not in assets/models: the scope check was not measured.")
    if shipped_run is not None:
        section.notes.append(
            f"The target is judged on the float32 file, whose work per image is the architecture's own (as in the "
            f"Keras comparison). The shipped {shipped.variant} file does less work per image, so the same decoding "
            "is a larger share of its run; its row shows what a user gets, measured the same way after the float32 "
            f"file. Per-run ratios: {', '.join(f'{100 * r:.1f}%' for r in shipped_run['run_ratios'])}."
        )
    if not CIFAR_TARBALL.is_file():
        section.notes.append(f"{CIFAR_TARBALL} was not found: generated JPEGs were used instead.")
    section.numbers = {
        "images": rows,
        "failed": failed,
        "engine_rate": e2e_rate,
        "pure_rate": pure_rate,
        "fraction": fraction,
        "decode_only_rate": len(files) / decode_s,
        "phone": phone,
        "engine_s": run["engine_s"],
        "pure_s": run["pure_s"],
        "run_ratios": run["run_ratios"],
        "pure_sequential_rate": run["pure_sequential_rate"],
        "pure_parallel_rate": run["pure_parallel_rate"],
        "parallel_runs": run["parallel_runs"],
    }
    if checked_run is not None:
        section.numbers["scope_check"] = {
            key: checked_run[key] for key in ("engine_rate", "pure_rate", "fraction", "run_ratios")
        }
    if shipped_run is not None:
        section.numbers["shipped"] = {
            "variant": shipped.variant,
            "images": shipped_run["rows"],
            "failed": shipped_run["failed"],
            **{
                key: shipped_run[key]
                for key in (
                    "engine_rate",
                    "pure_rate",
                    "fraction",
                    "run_ratios",
                    "pure_sequential_rate",
                    "pure_parallel_rate",
                )
            },
        }
    return section
