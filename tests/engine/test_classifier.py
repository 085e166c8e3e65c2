"""Real onnxruntime sessions on small real ONNX models."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from desktop_app.engine.classifier import (
    DEFAULT_UNSURE_THRESHOLD,
    Classifier,
    clear_classifier_cache,
    get_classifier,
    make_prediction,
    make_predictions,
)
from desktop_app.engine.contract import read_model_info
from desktop_app.engine.sessions import Device
from tests.model_factory import make_classifier, solid_image


@pytest.fixture(scope="module")
def classifier(colour_model: Path) -> Classifier:
    return Classifier(read_model_info(colour_model), Device.CPU)


def test_predict_arrays(classifier: Classifier) -> None:
    batch = np.stack([solid_image(c) for c in ("red", "green", "blue")])
    probs = classifier.predict_arrays(batch)
    assert probs.shape == (3, 3)
    assert list(probs.argmax(axis=1)) == [0, 1, 2]
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert classifier.last_inference_ms is not None and classifier.last_inference_ms >= 0


def test_parallel_runs_share_one_single_threaded_session(colour_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import desktop_app.engine.classifier as classifier_module

    monkeypatch.setattr(classifier_module, "intra_op_threads", lambda: 2)
    clf = Classifier(read_model_info(colour_model), Device.CPU)
    assert clf.parallel_runs == 2
    clf.predict_arrays(np.stack([solid_image("red")]), parallel=True)
    assert clf._parallel_session is None  # a lone run (one image) never opens the side-by-side session
    batches = [np.stack([solid_image(c)] * 5) for c in ("red", "green", "blue") * 4]
    with ThreadPoolExecutor(2) as pool:
        parallel = list(pool.map(lambda b: clf.predict_arrays(b, parallel=True), batches))
    for batch, probs in zip(batches, parallel):
        np.testing.assert_allclose(probs, clf.predict_arrays(batch), atol=1e-6)
    clf._main_runs += 1  # as while another run is in the main session
    one_thread = clf._session_for(parallel=True)
    assert one_thread is not clf.session and one_thread.get_session_options().intra_op_num_threads == 1
    assert clf._session_for(parallel=True) is one_thread  # opened once
    monkeypatch.setattr(classifier_module, "intra_op_threads", lambda: 1)
    assert clf.parallel_runs == 1  # one core: folder runs go one batch at a time on the main session


@pytest.mark.parametrize("shape", [(2, 16, 16, 3), (32, 32, 3), (1, 32, 32, 4)])
def test_wrong_batch_shape_is_a_clear_value_error(classifier: Classifier, shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=r"does not match the model input \[N, 32, 32, 3\]"):
        classifier.predict_arrays(np.zeros(shape, dtype=np.float32))


def test_classify_file_and_bytes(classifier: Classifier, tmp_path: Path) -> None:
    Image.new("RGB", (64, 40), (0, 0, 255)).save(tmp_path / "blue.png")
    prediction = classifier.classify(tmp_path / "blue.png", top_k=2)
    assert prediction.ok and prediction.label == "blue" and prediction.path == str(tmp_path / "blue.png")
    assert [label for label, _ in prediction.top_k][0] == "blue" and len(prediction.top_k) == 2
    assert prediction.probabilities is not None and prediction.probabilities.shape == (3,)
    assert not prediction.unsure
    assert classifier.classify((tmp_path / "blue.png").read_bytes()).label == "blue"


def test_classify_never_raises_for_bad_images(classifier: Classifier, tmp_path: Path) -> None:
    (tmp_path / "bad.jpg").write_text("hello")
    prediction = classifier.classify(tmp_path / "bad.jpg")
    assert not prediction.ok and prediction.label is None
    assert prediction.error == "bad.jpg: not an image file Pillow can read"


def test_unsure_below_threshold() -> None:
    labels = ("a", "b", "c")
    sure = make_prediction("x", np.array([0.8, 0.1, 0.1]), labels, threshold=DEFAULT_UNSURE_THRESHOLD)
    unsure = make_prediction("x", np.array([0.4, 0.35, 0.25]), labels, threshold=DEFAULT_UNSURE_THRESHOLD)
    assert not sure.unsure and unsure.unsure and unsure.label == "a"
    assert make_prediction("x", np.array([0.2, 0.3, 0.5]), labels, top_k=10, threshold=0.5).top_k == [
        ("c", 0.5),
        ("b", pytest.approx(0.3)),
        ("a", pytest.approx(0.2)),
    ]


def test_batch_predictions_match_one_row_at_a_time() -> None:
    labels = ("a", "b", "c", "d")
    rows = np.random.default_rng(1).dirichlet(np.ones(4), size=50).astype(np.float32)
    rows[0] = [0.25, 0.25, 0.25, 0.25]  # a tie keeps label order
    batch = make_predictions([f"p{i}" for i in range(50)], rows, labels, top_k=2, threshold=0.5)
    for i, prediction in enumerate(batch):
        single = make_prediction(f"p{i}", rows[i], labels, top_k=2, threshold=0.5)
        assert (prediction.path, prediction.label, prediction.probability, prediction.top_k, prediction.unsure) == (
            single.path,
            single.label,
            single.probability,
            single.top_k,
            single.unsure,
        )
        assert prediction.label == labels[int(np.argmax(rows[i]))] and len(prediction.top_k) == 2
        assert prediction.probability == float(rows[i].max()) and prediction.unsure == (rows[i].max() < 0.5)
        np.testing.assert_array_equal(prediction.probabilities, rows[i])
    assert batch[0].top_k == [("a", 0.25), ("b", 0.25)]
    with pytest.raises(ValueError, match="3 paths but 50 rows"):
        make_predictions(["x", "y", "z"], rows, labels, threshold=0.5)


def test_grey_image_is_unsure(classifier: Classifier) -> None:
    grey = np.full((1, 32, 32, 3), 128, dtype=np.float32)
    row = classifier.predict_arrays(grey)[0]
    assert make_prediction(None, row, classifier.info.labels, threshold=DEFAULT_UNSURE_THRESHOLD).unsure


def test_cache_per_file_mtime_and_device(tmp_path: Path) -> None:
    clear_classifier_cache()
    path = make_classifier(tmp_path / "m.onnx")
    info = read_model_info(path)
    first = get_classifier(info, Device.CPU)
    assert get_classifier(info, Device.CPU) is first
    assert get_classifier(info, Device.AUTO) is not first
    import os

    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000))
    assert get_classifier(info, Device.CPU) is not first


def test_cache_is_thread_safe(tmp_path: Path) -> None:
    clear_classifier_cache()
    info = read_model_info(make_classifier(tmp_path / "t.onnx"))
    results: list[Classifier] = []
    threads = [threading.Thread(target=lambda: results.append(get_classifier(info, Device.CPU))) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(c) for c in results}) == 1
