"""The NumPy logistic-regression head, its cross-validation and calibration."""

from __future__ import annotations

import numpy as np

from desktop_app.engine.teach_head import cross_validate, fit_head, fit_temperature, softmax, stratified_folds


def blobs(n_per_class: int, classes: int = 3, dim: int = 20, spread: float = 1.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, (classes, dim))
    x = np.concatenate([c + rng.normal(0, spread, (n_per_class, dim)) for c in centres]).astype(np.float32)
    y = np.repeat(np.arange(classes), n_per_class)
    return x, y


def test_head_learns_separable_classes() -> None:
    x, y = blobs(30)
    head = fit_head(x, y, 3, l2=1e-2)
    x_new, y_new = blobs(30, seed=0)  # same centres, fresh noise below
    x_new = x_new + np.random.default_rng(5).normal(0, 0.5, x_new.shape).astype(np.float32)
    assert (head.logits(x_new).argmax(axis=1) == y_new).mean() > 0.95


def test_stronger_l2_gives_smaller_weights() -> None:
    x, y = blobs(20)
    assert np.abs(fit_head(x, y, 3, 1.0).weights).sum() < np.abs(fit_head(x, y, 3, 1e-3).weights).sum()


def test_folds_are_stratified() -> None:
    y = np.repeat([0, 1, 2], [10, 5, 7])
    folds = stratified_folds(y, 5)
    for cls in range(3):
        counts = np.bincount(folds[y == cls], minlength=5)
        assert counts.max() - counts.min() <= 1


def test_cross_validation_never_trains_on_a_held_out_photo_or_its_copy() -> None:
    # Each "photo" has two identical rows: a split that put one on each side would score it as seen.
    x, y_photo = blobs(12, spread=8.0)
    rows = np.repeat(np.arange(len(y_photo)), 2)
    xr = x[rows]
    original = np.tile([True, False], len(y_photo))
    cv = cross_validate(xr, y_photo[rows], rows, original, 3)
    assert cv.logits.shape == (len(y_photo), 3)
    # A head that saw the photos themselves would be nearly perfect at this noise level; held out it is not.
    train_acc = (fit_head(xr, y_photo[rows], 3, cv.l2).logits(x).argmax(1) == y_photo).mean()
    held_acc = (cv.logits.argmax(1) == y_photo).mean()
    assert held_acc < train_acc


def test_temperature_softens_overconfident_logits() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    logits = np.zeros((200, 2))
    right = rng.random(200) < 0.7  # 70% right, but at 20:1 logit odds
    logits[np.arange(200), np.where(right, y, 1 - y)] = 10.0
    t = fit_temperature(logits, y)
    assert t > 3
    top = softmax(logits / t).max(axis=1).mean()
    assert abs(top - right.mean()) < 0.02  # calibrated: confidence matches the accuracy


def test_fewer_rows_than_features_gives_the_same_head_as_the_plain_descent() -> None:
    from desktop_app.engine import teach_head

    rng = np.random.default_rng(3)
    y = np.repeat(np.arange(3), 10)
    x = rng.normal(size=(30, 64)).astype(np.float32) + np.eye(3, 64, dtype=np.float32)[y] * 2
    dual = teach_head.fit_path(x, y, 3, (1.0, 0.1), steps=5000)  # 30 rows < 64 features: the rows' span
    z, mean, std = teach_head._standardise(x)
    w, b = teach_head._descend(z, y, 3, 0.1, 5000, None, dual=False)
    primal = z @ w + b
    assert [h.l2 for h in dual] == [1.0, 0.1]
    assert np.allclose(dual[1].logits(x), primal, atol=1e-3)
    assert np.abs(dual[1].weights).sum() > np.abs(dual[0].weights).sum()  # weaker L2, bigger weights


def test_big_sets_use_three_folds() -> None:
    from desktop_app.engine.teach_head import fold_count

    assert fold_count([10, 10]) == 20 and fold_count([100, 100]) == 5 and fold_count([300, 300]) == 3
