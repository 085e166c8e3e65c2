""""Unlike anything it was taught": the novelty check of a taught model.

A taught model stores, in its ``novelty`` metadata, the centre of each class
in feature space (mean direction of the L2-normalised backbone features,
float16, base64) and a distance threshold. The distance of a photo is the
cosine distance of its features to the nearest class centre; the threshold
is a high quantile of that distance measured on held-out taught photos
(each scored against centres computed without it). A photo further away
than every taught photo but a few is "unlike anything it was taught".

:func:`novelty_verdict` is pure NumPy; :class:`NoveltyCheck` opens the taught
file once with the feature tensor as a second output, so one model run gives
both the probabilities and the features.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

METADATA_KEY = "novelty"
METHOD = "cosine distance of the backbone features to the nearest class centre"
#: Share of held-out taught photos allowed past the threshold (by construction ~5% fire).
QUANTILE = 0.95


@dataclass(frozen=True)
class Verdict:
    """Whether a photo looks like what the model was taught, and why not in one line."""

    in_scope: bool
    reason: str
    distance: float
    nearest: str


def normalise(features: np.ndarray) -> np.ndarray:
    features = np.atleast_2d(np.asarray(features, np.float32))
    return features / (np.linalg.norm(features, axis=1, keepdims=True) + 1e-12)


def class_centres(features: np.ndarray, labels: np.ndarray, classes: int) -> np.ndarray:
    """Unit-length mean direction of each class's normalised features: ``(K, D)``."""
    unit = normalise(features)
    centres = np.stack([unit[labels == k].mean(axis=0) for k in range(classes)])
    return normalise(centres)


def distances(features: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cosine distance to the nearest centre and that centre's index, per row."""
    similarity = normalise(features) @ normalise(centres).T
    nearest = similarity.argmax(axis=1)
    return 1.0 - similarity[np.arange(len(similarity)), nearest], nearest


def choose_threshold(held_out_distances: np.ndarray, quantile: float = QUANTILE) -> float:
    return float(np.quantile(held_out_distances, quantile))


def encode(centres: np.ndarray, threshold: float, feature_width: int, held_out: np.ndarray) -> str:
    """The ``novelty`` metadata value (JSON text)."""
    payload = {
        "method": METHOD,
        "quantile": QUANTILE,
        "threshold": round(float(threshold), 6),
        "feature_width": int(feature_width),
        "held_out_distance": {
            "median": round(float(np.median(held_out)), 6),
            "max": round(float(np.max(held_out)), 6),
            "photos": int(len(held_out)),
        },
        "centres_float16_base64": base64.b64encode(centres.astype("<f2").tobytes()).decode("ascii"),
        "centres_shape": list(centres.shape),
    }
    return json.dumps(payload, sort_keys=True)


@dataclass(frozen=True)
class NoveltyModel:
    """Decoded ``novelty`` metadata."""

    centres: np.ndarray
    threshold: float
    labels: tuple[str, ...]

    @classmethod
    def from_metadata(cls, props: Mapping[str, str], labels: Sequence[str]) -> "NoveltyModel | None":
        """None when the model carries no novelty data (not a taught model)."""
        text = props.get(METADATA_KEY)
        if not text:
            return None
        data: dict[str, Any] = json.loads(text)
        raw = base64.b64decode(data["centres_float16_base64"])
        centres = np.frombuffer(raw, dtype="<f2").astype(np.float32).reshape(data["centres_shape"])
        return cls(centres, float(data["threshold"]), tuple(labels))


def novelty_verdict(features: np.ndarray, model: NoveltyModel) -> list[Verdict]:
    """One :class:`Verdict` per row of backbone ``features``."""
    dist, nearest = distances(features, model.centres)
    verdicts = []
    for d, k in zip(dist.tolist(), nearest.tolist()):
        label = model.labels[k]
        if d > model.threshold:
            reason = f"Unlike anything this model was taught (closest: {label})"
            verdicts.append(Verdict(False, reason, d, label))
        else:
            verdicts.append(Verdict(True, "", d, label))
    return verdicts


class NoveltyCheck:
    """A taught model's session with the features as a second output: probabilities + verdicts."""

    def __init__(self, path: str | Path) -> None:
        import onnxruntime as ort

        from desktop_app.engine.teach_graph import find_feature_tensor, load_model, with_extra_output

        source = load_model(path)
        props = source.metadata
        labels = json.loads(props.get("labels", "[]"))
        model = NoveltyModel.from_metadata(props, labels)
        if model is None:
            raise ValueError(f"{Path(path).name} has no novelty data (it was not taught by this app)")
        self.model = model
        feature, _ = find_feature_tensor(source)
        self._session = ort.InferenceSession(with_extra_output(source, feature), providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name
        self.input_size = tuple(int(d) for d in self._session.get_inputs()[0].shape[1:3])

    def run(self, batch: np.ndarray) -> tuple[np.ndarray, list[Verdict]]:
        """Probabilities ``(N, K)`` and one verdict per image of an NHWC batch (RGB 0..255)."""
        probs, features = self._session.run(None, {self._input: np.asarray(batch, np.float32)})
        return probs, novelty_verdict(features, self.model)
