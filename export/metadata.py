"""Contract metadata on ONNX files: build it from a report, write it, read it back.

Encoding and decoding are the engine's (``desktop_app.engine.contract``), so
what the export writes is exactly what the app reads.
"""

from __future__ import annotations

import copy
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import onnx

from desktop_app.engine.contract import FORMAT_VERSION, decode_metadata, encode_metadata, read_model_info
from desktop_app.engine.scope import CIFAR10_LABELS  # CIFAR-10 class names in label-index order (STUDY.md)


def metadata_from_report(report: Mapping[str, Any]) -> dict[str, Any]:
    """Contract metadata for a training report (``training.reports.report_to_metadata``)."""
    from training.reports import report_to_metadata

    return report_to_metadata(report)


def default_metadata(
    model_name: str, num_classes: int, params: int, labels: Sequence[str] | None = None
) -> dict[str, Any]:
    """Metadata for a model without a training report (e.g. an untrained export).

    Uses the registry's description of ``model_name`` when it knows it; the
    labels default to CIFAR-10 when the model has ten outputs.
    """
    if labels is None:
        if num_classes != len(CIFAR10_LABELS):
            raise ValueError(f"the model has {num_classes} outputs: give a report (--report) that names its labels")
        labels = CIFAR10_LABELS
    metadata: dict[str, Any] = {
        "labels": list(labels),
        "display_name": model_name,
        "params": int(params),
        "metrics": {},
        "training": {"note": "exported without a training report: no measured metrics"},
        "format_version": FORMAT_VERSION,
    }
    try:
        from training.models import get_spec

        spec = get_spec(model_name)
    except (ImportError, ValueError):
        return metadata
    metadata.update(display_name=spec.display_name, description=spec.description, architecture=spec.architecture)
    return metadata


#: Metric keys that describe the test split and are re-measured for the variant.
TEST_METRICS = ("test_accuracy", "test_loss", "num_test_images", "per_class", "confusion_matrix", "macro_f1")


def mark_reduced(metadata: Mapping[str, Any], method: str, measured: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A copy of ``metadata`` noting the size reduction in ``training.export``.

    With ``measured`` (the variant's own test metrics) the test-split metrics
    are replaced, keeping the float32 accuracy as ``float32_test_accuracy``.
    """
    metadata = copy.deepcopy(dict(metadata))
    training = metadata.setdefault("training", {})
    note: dict[str, Any] = {"reduction": method}
    if measured is not None:
        metrics = metadata.setdefault("metrics", {})
        if "test_accuracy" in metrics:
            note["float32_test_accuracy"] = metrics["test_accuracy"]
        metrics.update({k: measured[k] for k in TEST_METRICS if k in measured})
    training["export"] = {**training.get("export", {}), **note}
    return metadata


def set_metadata(proto: onnx.ModelProto, metadata: Mapping[str, Any]) -> onnx.ModelProto:
    """Replace ``proto``'s ``metadata_props`` with the encoded ``metadata`` (in place)."""
    del proto.metadata_props[:]
    for key, value in encode_metadata(metadata).items():
        proto.metadata_props.add(key=key, value=value)
    return proto


def raw_props(model: onnx.ModelProto | str | Path) -> dict[str, str]:
    """The ``metadata_props`` strings of a model or file (weights not loaded)."""
    if not isinstance(model, onnx.ModelProto):
        model = onnx.load(str(model), load_external_data=False)
    return {p.key: p.value for p in model.metadata_props}


def read_metadata(model: onnx.ModelProto | str | Path) -> dict[str, Any]:
    """Decoded metadata of a model or file; raises ``ValueError`` for broken JSON."""
    values, problems = decode_metadata(raw_props(model))
    if problems:
        raise ValueError("; ".join(problems))
    return values


def write_onnx_atomically(proto: onnx.ModelProto, out: str | Path) -> Path:
    """Save ``proto`` to ``out`` only if the app's contract check accepts it.

    The file is written next to ``out`` and renamed into place, so a failed
    check (``ModelContractError`` naming every problem) leaves nothing behind.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=".onnx.tmp", dir=out.parent)
    os.close(fd)
    try:
        onnx.save(proto, tmp)
        read_model_info(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; make it an ordinary file
        os.replace(tmp, out)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return out
