"""Pure helpers and single widgets of the UI (no main window)."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest
from PySide6.QtCore import QMimeData, QUrl
from PySide6.QtGui import QImage

from desktop_app.ui.batch_view import progress_text
from desktop_app.ui.compare_view import agreement_text
from desktop_app.ui.drop_area import DropArea, image_from_mime, paths_from_mime
from desktop_app.ui.heatmap import ConfusionHeatmap, row_shares
from desktop_app.ui.probability_bars import ProbabilityBars, percent_text
from desktop_app.ui.sorting import copy_into_class_folders, free_path, safe_folder_name


@pytest.mark.parametrize(
    ("p", "text"), [(0.9964, "99.6%"), (0.0027, "0.27%"), (0.0004, "0.04%"), (0.00001, "<0.01%"), (0.0, "0%")]
)
def test_percent_text(p: float, text: str) -> None:
    assert percent_text(p) == text


def test_probability_bars_paint_and_report(qtbot) -> None:  # noqa: ANN001
    bars = ProbabilityBars()
    qtbot.addWidget(bars)
    bars.set_probabilities(["cat", "dog", "frog"], [0.2, 0.7, 0.1])
    assert bars.top_label() == "dog"
    assert "dog: 70.0%" in bars.toolTip()
    bars.resize(bars.sizeHint())
    assert bars.sizeHint().height() > 3 * bars.fontMetrics().height()
    assert not bars.grab().isNull()


def test_progress_text() -> None:
    p = SimpleNamespace(done=120, total=4000, failed=2, elapsed_s=1.0, rate=120.0, eta_s=32.3)
    assert progress_text(p) == "120 / 4,000 images · 120 img/s · about 32 s left · 2 errors"
    p.total = None
    p.eta_s = None
    assert progress_text(p, cancelled=True) == "120 images · 120 img/s · cancelled · 2 errors"


def test_agreement_text() -> None:
    assert agreement_text(["cat", "cat"]) == "All 2 models say cat."
    assert agreement_text(["cat", "dog", "cat"]) == "2 of 3 models say cat; the others disagree."
    assert agreement_text([]) == "No model could classify this image."


def test_row_shares_and_heatmap_paint(qtbot) -> None:  # noqa: ANN001
    assert row_shares([[3, 1], [0, 0]]) == [[0.75, 0.25], [0.0, 0.0]]
    heatmap = ConfusionHeatmap(["a", "b"], [[3, 1], [2, 2]])
    qtbot.addWidget(heatmap)
    heatmap.resize(heatmap.sizeHint())
    assert not heatmap.grab().isNull()


def test_mime_helpers(tmp_path) -> None:  # noqa: ANN001
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path / "a.png")), QUrl("https://example.com/b.png")])
    assert paths_from_mime(mime) == [str(tmp_path / "a.png")]  # remote URLs are not files
    image = QImage(4, 4, QImage.Format.Format_RGB32)
    image.fill(0)
    mime = QMimeData()
    mime.setImageData(image)
    assert image_from_mime(mime).size() == image.size()
    assert image_from_mime(QMimeData()) is None


def test_drop_area_ignores_mime_without_files_or_images(qtbot) -> None:  # noqa: ANN001
    area = DropArea()
    qtbot.addWidget(area)
    mime = QMimeData()
    mime.setText("hello")
    with qtbot.assertNotEmitted(area.paths_dropped):
        assert area.handle_mime(mime) is False


def test_safe_folder_name() -> None:
    assert safe_folder_name("cat") == "cat"
    assert safe_folder_name("a/b:c*?") == "a_b_c__"
    assert safe_folder_name("...") == "_"


def test_copy_into_class_folders_handles_clashes_and_keeps_originals(tmp_path) -> None:  # noqa: ANN001
    src_a = tmp_path / "in" / "a"
    src_b = tmp_path / "in" / "b"
    src_a.mkdir(parents=True)
    src_b.mkdir()
    (src_a / "x.jpg").write_bytes(b"first")
    (src_b / "x.jpg").write_bytes(b"second")
    dest = tmp_path / "out"
    (dest / "cat").mkdir(parents=True)
    (dest / "cat" / "x.jpg").write_bytes(b"already there")
    report = copy_into_class_folders(
        [(src_a / "x.jpg", "cat"), (src_b / "x.jpg", "cat"), (tmp_path / "missing.jpg", "dog")], dest
    )
    assert (dest / "cat" / "x.jpg").read_bytes() == b"already there"  # never overwritten
    assert (dest / "cat" / "x (2).jpg").read_bytes() == b"first"
    assert (dest / "cat" / "x (3).jpg").read_bytes() == b"second"
    assert report.renamed == 2 and report.per_class == {"cat": 2}
    assert [p.name for p, _ in report.failed] == ["missing.jpg"]
    assert (src_a / "x.jpg").exists() and (src_b / "x.jpg").exists()  # copies, not moves
    assert free_path(tmp_path / "new.txt") == tmp_path / "new.txt"


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="needs POSIX permissions and a non-root user")
def test_copy_into_unwritable_destination_reports_failures(tmp_path) -> None:  # noqa: ANN001
    src = tmp_path / "a.jpg"
    src.write_bytes(b"x")
    dest = tmp_path / "locked"
    dest.mkdir()
    dest.chmod(0o500)
    try:
        report = copy_into_class_folders([(src, "cat")], dest)
    finally:
        dest.chmod(0o700)
    assert report.copied == [] and len(report.failed) == 1


def test_emit_helper_keeps_the_reference_count_of_true() -> None:
    """PySide6 6.12.0 drops a reference of True per Python emit(); the helper repays it."""
    import sys

    from PySide6.QtCore import QObject, Signal

    from desktop_app.ui.signals import emit

    class Source(QObject):
        changed = Signal(object)

    source = Source()
    received = []
    source.changed.connect(received.append)
    before = sys.getrefcount(True)
    for i in range(500):
        emit(source.changed, i)
    assert len(received) == 500
    assert abs(sys.getrefcount(True) - before) < 50  # would be -500 with a bare emit() on 6.12.0
