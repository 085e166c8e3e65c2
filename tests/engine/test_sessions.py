"""Provider choice (pure, with fake provider lists) and real sessions on this machine."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from desktop_app.engine import sessions
from desktop_app.engine.sessions import (
    CPU,
    CUDA,
    Device,
    SessionReport,
    check_providers,
    choose_providers,
    create_session,
    duplicate_runtime_warning,
)

GPU_BUILD = ["TensorrtExecutionProvider", CUDA, CPU]
CPU_BUILD = ["AzureExecutionProvider", CPU]


@pytest.mark.parametrize(
    ("device", "available", "wanted", "has_notice"),
    [
        (Device.AUTO, GPU_BUILD, [CUDA, CPU], False),
        (Device.AUTO, CPU_BUILD, [CPU], False),
        (Device.CPU, GPU_BUILD, [CPU], False),
        (Device.CUDA, GPU_BUILD, [CUDA, CPU], False),
        (Device.CUDA, CPU_BUILD, [CPU], True),
        ("cuda", [], [CPU], True),
    ],
)
def test_choose_providers(device: Device, available: list[str], wanted: list[str], has_notice: bool) -> None:
    got, notice = choose_providers(device, available)
    assert got == wanted
    assert (notice is not None) == has_notice
    if notice:
        assert "CUDA was requested but is not available" in notice and "running on the CPU" in notice


def test_cuda_listed_but_not_started_is_reported() -> None:
    # onnxruntime-gpu lists CUDA but silently drops it when cuDNN is missing.
    assert "could not start" in check_providers(Device.CUDA, [CUDA, CPU], [CPU])
    assert "is installed" in check_providers(Device.AUTO, [CUDA, CPU], [CPU])
    assert check_providers(Device.AUTO, [CUDA, CPU], [CUDA, CPU]) is None
    assert check_providers(Device.CPU, [CPU], [CPU]) is None


def test_duplicate_runtime_warning() -> None:
    assert duplicate_runtime_warning(["onnxruntime", "onnxruntime_gpu"]) is not None
    assert duplicate_runtime_warning(["onnxruntime"]) is None
    assert duplicate_runtime_warning(["onnxruntime-gpu"]) is None
    assert sessions.runtime_warnings() == []  # this venv has only onnxruntime


def test_provider_label() -> None:
    assert SessionReport(Device.AUTO, (CUDA, CPU)).provider_label == "CUDA"
    assert SessionReport(Device.AUTO, (CPU,)).provider_label == "CPU"


def test_cpu_session(colour_model: Path) -> None:
    session, report = create_session(colour_model, Device.CPU)
    assert report.providers == (CPU,) and report.notice is None
    assert session.get_session_options().inter_op_num_threads == 1
    assert 1 <= session.get_session_options().intra_op_num_threads <= sessions.MAX_INTRA_OP_THREADS


@pytest.mark.skipif(CUDA in sessions.available_providers(), reason="needs a machine without CUDA")
def test_cuda_requested_falls_back_with_notice(colour_model: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="desktop_app.engine.sessions"):
        session, report = create_session(colour_model, Device.CUDA)
    assert report.requested is Device.CUDA
    assert report.providers == tuple(session.get_providers()) == (CPU,)
    assert report.provider_label == "CPU"
    assert report.notice and "CUDA was requested but is not available" in report.notice
    assert any("CUDA was requested" in r.getMessage() for r in caplog.records)


@pytest.mark.gpu
@pytest.mark.skipif(CUDA not in sessions.available_providers(), reason="needs onnxruntime-gpu and a GPU")
def test_cuda_session_on_a_gpu(colour_model: Path) -> None:
    _, report = create_session(colour_model, Device.AUTO)
    assert report.provider_label == "CUDA" and report.notice is None


def test_physical_cores_is_positive() -> None:
    assert sessions.physical_cores() >= 1


def test_intra_op_threads_stop_spinning_after_each_run() -> None:
    from desktop_app.engine.sessions import intra_op_threads, physical_cores, session_options

    options = session_options()
    assert options.get_session_config_entry("session.force_spinning_stop") == "1"
    assert options.intra_op_num_threads == intra_op_threads() == min(physical_cores(), 8)


def test_machine_description_reads_cpuinfo(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop_app.engine import machine

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        "processor\t: 0\nmodel name\t: Test CPU 9000\nphysical id\t: 0\ncore id\t: 0\n\n"
        "processor\t: 1\nmodel name\t: Test CPU 9000\nphysical id\t: 0\ncore id\t: 0\n\n"
        "processor\t: 2\nmodel name\t: Test CPU 9000\nphysical id\t: 0\ncore id\t: 1\n"
    )
    monkeypatch.setattr(machine, "CPUINFO", cpuinfo)
    monkeypatch.setattr(machine.os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    assert machine.cpu_name() == "Test CPU 9000"
    assert machine.physical_cores() == 2  # three logical CPUs on two cores
    monkeypatch.setattr(machine, "CPUINFO", tmp_path / "missing")
    assert machine.cpu_name()  # falls back to the platform's own string
