"""scripts/gpu_train_all.py and scripts/unpack_gpu_runs.py without a GPU: commands, packing, restoring."""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path
from types import ModuleType

import keras
import numpy as np
import pytest

from training.models import build_model

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def launcher() -> ModuleType:
    return _script("gpu_train_all")


def _args(**overrides) -> argparse.Namespace:
    values = dict(
        data=Path("d.tar.gz"), runs=Path("/tmp/r"), backbone_weights=Path("w.pth"), limit=None, tiny=False, settings=[]
    )
    return argparse.Namespace(**{**values, **overrides})


def test_each_run_gets_its_budget_its_settings_and_only_the_transfer_model_the_backbone(launcher):
    args = _args(settings=["vgg:mixup_alpha=0.2", "efficientnet_lite0:fine_tune_epochs=40", "vgg:cutout=16"])
    vgg = launcher._train_command("vgg", args, 412.4)
    assert vgg[vgg.index("--time-budget") + 1] == "412"
    assert [vgg[i + 1] for i, arg in enumerate(vgg) if arg == "--set"] == ["mixup_alpha=0.2", "cutout=16"]
    assert "--backbone-weights" not in vgg and vgg[vgg.index("--out") + 1] == str(Path("/tmp/r/vgg"))
    effnet = launcher._train_command("efficientnet_lite0", args, 300)
    assert effnet[effnet.index("--backbone-weights") + 1] == "w.pth"
    assert effnet[effnet.index("--set") + 1] == "fine_tune_epochs=40" and effnet.count("--set") == 1


def test_a_setting_for_a_model_not_trained_is_refused(launcher, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        launcher.main(
            [
                "--data",
                "d",
                "--pack",
                str(tmp_path),
                "--runs",
                str(tmp_path / "runs"),
                "--models",
                "vgg",
                "--set",
                "deep_cnn:cutout=8",
            ]
        )
    assert exit_info.value.code == 2
    assert "expected MODEL:KEY=VALUE with MODEL one of vgg" in capsys.readouterr().err


def test_packed_runs_come_back_as_float32_run_folders(launcher, tmp_path):
    runs, pack, out = tmp_path / "runs", tmp_path / "pack", tmp_path / "out"
    model = build_model("compact_vgg", num_classes=10)  # its 262,144-weight dense kernel is stored as float16
    (runs / "compact_vgg").mkdir(parents=True)
    model.save_weights(str(runs / "compact_vgg" / "model.weights.h5"))
    (runs / "compact_vgg" / "report.json").write_text(json.dumps({"model": "compact_vgg"}))
    parts = launcher.pack_runs(runs, pack, ["compact_vgg"], int8_min=None, stem="runs")
    assert [p.name for p in parts] == ["runs.part00"] and not (runs / "runs.tar").exists()

    restored = _script("unpack_gpu_runs").unpack([pack], out)
    assert restored == [out / "compact_vgg" / "model.weights.h5"]
    assert json.loads((out / "compact_vgg" / "report.json").read_text()) == {"model": "compact_vgg"}
    again = build_model("compact_vgg", num_classes=10)
    again.load_weights(str(restored[0]))
    for before, after in zip(model.weights, again.weights):
        before, after = keras.ops.convert_to_numpy(before), keras.ops.convert_to_numpy(after)
        assert after.dtype == np.float32
        np.testing.assert_allclose(after, before, rtol=1e-3, atol=1e-3)
    kernels = [keras.ops.convert_to_numpy(w) for w in again.weights if int(np.prod(w.shape)) >= 65536]
    assert kernels and all(np.array_equal(k, k.astype(np.float16).astype(np.float32)) for k in kernels)
