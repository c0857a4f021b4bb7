#!/usr/bin/python3
"""The straightforward Python conversions convert_bench.sh compares segtune with: YOLO -> COCO
(PyYAML for data.yaml, PIL for image sizes, json) and semantic mask folder -> COCO (PIL + numpy:
one uncompressed RLE per class present, 0 = background, 255 = ignore). Writes DIR_OUT/coco.json
with file names relative to DIR_OUT/images (a link to the input's images/), so
coco2tfrecord_peer.py can take it from there.

CVAT XML -> COCO (xml.etree; polygons and boxes as they are, each <mask>'s CVAT RLE expanded to the
image and encoded as a COCO uncompressed RLE with numpy).

  convert_peer.py yolo|masks|cvat INPUT_DIR OUT_DIR
"""
import json
import os
import sys
import time

import numpy as np
import yaml
from PIL import Image


def images_of(root):
    for split in ("train", "val", "test"):
        d = os.path.join(root, "images", split)
        if os.path.isdir(d):
            for name in sorted(os.listdir(d)):
                yield split, os.path.join(d, name)


def yolo_to_coco(root):
    data = yaml.safe_load(open(os.path.join(root, "data.yaml")))
    names = data["names"] if isinstance(data["names"], list) else [data["names"][i] for i in range(len(data["names"]))]
    coco = {"images": [], "annotations": [], "categories": [{"id": i + 1, "name": n} for i, n in enumerate(names)]}
    for split, path in images_of(root):
        w, h = Image.open(path).size  # Header only: PIL decodes lazily.
        image_id = len(coco["images"]) + 1
        coco["images"].append({"id": image_id, "file_name": os.path.relpath(path, os.path.join(root, "images")),
                               "width": w, "height": h})
        label = path.replace("/images/", "/labels/").rsplit(".", 1)[0] + ".txt"
        if not os.path.exists(label):
            continue
        for line in open(label):
            parts = line.split()
            if not parts:
                continue
            cls, v = int(parts[0]), [float(x) for x in parts[1:]]
            ann = {"id": len(coco["annotations"]) + 1, "image_id": image_id, "category_id": cls + 1, "iscrowd": 0}
            if len(v) == 4:
                ann["bbox"] = [(v[0] - v[2] / 2) * w, (v[1] - v[3] / 2) * h, v[2] * w, v[3] * h]
                ann["area"] = ann["bbox"][2] * ann["bbox"][3]
                ann["segmentation"] = []
            else:
                xs, ys = [x * w for x in v[0::2]], [y * h for y in v[1::2]]
                poly = [c for xy in zip(xs, ys) for c in xy]
                ann["segmentation"] = [poly]
                ann["bbox"] = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
                ann["area"] = abs(sum(xs[i] * ys[i - 1] - xs[i - 1] * ys[i] for i in range(len(xs)))) / 2
            coco["annotations"].append(ann)
    return coco


def rle(binary):
    flat = binary.ravel(order="F").astype(np.int8)  # COCO runs go down columns.
    change = np.flatnonzero(np.diff(flat)) + 1
    runs = np.diff(np.concatenate([[0], change, [flat.size]])).tolist()
    return [0] + runs if flat[0] else runs


def masks_to_coco(root):
    names = [l.strip() for l in open(os.path.join(root, "classes.txt")) if l.strip()]
    coco = {"images": [], "annotations": [],
            "categories": [{"id": i, "name": n} for i, n in enumerate(names) if n != "background"]}
    for split, path in images_of(root):
        w, h = Image.open(path).size
        image_id = len(coco["images"]) + 1
        coco["images"].append({"id": image_id, "file_name": os.path.relpath(path, os.path.join(root, "images")),
                               "width": w, "height": h})
        stem = os.path.splitext(os.path.basename(path))[0]
        m = np.array(Image.open(os.path.join(root, "masks", split, stem + ".png")))
        for v in np.unique(m):
            if v == 0 or v == 255:
                continue
            binary = m == v
            ys, xs = np.nonzero(binary)
            coco["annotations"].append({
                "id": len(coco["annotations"]) + 1, "image_id": image_id, "category_id": int(v), "iscrowd": 0,
                "segmentation": {"size": [h, w], "counts": rle(binary)}, "area": int(binary.sum()),
                "bbox": [int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)]})
    return coco


def cvat_to_coco(root):
    import xml.etree.ElementTree as ET
    tree = ET.parse(os.path.join(root, "annotations.xml")).getroot()
    names = [l.findtext("name") for l in tree.iter("label")]
    ids = {n: i + 1 for i, n in enumerate(names)}
    coco = {"images": [], "annotations": [], "categories": [{"id": i + 1, "name": n} for i, n in enumerate(names)]}
    for image in tree.iter("image"):
        w, h = int(image.get("width")), int(image.get("height"))
        image_id = len(coco["images"]) + 1
        coco["images"].append({"id": image_id, "file_name": image.get("name"), "width": w, "height": h})
        for shape in image:
            ann = {"id": len(coco["annotations"]) + 1, "image_id": image_id, "category_id": ids[shape.get("label")],
                   "iscrowd": 0}
            if shape.tag == "polygon":
                pts = [tuple(map(float, p.split(","))) for p in shape.get("points").split(";")]
                xs, ys = [p[0] for p in pts], [p[1] for p in pts]
                ann["segmentation"] = [[c for p in pts for c in p]]
                ann["bbox"] = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
                ann["area"] = abs(sum(xs[i] * ys[i - 1] - xs[i - 1] * ys[i] for i in range(len(xs)))) / 2
            elif shape.tag == "box":
                x0, y0, x1, y1 = (float(shape.get(k)) for k in ("xtl", "ytl", "xbr", "ybr"))
                ann.update(bbox=[x0, y0, x1 - x0, y1 - y0], area=(x1 - x0) * (y1 - y0), segmentation=[])
            elif shape.tag == "mask":
                left, top, mw, mh = (int(shape.get(k)) for k in ("left", "top", "width", "height"))
                runs = [int(c) for c in shape.get("rle").split(",")]
                flat = np.repeat(np.arange(len(runs)) % 2, runs).astype(bool)
                binary = np.zeros((h, w), bool)
                binary[top:top + mh, left:left + mw] = flat.reshape(mh, mw)
                ys, xs = np.nonzero(binary)
                ann.update(segmentation={"size": [h, w], "counts": rle(binary)}, area=int(binary.sum()),
                           bbox=[int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)])
            else:
                continue
            coco["annotations"].append(ann)
    return coco


def main():
    kind, root, out = sys.argv[1], sys.argv[2], sys.argv[3]
    start = time.time()
    coco = {"yolo": yolo_to_coco, "masks": masks_to_coco, "cvat": cvat_to_coco}[kind](root)
    os.makedirs(out, exist_ok=True)
    json.dump(coco, open(os.path.join(out, "coco.json"), "w"))
    seconds = time.time() - start
    link = os.path.join(out, "images")
    if not os.path.exists(link):
        os.symlink(os.path.abspath(os.path.join(root, "images")), link)
    print("python %s -> coco: %d images in %.2f s = %.1f images/s" % (kind, len(coco["images"]), seconds,
                                                                    len(coco["images"]) / seconds))


if __name__ == "__main__":
    main()
