"""The window's side of issue 16: out-of-scope answers, many-class bars, the batch's scope column,
filter and sort folder, the scope-check setting, model details, and the quick model list."""

from __future__ import annotations

import csv
import dataclasses
import os
from pathlib import Path

import numpy as np
import pytest

from desktop_app.engine.classifier import Prediction
from desktop_app.engine.verdict import ScopeVerdict
from desktop_app.ui.probability_bars import OTHER_CLASSES, ProbabilityBars, bar_rows
from desktop_app.ui.result_panel import OUT_OF_SCOPE_TITLE, ResultPanel
from desktop_app.ui.results_table import COL_CLASS, COL_FILE, COL_SCOPE

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "assets" / "models"
GENERAL = MODELS / "efficientnet_lite0_imagenet.onnx"
DERIVED = MODELS / "cifar10_via_imagenet.derived"
HOT_DOG = ROOT / "assets" / "samples" / "_not-cifar" / "hot_dog.jpg"
CIFAR = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
HOT_DOG_VERDICT = ScopeVerdict(False, "hot dog", 0.99, 0.004)
needs_general = pytest.mark.skipif(not GENERAL.is_file(), reason="the general model is not in assets/models")


def _prediction(path: str | None, label: str, p: float, labels=CIFAR, scope: ScopeVerdict | None = None) -> Prediction:  # noqa: ANN001
    probs = np.full(len(labels), (1 - p) / (len(labels) - 1), np.float32)
    probs[list(labels).index(label)] = p
    return Prediction(path, label, p, [(label, p)], probs, scope=scope)


# --- 1. the verdict in the image view and the batch side panel --------------------------------
def test_out_of_scope_answer_reads_as_one_line_with_greyed_bars(qtbot) -> None:  # noqa: ANN001
    panel = ResultPanel()
    qtbot.addWidget(panel)
    panel.show_prediction(_prediction("x.jpg", "airplane", 0.894, scope=HOT_DOG_VERDICT), CIFAR)
    assert panel.title.text() == OUT_OF_SCOPE_TITLE
    assert panel.scope_line.text() == "None of the ten classes: this looks like a hot dog (99%)"
    assert not panel.scope_line.isHidden() and panel.scope_line.font().bold()
    assert "airplane (89.4%)" in panel.subtitle.text()
    assert panel.bars.dimmed and len(panel.bars.values()) == 10  # the bars stay, greyed

    panel.show_prediction(_prediction("y.jpg", "cat", 0.93, scope=ScopeVerdict(True, "tabby", 0.8, 0.9)), CIFAR)
    assert panel.title.text() == "cat" and panel.subtitle.text() == "93.0% probability"  # as without a check
    assert panel.scope_line.isHidden() and not panel.bars.dimmed

    small = ScopeVerdict(None, note="image too small to check (20 x 20 px)")
    panel.show_prediction(_prediction("z.png", "frog", 0.9, scope=small), CIFAR)
    assert panel.title.text() == "frog" and not panel.bars.dimmed
    assert panel.scope_line.text() == "Scope not checked: image too small to check (20 x 20 px)"
    assert not panel.scope_line.font().bold()  # quiet

    panel.show_prediction(_prediction("w.png", "frog", 0.9, scope=None), CIFAR)  # no check ran
    assert panel.scope_line.isHidden() and panel.title.text() == "frog"


@needs_general
def test_real_hot_dog_with_a_cifar_model_is_out_of_scope_in_the_view(qtbot) -> None:  # noqa: ANN001
    """A real CIFAR-10 model on the real hot dog photo, with the real ImageNet scope check beside it."""
    from desktop_app.engine.classifier import get_classifier
    from desktop_app.engine.registry import ModelRegistry
    from desktop_app.engine.scope import ScopeChecker, find_general_model, has_scope_check

    registry = ModelRegistry([MODELS])
    cifar = next(m for m in registry.models if has_scope_check(m))
    prediction = get_classifier(cifar).classify(str(HOT_DOG))
    prediction.scope = ScopeChecker(find_general_model(registry.models)).check_file(str(HOT_DOG))
    panel = ResultPanel()
    qtbot.addWidget(panel)
    panel.show_prediction(prediction, cifar.labels)
    assert panel.title.text() == OUT_OF_SCOPE_TITLE
    assert panel.scope_line.text().startswith("None of the ten classes: this looks like a hot dog (")
    assert panel.bars.dimmed


