#!/usr/bin/python3
"""Generates the inputs of convert_bench.sh: N small JPEGs with polygons, as a YOLO dataset
(data.yaml, images/{train,val}/, labels/{train,val}/ with 3 segment lines and 1 box line per image),
as a semantic mask folder over the same images (images/ + masks/ class-index PNGs + classes.txt), and
as a CVAT for images 1.1 task export (cvat/annotations.xml + cvat/images/: the same 3 polygons and
box, plus a <mask> element with CVAT's RLE per image).

  convert_bench_gen.py OUT_DIR N
"""
import os
import sys

import numpy as np
from PIL import Image, ImageDraw

W, H = 96, 64
NAMES = ["bottle", "can", "cup"]


def polygon(rng):
    cx, cy = rng.uniform(10, W - 10), rng.uniform(10, H - 10)
    k = int(rng.integers(3, 8))
    angles = np.sort(rng.uniform(0, 2 * np.pi, k))
    radius = rng.uniform(3, 12, k)
    xs = np.clip(cx + radius * np.cos(angles), 0, W)
    ys = np.clip(cy + radius * np.sin(angles), 0, H)
    return list(zip(xs.tolist(), ys.tolist()))


def main():
    out, n = sys.argv[1], int(sys.argv[2])
    rng = np.random.default_rng(21)
    yolo, masks, cvat = os.path.join(out, "yolo"), os.path.join(out, "masks"), os.path.join(out, "cvat")
    cvat_images = []
    for split in ("train", "val"):
        for d in (f"{yolo}/images/{split}", f"{yolo}/labels/{split}", f"{masks}/images/{split}", f"{masks}/masks/{split}",
                  f"{cvat}/images/{split}"):
            os.makedirs(d, exist_ok=True)
    with open(f"{yolo}/data.yaml", "w") as f:
        f.write("train: images/train\nval: images/val\nnc: 3\nnames: [bottle, can, cup]\n")
    with open(f"{masks}/classes.txt", "w") as f:
        f.write("background\n" + "\n".join(NAMES) + "\n")
    for i in range(n):
        split = "val" if i % 10 == 0 else "train"
        name = f"img{i:05d}"
        pixels = rng.integers(0, 255, (H, W, 3), dtype=np.uint8)
        photo = f"{yolo}/images/{split}/{name}.jpg"
        Image.fromarray(pixels).save(photo, quality=85)
        os.link(photo, f"{masks}/images/{split}/{name}.jpg")
        os.link(photo, f"{cvat}/images/{split}/{name}.jpg")
        shapes = []
        mask = Image.new("L", (W, H), 0)
        draw = ImageDraw.Draw(mask)
        lines = []
        for _ in range(3):
            cls = int(rng.integers(0, 3))
            pts = polygon(rng)
            draw.polygon(pts, fill=cls + 1)
            shapes.append(f'<polygon label="{NAMES[cls]}" occluded="0" source="manual" points="' +
                          ";".join(f"{x:.2f},{y:.2f}" for x, y in pts) + '" z_order="0"/>')
            lines.append(f"{cls} " + " ".join(f"{x / W:.6f} {y / H:.6f}" for x, y in pts))
        bw, bh = rng.uniform(4, 30), rng.uniform(4, 20)
        bx, by = rng.uniform(0, W - bw), rng.uniform(0, H - bh)
        box_cls = int(rng.integers(0, 3))
        lines.append(f"{box_cls} {(bx + bw / 2) / W:.6f} {(by + bh / 2) / H:.6f} {bw / W:.6f} {bh / H:.6f}")
        shapes.append(f'<box label="{NAMES[box_cls]}" occluded="0" source="manual" xtl="{bx:.2f}" ytl="{by:.2f}" '
                      f'xbr="{bx + bw:.2f}" ybr="{by + bh:.2f}" z_order="0"/>')
        shapes.append(cvat_mask(np.array(mask) == 1, NAMES[0]))
        cvat_images.append(f'<image id="{i}" name="{split}/{name}.jpg" width="{W}" height="{H}">' + "".join(shapes) + "</image>")
        with open(f"{yolo}/labels/{split}/{name}.txt", "w") as f:
            f.write("\n".join(lines) + "\n")
        mask.save(f"{masks}/masks/{split}/{name}.png")
    labels = "".join(f"<label><name>{n}</name><type>any</type><attributes></attributes></label>" for n in NAMES)
    with open(f"{cvat}/annotations.xml", "w") as f:
        f.write('<?xml version="1.0" encoding="utf-8"?>\n<annotations><version>1.1</version><meta><task><labels>' +
                labels + "</labels></task></meta>\n" + "\n".join(cvat_images) + "\n</annotations>\n")


def cvat_mask(binary, label):
    """A <mask>: CVAT's RLE, row-major over the region's own box, starting with a background run."""
    ys, xs = np.nonzero(binary)
    if len(xs) == 0:
        binary = np.zeros_like(binary)
        binary[0, 0] = True
        ys, xs = np.array([0]), np.array([0])
    left, top, right, bottom = xs.min(), ys.min(), xs.max(), ys.max()
    flat = binary[top:bottom + 1, left:right + 1].ravel().astype(np.int8)
    change = np.flatnonzero(np.diff(flat)) + 1
    runs = np.diff(np.concatenate([[0], change, [flat.size]])).tolist()
    if flat[0]:
        runs = [0] + runs
    return (f'<mask label="{label}" source="manual" occluded="0" rle="{", ".join(map(str, runs))}" left="{left}" '
            f'top="{top}" width="{right - left + 1}" height="{bottom - top + 1}" z_order="0"/>')


if __name__ == "__main__":
    main()
