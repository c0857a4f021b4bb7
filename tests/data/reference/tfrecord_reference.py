#!/usr/bin/python3
"""Reference TFRecord / tf.train.Example reader and writer, independent of segtune's C++ code.

Framing is parsed here byte by byte (both masked CRC32Cs checked with a pure-Python CRC32C);
Examples are parsed by Python protobuf from example.proto (compiled with protoc at run time).

  tfrecord_reference.py dump FILE...        -> JSON on stdout: [{"file", "index", "features": {key:
                                               {"kind": "bytes_list"|"float_list"|"int64_list",
                                                "value": [...]}}}], bytes as base64.
  tfrecord_reference.py write-tf-layout OUT  -> writes one record encoded the way TensorFlow may
                                               (keys in reverse order, unpacked repeated scalars)
                                               and prints its features as JSON (same form).
"""
import base64
import importlib
import json
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def _crc_table():
    table = []
    for b in range(256):
        c = b
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
        table.append(c)
    return table


_TABLE = _crc_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = (c >> 8) ^ _TABLE[(c ^ b) & 0xFF]
    return c ^ 0xFFFFFFFF


def masked_crc(data):
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def load_example_module():
    out = tempfile.mkdtemp(prefix="tfrecord-reference-")
    subprocess.run(["protoc", "--python_out=" + out, "-I", HERE, os.path.join(HERE, "example.proto")], check=True)
    sys.path.insert(0, out)
    return importlib.import_module("example_pb2")


def read_records(path):
    data = open(path, "rb").read()
    pos, index = 0, 0
    while pos < len(data):
        if pos + 12 > len(data):
            raise ValueError("%s: record %d at byte %d: truncated header" % (path, index, pos))
        header = data[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", data[pos + 8:pos + 12])
        if masked_crc(header) != length_crc:
            raise ValueError("%s: record %d at byte %d: length CRC mismatch" % (path, index, pos))
        body = data[pos + 12:pos + 12 + length]
        footer = data[pos + 12 + length:pos + 16 + length]
        if len(body) != length or len(footer) != 4:
            raise ValueError("%s: record %d at byte %d: truncated" % (path, index, pos))
        if masked_crc(body) != struct.unpack("<I", footer)[0]:
            raise ValueError("%s: record %d at byte %d: data CRC mismatch" % (path, index, pos))
        yield index, body
        pos += 16 + length
        index += 1


def features_to_json(example):
    out = {}
    for key, feature in example.features.feature.items():
        kind = feature.WhichOneof("kind")
        if kind == "bytes_list":
            value = [base64.b64encode(v).decode() for v in feature.bytes_list.value]
        elif kind == "float_list":
            value = list(feature.float_list.value)
        elif kind == "int64_list":
            value = list(feature.int64_list.value)
        else:
            kind, value = "empty", []
        out[key] = {"kind": kind, "value": value}
    return out


def dump(paths):
    pb = load_example_module()
    result = []
    for path in paths:
        for index, body in read_records(path):
            example = pb.Example()
            example.ParseFromString(body)
            result.append({"file": path, "index": index, "features": features_to_json(example)})
    json.dump(result, sys.stdout)


# ---- hand-rolled wire encoding, to produce layouts protobuf's serializer never emits ----------

def varint(n):
    n &= (1 << 64) - 1  # int64 negatives: 10-byte two's complement.
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(number, wire_type, payload):
    tag = varint((number << 3) | wire_type)
    if wire_type == 2:
        return tag + varint(len(payload)) + payload
    return tag + payload


def encode_feature(kind, values):
    if kind == "bytes_list":
        inner = b"".join(field(1, 2, v) for v in values)
        return field(1, 2, inner)
    if kind == "float_list":  # Unpacked: one fixed32 field per value.
        inner = b"".join(field(1, 5, struct.pack("<f", v)) for v in values)
        return field(2, 2, inner)
    inner = b"".join(field(1, 0, varint(v)) for v in values)  # Unpacked varints.
    return field(3, 2, inner)


def write_tf_layout(out_path):
    features = {
        "image/height": ("int64_list", [480]),
        "image/width": ("int64_list", [640]),
        "image/filename": ("bytes_list", [b"cat.jpg"]),
        "image/source_id": ("bytes_list", [b"42"]),
        "image/object/bbox/xmin": ("float_list", [0.25, 0.5]),
        "image/object/bbox/xmax": ("float_list", [0.75, 1.0]),
        "image/object/bbox/ymin": ("float_list", [0.125, 0.0]),
        "image/object/bbox/ymax": ("float_list", [0.5, 0.875]),
        "image/object/class/label": ("int64_list", [17, -3]),
        "image/object/class/text": ("bytes_list", [b"cat", b"d\xc3\xa9j\xc3\xa0"]),
        "image/object/area": ("float_list", [1234.5, 99.0]),
        "image/object/is_crowd": ("int64_list", [0, 1]),
    }
    entries = b""
    for key in sorted(features, reverse=True):  # Not the order a map serializer would choose.
        kind, values = features[key]
        entry = field(1, 2, key.encode()) + field(2, 2, encode_feature(kind, values))
        entries += field(1, 2, entry)
    body = field(1, 2, entries)
    # Check our encoding with protobuf itself before handing it out.
    pb = load_example_module()
    example = pb.Example()
    example.ParseFromString(body)
    assert len(example.features.feature) == len(features)
    with open(out_path, "wb") as f:
        f.write(struct.pack("<Q", len(body)) + struct.pack("<I", masked_crc(struct.pack("<Q", len(body)))))
        f.write(body + struct.pack("<I", masked_crc(body)))
    json.dump(features_to_json(example), sys.stdout)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "dump":
        dump(sys.argv[2:])
    elif len(sys.argv) == 3 and sys.argv[1] == "write-tf-layout":
        write_tf_layout(sys.argv[2])
    else:
        sys.exit(__doc__)