def test_compare_card_marks_an_out_of_scope_answer(qtbot, two_models) -> None:  # noqa: ANN001
    from desktop_app.engine.registry import ModelRegistry
    from desktop_app.ui.compare_view import ModelCard

    info = dataclasses.replace(ModelRegistry([two_models]).models[0], labels=CIFAR)
    card = ModelCard(info)
    qtbot.addWidget(card)
    card.show_prediction(_prediction("x.jpg", "airplane", 0.894, scope=HOT_DOG_VERDICT))
    assert card.verdict.text() == "airplane?" and "out of scope" in card.detail.text()
    assert card.detail.toolTip() == HOT_DOG_VERDICT.reason and card.bars.dimmed
    card.show_prediction(_prediction("y.jpg", "cat", 0.9, scope=ScopeVerdict(True, "tabby", 0.8, 0.9)))
    assert card.verdict.text() == "cat" and card.detail.text() == "90.0%" and not card.bars.dimmed


@needs_general
def test_compare_runs_each_models_scope_check(qtbot) -> None:  # noqa: ANN001
    """Compare on the hot dog: the CIFAR model's card is out of scope, the general model's is not checked."""
    from PySide6.QtCore import QThreadPool

    from desktop_app.engine.registry import ModelRegistry
    from desktop_app.ui.compare_view import CompareDialog

    models = [m for m in ModelRegistry([MODELS]).models if m.name in ("compact_vgg", GENERAL.stem)]
    dialog = CompareDialog(models, "cpu", QThreadPool.globalInstance())
    qtbot.addWidget(dialog)
    photo = str(ROOT / "assets" / "samples" / "_not-cifar" / "hot_dog.jpg")
    for scope_check in (True, False):
        with qtbot.waitSignal(dialog.all_done, timeout=60_000):
            dialog.set_image(photo, scope_check=scope_check)
        cards = {card.info.name: card for card in dialog.cards}
        assert ("out of scope" in cards["compact_vgg"].detail.text()) is scope_check
        assert "out of scope" not in cards[GENERAL.stem].detail.text()


def test_batch_side_panel_shows_the_scope_verdict(qtbot, make_window, images) -> None:  # noqa: ANN001
    window = make_window()
    view = window.batch_view
    labels = ("red", "green", "blue")
    view.set_labels(labels)
    view.add_predictions([_prediction(str(images["red"]), "red", 0.9, labels, ScopeVerdict(False, "hot dog", 0.7))])
    view.table.selectRow(0)
    assert view.detail.title.text() == OUT_OF_SCOPE_TITLE
    assert view.detail.scope_line.text() == "None of the ten classes: this looks like a hot dog (70%)"
    assert view.detail.bars.dimmed


# --- 2. many classes ------------------------------------------------------------------------
def test_many_classes_show_top_ten_and_all_other_classes(qtbot) -> None:  # noqa: ANN001
    labels = [f"class {i}" for i in range(1000)]
    probs = np.random.default_rng(1).dirichlet(np.ones(1000) * 0.05)
    rows = bar_rows(labels, probs)
    assert len(rows) == 11 and rows[-1][0] == f"{OTHER_CLASSES} (990)"
    order = np.argsort(-probs)
    assert [lab for lab, _ in rows[:10]] == [labels[i] for i in order[:10]]  # largest first
    assert sum(p for _, p in rows) == pytest.approx(1.0, abs=1e-5)
    bars = ProbabilityBars()
    qtbot.addWidget(bars)
    bars.set_probabilities(labels, probs)
    assert len(bars.values()) == 11 and bars.top_label() == labels[order[0]]
    assert bars.sizeHint().height() < 12 * bars.fontMetrics().height() * 2  # never a thousand rows
    # Up to 12 classes: every class, in label order (bars do not jump between images).
    assert [lab for lab, _ in bar_rows(CIFAR + ("none of the ten",), np.full(11, 1 / 11))] == [
        *CIFAR,
        "none of the ten",
    ]


