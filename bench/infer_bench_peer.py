"""Python peer of `segtune infer` for bench/infer_bench.sh: the straightforward PyTorch loop.

Reads the TFRecord (framing by hand, Example via protoc-generated example_pb2), decodes the JPEGs with
PIL, runs torchvision's lraspp_mobilenet_v3_large with the bundle's weights (model.safetensors parsed by
hand) in batches, argmax, and writes each class map as a PNG into the masks directory.
usage: infer_bench_peer.py MODEL_DIR RECORD MASKS_DIR [--batch-size N] [--threads N]
"""
import argparse
import json
import os
import struct
import time

import numpy as np
import torch
import torchvision
from PIL import Image
from example_proto import load_example_pb2  # noqa: E402  (bench/ is the script's directory)

DTYPES = {"F32": torch.float32, "I64": torch.int64, "F64": torch.float64, "I32": torch.int32}


def read_safetensors(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        t = torch.frombuffer(bytearray(data[base + start:base + end]), dtype=DTYPES[info["dtype"]])
        tensors[name] = t.reshape(info["shape"])
    return tensors


def records(path):
    with open(path, "rb") as f:
        while True:
            head = f.read(12)
            if len(head) < 12:
                return
            (length,) = struct.unpack("<Q", head[:8])
            data = f.read(length)
            f.read(4)
            yield data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir")
    ap.add_argument("record")
    ap.add_argument("masks_dir")
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    pb = load_example_pb2()
    meta = json.load(open(os.path.join(args.model_dir, "model.json")))
    model = torchvision.models.segmentation.lraspp_mobilenet_v3_large(
        weights=None, weights_backbone=None, num_classes=meta["num_classes"])
    model.load_state_dict(read_safetensors(os.path.join(args.model_dir, "model.safetensors")))
    model.eval()
    mean = torch.tensor(meta["preprocessing"]["mean"]).view(1, 3, 1, 1)
    std = torch.tensor(meta["preprocessing"]["std"]).view(1, 3, 1, 1)
    os.makedirs(args.masks_dir, exist_ok=True)
    start = time.time()
    count = 0

    def flush(batch):
        x = torch.from_numpy(np.stack([b[1] for b in batch])).permute(0, 3, 1, 2).float().div(255)
        x = (x - mean) / std
        with torch.inference_mode():
            pred = model(x)["out"].softmax(1).max(1)[1].to(torch.uint8).numpy()
        for (name, _), p in zip(batch, pred):
            Image.fromarray(p).save(os.path.join(args.masks_dir, name + ".png"))

    batch = []
    for data in records(args.record):
        ex = pb.Example.FromString(data)
        feature = ex.features.feature
        encoded = feature["image/encoded"].bytes_list.value[0]
        name = os.path.splitext(feature["image/filename"].bytes_list.value[0].decode())[0]
        import io
        rgb = np.asarray(Image.open(io.BytesIO(encoded)).convert("RGB"))
        batch.append((name, rgb))
        count += 1
        if len(batch) == args.batch_size:
            flush(batch)
            batch = []
    if batch:
        flush(batch)
    seconds = time.time() - start
    print("python peer (torchvision lraspp, PIL, batch %d, %d threads): %d images in %.1f s = %.2f images/s" %
          (args.batch_size, args.threads, count, seconds, count / seconds))


if __name__ == "__main__":
    main()
