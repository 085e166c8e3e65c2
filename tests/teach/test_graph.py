"""Finding the pooled features by graph structure, cutting the backbone, adding heads (no ``onnx`` at run time).

The ``onnx`` package (dev extra) only checks here what the app's own wire-format code wrote.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import helper

from desktop_app.engine.onnx_wire import Message, Model
from desktop_app.engine.teach_graph import (
    BackboneError,
    backbone_of,
    find_feature_tensor,
    load_model,
    with_extra_output,
    with_head,
)
from tests.model_factory import make_classifier
from tests.teach.factory import FEATURES, make_backbone

IMAGES = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype(np.float32)


def test_wire_round_trip_is_byte_exact(tmp_path: Path) -> None:
    raw = make_backbone(tmp_path / "g.onnx", float16_head=True).read_bytes()
    assert Message.parse(raw).serialize() == raw
    assert Model.parse(raw).serialize() == raw


@pytest.mark.parametrize("variant", [{}, {"float16_head": True}, {"gemm": True}])
def test_feature_tensor_is_found_by_structure(tmp_path: Path, variant: dict) -> None:
    model = load_model(make_backbone(tmp_path / "g.onnx", **variant))
    assert find_feature_tensor(model) == ("pooled", FEATURES)


def test_cut_backbone_computes_the_pooled_features(tmp_path: Path) -> None:
    path = make_backbone(tmp_path / "g.onnx", float16_head=True)
    backbone = backbone_of(load_model(path))
    cut = onnx.load_from_string(backbone.feature_model())
    onnx.checker.check_model(cut, full_check=True)
    assert [o.name for o in cut.graph.output] == ["pooled"]
    assert {n.op_type for n in cut.graph.node}.isdisjoint({"Softmax", "MatMul", "Cast"})
    assert not cut.metadata_props
    feats = ort.InferenceSession(backbone.feature_model()).run(None, {"image": IMAGES})[0]
    # The same tensor read from the untouched model as an extra output.
    both = ort.InferenceSession(with_extra_output(load_model(path), "pooled")).run(None, {"image": IMAGES})
    np.testing.assert_allclose(feats, both[1], rtol=1e-6)
    assert feats.shape == (2, FEATURES)


def test_new_head_gives_its_own_softmax_and_metadata(tmp_path: Path) -> None:
    backbone = backbone_of(load_model(make_backbone(tmp_path / "g.onnx")))
    weights = np.random.default_rng(1).normal(size=(FEATURES, 2)).astype(np.float32)
    bias = np.array([0.5, -0.5], np.float32)
    data = with_head(backbone, weights, bias, {"labels": '["a", "b"]'})
    model = onnx.load_from_string(data)
    onnx.checker.check_model(model, full_check=True)
    assert {p.key: p.value for p in model.metadata_props} == {"labels": '["a", "b"]'}
    assert model.producer_name == "image-classifier teach"
    probs = ort.InferenceSession(data).run(None, {"image": IMAGES})[0]
    feats = ort.InferenceSession(backbone.feature_model()).run(None, {"image": IMAGES})[0]
    logits = feats @ weights + bias
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(probs, expected, rtol=1e-5)


def test_a_model_without_a_linear_layer_is_refused(tmp_path: Path) -> None:
    path = make_classifier(tmp_path / "colours.onnx")
    model = onnx.load(str(path))
    model.graph.node[1].CopyFrom(helper.make_node("Identity", ["mean"], ["logits0"]))
    onnx.save(model, str(path))
    with pytest.raises(BackboneError, match="MatMul or Gemm"):
        find_feature_tensor(load_model(path))


def test_a_file_that_is_not_onnx_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.onnx").write_bytes(b"\xff\xff\xff\xff garbage")
    with pytest.raises(BackboneError, match="not a readable ONNX file"):
        load_model(tmp_path / "x.onnx")
