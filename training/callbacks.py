"""Callbacks of the training loop."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
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


class StopOnNaN(keras.callbacks.Callback):
    """Stop the fit after an epoch whose loss is not finite (the checkpoint keeps the best epoch).

    Checked once an epoch rather than per batch like ``keras.callbacks.TerminateOnNaN``:
    a batch-level hook would make the trainer wait for every step's result.
    """

    def __init__(self) -> None:
        super().__init__()
        self.stopped_epoch: int | None = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.stopped_epoch = epoch + 1
            self.model.stop_training = True
            print(f"loss is {loss} after epoch {epoch + 1}: stopping this phase")


class TimeBudgetSchedule(keras.callbacks.Callback):
    """Warm-up then cosine decay over a wall-clock budget; stops before the budget runs out.

    Budgeted training (Li et al., ICLR 2020): when the time, not the epoch
    count, is fixed, the schedule should still reach a small learning rate
    at the end. Progress is the larger of the elapsed share of the budget
    and the share of ``max_epochs`` done, so the schedule fits both limits
    and adapts when the step time changes (a shared GPU). The rate is set
    once per epoch, which every Keras backend honours. Training stops when
    the next epoch (the median of the last three, leaving out the first,
    which carries the compilation) would overrun the budget.
    """

    def __init__(
        self,
        peak: float,
        budget_s: float,
        max_epochs: int,
        warmup_epochs: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.peak, self.budget_s, self.max_epochs = float(peak), float(budget_s), max(1, int(max_epochs))
        self.warmup = min(int(math.ceil(warmup_epochs)), self.max_epochs // 5)
        self.clock = clock
        self.started: float | None = None
        self.warmup_done_at: float | None = None
        self.epoch_started = 0.0
        self.durations: list[float] = []
        self.rates: list[float] = []
        self.stopped_by_budget = False

    def elapsed(self) -> float:
        return 0.0 if self.started is None else self.clock() - self.started

    def rate_for(self, epoch: int) -> float:
        """The learning rate of ``epoch`` (0-based) at the current elapsed time."""
        if epoch < self.warmup:
            return self.peak * (epoch + 1) / (self.warmup + 1)
        if self.warmup_done_at is None:
            self.warmup_done_at = self.elapsed()
        span = max(1e-9, self.budget_s - self.warmup_done_at)
        by_time = (self.elapsed() - self.warmup_done_at) / span
        by_epochs = (epoch - self.warmup) / max(1, self.max_epochs - self.warmup)
        progress = min(1.0, max(by_time, by_epochs))
        return 0.5 * self.peak * (1.0 + math.cos(math.pi * progress))

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.started = self.clock()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        rate = self.rate_for(epoch)
        self.model.optimizer.learning_rate = rate
        self.rates.append(rate)
        self.epoch_started = self.clock()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.durations.append(self.clock() - self.epoch_started)
        if logs is not None:
            logs["learning_rate"] = self.rates[-1]
        steady = self.durations[1:] or [0.0]  # after the first epoch only an overrun stops it
        if self.elapsed() + statistics.median(steady[-3:]) > self.budget_s:
            self.stopped_by_budget = True
            self.model.stop_training = True
