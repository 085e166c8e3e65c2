"""The ONNX files to measure: the shipped models when present, else untrained exports.

Speed does not depend on the weights, so until trained models are shipped
in ``assets/models/``, each architecture is built with random weights
(``training.models.build_model``), converted with the export package's
``keras_to_onnx`` and stored with contract metadata. Size-reduced variants
(float16-stored, int8) are made with ``export.reduce`` unless shipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import Context

ARCHITECTURES = ("deep_cnn", "vgg", "compact_vgg", "resnet50", "efficientnet_lite0")
QUICK_ARCHITECTURES = ("deep_cnn", "compact_vgg")
VARIANTS = ("float16", "int8")
#: Calibration images for int8 (accuracy is not measured here, only speed).
CALIBRATION_IMAGES = 16


@dataclass(frozen=True)
class BenchModel:
    arch: str  # training.models name
    variant: str  # "float32", "float16" or "int8"
    path: Path
    source: str  # "shipped" or "untrained export"


def classify_file(path: Path, reduction: str | None = None) -> tuple[str | None, str]:
    """(architecture, variant) of a file named like ``deep_cnn.onnx`` or ``deep_cnn.int8.onnx``.

    ``reduction`` is the file's own record (``ModelInfo.stored_as``, written by
    ``export reduce``); where it says float16 or int8 it wins over the name.
    """
    stem = path.stem.lower()
    arch = max((a for a in ARCHITECTURES if stem.startswith(a)), key=len, default=None)
    if reduction in VARIANTS:
        return arch, reduction
    variant = "int8" if "int8" in stem else "float16" if ("float16" in stem or "fp16" in stem) else "float32"
    return arch, variant


def shipped_models() -> list[BenchModel]:
    """Contract-valid shipped CIFAR-10 files whose names match an architecture (not the general model)."""
    from desktop_app.engine.registry import ModelRegistry, shipped_models_dir
    from desktop_app.engine.scope import has_scope_check

    found = []
    for info in ModelRegistry([shipped_models_dir()]).models:
        if not has_scope_check(info):  # the ImageNet general model and derived models are no CIFAR architecture
            continue
        arch, variant = classify_file(Path(info.path), info.stored_as)
        if arch is not None:
            found.append(BenchModel(arch, variant, Path(info.path), "shipped"))
    return found


def build_keras(arch: str, quick: bool) -> Any:
    """The architecture as a Keras model (random weights), TensorFlow backend."""
    import export.backend

    export.backend.require_tensorflow_backend()
    from training.models import build_model

    return build_model(arch, tiny=quick)


def export_untrained(ctx: Context, arch: str, out: Path) -> Path:
    """Convert a random-weight ``arch`` to a contract-following ONNX file at ``out``."""
    from export.convert import keras_to_onnx
    from export.metadata import default_metadata, set_metadata, write_onnx_atomically

    model = ctx.once(f"keras:{arch}", lambda: build_keras(arch, ctx.quick))
    proto = keras_to_onnx(model)
    metadata = default_metadata(arch, int(model.outputs[0].shape[-1]), model.count_params())
    metadata["training"] = {"note": "untrained benchmark export: random weights (speed does not depend on them)"}
    set_metadata(proto, metadata)
    return write_onnx_atomically(proto, out)


def reduce_variant(source: Path, variant: str, out: Path) -> Path:
    """A float16-stored or int8 copy of ``source`` made with ``export.reduce``."""
    import onnx

    from desktop_app.engine.contract import read_model_info
    from export.metadata import write_onnx_atomically
    from export.parity import generated_images
    from export.reduce import reduce_model

    proto = onnx.load(str(source))
    images = generated_images(CALIBRATION_IMAGES, size=read_model_info(source).input_size, seed=1)
    return write_onnx_atomically(reduce_model(proto, variant, images if variant == "int8" else None), out)


def _cache_root(ctx: Context) -> Path:
    root = ctx.models_cache or (ctx.work / "models")
    return root / ("tiny" if ctx.quick else "full")


def prepare(ctx: Context, arches: tuple[str, ...] | None = None) -> list[BenchModel]:
    """Every model to measure (cached per run; exported files cached in ``--models-cache``)."""
    return ctx.once("models", lambda: _prepare(ctx, arches or (QUICK_ARCHITECTURES if ctx.quick else ARCHITECTURES)))


def _prepare(ctx: Context, arches: tuple[str, ...]) -> list[BenchModel]:
    shipped = [] if ctx.quick else shipped_models()
    have = {(m.arch, m.variant) for m in shipped}
    models = list(shipped)
    root = _cache_root(ctx)
    try:
        import export.reduce  # noqa: F401

        variants = VARIANTS
    except ImportError:
        variants = ()
    for arch in arches:
        base = next((m for m in shipped if m.arch == arch and m.variant == "float32"), None)
        if base is None:
            path = root / "float32" / f"{arch}.onnx"
            if not path.is_file():
                ctx.log(f"exporting untrained {arch} to {path}")
                export_untrained(ctx, arch, path)
            base = BenchModel(arch, "float32", path, "untrained export")
            models.append(base)
        for variant in variants:
            if (arch, variant) in have:
                continue
            path = root / "variants" / f"{arch}.{variant}.onnx"
            if not path.is_file():
                ctx.log(f"making the {variant} variant of {arch}")
                reduce_variant(base.path, variant, path)
            models.append(BenchModel(arch, variant, path, f"{variant} of {base.source}"))
    order = {a: i for i, a in enumerate(ARCHITECTURES)}
    return sorted(models, key=lambda m: (order.get(m.arch, 99), ("float32", *VARIANTS).index(m.variant)))
