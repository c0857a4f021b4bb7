#!/usr/bin/python3
"""Writes the seed corpora of the fuzz harnesses: tests/fuzz/corpus/<harness>/seed-*.

Run with Debian's python3 (it has torch for the .pth seed): /usr/bin/python3 tests/fuzz/make_corpus.py
Seeds are small valid inputs (plus a few typical broken ones) so the fuzzer starts from the
structures a real file has; files named crash-*/oom-*/timeout-* beside them are regression inputs
kept by `make fuzz` and are never rewritten here.
"""
import gzip
import io
import json
import os
import shutil
import struct
import sys
import zipfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "data", "reference"))
from tfrecord_reference import encode_feature, field, masked_crc  # noqa: E402

CORPUS = os.path.join(HERE, "corpus")


def put(harness, name, data):
    d = os.path.join(CORPUS, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def png(width, height, gray=True):
    from PIL import Image
    out = io.BytesIO()
    img = Image.new("L" if gray else "RGB", (width, height))
    img.putpixel((0, 0), 1 if gray else (255, 0, 0))
    img.save(out, format="PNG")
    return out.getvalue()


def png_kind(width, height, mode):
    """A PNG of PIL mode `mode` ("P" palette, "1" one-bit, "I;16" 16-bit gray)."""
    from PIL import Image
    out = io.BytesIO()
    img = Image.new(mode, (width, height))
    img.putpixel((0, 0), 1)
    if mode == "P":
        img.putpalette([0, 0, 0, 128, 0, 0, 0, 128, 0])
    img.save(out, format="PNG")
    return out.getvalue()


def jpeg(width, height):
    from PIL import Image
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 200, 30)).save(out, format="JPEG", quality=50)
    return out.getvalue()


def jpeg_turned(width, height, orientation):
    """A JPEG whose EXIF block (written by PIL, after a JFIF APP0) holds `orientation`."""
    from PIL import Image
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 200, 30)).save(out, format="JPEG", quality=50, exif=exif.tobytes())
    return out.getvalue()


def example(features):
    entries = b""
    for key, (kind, values) in features.items():
        entries += field(1, 2, field(1, 2, key.encode()) + field(2, 2, encode_feature(kind, values)))
    return field(1, 2, entries)


def frame(record):
    length = struct.pack("<Q", len(record))
    return length + struct.pack("<I", masked_crc(length)) + record + struct.pack("<I", masked_crc(record))


def od_example(with_semantic):
    f = {
        "image/height": ("int64_list", [4]),
        "image/width": ("int64_list", [6]),
        "image/encoded": ("bytes_list", [png(6, 4, gray=False)]),
        "image/format": ("bytes_list", [b"png"]),
        "image/filename": ("bytes_list", [b"a.png"]),
        "image/source_id": ("bytes_list", [b"1"]),
        "image/object/bbox/xmin": ("float_list", [0.0]),
        "image/object/bbox/xmax": ("float_list", [0.5]),
        "image/object/bbox/ymin": ("float_list", [0.25]),
        "image/object/bbox/ymax": ("float_list", [1.0]),
        "image/object/class/label": ("int64_list", [1]),
        "image/object/class/text": ("bytes_list", [b"cat"]),
        "image/object/is_crowd": ("int64_list", [0]),
        "image/object/area": ("float_list", [6.0]),
        "image/object/mask": ("bytes_list", [png(6, 4)]),
    }
    if with_semantic:
        f["image/segmentation/class/encoded"] = ("bytes_list", [png(6, 4)])
        f["image/segmentation/class/format"] = ("bytes_list", [b"png"])
    return example(f)


def records():
    ex = od_example(False)
    stream = frame(ex) + frame(od_example(True))
    put("tfrecord", "two.record", stream)
    put("tfrecord", "two.record.gz", gzip.compress(stream))
    put("tfrecord", "two.record.zlib", zlib.compress(stream))
    put("tfrecord", "empty.record", b"")
    put("tfrecord", "truncated.record", stream[:len(stream) - 7])
    bad = bytearray(stream)
    bad[20] ^= 0xFF  # Data CRC mismatch in the first record; the second is intact.
    put("tfrecord", "bad-crc.record", bytes(bad))
    for h in ("tfrecord_gzip", "tfrecord_zlib"):
        put(h, "two.stream", stream)
        put(h, "bad-crc.stream", bytes(bad))
    put("example", "od.pb", ex)
    put("example", "semantic.pb", od_example(True))
    put("example", "empty.pb", b"")


