"""Finding the pooled features by graph structure and cutting/adding heads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import helper

from desktop_app.engine.teach_graph import BackboneError, backbone_graph, find_feature_tensor, with_head
from tests.model_factory import make_classifier
from tests.teach.factory import FEATURES, make_backbone


@pytest.mark.parametrize("variant", [{}, {"float16_head": True}, {"gemm": True}])
def test_feature_tensor_is_found_by_structure(tmp_path: Path, variant: dict) -> None:
    model = onnx.load(str(make_backbone(tmp_path / "g.onnx", **variant)))
    assert find_feature_tensor(model) == ("pooled", FEATURES)


def test_cut_backbone_computes_the_pooled_features(tmp_path: Path) -> None:
    source = onnx.load(str(make_backbone(tmp_path / "g.onnx", float16_head=True)))
    cut, name, width = backbone_graph(source)
    assert [o.name for o in cut.graph.output] == [name]
    assert {n.op_type for n in cut.graph.node}.isdisjoint({"Softmax", "MatMul", "Cast"})
    onnx.checker.check_model(cut)
    images = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype(np.float32)
    feats = ort.InferenceSession(cut.SerializeToString()).run(None, {"image": images})[0]
    # The same tensor read from the untouched model as an extra output.
    source.graph.output.append(onnx.ValueInfoProto(name=name))
    expected = ort.InferenceSession(source.SerializeToString()).run(None, {"image": images})[1]
    np.testing.assert_allclose(feats, expected, rtol=1e-6)
    assert feats.shape == (2, width)


def test_new_head_gives_its_own_softmax(tmp_path: Path) -> None:
    cut, _, width = backbone_graph(onnx.load(str(make_backbone(tmp_path / "g.onnx"))))
    weights = np.random.default_rng(1).normal(size=(width, 2)).astype(np.float32)
    model = with_head(cut, weights, np.array([0.5, -0.5], np.float32))
    onnx.checker.check_model(model)
    session = ort.InferenceSession(model.SerializeToString())
    images = np.full((3, 32, 32, 3), 100, np.float32)
    probs = session.run(None, {"image": images})[0]
    assert probs.shape == (3, 2)
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)


def test_a_model_without_a_linear_layer_is_refused(tmp_path: Path) -> None:
    path = make_classifier(tmp_path / "colours.onnx")
    model = onnx.load(str(path))
    # The colour model's MatMul reads a ReduceMean: fine. Remove the MatMul to break it.
    model.graph.node[1].CopyFrom(helper.make_node("Identity", ["mean"], ["logits0"]))
    with pytest.raises(BackboneError, match="MatMul or Gemm"):
        find_feature_tensor(model)
