"""The training loop: recipe -> optimizer, schedule, augmentation wrapper, phases, checkpoint.

Backend-agnostic Keras 3 (no TensorFlow APIs, no ``tf.data``): the same code
trains on TensorFlow on a laptop and on JAX on the GPU machine. Transfer
models train in two phases: the head on the frozen backbone, then
(optionally) the top of the backbone at a low learning rate, BatchNorm kept
frozen. The checkpoint is the best validation accuracy over all epochs;
the test split is never looked at here.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import keras

from training.augment import ArrayBatches, one_hot, steps_per_epoch, training_wrapper
from training.callbacks import BestWeights, StopOnNaN, TimeBudgetSchedule
from training.data import Dataset
from training.models import build_model, get_spec
from training.recipes import Recipe
from training.runtime import compute_policy, dtype_policy

WEIGHTS_NAME = "model.weights.h5"
HISTORY_KEYS = ("accuracy", "val_accuracy", "loss", "val_loss")


@dataclass
class FitResult:
    """The base model (best weights loaded) and how it got there."""

    model: keras.Model
    history: dict[str, list[float]]
    epochs: int
    best_epoch: int | None
    best_val_accuracy: float | None
    duration_s: float
    policy: str
    weights_path: Path
    stopped_by_budget: bool = False
    epoch_seconds: list[float] | None = None  # wall time of each epoch of a time-budgeted phase


def lr_schedule(peak: float, epochs: int, steps: int, warmup_epochs: float) -> keras.optimizers.schedules.CosineDecay:
    """Linear warm-up to ``peak``, then cosine decay to zero at the last step.

    The warm-up takes at most a fifth of the schedule (short smoke runs).
    """
    total = max(1, epochs * steps)
    warmup = min(int(round(warmup_epochs * steps)), total // 5)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=peak / 100 if warmup else peak,
        decay_steps=max(1, total - warmup),
        warmup_target=peak if warmup else None,
        warmup_steps=warmup,
    )


def ema_for(momentum: float | None, total_steps: int) -> float | None:
    """The EMA momentum, shortened so its horizon 1/(1-m) is at most a tenth of the run.

    Without this a short run would be evaluated with weights from its first steps.
    """
    if momentum is None:
        return None
    return max(0.0, min(momentum, 1 - 10 / max(1, total_steps)))


def make_optimizer(
    kind: str, schedule, weight_decay: float, ema_momentum: float | None, clipnorm: float | None = None
) -> keras.optimizers.Optimizer:
    """SGD with Nesterov momentum or AdamW; decoupled decay, none on biases and BatchNorm.

    ``clipnorm`` clips the global norm of each step's gradients (None: no clipping).
    """
    common = {
        "weight_decay": weight_decay,
        "global_clipnorm": clipnorm,
        "use_ema": ema_momentum is not None,
        "ema_momentum": 0.99 if ema_momentum is None else ema_momentum,
    }
    if kind == "sgd":
        opt = keras.optimizers.SGD(schedule, momentum=0.9, nesterov=True, **common)
    elif kind == "adamw":
        opt = keras.optimizers.AdamW(schedule, **common)
    else:
        raise ValueError(f"unknown optimizer {kind!r}; use 'sgd' or 'adamw'")
    opt.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])
    return opt


def unfreeze_backbone(model: keras.Model, top_layers: int | None, *, train_batchnorm: bool = False) -> int:
    """Make the last ``top_layers`` backbone layers (None: all) trainable.

    BatchNorm stays frozen in inference mode unless ``train_batchnorm``: then
    the unfrozen BatchNorm layers that support it (``batch_statistics``, as
    EfficientNet-Lite0's) normalise with batch statistics while training,
    update their moving statistics and train their scale and offset.
    Returns the number of trainable weights of the backbone afterwards.
    """
    backbone = model.get_layer("backbone")
    backbone.trainable = True
    inner = getattr(backbone, "layers", [])
    if top_layers is not None and inner:
        for layer in inner[: max(0, len(inner) - top_layers)]:
            layer.trainable = False
    for layer in inner:
        if isinstance(layer, keras.layers.BatchNormalization) and layer.trainable:
            if train_batchnorm and hasattr(layer, "batch_statistics"):
                layer.batch_statistics = True
            else:
                layer.trainable = False
    return sum(int(keras.ops.size(w)) for w in backbone.trainable_weights)


class Phase(NamedTuple):
    """One training phase: the whole fit of a model from scratch, or a transfer model's head / fine-tune."""

    name: str
    epochs: int
    optimizer: str
    peak: float  # learning rate reached after the warm-up
    weight_decay: float
    clipnorm: float | None  # global gradient norm limit (None: no clipping)


def _phases(name: str, recipe: Recipe) -> list[Phase]:
    """The training phases of model ``name`` under ``recipe``, in order."""
    transfer = get_spec(name).transfer
    phases = [
        Phase(
            "head" if transfer else "train",
            recipe.epochs,
            recipe.optimizer,
            recipe.learning_rate,
            recipe.weight_decay,
            None,
        )
    ]
    if transfer and recipe.fine_tune_epochs > 0:
        decay = recipe.weight_decay if recipe.fine_tune_weight_decay is None else recipe.fine_tune_weight_decay
        phases.append(
            Phase(
                "fine-tune",
                recipe.fine_tune_epochs,
                recipe.fine_tune_optimizer,
                recipe.fine_tune_learning_rate,
                decay,
                recipe.fine_tune_clipnorm,
            )
        )
    return phases


def fit_model(
    name: str,
    dataset: Dataset,
    recipe: Recipe,
    out_dir: str | Path,
    *,
    seed: int = 0,
    tiny: bool = False,
    backbone_weights: str | Path | None = None,
    verbose: int | str | None = None,
    time_budget_s: float | None = None,
) -> FitResult:
    """Train model ``name`` on ``dataset`` by ``recipe``; write ``model.weights.h5`` to ``out_dir``.

    ``time_budget_s``: wall-clock seconds for the whole fit. The last phase
    then runs a :class:`TimeBudgetSchedule` (the recipe's epochs become a
    maximum) over what the earlier phases left, so a run on a shared or
    unknown machine ends on time with a fully decayed learning rate.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    weights_path = out / WEIGHTS_NAME
    keras.utils.set_random_seed(seed)
    policy = compute_policy(recipe.mixed_precision)
    num_classes = len(dataset.labels)
    with dtype_policy(policy):
        base = build_model(name, num_classes=num_classes, tiny=tiny, backbone_weights=backbone_weights)
        wrapper = training_wrapper(base, recipe, seed)
    batches = ArrayBatches(
        dataset.x_train, dataset.y_train, num_classes, recipe.batch_size, seed=seed, mixup_alpha=recipe.mixup_alpha
    )
    validation = (dataset.x_val.astype("float32"), one_hot(dataset.y_val, num_classes))
    steps = steps_per_epoch(len(dataset.x_train), recipe.batch_size)
    checkpoint = BestWeights(base, weights_path)
    history: dict[str, list[float]] = {key: [] for key in HISTORY_KEYS}
    if verbose is None:
        verbose = 1 if sys.stdout.isatty() else 2
    started = time.perf_counter()
    stopped_by_budget = False
    epoch_seconds: list[float] | None = None
    phases = [phase for phase in _phases(name, recipe) if phase.epochs > 0]
    for index, (phase, epochs, kind, peak, decay, clipnorm) in enumerate(phases):
        if phase == "fine-tune":
            if weights_path.exists():
                base.load_weights(str(weights_path))
            unfreeze_backbone(base, recipe.fine_tune_layers, train_batchnorm=recipe.fine_tune_batchnorm)
        budget = None
        if time_budget_s is not None and index == len(phases) - 1:
            budget = TimeBudgetSchedule(
                peak, time_budget_s - (time.perf_counter() - started), epochs, recipe.warmup_epochs
            )
        optimizer = make_optimizer(
            kind,
            peak / 100 if budget is not None else lr_schedule(peak, epochs, steps, recipe.warmup_epochs),
            decay,
            ema_for(recipe.ema_momentum, epochs * steps),
            clipnorm,
        )
        wrapper.compile(
            optimizer=optimizer,
            loss=keras.losses.CategoricalCrossentropy(label_smoothing=recipe.label_smoothing),
            metrics=["accuracy"],
        )
        callbacks: list[keras.callbacks.Callback] = [StopOnNaN()]
        if budget is not None:
            callbacks.append(budget)
        if recipe.ema_momentum is not None:
            callbacks.append(keras.callbacks.SwapEMAWeights(swap_on_epoch=True))
        callbacks.append(checkpoint)
        limit = f"at most {epochs} epoch(s) in {budget.budget_s:.0f} s" if budget is not None else f"{epochs} epoch(s)"
        print(f"[{name}] {phase}: {limit}, {steps} steps of {batches.batch_size}, {kind} peak lr {peak:g}, {policy}")
        fitted = wrapper.fit(batches, epochs=epochs, validation_data=validation, callbacks=callbacks, verbose=verbose)
        for key in HISTORY_KEYS:
            history[key] += [float(v) for v in fitted.history.get(key, [])]
        checkpoint.epoch_offset += len(fitted.history.get("loss", [])) or epochs
        if budget is not None:
            stopped_by_budget, epoch_seconds = budget.stopped_by_budget, [round(d, 2) for d in budget.durations]
    duration = time.perf_counter() - started
    if weights_path.exists():
        base.load_weights(str(weights_path))
    else:  # no validation metric was ever logged
        base.save_weights(str(weights_path))
    return FitResult(
        model=base,
        history=history,
        epochs=checkpoint.epoch_offset,
        best_epoch=checkpoint.best_epoch,
        best_val_accuracy=None if checkpoint.best_epoch is None else checkpoint.best,
        duration_s=duration,
        policy=policy,
        weights_path=weights_path,
        stopped_by_budget=stopped_by_budget,
        epoch_seconds=epoch_seconds,
    )
