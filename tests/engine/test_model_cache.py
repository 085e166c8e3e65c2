"""The model metadata cache: read once per file version, same verdicts as a direct read, no session on a hit."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from desktop_app.engine import contract, model_cache
from desktop_app.engine.contract import ModelContractError, read_model_info
from desktop_app.engine.model_cache import CACHE_FILE, cached_model_info
from desktop_app.engine.registry import ModelRegistry
from tests.model_factory import colour_metadata, make_classifier


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("IMAGE_CLASSIFIER_CACHE_DIR", str(folder))
    return folder / CACHE_FILE


@pytest.fixture()
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Counts the real (session-opening) reads."""
    calls: list[Path] = []
    real = contract.read_model_specs

    def counting(path):  # type: ignore[no-untyped-def]
        calls.append(Path(path))
        return real(path)

    monkeypatch.setattr(model_cache, "read_model_specs", counting)
    return calls


def test_second_read_comes_from_the_cache(tmp_path: Path, cache: Path, reads: list[Path]) -> None:
    model = make_classifier(tmp_path / "m.onnx", metadata=colour_metadata(display_name="Cached"))
    first = cached_model_info(model)
    assert cache.is_file() and len(reads) == 1
    model_cache._entries = None  # as a new process: only the file on disk
    second = cached_model_info(model)
    assert len(reads) == 1
    assert second == first == read_model_info(model)


def test_changed_file_is_read_again(tmp_path: Path, cache: Path, reads: list[Path]) -> None:
    model = make_classifier(tmp_path / "m.onnx", metadata=colour_metadata(display_name="Old"))
    assert cached_model_info(model).display_name == "Old"
    make_classifier(model, metadata=colour_metadata(display_name="New name, longer"))
    os.utime(model, ns=(1, 1))  # a different mtime even on a coarse clock
    assert cached_model_info(model).display_name == "New name, longer"
    assert len(reads) == 2


def test_cached_contract_violation_is_refused_with_the_same_words(tmp_path: Path, cache: Path) -> None:
    model = make_classifier(tmp_path / "bad.onnx", omit_labels=True)
    with pytest.raises(ModelContractError) as direct:
        read_model_info(model)
    for _ in range(2):
        with pytest.raises(ModelContractError) as cached:
            cached_model_info(model)
        assert cached.value.problems == direct.value.problems


def test_corrupt_or_unwritable_cache_is_ignored(tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = make_classifier(tmp_path / "m.onnx")
    cache.parent.mkdir(parents=True)
    cache.write_text("{not json")
    model_cache._entries = None
    assert cached_model_info(model).labels == read_model_info(model).labels
    assert json.loads(cache.read_text())["version"] == 1
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")
    monkeypatch.setenv("IMAGE_CLASSIFIER_CACHE_DIR", str(blocked))
    assert cached_model_info(model).labels == read_model_info(model).labels


def test_registry_scan_opens_no_session_once_cached(tmp_path: Path, cache: Path, reads: list[Path]) -> None:
    make_classifier(tmp_path / "models" / "a.onnx")
    make_classifier(tmp_path / "models" / "b.onnx")
    assert len(ModelRegistry([tmp_path / "models"]).models) == 2 and len(reads) == 2
    model_cache._entries = None
    assert len(ModelRegistry([tmp_path / "models"]).models) == 2 and len(reads) == 2
