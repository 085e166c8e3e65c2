""" ""Unlike anything it was taught": the novelty check of a taught model.

Two signals, each with a threshold set on held-out taught photos (each
scored against what the other folds taught), and a photo is "unlike
anything this model was taught" when either fires:

1. Feature distance: the cosine distance of the photo's backbone features to
   the nearest class centre (mean direction of the L2-normalised features of
   a class). Threshold: the :data:`DISTANCE_QUANTILE` quantile of the held-out
   distances.
2. The general model's view: the probability the general (ImageNet) model
   gives the ImageNet classes the taught photos resemble (each taught
   photo's top :data:`PROFILE_TOP` classes, widened by :data:`PROFILE_NEIGHBOURS`
   class indices either side: ImageNet's class order follows WordNet, so
   neighbours are related kinds, e.g. other dog breeds). Threshold: the
   :data:`MASS_QUANTILE` quantile of the held-out masses (low mass fires).

Both live in the ``novelty`` metadata (centres as float16 base64, the profile
as a list of class indices). Numbers: docs/results.md, "Taught models".
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from desktop_app.engine.verdict import ScopeVerdict

if TYPE_CHECKING:
    from desktop_app.engine.contract import ModelInfo

#: The note of an out-of-scope verdict (what people read).
UNLIKE = "Unlike anything this model was taught"

METADATA_KEY = "novelty"
METHOD = (
    "cosine distance of the backbone features to the nearest class centre, or low general-model "
    "probability on the ImageNet classes the taught photos resemble"
)
#: Quantiles of the held-out spread used as thresholds (together ~5% of held-out taught photos fire).
DISTANCE_QUANTILE = 0.975
MASS_QUANTILE = 0.025
#: The general-model profile: each taught photo's top classes, widened by this many class indices each side.
PROFILE_TOP = 5
PROFILE_NEIGHBOURS = 4
#: Rows of general-model probabilities ranked at a time (memory stays flat in the number of photos).
PROFILE_CHUNK = 256


def normalise(features: np.ndarray) -> np.ndarray:
    features = np.atleast_2d(np.asarray(features, np.float32))
    return cast(np.ndarray, features / (np.linalg.norm(features, axis=1, keepdims=True) + 1e-12))


def class_centres(features: np.ndarray, labels: np.ndarray, classes: int) -> np.ndarray:
    """Unit-length mean direction of each class's normalised features: ``(K, D)``."""
    centres = np.stack([normalise(features[labels == k]).mean(axis=0) for k in range(classes)])  # a class at a time
    return normalise(centres)


