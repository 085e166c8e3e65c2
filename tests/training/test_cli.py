"""The training command line end to end on tiny generated data (real Keras training)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from training.cli import main
from training.models import MODEL_NAMES, build_model
from training.reports import load_report

REPORT_KEYS = {
    "model",
    "display_name",
    "description",
    "architecture",
    "dataset",
    "params",
    "labels",
    "metrics",
    "training",
    "calibration",
    "history",
}


def _train(name: str, data: Path, out: Path, *extra: str) -> int:
    # --limit 40 covers all 37 training files, so the corrupt one is always met.
    return main(
        [
            "train",
            name,
            "--data",
            str(data),
            "--tiny",
            "--limit",
            "40",
            "--epochs",
            "1",
            "--batch-size",
            "9",
            "--out",
            str(out),
            *extra,
        ]
    )


#: Extra options per model: the transfer models run their whole path; EfficientNet-Lite0
#: also runs phase 2 (unfreezing), ResNet50 (slower to trace) loads stand-in backbone weights.
EXTRA = {"resnet50": ["--fine-tune-epochs", "0"], "efficientnet_lite0": ["--fine-tune-epochs", "1"]}


@pytest.fixture(scope="module")
def trained(colour_dataset, tmp_path_factory, request):
    """Run folders of CLI training runs, each model trained once per module."""
    runs: dict[str, tuple[int, Path]] = {}

    def run(name: str) -> tuple[int, Path]:
        if name not in runs:
            if name == "efficientnet_lite0":
                pytest.importorskip("training.models.efficientnet_lite0")
            extra = list(EXTRA.get(name, []))
            if name == "resnet50":
                weights, _, _ = request.getfixturevalue("standin_backbone_weights")
                extra += ["--backbone-weights", str(weights)]
            out = tmp_path_factory.mktemp("runs") / name
            runs[name] = (_train(name, colour_dataset, out, *extra), out)
        return runs[name]

    return run


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_train_smoke_run_writes_the_run_folder(name, trained):
    status, out = trained(name)
    assert status == 0
    for file in ("model.weights.h5", "report.json", "history.png", "confusion.png", "reliability.png"):
        assert (out / file).stat().st_size > 0, file
    report = load_report(out)
    assert report.keys() >= REPORT_KEYS
    assert report["model"] == name and report["labels"] == ["blue", "green", "red"]
    metrics, training = report["metrics"], report["training"]
    assert 0.0 <= metrics["test_accuracy"] <= 1.0 and metrics["num_test_images"] == 8
    assert sum(map(sum, metrics["confusion_matrix"])) == 8
    assert {"val_accuracy", "val_loss", "per_class"} <= metrics.keys()
    assert [Path(s["file"]).name for s in training["skipped_files"]] == ["broken.jpg"]
    assert training["train_images"] + training["val_images"] == 36
    assert training["duration_s"] > 0 and training["hardware"] and training["backend"]
    assert training["recipe"]["epochs"] == 1 and training["tiny"] is True
    expected_epochs = 1 + training["recipe"]["fine_tune_epochs"]
    assert training["epochs"] == expected_epochs == len(report["history"]["val_accuracy"])
    assert report["calibration"]["temperature"] > 0
    # The weights load into the registry's model (no augmentation layers saved with them).
    model = build_model(name, num_classes=3, tiny=True)
    model.load_weights(str(out / "model.weights.h5"))
    assert report["params"] == model.count_params()


def test_evaluate_rewrites_the_report_and_compare_reads_runs(trained, colour_tarball, tmp_path):
    status, trained_run = trained("compact_vgg")
    assert status == 0
    run = tmp_path / "compact"
    shutil.copytree(trained_run, run)
    report = json.loads((run / "report.json").read_text())
    report["metrics"] = {"test_accuracy": -1}
    (run / "report.json").write_text(json.dumps(report))
    (run / "reliability.png").unlink()
    # The archive holds the same images as the folder the run was trained on.
    assert main(["evaluate", str(run), "--model", "compact_vgg", "--data", str(colour_tarball)]) == 0
    rewritten = load_report(run)
    assert rewritten["metrics"]["confusion_matrix"] == load_report(trained_run)["metrics"]["confusion_matrix"]
    assert rewritten["training"]["epochs"] == 1  # the training record is kept
    assert (run / "reliability.png").exists()
    assert (
        main(
            [
                "evaluate",
                str(run / "model.weights.h5"),
                "--model",
                "compact_vgg",
                "--data",
                str(colour_tarball),
                "--no-calibrate",
            ]
        )
        == 0
    )
    assert "calibration" not in load_report(run)
    second = tmp_path / "second"
    shutil.copytree(run, second)
    assert main(["compare", str(run), str(second), "--out", str(tmp_path / "cmp")]) == 0
    assert any((tmp_path / "cmp").glob("*.md")) and any((tmp_path / "cmp").glob("*.json"))


@pytest.mark.slow
def test_resnet50_two_phases_through_the_cli(colour_dataset, standin_backbone_weights, tmp_path):
    out = tmp_path / "resnet50"
    assert (
        _train(
            "resnet50",
            colour_dataset,
            out,
            "--backbone-weights",
            str(standin_backbone_weights[0]),
            "--fine-tune-epochs",
            "1",
        )
        == 0
    )
    assert load_report(out)["training"]["epochs"] == 2


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "resnet18"], "unknown model 'resnet18'; known models: deep_cnn"),
        (["evaluate", "runs/x", "--model", "alexnet"], "unknown model 'alexnet'"),
        (["train", "deep_cnn", "--data", "/nonexistent/data"], "no such file or folder"),
        (["train", "deep_cnn", "--backbone-weights", "w.h5"], "trained from scratch"),
        (["train", "deep_cnn", "--limit", "0"], "--limit must be a positive"),
        (["compare", "/nonexistent/run"], "report"),
        (["train", "deep_cnn", "--set", "lr=0.1"], "--set 'lr=0.1': expected KEY=VALUE"),
        (["train", "deep_cnn", "--set", "epochs=ten"], "'ten' is not a valid int"),
    ],
)
def test_user_errors_exit_2_with_a_clear_message(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_data_folder_with_the_wrong_layout_exits_2(tmp_path, capsys):
    (tmp_path / "images" / "cat").mkdir(parents=True)
    (tmp_path / "images" / "cat" / "a.jpg").write_bytes(b"x")
    assert main(["train", "compact_vgg", "--data", str(tmp_path / "images"), "--tiny"]) == 2
    assert "does not fit the dataset layout" in capsys.readouterr().err


def test_evaluate_without_weights_exits_2(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path), "--model", "deep_cnn", "--data", str(tmp_path)]) == 2
    assert "no trained weights" in capsys.readouterr().err


def test_list_names_every_model(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in MODEL_NAMES) and "5,772,970" in out and "84.98%" in out


def test_mixed_precision_run_saves_float32_loadable_weights(colour_dataset, tmp_path, monkeypatch):
    """The GPU path (bfloat16 compute) forced on the CPU: evaluated and saved as float32."""
    monkeypatch.setattr("training.train.compute_policy", lambda enabled: "mixed_bfloat16")
    out = tmp_path / "bf16"
    assert _train("compact_vgg", colour_dataset, out) == 0
    report = load_report(out)
    assert report["training"]["precision"] == "mixed_bfloat16"
    import keras

    assert keras.config.dtype_policy().name == "float32"  # restored after the run
    model = build_model("compact_vgg", num_classes=3, tiny=True)
    model.load_weights(str(out / "model.weights.h5"))
    assert all(w.dtype == "float32" for w in model.weights)


def test_time_budget_ends_the_fit_before_the_epochs_and_is_reported(colour_dataset, tmp_path):
    out = tmp_path / "budget"
    status = main(
        [
            "train",
            "compact_vgg",
            "--data",
            str(colour_dataset),
            "--tiny",
            "--limit",
            "40",
            "--epochs",
            "10000",
            "--batch-size",
            "9",
            "--out",
            str(out),
            "--time-budget",
            "8",
        ]
    )
    assert status == 0
    training = load_report(out)["training"]
    assert training["time_budget_s"] == 8 and training["stopped_by_budget"] is True
    assert 1 <= training["epochs"] < 10000 and training["duration_s"] < 8 + 5
    assert len(load_report(out)["history"]["loss"]) == len(training["epoch_seconds"]) == training["epochs"]


def test_time_budget_must_be_positive(colour_dataset, tmp_path, capsys):
    assert main(["train", "compact_vgg", "--data", str(colour_dataset), "--time-budget", "0"]) == 2
    assert "--time-budget must be a positive number" in capsys.readouterr().err


def test_recipe_settings_reach_the_run_and_its_report(colour_dataset, tmp_path):
    out = tmp_path / "set"
    status = main(
        [
            "train",
            "compact_vgg",
            "--data",
            str(colour_dataset),
            "--tiny",
            "--limit",
            "30",
            "--epochs",
            "1",
            "--out",
            str(out),
            "--set",
            "cutout=6",
            "--set",
            "ema_momentum=none",
            "--set",
            "epochs=3",
        ]
    )
    assert status == 0
    report = load_report(out)
    recipe = report["training"]["recipe"]
    assert (recipe["cutout"], recipe["ema_momentum"], recipe["epochs"]) == (6, None, 3)
    assert report["training"]["epochs"] == 3  # --set wins over --epochs: it names the field exactly
