"""The derived model "CIFAR-10 classes via ImageNet": a manifest over the general model's file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from desktop_app.engine.classifier import Classifier, clear_classifier_cache, get_classifier
from desktop_app.engine.contract import ModelContractError, read_model_info
from desktop_app.engine.derived import (
    NONE_OF_THE_TEN,
    DerivedClassifier,
    classifier_for,
    derived_probabilities,
    read_derived_info,
)
from desktop_app.engine.registry import ModelRegistry
from desktop_app.engine.scope import CIFAR10_LABELS, default_map
from desktop_app.engine.sessions import Device
from tests.conftest import REPO_ROOT

MODELS = REPO_ROOT / "assets" / "models"
MANIFEST = MODELS / "cifar10_via_imagenet.derived"
SAMPLES = REPO_ROOT / "assets" / "samples"


def test_manifest_reads_as_an_eleven_class_model_over_the_general_file() -> None:
    info = read_derived_info(MANIFEST)
    assert info.name == "cifar10_via_imagenet"
    assert info.display_name == "CIFAR-10 classes via ImageNet (EfficientNet-Lite0)"
    assert info.labels == (*CIFAR10_LABELS, NONE_OF_THE_TEN) and info.input_size == (224, 224)
    assert info.training["base"] == "efficientnet_lite0_imagenet.onnx" and MANIFEST.stat().st_size < 10_000


def test_registry_lists_it_and_finds_it_by_name_and_path() -> None:
    registry = ModelRegistry([MODELS])
    names = {m.name for m in registry.models}
    assert {"cifar10_via_imagenet", "efficientnet_lite0_imagenet"} <= names
    assert registry.get("cifar10_via_imagenet").path == MANIFEST
    assert registry.get(str(MANIFEST)).labels[-1] == NONE_OF_THE_TEN


def test_derived_rows_are_the_general_model_summed_through_the_map() -> None:
    clear_classifier_cache()
    derived = get_classifier(read_derived_info(MANIFEST), Device.CPU)
    general = get_classifier(read_model_info(MODELS / "efficientnet_lite0_imagenet.onnx"), Device.CPU)
    assert isinstance(derived, DerivedClassifier) and type(general) is Classifier
    batch = np.random.default_rng(0).uniform(0, 255, (3, 224, 224, 3)).astype(np.float32)
    rows = derived.predict_arrays(batch)
    assert rows.shape == (3, 11) and np.allclose(rows.sum(1), 1, atol=1e-5)
    np.testing.assert_allclose(
        rows, derived_probabilities(general.predict_arrays(batch), default_map().matrix()), atol=1e-6
    )
    np.testing.assert_allclose(derived.predict_arrays(batch, parallel=True), rows, atol=1e-5)


def test_derived_answers_samples_none_of_the_ten_or_their_class() -> None:
    classifier = classifier_for(read_derived_info(MANIFEST), Device.CPU)
    assert classifier.classify(SAMPLES / "_not-cifar" / "hot_dog.jpg").label == NONE_OF_THE_TEN
    for photo in sorted(SAMPLES.glob("[bcd]*/*.jpg")):
        assert classifier.classify(photo).label == photo.parent.name, photo


def test_a_broken_manifest_is_refused_with_its_reason(tmp_path: Path) -> None:
    (tmp_path / "no_base.derived").write_text(json.dumps({"base": "missing.onnx", "map": "imagenet_to_cifar10"}))
    (tmp_path / "not_json.derived").write_text("{")
    (tmp_path / "odd_map.derived").write_text(json.dumps({"base": "x.onnx", "map": "imagenet_to_mnist"}))
    registry = ModelRegistry([tmp_path])
    reasons = {path.name: reason for path, reason in registry.refused}
    assert "file not found" in reasons["no_base.derived"] and "missing.onnx" in reasons["no_base.derived"]
    assert "not valid JSON" in reasons["not_json.derived"]
    assert "unknown map" in reasons["odd_map.derived"]
    with pytest.raises(ModelContractError):
        read_derived_info(tmp_path / "no_base.derived")


def test_a_copied_pair_works_anywhere(tmp_path: Path) -> None:
    """The manifest names its base relative to its own folder."""
    shutil.copy(MANIFEST, tmp_path)
    shutil.copy(MODELS / "efficientnet_lite0_imagenet.onnx", tmp_path)
    info = ModelRegistry([tmp_path]).get("cifar10_via_imagenet")
    assert classifier_for(info, Device.CPU).base_info.path == tmp_path / "efficientnet_lite0_imagenet.onnx"
