"""The wall-clock budget schedule: decays over the time it gets and stops before overrunning."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from training.callbacks import TimeBudgetSchedule


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _run(schedule: TimeBudgetSchedule, clock: FakeClock, epoch_seconds, max_epochs: int) -> SimpleNamespace:
    model = SimpleNamespace(optimizer=SimpleNamespace(learning_rate=None), stop_training=False)
    schedule.set_model(model)
    schedule.on_train_begin()
    for epoch in range(max_epochs):
        schedule.on_epoch_begin(epoch)
        assert model.optimizer.learning_rate == schedule.rates[-1]
        clock.now += epoch_seconds(epoch)
        logs: dict = {}
        schedule.on_epoch_end(epoch, logs)
        assert logs["learning_rate"] == schedule.rates[-1]
        if model.stop_training:
            break
    return model


def test_warm_up_then_cosine_down_and_a_stop_before_the_budget_runs_out():
    clock = FakeClock()
    schedule = TimeBudgetSchedule(0.1, budget_s=100.0, max_epochs=1000, warmup_epochs=3, clock=clock)
    model = _run(schedule, clock, lambda epoch: 30.0 if epoch == 0 else 2.0, 1000)  # compile, then 2 s
    rates = schedule.rates
    assert rates[:3] == pytest.approx([0.025, 0.05, 0.075])
    after = rates[3:]
    assert after[0] == pytest.approx(0.1) and all(a >= b for a, b in zip(after, after[1:]))
    assert model.stop_training and schedule.stopped_by_budget
    assert schedule.elapsed() <= 100.0 and schedule.elapsed() > 100.0 - 2 * 2.0
    assert rates[-1] < 0.002  # the last epoch ran at a nearly decayed rate


def test_speeding_up_mid_run_never_raises_the_rate_again():
    clock = FakeClock()
    schedule = TimeBudgetSchedule(1.0, budget_s=60.0, max_epochs=500, clock=clock)
    _run(schedule, clock, lambda epoch: 4.0 if epoch < 5 else 0.5, 500)  # a neighbour on the GPU finished
    assert all(a >= b for a, b in zip(schedule.rates, schedule.rates[1:]))
    assert schedule.stopped_by_budget and len(schedule.rates) > 60


def test_a_generous_budget_follows_the_epoch_count_to_the_end():
    clock = FakeClock()
    schedule = TimeBudgetSchedule(0.5, budget_s=10_000.0, max_epochs=11, warmup_epochs=1, clock=clock)
    model = _run(schedule, clock, lambda epoch: 1.0, 11)
    assert not model.stop_training and not schedule.stopped_by_budget
    assert len(schedule.rates) == 11
    assert schedule.rates[1] == pytest.approx(0.5)
    assert schedule.rates[-1] == pytest.approx(0.25 * (1 + math.cos(math.pi * 0.9)))  # 9 of 10 cosine epochs done
