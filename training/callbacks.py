"""Callbacks of the training loop."""

from __future__ import annotations

from pathlib import Path

import keras


class BestWeights(keras.callbacks.Callback):
    """Save ``base``'s weights whenever validation accuracy improves.

    The fitted model is a wrapper with augmentation layers; saving the base
    model keeps ``model.weights.h5`` loadable into ``build_model(name)``.
    Place it after ``SwapEMAWeights(swap_on_epoch=True)`` to save EMA weights.
    """

    def __init__(self, base: keras.Model, path: Path, monitor: str = "val_accuracy") -> None:
        super().__init__()
        self.base, self.path, self.monitor = base, Path(path), monitor
        self.best: float = -float("inf")
        self.best_epoch: int | None = None
        self.epoch_offset = 0  # epochs of earlier phases, for a global epoch number

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        value = (logs or {}).get(self.monitor)
        if value is not None and value > self.best:
            self.best, self.best_epoch = float(value), self.epoch_offset + epoch + 1
            self.base.save_weights(str(self.path))
