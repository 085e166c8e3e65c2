"""Result files: columns, streaming JSON, and atomic replacement."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from desktop_app.engine.classifier import error_prediction, make_prediction
from desktop_app.engine.results import csv_cells, open_result_writer, prediction_row, write_results
from desktop_app.engine.verdict import ScopeVerdict

LABELS = ("cat", "dog", "bird")


def predictions() -> list:
    return [
        make_prediction("/p/a.jpg", np.array([0.91, 0.05, 0.04], dtype=np.float32), LABELS, top_k=2, threshold=0.5),
        error_prediction("/p/b.jpg", "b.jpg: the file is truncated"),
        make_prediction("/p/c ☕.jpg", np.array([0.4, 0.35, 0.25], dtype=np.float32), LABELS, threshold=0.5),
    ]


def test_csv_columns_and_values(tmp_path: Path) -> None:
    out = write_results(tmp_path / "r.csv", predictions(), LABELS, top_k=2)
    with out.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == [
        "path",
        "label",
        "probability",
        "unsure",
        "top_k",
        "model",
        "in_scope",
        "looks_like",
        "scope_reason",
        "p_cat",
        "p_dog",
        "p_bird",
        "error",
    ]
    assert rows[0]["label"] == "cat" and rows[0]["top_k"] == "cat:0.91;dog:0.05"
    assert float(rows[0]["probability"]) == pytest.approx(0.91, abs=1e-6)
    assert rows[0]["unsure"] == "False" and rows[2]["unsure"] == "True"
    assert rows[1]["label"] == "" and rows[1]["error"] == "b.jpg: the file is truncated"
    assert rows[2]["path"] == "/p/c ☕.jpg"
    assert list(tmp_path.iterdir()) == [out]


def test_json_is_a_list_of_objects(tmp_path: Path) -> None:
    out = write_results(tmp_path / "r.json", iter(predictions()), LABELS)
    data = json.loads(out.read_text(encoding="utf-8"))
    assert len(data) == 3 and data[0]["top_k"][0] == ["cat", pytest.approx(0.91)]
    assert data[1]["error"] and data[1]["p_cat"] is None and data[1]["unsure"] is None
    assert json.loads(write_results(tmp_path / "empty.json", [], LABELS).read_text()) == []


def test_error_mid_write_leaves_nothing_and_keeps_old_file(tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    out.write_text("precious old results\n")

    def exploding():  # type: ignore[no-untyped-def]
        yield predictions()[0]
        raise RuntimeError("crash mid-batch")

    with pytest.raises(RuntimeError, match="crash"):
        write_results(out, exploding(), LABELS)
    assert out.read_text() == "precious old results\n"
    assert list(tmp_path.iterdir()) == [out]  # no temp file left
    with pytest.raises(RuntimeError):
        write_results(tmp_path / "new.json", exploding(), LABELS)
    assert not (tmp_path / "new.json").exists() and list(tmp_path.iterdir()) == [out]


def test_temp_file_lives_next_to_the_destination(tmp_path: Path) -> None:
    with open_result_writer(tmp_path / "r.csv", LABELS) as writer:
        writer.write(predictions()[0])
        temps = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        assert len(temps) == 1 and not (tmp_path / "r.csv").exists()
    assert (tmp_path / "r.csv").exists() and not any(p.name.endswith(".tmp") for p in tmp_path.iterdir())
    assert (tmp_path / "r.csv").stat().st_mode & 0o777 == 0o644


def test_unknown_suffix_and_clashing_labels(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=".csv or .json"):
        open_result_writer(tmp_path / "r.xlsx", LABELS)
    pred = make_prediction("x", np.array([1.0, 0.0]), ("label", "b"), threshold=0.5)
    out = write_results(tmp_path / "r.csv", [pred], ("label", "b"))
    row = next(csv.DictReader(out.open()))
    assert row["label"] == "label" and row["p_label"] == "1.0"


def _reference_cells(prediction, labels, top_k: int) -> list[str]:
    """What the CSV writer wrote before it had its own formatter: ``prediction_row`` cells as csv renders them."""
    cells = []
    for key, value in prediction_row(prediction, labels, top_k).items():
        if value is None:
            cells.append("")
        elif key == "top_k":
            cells.append(";".join(f"{label}:{p:.6g}" for label, p in value))
        else:
            cells.append(str(value))
    return cells


def test_csv_cells_match_the_row_dict_text_exactly() -> None:
    edge = np.array([1.0, 0.0, 1e-05, 0.5, 3.3e-07, 0.1234567, 0.999999, 1 / 3, np.nan, 2.5e-38], dtype=np.float32)
    labels = [f"c{i}" for i in range(len(edge))]
    rng = np.random.default_rng(1)
    rows = [edge, *rng.dirichlet(np.full(len(edge), 0.2), 300).astype(np.float32)]
    cases = [make_prediction(f'/p/{i}, "q".jpg', row, labels, top_k=4, threshold=0.5) for i, row in enumerate(rows)]
    cases += [error_prediction("/p/broken.jpg", "broken.jpg: the file is truncated"), error_prediction(None, "x")]
    for verdict, case in zip(_VERDICTS, cases[1:]):
        case.scope = verdict
    for prediction in cases:
        for top_k in (1, 3):
            got = [str(cell) for cell in csv_cells(prediction, top_k, len(labels))]
            assert got == _reference_cells(prediction, labels, top_k)
    assert csv_cells(cases[0], 3, len(labels))[9:13] == ["1.0", "0.0", "1e-05", "0.5"]


_VERDICTS = [
    ScopeVerdict(False, "hot dog", 0.991, 0.02),
    ScopeVerdict(True, "macaw", 0.9, 0.95),
    ScopeVerdict(None, note="Too small for the check of the ten classes (under 48 pixels)"),
    ScopeVerdict(False, "=cmd", 0.5, 0.1),
]


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_scope_columns_carry_the_verdict(tmp_path: Path, fmt: str) -> None:
    """``in_scope``, ``looks_like`` and ``scope_reason``: the check's verdict; empty/null when no check ran."""
    labels = ["cat", "dog"]
    rows = []
    for i, verdict in enumerate([*_VERDICTS, None]):
        prediction = make_prediction(f"/p/{i}.jpg", np.array([0.7, 0.3], np.float32), labels, threshold=0.5)
        prediction.scope = verdict
        rows.append(prediction)
    out = write_results(tmp_path / f"r.{fmt}", rows, labels)
    if fmt == "json":
        got = [(r["in_scope"], r["looks_like"], r["scope_reason"]) for r in json.loads(out.read_text("utf-8"))]
        assert got == [
            (False, "hot dog", "None of the ten classes: this looks like a hot dog (99%)"),
            (True, "macaw", None),
            (None, None, "Too small for the check of the ten classes (under 48 pixels)"),
            (False, "=cmd", "None of the ten classes: this looks like a =cmd (50%)"),
            (None, None, None),
        ]
    else:
        with out.open(encoding="utf-8", newline="") as f:
            got = [(r["in_scope"], r["looks_like"], r["scope_reason"]) for r in csv.DictReader(f)]
        assert got == [
            ("False", "hot dog", "None of the ten classes: this looks like a hot dog (99%)"),
            ("True", "macaw", ""),
            ("", "", "Too small for the check of the ten classes (under 48 pixels)"),
            ("False", "'=cmd", "None of the ten classes: this looks like a =cmd (50%)"),  # a formula start is escaped
            ("", "", ""),
        ]