def distances(features: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cosine distance to the nearest centre and that centre's index, per row."""
    similarity = normalise(features) @ normalise(centres).T
    nearest = similarity.argmax(axis=1)
    return 1.0 - similarity[np.arange(len(similarity)), nearest], nearest


def general_profile(
    probabilities: np.ndarray, top: int = PROFILE_TOP, neighbours: int = PROFILE_NEIGHBOURS
) -> np.ndarray:
    """Sorted class indices of the general model that ``(N, C)`` taught photos resemble (see module doc)."""
    probabilities = np.asarray(probabilities).reshape(-1, np.shape(probabilities)[-1])
    width = probabilities.shape[1]
    k = min(top, width)
    found: set[int] = set()
    for start in range(0, len(probabilities), PROFILE_CHUNK):  # a full sort of 4,000 x 1,000 is 64 MB of temporaries
        block = -probabilities[start : start + PROFILE_CHUNK].astype(np.float32)
        found.update(np.argpartition(block, k - 1, axis=1)[:, :k].ravel().tolist())
    wanted = np.zeros(width, bool)
    for index in found:
        wanted[max(0, index - neighbours) : index + neighbours + 1] = True
    return np.flatnonzero(wanted)


def general_mass(probabilities: np.ndarray, profile: np.ndarray) -> np.ndarray:
    """``(N,)`` general-model probability on the ``profile`` classes."""
    return cast(np.ndarray, np.atleast_2d(np.asarray(probabilities))[:, profile].astype(np.float32).sum(axis=1))


@dataclass(frozen=True)
class Thresholds:
    """Both thresholds, chosen on held-out scores of taught photos."""

    distance: float
    mass: float | None  # None: no general-model view (an old file)

    @classmethod
    def from_held_out(cls, distance: np.ndarray, mass: np.ndarray) -> Thresholds:
        return cls(float(np.quantile(distance, DISTANCE_QUANTILE)), float(np.quantile(mass, MASS_QUANTILE)))

    def fires(self, distance: np.ndarray, mass: np.ndarray | None) -> np.ndarray:
        """``(N,)`` bool: unlike anything taught."""
        unlike = np.asarray(distance) > self.distance
        if self.mass is not None and mass is not None:
            unlike = unlike | (np.asarray(mass) < self.mass)
        return unlike


def encode(
    centres: np.ndarray,
    thresholds: Thresholds,
    profile: np.ndarray,
    feature_width: int,
    held_distance: np.ndarray,
    held_mass: np.ndarray,
) -> str:
    """The ``novelty`` metadata value (JSON text)."""
    payload = {
        "method": METHOD,
        "quantile": DISTANCE_QUANTILE,
        "threshold": round(float(thresholds.distance), 6),
        "feature_width": int(feature_width),
        "held_out_distance": {
            "median": round(float(np.median(held_distance)), 6),
            "max": round(float(np.max(held_distance)), 6),
            "photos": int(len(held_distance)),
        },
        "centres_float16_base64": base64.b64encode(centres.astype("<f2").tobytes()).decode("ascii"),
        "centres_shape": list(centres.shape),
        "general_profile": [int(i) for i in profile],
        "general_profile_rule": {"top": PROFILE_TOP, "neighbours": PROFILE_NEIGHBOURS},
        "mass_quantile": MASS_QUANTILE,
        "mass_threshold": round(float(thresholds.mass), 6) if thresholds.mass is not None else None,
        "held_out_mass_median": round(float(np.median(held_mass)), 6),
        "held_out_flagged": round(float(thresholds.fires(held_distance, held_mass).mean()), 4),
    }
    return json.dumps(payload, sort_keys=True)


@dataclass(frozen=True)
class NoveltyModel:
    """Decoded ``novelty`` metadata: class centres and a distance threshold."""

    centres: np.ndarray
    thresholds: Thresholds
    labels: tuple[str, ...]
    profile: np.ndarray | None = None

    @classmethod
    def from_metadata(cls, props: Mapping[str, str], labels: Sequence[str]) -> NoveltyModel | None:
        """None when the model carries no novelty data (not a taught model)."""
        text = props.get(METADATA_KEY)
        if not text:
            return None
        data: dict[str, Any] = json.loads(text)
        raw = base64.b64decode(data["centres_float16_base64"])
        centres = np.frombuffer(raw, dtype="<f2").astype(np.float32).reshape(data["centres_shape"])
        mass = data.get("mass_threshold")
        profile = data.get("general_profile")
        thresholds = Thresholds(float(data["threshold"]), float(mass) if mass is not None and profile else None)
        return cls(centres, thresholds, tuple(labels), np.array(profile, int) if profile else None)

    def out_of_scope(
        self, features: np.ndarray, general_probabilities: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(N,)`` bool "unlike anything taught" and the nearest centre's index, per row of features."""
        dist, nearest = distances(features, self.centres)
        mass: np.ndarray | None = None
        if (
            general_probabilities is not None
            and self.profile is not None
            and np.shape(general_probabilities)[-1] > int(self.profile.max(initial=0))
        ):
            mass = general_mass(general_probabilities, self.profile)
        return self.thresholds.fires(dist, mass), nearest


def verdicts(
    features: np.ndarray, model: NoveltyModel, general_probabilities: np.ndarray, general_labels: Sequence[str]
) -> list[ScopeVerdict]:
    """One :class:`ScopeVerdict` per image from its backbone features and the general model's probabilities.

    ``looks_like`` is the general model's top label when the photo is unlike the
    taught ones, else the nearest taught class.
    """
    unlike, nearest = model.out_of_scope(features, general_probabilities)
    probabilities = np.atleast_2d(general_probabilities)
    top = probabilities.argmax(axis=1)
    out = []
    for i, (is_unlike, k) in enumerate(zip(unlike.tolist(), nearest.tolist())):
        if is_unlike:
            label = general_labels[top[i]] if top[i] < len(general_labels) else ""  # a backbone without labels
            out.append(ScopeVerdict(False, label, float(probabilities[i, top[i]]) if label else None, note=UNLIKE))
        else:
            out.append(ScopeVerdict(True, model.labels[k]))
    return out


def has_novelty_check(info: ModelInfo) -> bool:
    """Whether ``info`` is a model taught by this app (its file carries novelty data)."""
    return str(info.training.get("recipe", "")).startswith("teach")


def backbone_path(info: ModelInfo, backbone: str | Path | None = None) -> Path:
    """The general model a taught model was cut from: ``backbone``, else the shipped one, else beside the file."""
    if backbone is not None:
        return Path(backbone)
    from desktop_app.engine.registry import shipped_models_dir

    name = str(info.training.get("backbone") or "")
    for candidate in (shipped_models_dir() / name, info.path.parent / name):
        if name and candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{info.display_name}: its general model {name or '(not recorded)'} was not found")


class NoveltyCheck:
    """The second opinion of a taught model: one run of the general model gives features and its own view.

    Same interface as :class:`~desktop_app.engine.scope.ScopeChecker`:
    :attr:`input_size` and :meth:`check_arrays`.
    """

    def __init__(
        self, taught: ModelInfo | str | Path, *, backbone: str | Path | None = None, device: Any = None
    ) -> None:
        from desktop_app.engine.contract import ModelInfo, read_model_info
        from desktop_app.engine.sessions import Device, create_session
        from desktop_app.engine.teach_graph import find_feature_tensor, load_model, with_extra_output

        info = taught if isinstance(taught, ModelInfo) else read_model_info(taught)
        model = NoveltyModel.from_metadata(load_model(info.path).metadata, info.labels)
        if model is None:
            raise ValueError(f"{info.path.name} has no novelty data (it was not taught by this app)")
        self.info = info
        self.model = model
        general = load_model(backbone_path(info, backbone))
        self.general_labels: list[str] = json.loads(general.metadata.get("labels", "[]"))
        feature, _ = find_feature_tensor(general)
        import tempfile

        # create_session takes a path; the two-output copy lives only while the session is made
        with tempfile.TemporaryDirectory(prefix="novelty-") as tmp:
            two_outputs = Path(tmp) / "general_with_features.onnx"
            two_outputs.write_bytes(with_extra_output(general, feature))
            self._session, self.report = create_session(two_outputs, Device.AUTO if device is None else device)
        spec = self._session.get_inputs()[0]
        self._input = spec.name
        self._size = (int(spec.shape[1]), int(spec.shape[2]))

    @classmethod
    def for_model(cls, info: ModelInfo, device: Any = None) -> NoveltyCheck | None:
        """The check of a taught model; None for other models or when its general model is missing."""
        if not has_novelty_check(info):
            return None
        try:
            return cls(info, device=device)
        except (FileNotFoundError, ValueError):
            return None

    @property
    def input_size(self) -> tuple[int, int]:
        """(height, width) the images must be decoded at (the general model's, 224x224)."""
        return self._size

    def check_arrays(
        self, batch: np.ndarray, sizes: Sequence[tuple[int, int] | None] | None = None, **_: Any
    ) -> list[ScopeVerdict]:
        """``(N, H, W, 3)`` RGB 0..255 at :attr:`input_size` -> one verdict per image.

        ``sizes`` is accepted for the shared interface; every image is checked
        (a taught model may well have been taught from small photos).
        """
        probabilities, features = self._session.run(None, {self._input: np.asarray(batch, np.float32)})
        return verdicts(features, self.model, probabilities, self.general_labels)
