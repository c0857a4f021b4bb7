"""Python peer of `segtune infer` for bench/infer_bench.sh: the straightforward PyTorch loop.

Reads the TFRecord (framing by hand, Example via protoc-generated example_pb2), decodes the JPEGs with
PIL in a torch DataLoader (--workers processes; 0 = in the main process, DataLoader's default), runs
torchvision's lraspp_mobilenet_v3_large with the bundle's weights (model.safetensors parsed by hand) in
eval mode under inference_mode, softmax + max (class map and its probability), writes each class map as
a PNG into the masks directory and, with --output, each input Example plus the class-map PNG keys and
per-class fractions (image/encoded dropped, as segtune infer --discard-image-pixels) to a TFRecord.
Less work than segtune infer: no per-region detections (connected components need scipy or OpenCV,
which this Python lacks), and the record CRCs are zlib.crc32 stand-ins (no C CRC32C here), which cost
what a C CRC costs.
usage: infer_bench_peer.py MODEL_DIR RECORD MASKS_DIR [--output F] [--batch-size N] [--threads N] [--workers N]
"""
import argparse
import io
import json
import os
import struct
import time
import zlib

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


def masked_crc(data):
    crc = zlib.crc32(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def write_record(f, data):
    header = struct.pack("<Q", len(data))
    f.write(header + struct.pack("<I", masked_crc(header)) + data + struct.pack("<I", masked_crc(data)))


class Records(torch.utils.data.Dataset):
    """Serialized Examples -> (Example, file-name stem, RGB array): the DataLoader's decode."""

    def __init__(self, serialized):
        self.serialized = serialized
        self.pb = None

    def __len__(self):
        return len(self.serialized)

    def __getitem__(self, i):
        if self.pb is None:
            self.pb = load_example_pb2()
        ex = self.pb.Example.FromString(self.serialized[i])
        feature = ex.features.feature
        name = os.path.splitext(feature["image/filename"].bytes_list.value[0].decode())[0]
        rgb = np.asarray(Image.open(io.BytesIO(feature["image/encoded"].bytes_list.value[0])).convert("RGB"))
        return self.serialized[i], name, rgb


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir")
    ap.add_argument("record")
    ap.add_argument("masks_dir")
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--output")
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
    num_classes = meta["num_classes"]
    out = open(args.output, "wb") if args.output else None
    start = time.time()
    count = 0
    loader = torch.utils.data.DataLoader(Records(list(records(args.record))), batch_size=args.batch_size,
                                         num_workers=args.workers, collate_fn=list)
    for batch in loader:
        x = torch.from_numpy(np.stack([b[2] for b in batch])).permute(0, 3, 1, 2).float().div(255)
        x = (x - mean) / std
        with torch.inference_mode():
            probability, pred = model(x)["out"].softmax(1).max(1)
        for (serialized, name, _), p in zip(batch, pred.to(torch.uint8).numpy()):
            png = io.BytesIO()
            Image.fromarray(p).save(png, format="PNG")
            with open(os.path.join(args.masks_dir, name + ".png"), "wb") as f:
                f.write(png.getvalue())
            if out:
                ex = pb.Example.FromString(serialized)
                feature = ex.features.feature
                del feature["image/encoded"]
                feature["image/segmentation/class/predicted"].bytes_list.value.append(png.getvalue())
                feature["image/segmentation/class/predicted/format"].bytes_list.value.append(b"png")
                fraction = np.bincount(p.ravel(), minlength=num_classes) / p.size
                feature["image/segmentation/class/fraction"].float_list.value.extend(fraction.tolist())
                write_record(out, ex.SerializeToString())
            count += 1
    if out:
        out.close()
    seconds = time.time() - start
    print("python peer (torchvision lraspp, PIL, batch %d, %d threads, %d DataLoader workers): %d images in %.1f s"
          " = %.2f images/s" % (args.batch_size, args.threads, args.workers, count, seconds, count / seconds))


if __name__ == "__main__":
    main()
