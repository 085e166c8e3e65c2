"""The novelty check's decision, on arrays (no model needed)."""

from __future__ import annotations

import json

import numpy as np

from desktop_app.engine import novelty


def test_profile_takes_each_photos_top_classes_and_their_neighbours() -> None:
    probs = np.zeros((2, 40), np.float32)
    probs[0, [10, 11]] = [0.7, 0.3]
    probs[1, 30] = 1.0
    profile = novelty.general_profile(probs, top=1, neighbours=2)
    assert profile.tolist() == [8, 9, 10, 11, 12, 28, 29, 30, 31, 32]
    assert novelty.general_mass(probs, profile).tolist() == [1.0, 1.0]


def test_either_signal_fires() -> None:
    thresholds = novelty.Thresholds(distance=0.5, mass=0.2)
    fired = thresholds.fires(np.array([0.1, 0.9, 0.1, 0.9]), np.array([0.9, 0.9, 0.1, 0.1]))
    assert fired.tolist() == [False, True, True, True]
    assert thresholds.fires(np.array([0.1, 0.9]), None).tolist() == [False, True]


def test_thresholds_follow_the_held_out_spread() -> None:
    rng = np.random.default_rng(0)
    dist, mass = rng.uniform(0, 1, 1000), rng.uniform(0, 1, 1000)
    thresholds = novelty.Thresholds.from_held_out(dist, mass)
    assert 0.03 <= thresholds.fires(dist, mass).mean() <= 0.07


def _metadata(profile: list[int] | None) -> dict[str, str]:
    centres = novelty.class_centres(np.eye(3, 4, dtype=np.float32), np.arange(3), 3)
    held = np.array([0.1, 0.2, 0.3])
    text = novelty.encode(centres, novelty.Thresholds(0.25, 0.5), np.array(profile or [0]), 4, held, held)
    data = json.loads(text)
    if profile is None:  # a file taught before the general-model view
        for key in ("general_profile", "mass_threshold"):
            data.pop(key)
    return {novelty.METADATA_KEY: json.dumps(data)}


def test_metadata_round_trip_and_the_decision() -> None:
    model = novelty.NoveltyModel.from_metadata(_metadata([0, 1]), ["a", "b", "c"])
    assert model is not None and model.profile.tolist() == [0, 1] and model.thresholds.mass == 0.5
    feats = np.array([[1, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]], np.float32)
    general = np.array([[0.9, 0.1, 0.0], [0.1, 0.0, 0.9], [0.9, 0.1, 0.0]], np.float32)
    unlike, nearest = model.out_of_scope(feats, general)
    assert unlike.tolist() == [False, True, True] and nearest[0] == 0
    verdicts = novelty.verdicts(feats, model, general, ["x", "y", "z"])
    assert verdicts[0].in_scope and verdicts[0].looks_like == "a"
    assert not verdicts[1].in_scope and verdicts[1].looks_like == "z"
    assert verdicts[1].reason == "Unlike anything this model was taught"


def test_older_files_use_the_distance_alone() -> None:
    model = novelty.NoveltyModel.from_metadata(_metadata(None), ["a", "b", "c"])
    assert model is not None and model.profile is None and model.thresholds.mass is None
    feats = np.array([[1, 0, 0, 0]], np.float32)
    assert model.out_of_scope(feats, np.array([[0.0, 0.0, 1.0]]))[0].tolist() == [False]
    assert novelty.NoveltyModel.from_metadata({}, ["a"]) is None