COCO = {
    "info": {"description": "fuzz seed"},
    "images": [{"id": 1, "width": 6, "height": 4, "file_name": "a.png"},
               {"id": "b", "width": 8, "height": 8, "file_name": "b.jpg"}],
    "categories": [{"id": 1, "name": "cat", "supercategory": "animal"}, {"id": 2, "name": "dog"}],
    "annotations": [
        {"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 0, "area": 4.0, "bbox": [0, 0, 2, 2],
         "segmentation": [[0, 0, 2, 0, 2, 2, 0, 2]]},
        {"id": 2, "image_id": 1, "category_id": 2, "iscrowd": 1, "area": 3.0, "bbox": [1, 1, 1, 3],
         "segmentation": {"size": [4, 6], "counts": [5, 3, 16]}},
        {"id": 3, "image_id": "b", "category_id": 1, "iscrowd": 0, "area": 2.0, "bbox": [0, 0, 1, 2],
         "segmentation": {"size": [8, 8], "counts": "02Q1"}},
    ],
}


def coco():
    put("coco", "instances.json", json.dumps(COCO))
    put("coco", "empty.json", "{}")
    put("coco", "no-segmentation.json", json.dumps({
        "images": [{"id": 7, "width": 10, "height": 10, "file_name": "x.png"}],
        "categories": [{"id": 3, "name": "bottle"}],
        "annotations": [{"id": 9, "image_id": 7, "category_id": 3, "bbox": [1.5, 2, 3, 4], "area": 12}]}))
    results = [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2], "score": 0.9},
               {"image_id": 1, "category_id": 2, "score": 0.5,
                "segmentation": {"size": [4, 6], "counts": "52>0"}},
               {"image_id": "b", "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.1}]
    put("coco_results", "results.json", json.dumps(results))
    put("coco_results", "empty.json", "[]")


def rle():
    # Byte 0: even = compressed string, odd = counts list; bytes 1, 2: height-1, width-1.
    put("rle", "string.bin", bytes([0, 3, 5]) + b"52>0")
    put("rle", "string-long.bin", bytes([0, 63, 63]) + b"Xh0g0Z1O1O1O1N2O1O001O0010O01O1O1N2N3M]ob0")
    put("rle", "counts.bin", bytes([1, 3, 5]) + b"5,3,16")
    put("rle", "counts-leading-zero.bin", bytes([1, 1, 1]) + b"0,4")


def labelbox():
    src = os.path.join(ROOT, "tests", "data", "fixtures", "labelbox")
    for name in sorted(os.listdir(src)):
        shutil.copyfile(os.path.join(src, name), os.path.join(CORPUS, "labelbox", "seed-" + name))
    put("wkt", "polygon.txt", "POLYGON ((1 1, 5 1, 5 5, 1 5, 1 1), (2 2, 3 2, 3 3, 2 2))")
    put("wkt", "multipolygon.txt", "MULTIPOLYGON (((0 0, 4 0, 4 4, 0 0)), ((10 10, 12 10, 12 12, 10 10)))")
    put("wkt", "z.txt", "polygon z ((0 0 1, 1 0 1, 1 1 1, 0 0 1))")
    put("wkt", "empty.txt", "POLYGON EMPTY")


def label_maps():
    put("label_map", "tf.pbtxt", 'item {\n  name: "/m/01g317"\n  id: 1\n  display_name: "person"\n}\n'
                                 "item: { id: 2 name: 'bicycle' }\nitem < id: 3 name: \"car\" >; # comment\n")
    put("label_map", "background.pbtxt", 'item { id: 0 name: "background" } item { id: 1 name: "bottle" }')
    put("label_map", "binary.pb", field(1, 2, field(1, 2, b"cat") + field(2, 0, b"\x01")))
    configs = os.path.join(ROOT, "tests", "config", "testdata")
    for name in sorted(os.listdir(configs)):
        if name.endswith(".config"):
            shutil.copyfile(os.path.join(configs, name), os.path.join(CORPUS, "pipeline_config", "seed-" + name))
    put("pipeline_config", "segmentation.config",
        'model { segmentation { architecture: "lraspp_mobilenet_v3_large" num_classes: 3 } }\n'
        'train_config { batch_size: 2 num_steps: 10 fine_tune_checkpoint: "w.pth" }\n'
        'train_input_reader { label_map_path: "label_map.pbtxt" tf_record_input_reader { input_path: "train-*" } }\n'
        'eval_input_reader { tf_record_input_reader { input_path: "val.record" } }\n'
        'unknown_field { nested { deeper: 1 } }\n')


def images():
    put("image_header", "gray.png", png(6, 4))
    put("image_header", "rgb.png", png(5, 3, gray=False))
    put("image_header", "small.jpg", jpeg(8, 8))
    put("image_header", "turned.jpg", jpeg_turned(8, 4, 6))
    put("image_header", "palette.png", png_kind(7, 5, "P"))
    put("image_header", "onebit.png", png_kind(9, 3, "1"))
    put("image_header", "gray16.png", png_kind(4, 4, "I;16"))
    put("image_header", "gif.gif", b"GIF89a\x02\x00\x03\x00\x00\x00\x00,\x00\x00\x00\x00\x02\x00\x03\x00\x00\x02\x02D\x01\x00;")
    bmp_pixels = b"\x00" * (4 * 2)
    put("image_header", "tiny.bmp", b"BM" + struct.pack("<IHHI", 54 + len(bmp_pixels), 0, 0, 54) +
        struct.pack("<IiiHHIIiiII", 40, 1, 2, 1, 24, 0, len(bmp_pixels), 0, 0, 0, 0) + bmp_pixels)


def weights():
    header = {"__metadata__": {"format": "pt"},
              "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
              "b": {"dtype": "I64", "shape": [1, 1], "data_offsets": [8, 16]}}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    put("safetensors", "two.safetensors", struct.pack("<Q", len(text)) + text + struct.pack("<ff", 1, 2) +
        struct.pack("<q", 3))
    empty = b"{}      "
    put("safetensors", "empty.safetensors", struct.pack("<Q", len(empty)) + empty)

    import collections
    import torch
    state = collections.OrderedDict()
    state["conv.weight"] = torch.arange(6, dtype=torch.float32).reshape(1, 2, 3)
    state["bn.num_batches_tracked"] = torch.tensor(3)
    state["view"] = state["conv.weight"][0, 1]
    for name, obj in (("state_dict.pth", state), ("checkpoint.pth", {"model": state, "epoch": 3})):
        out = io.BytesIO()
        torch.save(obj, out)
        put("pth", name, out.getvalue())
        with zipfile.ZipFile(io.BytesIO(out.getvalue())) as z:
            pkl = [n for n in z.namelist() if n.endswith("data.pkl")][0]
            put("pickle", name.replace(".pth", ".pkl"), z.read(pkl))


def ade20k_index():
    """Small index_ade20k.pkl dicts as Python and numpy pickle them (names as a list, a numpy object array
    and a numpy unicode array; protocol 2 writes bytes as _codecs.encode, 5 as bytearrays)."""
    import pickle
    import numpy as np
    names = ["-", "wall", "café"]
    for protocol, kind, objectnames in ((2, "unicode", np.array(names)), (4, "list", names),
                                        (5, "object", np.array(names, dtype=object))):
        index = {"objectnames": objectnames, "objectPresence": np.arange(6, dtype=np.int64).reshape(3, 2),
                 "wordnet_synonyms": [{"a"}, frozenset(["b"])], "filename": ["ADE_train_00000001.jpg"]}
        put("pickle", "ade20k-index-p%d-%s.pkl" % (protocol, kind), pickle.dumps(index, protocol=protocol))


def main():
    for sub in ("labelbox", "pipeline_config"):
        os.makedirs(os.path.join(CORPUS, sub), exist_ok=True)
    records()
    coco()
    rle()
    labelbox()
    label_maps()
    images()
    weights()
    ade20k_index()


if __name__ == "__main__":
    main()
