"""Memory stays flat while classify_stream walks a big generated folder.

Generates N small PNGs (default 20,000) in a temporary folder, streams them
through ``classify_stream`` with a small real ONNX model, and samples the
process's resident memory (RSS, Linux ``/proc/self/status``) every 1,000
results. The baseline is the RSS after the first 1,000 results of the same
run; a flat engine ends within a few MB of it, whatever N is.

    PYTHONPATH=. python benchmarks/engine_memory.py [--count 20000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args(argv)

    from desktop_app.engine.batch import classify_stream
    from desktop_app.engine.classifier import Classifier
    from desktop_app.engine.contract import read_model_info
    from desktop_app.engine.sessions import Device
    from tests.model_factory import make_classifier

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "images"
        for i in range(args.count):
            sub = folder / f"{i // 1000:03d}"
            if i % 1000 == 0:
                sub.mkdir(parents=True)
            Image.new("RGB", (16, 16), (i % 256, 80, 160)).save(sub / f"{i:06d}.png")
        classifier = Classifier(read_model_info(make_classifier(Path(tmp) / "m.onnx")), Device.CPU)
        samples: list[tuple[int, float]] = []
        start = time.perf_counter()
        done = 0
        for _ in classify_stream([folder], classifier, batch_size=args.batch_size):
            done += 1
            if done % 1000 == 0:
                samples.append((done, rss_mb()))
        elapsed = time.perf_counter() - start
    print(f"{done} images in {elapsed:.1f} s ({done / elapsed:.0f} images/s)")
    for count, rss in samples[:: max(1, len(samples) // 10)] + samples[-1:]:
        print(f"  after {count:>6} results: RSS {rss:7.1f} MB")
    baseline, final = samples[0][1], samples[-1][1]
    print(f"RSS growth from 1,000 to {done} results: {final - baseline:+.1f} MB")
    return 0 if done == args.count else 1


if __name__ == "__main__":
    sys.exit(main())
