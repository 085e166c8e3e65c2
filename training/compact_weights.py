"""Smaller copies of Keras ``.weights.h5`` files for moving trained weights between machines.

The GPU machine returns at most 64 MiB per call, and the VGG alone is 113 MB
in float32. :func:`compact` rewrites a weights file with its large float32
arrays stored as float16 (relative error <= 2**-11) and, optionally, the
very largest as int8 with one scale per output unit (the last axis);
:func:`restore` turns such a file back into a float32 file that
``model.load_weights`` reads. The layout and attributes are kept as they are.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

STORED_AS = "compact_stored_as"
INT8_SCALE = "compact_int8_scale"


def _copy_attrs(src: h5py.HLObject, dst: h5py.HLObject) -> None:
    for key, value in src.attrs.items():
        dst.attrs[key] = value


def _compact_array(data: np.ndarray, float16_min: int, int8_min: int | None) -> tuple[np.ndarray, dict]:
    if data.dtype != np.float32 or data.ndim < 1:
        return data, {}
    if int8_min is not None and data.size >= int8_min:
        scale = np.abs(data.reshape(-1, data.shape[-1])).max(axis=0) / 127.0
        scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
        return np.clip(np.rint(data / scale), -127, 127).astype(np.int8), {STORED_AS: "int8", INT8_SCALE: scale}
    if data.size >= float16_min:
        return data.astype(np.float16), {STORED_AS: "float16"}
    return data, {}


def _restore_array(dataset: h5py.Dataset) -> np.ndarray:
    data = dataset[()]
    kind = dataset.attrs.get(STORED_AS)
    if kind == "int8":
        return data.astype(np.float32) * dataset.attrs[INT8_SCALE].astype(np.float32)
    if kind == "float16":
        return data.astype(np.float32)
    return data


def _rewrite(src_path: Path, dst_path: Path, convert) -> None:
    Path(dst_path).parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(src_path, "r") as src, h5py.File(dst_path, "w") as dst:
        _copy_attrs(src, dst)

        def visit(name: str, obj: h5py.HLObject) -> None:
            if isinstance(obj, h5py.Group):
                _copy_attrs(obj, dst.require_group(name))
                return
            data, attrs = convert(obj)
            out = dst.create_dataset(name, data=data)
            _copy_attrs(obj, out)
            for key in (STORED_AS, INT8_SCALE):
                if key in out.attrs:
                    del out.attrs[key]
            for key, value in attrs.items():
                out.attrs[key] = value

        src.visititems(visit)


def compact(src: str | Path, dst: str | Path, *, float16_min: int = 65536, int8_min: int | None = None) -> Path:
    """Write ``src`` to ``dst`` with float32 arrays of >= ``float16_min`` elements as float16.

    Arrays of >= ``int8_min`` elements (None: none) are stored as int8 with a
    per-last-axis scale instead. Small arrays (BatchNorm statistics, biases)
    stay float32.
    """
    _rewrite(Path(src), Path(dst), lambda ds: _compact_array(ds[()], float16_min, int8_min))
    return Path(dst)


def restore(src: str | Path, dst: str | Path) -> Path:
    """Write a :func:`compact` file back as a float32 Keras weights file."""
    _rewrite(Path(src), Path(dst), lambda ds: (_restore_array(ds), {}))
    return Path(dst)
