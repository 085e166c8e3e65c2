"""Every architecture, built tiny and untrained, exports, passes ``check`` and the parity check."""

from __future__ import annotations

import keras
import numpy as np
import onnx
import pytest

from export.cli import main
from export.convert import BATCH_DIM, TRAINING_ONLY_OPS
from export.parity import MIN_IMAGES, generated_images
from export.pipeline import export_model
from tests.export.conftest import lsuv_init

# resnet50's tiny export takes ~35 s (a real 23M-parameter backbone); its fast
# coverage is the whole-path test in test_resnet50_path.py.
ARCHITECTURES = [
    "deep_cnn",
    "vgg",
    "compact_vgg",
    "efficientnet_lite0",
    pytest.param("resnet50", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_tiny_untrained_model_exports_and_passes_check(name: str, tmp_path, capsys) -> None:
    from training.models import build_model

    keras.utils.set_random_seed(0)  # a random tiny net can put every image in one class; this one does not
    model = build_model(name, tiny=True)
    images = generated_images(MIN_IMAGES)
    lsuv_init(model, images[::8])
    probs = np.asarray(model(images[:64], training=False))
    assert probs.std(axis=0).max() > 0.05, "outputs must differ between images for parity to mean anything"
    assert len(set(probs.argmax(axis=1))) > 1

    weights = tmp_path / f"{name}.weights.h5"
    model.save_weights(str(weights))
    out = tmp_path / f"{name}.onnx"
    logs: list[str] = []
    result = export_model(weights, out, model_name=name, tiny=True, log=logs.append)

    assert result.parity.ok
    assert result.parity.num_images >= MIN_IMAGES
    assert result.parity.max_abs_diff <= 1e-4 and result.parity.top1_mismatches == 0
    assert logs[0].startswith("parity passed on 256 images")
    capsys.readouterr()
    assert main(["check", str(out)]) == 0
    assert capsys.readouterr().out.startswith(f"OK: {name}.onnx")

    proto = onnx.load(str(out))
    assert max(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")) >= 17
    (inp,), (outp,) = proto.graph.input, proto.graph.output
    in_dims = [d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim]
    out_dims = [d.dim_param or d.dim_value for d in outp.type.tensor_type.shape.dim]
    assert (inp.name, in_dims) == ("image", [BATCH_DIM, 32, 32, 3])
    assert inp.type.tensor_type.elem_type == outp.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert (outp.name, out_dims) == ("probabilities", [BATCH_DIM, 10])
    assert not {n.op_type for n in proto.graph.node} & TRAINING_ONLY_OPS
