"""Child process of the teach benchmark: teach one folder, print wall and CPU seconds and peak RSS as JSON.

python -m benchmarks.teach_child FOLDER OUT.onnx BACKBONE.onnx
"""

from __future__ import annotations

import json
import os
import sys
import time


def main(argv: list[str]) -> int:
    folder, out, backbone = argv
    from benchmarks.memory_child import peak_mb
    from desktop_app.engine.teach import FeatureExtractor, teach

    FeatureExtractor(backbone)  # imports and the session, so "loaded" excludes the photos
    loaded = peak_mb()
    start, cpu_start = time.perf_counter(), os.times()
    result = teach(folder, out, backbone=backbone)
    cpu_end = os.times()
    cpu = (cpu_end.user - cpu_start.user) + (cpu_end.system - cpu_start.system)
    print(
        json.dumps(
            {
                "photos": sum(result.counts.values()),
                "seconds": time.perf_counter() - start,
                "cpu_s": cpu,
                "loaded_mb": loaded,
                "peak_mb": peak_mb(),
                "held_out_accuracy": result.held_out_accuracy,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
