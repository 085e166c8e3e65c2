"""Status bar widgets: the provider really in use, the last inference time, fallback notices."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLabel, QStatusBar


class StatusWidgets:
    """Permanent labels on the right of the status bar."""

    def __init__(self, bar: QStatusBar) -> None:
        self.notice = QLabel(bar)
        self.notice.setVisible(False)
        self.provider = QLabel("No model loaded", bar)
        self.provider.setToolTip("The onnxruntime execution provider the current model really runs on")
        self.timing = QLabel(bar)
        self.timing.setToolTip("Time of the last model run (one image, without decoding)")
        bar.addPermanentWidget(self.notice)
        bar.addPermanentWidget(self.provider)
        bar.addPermanentWidget(self.timing)

    def show_report(self, report: Any, inference_ms: float | None) -> None:
        """Show an engine ``SessionReport`` and the last inference time (None keeps the old one)."""
        self.provider.setText(f"Running on {report.provider_label}")
        self.provider.setToolTip("Execution providers in use: " + ", ".join(report.providers))
        if inference_ms is not None:
            self.timing.setText(f"{inference_ms:.1f} ms")
        if report.notice:
            short = "CUDA not available: running on the CPU" if "CPU" in report.notice else report.notice
            self.notice.setText(f"\u26a0 {short}")
            self.notice.setToolTip(report.notice)
            self.notice.setVisible(True)
        else:
            self.notice.clear()
            self.notice.setVisible(False)