@pytest.fixture(scope="module")
def general_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped general model and the derived model over it, alone in a folder (links, no copies)."""
    if not (GENERAL.is_file() and DERIVED.is_file()):
        pytest.skip("the general and derived models are not in assets/models")
    folder = tmp_path_factory.mktemp("general")
    for source in (GENERAL, DERIVED):
        os.symlink(source, folder / source.name)
    return folder


def _choose(window, name_part: str) -> None:  # noqa: ANN001
    window.state.set_model(next(m for m in window.state.models if name_part in m.display_name))


def test_general_and_derived_models_in_view_compare_and_batch(qtbot, make_window, general_folder, tmp_path) -> None:  # noqa: ANN001
    window = make_window([general_folder])
    _choose(window, "1,000 classes")
    with qtbot.waitSignal(window.single.shown, timeout=30000) as blocker:
        window.open_paths([str(HOT_DOG)])
    assert blocker.args[0].label == "hot dog"
    bars = window.single_view.result.bars
    assert len(bars.values()) == 11 and bars.values()[0][0] == "hot dog"
    assert bars.values()[-1][0].startswith(OTHER_CLASSES)

    window.show_compare()
    dialog = window.models.compare_dialog
    qtbot.waitUntil(lambda: all(card.prediction is not None for card in dialog.cards), timeout=30000)
    counts = sorted(len(card.bars.values()) for card in dialog.cards)
    assert counts == [11, 11]  # 10 + "all other classes" for the general model; 11 classes for the derived one
    dialog.close()

    samples = ROOT / "assets" / "samples"
    with qtbot.waitSignal(window.batch.finished, timeout=60000):
        window.open_paths([str(samples)])
    model = window.batch_view.model
    assert model.rowCount() >= 9 and model.counts()[1] == 0
    hot_dog_row = next(r for r in range(model.rowCount()) if model.prediction(r).path.endswith("hot_dog.jpg"))
    assert model.index(hot_dog_row, COL_CLASS).data() == "hot dog"
    # The class filter lists the classes the rows got (sorted), not a thousand entries.
    combo = window.batch_view.class_filter
    listed = [combo.itemData(i) for i in range(1, combo.count())]
    assert listed == sorted({p.label for p in model.predictions()}, key=str.lower) and "hot dog" in listed
    combo.setCurrentIndex(combo.findData("hot dog"))
    assert window.batch_view.proxy.rowCount() == 1
    out = tmp_path / "general.csv"
    with qtbot.waitSignal(window.batch.exported, timeout=10000):
        window.batch.export(out)
    with out.open(newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    assert "model" in header and not any(h.startswith("p_") for h in header)  # no 1,000 class columns

    _choose(window, "via ImageNet")  # the derived model: 11 classes, in label order
    with qtbot.waitSignal(window.batch.finished, timeout=60000):
        window.batch.rerun()
    labels = {model.prediction(r).label for r in range(model.rowCount())}
    assert labels <= {*CIFAR, "none of the ten"} and model.prediction(hot_dog_row).label == "none of the ten"


# --- 3. the batch table: column, filter, summary, sort folder ----------------------------------
def _scoped_batch(qtbot, window, batch_folder: Path) -> None:  # noqa: ANN001
    with qtbot.waitSignal(window.batch.finished, timeout=20000):
        window.open_paths([str(batch_folder)])
    rows = window.batch_view.model.predictions()
    scoped = []
    for p in rows:  # red photos: out of scope; the others in scope; errors unchecked
        if p.ok:
            out = Path(p.path).name.endswith("red.png")
            p = dataclasses.replace(p, scope=HOT_DOG_VERDICT if out else ScopeVerdict(True, "tabby", 0.9, 0.95))
        scoped.append(p)
    window.batch_view.set_labels(window.batch.info.labels)
    window.batch_view.add_predictions(scoped)


def test_out_of_scope_filter_column_and_summary(qtbot, make_window, batch_folder) -> None:  # noqa: ANN001
    window = make_window()
    _scoped_batch(qtbot, window, batch_folder)
    view = window.batch_view
    assert "2 out of scope" in view.summary.text()
    view.status_filter.setCurrentIndex(view.status_filter.findText("Out of scope"))
    proxy = view.proxy
    shown = {proxy.index(r, COL_FILE).data(): proxy.index(r, COL_SCOPE).data() for r in range(proxy.rowCount())}
    assert shown == {"0_red.png": "no: hot dog", "3_red.png": "no: hot dog"}
    assert proxy.index(0, COL_CLASS).data() == "red (out of scope)"
    assert proxy.index(0, COL_SCOPE).data(0x0003) == HOT_DOG_VERDICT.reason  # tool tip: the one-line reason
    assert view.summary.text() == "2 of 6 shown · 0 unsure · 2 out of scope · 0 errors"
    view.status_filter.setCurrentIndex(view.status_filter.findData("ok"))  # confident excludes out of scope
    assert {proxy.index(r, COL_SCOPE).data() for r in range(proxy.rowCount())} == {"yes"}


def test_sort_into_folders_puts_out_of_scope_apart_only_when_asked(qtbot, make_window, batch_folder, tmp_path) -> None:  # noqa: ANN001
    window = make_window()
    _scoped_batch(qtbot, window, batch_folder)
    assert not window.scope_actions.sort_out_of_scope.isChecked()  # off by default
    with qtbot.waitSignal(window.batch.sorted, timeout=10000) as blocker:
        window.batch.sort_into(tmp_path / "plain")
    assert blocker.args[0].per_class == {"red": 2, "green": 1, "blue": 2}
    window.scope_actions.sort_out_of_scope.setChecked(True)
    with qtbot.waitSignal(window.batch.sorted, timeout=10000) as blocker:
        window.batch.sort_into(tmp_path / "apart")
    assert blocker.args[0].per_class == {"_out_of_scope": 2, "green": 1, "blue": 2}
    assert sorted(p.name for p in (tmp_path / "apart" / "_out_of_scope").iterdir()) == ["0_red.png", "3_red.png"]


# --- 4. the setting and the model details ---------------------------------------------------
def test_scope_check_setting_is_bound_to_the_state_and_remembered(qtbot, make_window) -> None:  # noqa: ANN001
    from desktop_app.ui.settings import Settings

    window = make_window()
    check = window.scope_actions.check
    assert check.isChecked() and window.state.scope_check  # on by default
    assert check in window.actions.menus["models"].actions()
    with qtbot.waitSignal(window.state.scope_check_changed, timeout=1000):
        check.trigger()
    assert not window.state.scope_check and Settings().scope_check is False
    window.state.set_scope_check(True)  # and the other way round
    assert check.isChecked()
    window.state.set_scope_check(False)
    again = make_window()
    assert not again.state.scope_check and not again.scope_actions.check.isChecked()


@needs_general
def test_model_details_say_which_check_a_model_has() -> None:
    from desktop_app.engine.registry import ModelRegistry
    from desktop_app.ui.model_dialog import overview_rows, second_opinion_text

    registry = ModelRegistry([MODELS])
    texts = {m.path.name: second_opinion_text(m) for m in registry.models}
    assert texts["efficientnet_lite0_imagenet.onnx"].startswith("General model")
    assert texts["compact_vgg.onnx"].startswith("Scope check") and "30%" in texts["compact_vgg.onnx"]
    assert texts["cifar10_via_imagenet.derived"].startswith("Built in")
    general = next(m for m in registry.models if m.path.name == GENERAL.name)
    classes = dict(overview_rows(general))["Classes"]
    assert classes.startswith("1,000: tench") and classes.endswith("(1,000 in all)") and len(classes) < 300


def test_taught_and_plain_models_in_model_details(two_models) -> None:  # noqa: ANN001
    from desktop_app.engine.registry import ModelRegistry
    from desktop_app.ui.model_dialog import second_opinion_text

    plain = ModelRegistry([two_models]).models[0]
    assert second_opinion_text(plain).startswith("None")
    taught = dataclasses.replace(plain, training={"recipe": "teach (logistic regression head)"})
    assert second_opinion_text(taught).startswith("Novelty check")


# --- 5. the model list appears with the window -----------------------------------------------
def test_model_list_is_filled_at_construction_when_the_cache_is_warm(
    qtbot, make_window, two_models, tmp_path, monkeypatch
) -> None:  # noqa: ANN001
    from desktop_app.ui.main_window import MainWindow
    from desktop_app.ui.models_controller import metadata_cached
    from desktop_app.ui.settings import Settings

    monkeypatch.setenv("IMAGE_CLASSIFIER_CACHE_DIR", str(tmp_path / "cold-cache"))
    assert not metadata_cached([two_models])
    cold = MainWindow(Settings(), model_folders=[two_models])
    qtbot.addWidget(cold)
    assert not cold.models.loaded and cold.state.models == []  # cold: read on a worker, window first
    with qtbot.waitSignal(cold.models.loaded_signal, timeout=10000):
        cold.show()
    assert metadata_cached([two_models])  # the worker filled the cache
    warm = MainWindow(Settings(), model_folders=[two_models])
    qtbot.addWidget(warm)
    assert warm.models.loaded and len(warm.state.models) == 2  # warm: listed before the window shows
    assert warm.model_bar.model_combo.isEnabled() and warm.model_bar.model_combo.count() == 2
    with qtbot.waitSignal(warm.models.loaded_signal, timeout=5000):  # still announced, from the event loop
        warm.show()
    cold.close()
    warm.close()


# --- 6. export checks its target ----------------------------------------------------------------
def test_export_refuses_one_of_the_batch_images_and_writes_nothing(qtbot, make_window, batch_folder) -> None:  # noqa: ANN001
    window = make_window()
    with qtbot.waitSignal(window.batch.finished, timeout=20000):
        window.open_paths([str(batch_folder)])
    photo = batch_folder / "0_red.png"
    before = photo.read_bytes()
    with qtbot.waitSignal(window.batch.failed, timeout=5000) as blocker:
        window.batch.export(photo)
    assert blocker.args[0] == "Export refused" and "0_red.png" in blocker.args[1]
    assert photo.read_bytes() == before
    with qtbot.waitSignal(window.batch.failed, timeout=5000) as blocker:
        window.batch.export(batch_folder)  # a folder
    assert blocker.args[0] == "Export refused"


# --- the engine's wiring, end to end (runs once scope-engine's second_opinion_for is on this branch) ----
@needs_general
def test_window_runs_the_real_scope_check_and_the_setting_turns_it_off(qtbot, make_window) -> None:  # noqa: ANN001
    window = make_window([MODELS])
    _choose(window, "VGG-style CNN")
    with qtbot.waitSignal(window.single.shown, timeout=30000) as blocker:
        window.open_paths([str(HOT_DOG)])
    assert blocker.args[0].in_scope is False and blocker.args[0].looks_like == "hot dog"
    assert window.single_view.result.title.text() == OUT_OF_SCOPE_TITLE
    with qtbot.waitSignal(window.batch.finished, timeout=60000):
        window.open_paths([str(HOT_DOG.parents[1])])
    assert sum(1 for p in window.batch_view.model.predictions() if p.in_scope is False) == 3  # the _not-cifar ones
    with qtbot.waitSignal(window.single.shown, timeout=30000) as blocker:
        window.state.set_scope_check(False)  # re-classifies the image without the check
    assert blocker.args[0].scope is None and window.single_view.result.title.text() == blocker.args[0].label
    assert not window.batch_view.rerun_button.isHidden()  # the batch was made with the check: offer a re-run
