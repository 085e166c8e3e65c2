"""Just enough of the ONNX file format to cut a graph and add a head, without the ``onnx`` package.

An ONNX file is one protobuf ``ModelProto``. Teaching only needs to read
node wiring and initializer names/shapes, drop nodes, and append a few
nodes, weights, an output and metadata, so this module reads and writes the
protobuf wire format directly (field numbers from onnx.proto) and keeps
every field it does not understand byte for byte. That keeps the app's
runtime to onnxruntime, NumPy, Pillow and PySide6 (the ``onnx`` package
with its C++ extension would add megabytes to the packaged build);
tests check every result with ``onnx.checker`` and onnxruntime.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5
FLOAT = 1  # TensorProto.FLOAT
INT_ATTRIBUTE = 2  # AttributeProto.INT
GRAPH_ATTRIBUTE, GRAPHS_ATTRIBUTE = 5, 10

# Field numbers (onnx.proto).
MODEL_PRODUCER, MODEL_GRAPH, MODEL_METADATA = 2, 7, 14
GRAPH_NODE, GRAPH_NAME, GRAPH_INITIALIZER, GRAPH_INPUT, GRAPH_OUTPUT, GRAPH_VALUE_INFO = 1, 2, 5, 11, 12, 13
NODE_INPUT, NODE_OUTPUT, NODE_NAME, NODE_OP, NODE_ATTRIBUTE = 1, 2, 3, 4, 5
ATTR_NAME, ATTR_INT, ATTR_GRAPH, ATTR_GRAPHS, ATTR_TYPE = 1, 3, 6, 11, 20
TENSOR_DIMS, TENSOR_TYPE, TENSOR_NAME, TENSOR_RAW = 1, 2, 8, 9
VALUE_NAME = 1


class WireError(ValueError):
    """The bytes are not a protobuf message of the expected shape."""


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise WireError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 70:
            raise WireError("varint too long")


def encode_varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


@dataclass
class Message:
    """A protobuf message as an ordered list of ``(field number, wire type, value)``.

    ``value`` is an int for varints and ``bytes`` otherwise; unknown fields
    survive a parse/serialize round trip unchanged.
    """

    fields: list[tuple[int, int, int | bytes]] = field(default_factory=list)

    @classmethod
    def parse(cls, buf: bytes) -> Message:
        fields: list[tuple[int, int, int | bytes]] = []
        pos = 0
        while pos < len(buf):
            key, pos = _varint(buf, pos)
            number, wire = key >> 3, key & 7
            if wire == VARINT:
                value, pos = _varint(buf, pos)
                fields.append((number, wire, value))
            elif wire == LENGTH:
                size, pos = _varint(buf, pos)
                if pos + size > len(buf):
                    raise WireError("truncated field")
                fields.append((number, wire, bytes(buf[pos : pos + size])))
                pos += size
            elif wire in (FIXED64, FIXED32):
                size = 8 if wire == FIXED64 else 4
                fields.append((number, wire, bytes(buf[pos : pos + size])))
                pos += size
            else:
                raise WireError(f"unsupported wire type {wire}")
        return cls(fields)

    def serialize(self) -> bytes:
        out = bytearray()
        for number, wire, value in self.fields:
            out += encode_varint(number << 3 | wire)
            if wire == VARINT:
                out += encode_varint(int(value))
            else:
                assert isinstance(value, bytes)  # only varints hold ints
                if wire == LENGTH:
                    out += encode_varint(len(value))
                out += value
        return bytes(out)

    def all(self, number: int) -> list[int | bytes]:
        return [v for n, _, v in self.fields if n == number]

    def first(self, number: int, default: int | bytes | None = None) -> int | bytes | None:
        return next((v for n, _, v in self.fields if n == number), default)

    def text(self, number: int) -> str:
        value = self.first(number, b"")
        return value.decode("utf-8") if isinstance(value, bytes) else ""

    def texts(self, number: int) -> list[str]:
        return [v.decode("utf-8") for v in self.all(number) if isinstance(v, bytes)]

    def ints(self, number: int) -> list[int]:
        """A repeated integer field, packed or not."""
        values: list[int] = []
        for n, wire, v in self.fields:
            if n != number:
                continue
            if wire == VARINT:
                values.append(int(v))
            elif wire == LENGTH:
                pos = 0
                while pos < len(v):  # type: ignore[arg-type]
                    item, pos = _varint(v, pos)  # type: ignore[arg-type]
                    values.append(item)
        return values

    def without(self, *numbers: int) -> Message:
        return Message([f for f in self.fields if f[0] not in numbers])

    def add(self, number: int, value: int | bytes | str | Message) -> Message:
        if isinstance(value, Message):
            self.fields.append((number, LENGTH, value.serialize()))
        elif isinstance(value, str):
            self.fields.append((number, LENGTH, value.encode("utf-8")))
        elif isinstance(value, bytes):
            self.fields.append((number, LENGTH, value))
        else:
            self.fields.append((number, VARINT, value))
        return self


@dataclass
class Node:
    """The parts of a NodeProto the graph search reads, with its original bytes."""

    op_type: str
    inputs: list[str]
    outputs: list[str]
    ints: dict[str, int]
    subgraph_inputs: list[str]
    raw: bytes

    @classmethod
    def parse(cls, raw: bytes) -> Node:
        msg = Message.parse(raw)
        ints: dict[str, int] = {}
        sub: list[str] = []
        for attr_raw in msg.all(NODE_ATTRIBUTE):
            attr = Message.parse(attr_raw)  # type: ignore[arg-type]
            kind = attr.first(ATTR_TYPE, 0)
            if kind == INT_ATTRIBUTE:
                ints[attr.text(ATTR_NAME)] = int(attr.first(ATTR_INT, 0))  # type: ignore[arg-type]
            for graph_raw in attr.all(ATTR_GRAPH) + attr.all(ATTR_GRAPHS):
                sub += [name for node in Graph.parse(graph_raw).nodes for name in node.inputs]  # type: ignore[arg-type]
        return cls(msg.text(NODE_OP), msg.texts(NODE_INPUT), msg.texts(NODE_OUTPUT), ints, sub, raw)


def make_node(op_type: str, inputs: list[str], outputs: list[str], name: str, **ints: int) -> bytes:
    msg = Message()
    for value in inputs:
        msg.add(NODE_INPUT, value)
    for value in outputs:
        msg.add(NODE_OUTPUT, value)
    msg.add(NODE_NAME, name).add(NODE_OP, op_type)
    for key, number in ints.items():
        msg.add(NODE_ATTRIBUTE, Message().add(ATTR_NAME, key).add(ATTR_INT, number).add(ATTR_TYPE, INT_ATTRIBUTE))
    return msg.serialize()


def make_tensor(name: str, array: np.ndarray) -> bytes:
    """A float32 TensorProto holding ``array`` as raw little-endian data."""
    array = np.ascontiguousarray(array, dtype="<f4")
    msg = Message()
    for dim in array.shape:
        msg.add(TENSOR_DIMS, int(dim))
    return msg.add(TENSOR_TYPE, FLOAT).add(TENSOR_NAME, name).add(TENSOR_RAW, array.tobytes()).serialize()


def make_value_info(name: str, dims: list[int | str] | None = None) -> bytes:
    """A float32 ValueInfoProto; ``dims`` None leaves the type out (an extra output for onnxruntime)."""
    msg = Message().add(VALUE_NAME, name)
    if dims is not None:
        shape = Message()
        for dim in dims:
            shape.add(1, Message().add(2, dim) if isinstance(dim, str) else Message().add(1, dim))
        msg.add(2, Message().add(1, Message().add(1, FLOAT).add(2, shape)))
    return msg.serialize()


@dataclass
class Graph:
    """A GraphProto: its nodes and initializers parsed, everything else kept."""

    msg: Message
    nodes: list[Node]
    initializers: dict[str, tuple[list[int], bytes]]  # name -> (dims, raw TensorProto)

    @classmethod
    def parse(cls, raw: bytes) -> Graph:
        msg = Message.parse(raw)
        nodes = [Node.parse(n) for n in msg.all(GRAPH_NODE)]  # type: ignore[arg-type]
        inits = {}
        for init_raw in msg.all(GRAPH_INITIALIZER):
            tensor = Message.parse(init_raw)  # type: ignore[arg-type]
            inits[tensor.text(TENSOR_NAME)] = (tensor.ints(TENSOR_DIMS), init_raw)
        return cls(msg, nodes, inits)  # type: ignore[arg-type]

    @property
    def input_names(self) -> list[str]:
        return [Message.parse(v).text(VALUE_NAME) for v in self.msg.all(GRAPH_INPUT)]  # type: ignore[arg-type]

    @property
    def output_names(self) -> list[str]:
        return [Message.parse(v).text(VALUE_NAME) for v in self.msg.all(GRAPH_OUTPUT)]  # type: ignore[arg-type]

    def rebuilt(self, nodes: list[bytes], initializers: list[bytes], outputs: list[bytes]) -> bytes:
        """This graph with its nodes, initializers and outputs replaced (value_info dropped)."""
        msg = self.msg.without(GRAPH_NODE, GRAPH_INITIALIZER, GRAPH_OUTPUT, GRAPH_VALUE_INFO)
        for raw in nodes:
            msg.add(GRAPH_NODE, raw)
        for raw in initializers:
            msg.add(GRAPH_INITIALIZER, raw)
        for raw in outputs:
            msg.add(GRAPH_OUTPUT, raw)
        return msg.serialize()


@dataclass
class Model:
    """A ModelProto: the graph parsed on demand, metadata as a dict, everything else kept."""

    msg: Message

    @classmethod
    def parse(cls, raw: bytes) -> Model:
        msg = Message.parse(raw)
        if msg.first(MODEL_GRAPH) is None:
            raise WireError("no graph in the file")
        return cls(msg)

    @property
    def graph(self) -> Graph:
        return Graph.parse(self.msg.first(MODEL_GRAPH))  # type: ignore[arg-type]

    @property
    def metadata(self) -> dict[str, str]:
        entries = [Message.parse(e) for e in self.msg.all(MODEL_METADATA)]  # type: ignore[arg-type]
        return {e.text(1): e.text(2) for e in entries}

    def with_graph(self, graph: bytes) -> Model:
        fields = [(n, w, graph if n == MODEL_GRAPH else v) for n, w, v in self.msg.fields]
        return Model(Message(fields))

    def with_metadata(self, metadata: dict[str, str]) -> Model:
        msg = self.msg.without(MODEL_METADATA)
        for key, value in metadata.items():
            msg.add(MODEL_METADATA, Message().add(1, key).add(2, value))
        return Model(msg)

    def with_producer(self, name: str) -> Model:
        msg = self.msg.without(MODEL_PRODUCER)
        msg.fields.insert(0, (MODEL_PRODUCER, LENGTH, name.encode("utf-8")))
        return Model(msg)

    def serialize(self) -> bytes:
        return self.msg.serialize()
