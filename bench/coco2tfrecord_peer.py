#!/usr/bin/python3
"""A straightforward Python coco2tfrecord (PIL + protobuf), the peer for coco2tfrecord_bench.

Follows create_coco_tf_record.py: per image read bytes, check the format with PIL, sha256, normalized
boxes, optional 0/1 PNG instance masks (polygons rasterized with PIL ImageDraw since pycocotools is
not installed), build a tf.train.Example and write a TFRecord.

There is no C CRC32C in this Python: --crc=python uses a pure-Python CRC32C (valid TFRecords, but
slow); --crc=zlib uses zlib.crc32 as a stand-in with the cost of a C CRC (what TF's C++ writer
pays), so the timing is fair to the peer even though those CRCs are not CRC32C.

  coco2tfrecord_peer.py DIR OUT [--masks] [--crc=zlib|python] [--limit N]
"""
import hashlib
import io
import json
import os
import struct
import sys
import time
import zlib

import numpy as np
from PIL import Image, ImageDraw
from example_proto import load_example_pb2  # noqa: E402  (bench/ is the script's directory)



_TABLE = []
for _b in range(256):
    _c = _b
    for _ in range(8):
        _c = (_c >> 1) ^ (0x82F63B78 if _c & 1 else 0)
    _TABLE.append(_c)


def crc32c_python(data):
    c = 0xFFFFFFFF
    for b in data:
        c = (c >> 8) ^ _TABLE[(c ^ b) & 0xFF]
    return c ^ 0xFFFFFFFF


def masked(crc):
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def main():
    args = sys.argv[1:]
    directory, out = args[0], args[1]
    masks = "--masks" in args
    crc = crc32c_python if "--crc=python" in args else zlib.crc32
    limit = int(args[args.index("--limit") + 1]) if "--limit" in args else None
    pb = load_example_pb2()
    start = time.time()
    cpu_start = time.process_time()
    coco = json.load(open(os.path.join(directory, "coco.json")))
    names = {c["id"]: c["name"] for c in coco["categories"]}
    by_image = {}
    for a in coco["annotations"]:
        by_image.setdefault(a["image_id"], []).append(a)
    images = coco["images"][:limit] if limit else coco["images"]
    with open(out, "wb") as f:
        for image in images:
            data = open(os.path.join(directory, "images", image["file_name"]), "rb").read()
            pil = Image.open(io.BytesIO(data))
            if pil.format != "JPEG":
                raise ValueError("not a JPEG")
            w, h = image["width"], image["height"]
            xmin, xmax, ymin, ymax, text, label, crowd, area, pngs = [], [], [], [], [], [], [], [], []
            for a in by_image.get(image["id"], []):
                x, y, bw, bh = a["bbox"]
                if bw <= 0 or bh <= 0 or x + bw > w or y + bh > h:
                    continue
                xmin.append(x / w); xmax.append((x + bw) / w); ymin.append(y / h); ymax.append((y + bh) / h)
                text.append(names[a["category_id"]].encode()); label.append(a["category_id"])
                crowd.append(a["iscrowd"]); area.append(a["area"])
                if masks:
                    seg = a.get("segmentation") or []
                    if isinstance(seg, dict):  # Uncompressed RLE (convert_peer.py writes these): runs down columns.
                        runs = seg["counts"]
                        flat = np.repeat(np.arange(len(runs), dtype=np.uint8) % 2, runs)
                        m = Image.fromarray(flat.reshape((h, w), order="F"))
                    else:
                        m = Image.new("L", (w, h), 0)
                        draw = ImageDraw.Draw(m)
                        for poly in seg:
                            draw.polygon(list(zip(poly[0::2], poly[1::2])), fill=1)
                    buf = io.BytesIO()
                    Image.fromarray(np.asarray(m, dtype=np.uint8)).save(buf, format="PNG")
                    pngs.append(buf.getvalue())
            ex = pb.Example()
            feat = ex.features.feature
            feat["image/height"].int64_list.value.append(h)
            feat["image/width"].int64_list.value.append(w)
            feat["image/filename"].bytes_list.value.append(image["file_name"].encode())
            feat["image/source_id"].bytes_list.value.append(str(image["id"]).encode())
            feat["image/key/sha256"].bytes_list.value.append(hashlib.sha256(data).hexdigest().encode())
            feat["image/encoded"].bytes_list.value.append(data)
            feat["image/format"].bytes_list.value.append(b"jpeg")
            feat["image/object/bbox/xmin"].float_list.value.extend(xmin)
            feat["image/object/bbox/xmax"].float_list.value.extend(xmax)
            feat["image/object/bbox/ymin"].float_list.value.extend(ymin)
            feat["image/object/bbox/ymax"].float_list.value.extend(ymax)
            feat["image/object/class/text"].bytes_list.value.extend(text)
            feat["image/object/class/label"].int64_list.value.extend(label)
            feat["image/object/is_crowd"].int64_list.value.extend(crowd)
            feat["image/object/area"].float_list.value.extend(area)
            if masks:
                feat["image/object/mask"].bytes_list.value.extend(pngs)
            body = ex.SerializeToString()
            header = struct.pack("<Q", len(body))
            f.write(header + struct.pack("<I", masked(crc(header))) + body + struct.pack("<I", masked(crc(body))))
    seconds = time.time() - start
    cpu = time.process_time() - cpu_start
    print("python peer%s (crc %s): %d images in %.2f s = %.1f images/s; CPU %.2f s = %.1f images per CPU-second" %
          (" --masks" if masks else "", "python" if crc is crc32c_python else "zlib stand-in", len(images), seconds,
           len(images) / seconds, cpu, len(images) / cpu))


if __name__ == "__main__":
    main()
