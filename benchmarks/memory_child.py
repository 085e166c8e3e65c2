"""Child process of the memory benchmark: classify folders into a CSV, print peak RSS.

    python -m benchmarks.memory_child MODEL.onnx OUT.csv FOLDER...

Prints one JSON line: files classified, seconds, peak RSS (``ru_maxrss``)
after loading the model and at the end, in MB (see :func:`peak_mb`). Runs in a fresh process so the
peak belongs to this one batch only.
"""

from __future__ import annotations

import json
import resource
import sys
import time


def peak_mb() -> float:
    """Peak resident set size of this program so far, in MB.

    Linux: ``VmHWM`` of ``/proc/self/status``. ``ru_maxrss`` would be wrong
    here: it keeps the high-water mark from before ``exec``, i.e. the forked
    copy of a big parent (the suite process holds TensorFlow: ~800 MB).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 if sys.platform != "darwin" else 1024**2)


def main(argv: list[str]) -> int:
    model, out, *folders = argv
    from desktop_app.engine.batch import classify_stream
    from desktop_app.engine.classifier import Classifier
    from desktop_app.engine.contract import read_model_info
    from desktop_app.engine.results import open_result_writer
    from desktop_app.engine.sessions import Device

    classifier = Classifier(read_model_info(model), Device.CPU)
    classifier.predict_arrays(__import__("numpy").zeros((64, *classifier.input_size, 3), "float32"))
    loaded = peak_mb()
    count = 0
    start = time.perf_counter()
    with open_result_writer(out, classifier.info.labels) as writer:
        for prediction in classify_stream(folders, classifier, batch_size=64):
            writer.write(prediction)
            count += 1
    print(
        json.dumps({"files": count, "seconds": time.perf_counter() - start, "loaded_mb": loaded, "peak_mb": peak_mb()})
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
