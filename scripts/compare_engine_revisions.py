"""A folder through the engine with an older revision's code against the working tree's, alternating.

    python scripts/compare_engine_revisions.py REV MODEL FOLDER [--rounds 8]

Each run is a fresh process: ``classify_stream([FOLDER], Classifier(MODEL, CPU))``
into a CSV, after a warm-up on one subfolder, with the engine of either
revision (REV is checked out into a temporary git worktree). Before/now
alternate, the order swapped every round, so a change in the machine's
load hits both alike; per-round ratios and medians of wall and CPU time
are printed. For "no slower than before this change" on a shared machine,
where the benchmark suite's ratios move by 10% between runs.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: One timed run in a child process: argv = tree, model, folder, out; prints "wall rows cpu".
_RUN = """
import sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from desktop_app.engine.batch import classify_stream
from desktop_app.engine.classifier import Classifier
from desktop_app.engine.contract import read_model_info
from desktop_app.engine.results import open_result_writer
from desktop_app.engine.sessions import Device
model, folder, out = sys.argv[2:5]
classifier = Classifier(read_model_info(model), Device.CPU)
first = next(p for p in sorted(Path(folder).iterdir()) if p.is_dir())
list(classify_stream([first], classifier, batch_size=64))  # warm-up: sessions, code paths, page cache
start, cpu, rows = time.perf_counter(), time.process_time(), 0
with open_result_writer(out, classifier.info.labels) as writer:
    for prediction in classify_stream([folder], classifier, batch_size=64):
        writer.write(prediction)
        rows += 1
print(time.perf_counter() - start, rows, time.process_time() - cpu)
"""


def run_once(tree: Path, model: Path, folder: Path, out: Path) -> tuple[float, int, float]:
    done = subprocess.run(
        [sys.executable, "-c", _RUN, str(tree), str(model), str(folder), str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    wall, rows, cpu = done.stdout.split()
    return float(wall), int(rows), float(cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev", help="the older revision (any git revision)")
    parser.add_argument("model", type=Path, help="a contract ONNX file (the same file for both)")
    parser.add_argument("folder", type=Path, help="a folder with class subfolders of images")
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        before = Path(tmp) / "before"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(before), args.rev], check=True)
        try:
            trees = [(f"before ({args.rev})", before), ("now", ROOT)]
            times: dict[str, list[tuple[float, int, float]]] = {name: [] for name, _ in trees}
            for r in range(args.rounds):
                for name, tree in trees if r % 2 == 0 else trees[::-1]:
                    times[name].append(run_once(tree, args.model.resolve(), args.folder, Path(tmp) / "out.csv"))
                    print(f"round {r}: {name} {times[name][-1][0]:.2f} s", flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(before)], check=False)
    (old_name, old), (_, new) = times.items()
    ratios = [o[0] / n[0] for o, n in zip(old, new)]
    for name, runs in times.items():
        walls, cpus = [w for w, _, _ in runs], [c for _, _, c in runs]
        print(
            f"{name}: {runs[0][1]} rows, wall median {statistics.median(walls):.2f} s, "
            f"CPU median {statistics.median(cpus):.2f} s"
        )
    print(f"now's speed / {old_name}'s, per round: {', '.join(f'{r:.2f}' for r in ratios)}")
    print(f"median {statistics.median(ratios):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
