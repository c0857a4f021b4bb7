#!/usr/bin/python3
"""Generates the inputs of convert_bench.sh: N small JPEGs with polygons, as a YOLO dataset
(data.yaml, images/{train,val}/, labels/{train,val}/ with 3 segment lines and 1 box line per image)
and as a semantic mask folder over the same images (images/ + masks/ class-index PNGs + classes.txt).

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
    yolo, masks = os.path.join(out, "yolo"), os.path.join(out, "masks")
    for split in ("train", "val"):
        for d in (f"{yolo}/images/{split}", f"{yolo}/labels/{split}", f"{masks}/images/{split}", f"{masks}/masks/{split}"):
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
        mask = Image.new("L", (W, H), 0)
        draw = ImageDraw.Draw(mask)
        lines = []
        for _ in range(3):
            cls = int(rng.integers(0, 3))
            pts = polygon(rng)
            draw.polygon(pts, fill=cls + 1)
            lines.append(f"{cls} " + " ".join(f"{x / W:.6f} {y / H:.6f}" for x, y in pts))
        bw, bh = rng.uniform(4, 30), rng.uniform(4, 20)
        bx, by = rng.uniform(0, W - bw), rng.uniform(0, H - bh)
        lines.append(f"{int(rng.integers(0, 3))} {(bx + bw / 2) / W:.6f} {(by + bh / 2) / H:.6f} {bw / W:.6f} {bh / H:.6f}")
        with open(f"{yolo}/labels/{split}/{name}.txt", "w") as f:
            f.write("\n".join(lines) + "\n")
        mask.save(f"{masks}/masks/{split}/{name}.png")


if __name__ == "__main__":
    main()
