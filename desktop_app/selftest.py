"""``image-classifier --self-test``: is this installation (or bundle) able to classify?

Loads every shipped model, classifies the shipped sample images
(``assets/samples``, inside a PyInstaller bundle under ``sys._MEIPASS``) and
prints one line per model. Exit 0 when every model loaded and classified
every sample; 3 when there is no shipped model or one cannot be loaded; 1
when a sample could not be classified.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TextIO

from desktop_app.engine import registry as model_registry
from desktop_app.engine.batch import classify_stream
from desktop_app.engine.classifier import Classifier
from desktop_app.engine.derived import classifier_for
from desktop_app.engine.sessions import Device, runtime_warnings

EXIT_OK, EXIT_FAILED, EXIT_NO_MODEL = 0, 1, 3


def samples_dir() -> Path:
    return model_registry.assets_dir() / "samples"


def _check_model(classifier: Classifier, samples: Path, out: TextIO) -> bool:
    """Classify the samples; a sample in a folder named like a label counts as a hit when right."""
    start = time.perf_counter()
    predictions = list(classify_stream([samples], classifier, batch_size=16))
    elapsed_ms = (time.perf_counter() - start) * 1000
    errors = [p for p in predictions if not p.ok]
    labelled = [p for p in predictions if p.ok and Path(p.path).parent.name in classifier.info.labels]
    hits = sum(p.label == Path(p.path).parent.name for p in labelled)
    info = classifier.info
    print(
        f"{info.display_name:<28} {classifier.report.provider_label:<5} "
        f"{len(predictions) - len(errors):>3}/{len(predictions):<3} classified  "
        f"{hits}/{len(labelled)} samples right  {elapsed_ms:7.1f} ms",
        file=out,
    )
    for p in errors:
        print(f"  failed: {p.error}", file=out)
    return bool(predictions) and not errors


def run_self_test(out: TextIO, *, device: str = "auto") -> int:
    """Run the self-test, print the table to ``out`` and return the exit code."""
    for warning in runtime_warnings():
        print(f"warning: {warning}", file=out)
    shipped = model_registry.shipped_models_dir()
    registry = model_registry.ModelRegistry([shipped])
    samples = samples_dir()
    for path, reason in registry.refused:
        print(f"self-test: shipped model {path.name} is refused: {reason}", file=out)
    if not registry.models:
        print(f"self-test failed: no shipped models in {shipped}", file=out)
        return EXIT_NO_MODEL
    if not samples.is_dir():
        print(f"self-test failed: no sample images in {samples}", file=out)
        return EXIT_FAILED
    status = EXIT_NO_MODEL if registry.refused else EXIT_OK
    for info in registry.models:
        try:
            classifier = classifier_for(info, Device(device))
        except Exception as exc:  # any load failure is what the self-test exists to report
            print(f"self-test: {info.name} could not be loaded: {exc}", file=out)
            status = EXIT_NO_MODEL
            continue
        if classifier.report.notice:
            print(f"note: {classifier.report.notice}", file=out)
        if not _check_model(classifier, samples, out) and status == EXIT_OK:
            status = EXIT_FAILED
    print("self-test passed" if status == EXIT_OK else "self-test failed", file=out)
    return status
