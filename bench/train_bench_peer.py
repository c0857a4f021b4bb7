#!/usr/bin/python3
"""The PyTorch/torchvision peer of `segtune train` for bench/train_bench.sh.

Trains torchvision's lraspp_mobilenet_v3_large from scratch on the SAME TFRecords segtune reads, with
the same augmentation (random horizontal flip, random scale + 256x256 crop padded with the ignore
label, color jitter), batch size, optimizer (SGD momentum, weight decay), loss (cross-entropy, ignore
255), torch threads and number of DataLoader workers. Records are parsed the way
tests/data/reference/tfrecord_reference.py does (TFRecord framing read here, tf.train.Example parsed by
Python protobuf from the shipped example.proto); CRCs are not re-checked (segtune checks them once
while loading, before its timed loop).

Prints one line:
  pytorch steps S images I data_wait_s W compute_s C images_per_s R threads T workers K
where R = I / (W + C): data wait is time blocked in next(loader), compute is forward + loss + backward +
optimizer step (the same split `segtune train` reports).

Usage: train_bench_peer.py RECORD --steps S --batch-size B --threads T --workers K --num-classes N
       [--crop 256] [--min-scale 0.75] [--max-scale 1.25] [--lr 0.01] [--channels-last]
"""
import argparse
import io
import random
import struct
import time

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
import torchvision.transforms as T
import torchvision.transforms.functional as TF
from PIL import Image
from example_proto import load_example_pb2  # noqa: E402  (bench/ is the script's directory)



def index_records(path):
    """(offset, length) of each record body: the framing of tfrecord_reference.read_records."""
    spans = []
    with open(path, "rb") as f:
        data = f.read()
    pos = 0
    while pos < len(data):
        (length,) = struct.unpack("<Q", data[pos:pos + 8])
        spans.append((pos + 12, length))
        pos += 16 + length
    return spans


class RecordDataset(torch.utils.data.Dataset):
    def __init__(self, path, args):
        self.path = path
        self.spans = index_records(path)
        self.args = args
        self.example_pb2 = None
        self.file = None
        self.jitter = T.ColorJitter(brightness=args.brightness, contrast=args.contrast, saturation=args.saturation,
                                    hue=args.hue)
        self.normalize = T.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])

    def __len__(self):
        return len(self.spans)

    def _features(self, index):
        if self.example_pb2 is None:  # Per worker process.
            self.example_pb2 = load_example_pb2()
            self.file = open(self.path, "rb")
        offset, length = self.spans[index]
        self.file.seek(offset)
        example = self.example_pb2.Example()
        example.ParseFromString(self.file.read(length))
        return example.features.feature

    def __getitem__(self, index):
        a = self.args
        feature = self._features(index)
        image = Image.open(io.BytesIO(feature["image/encoded"].bytes_list.value[0])).convert("RGB")
        label = Image.open(io.BytesIO(feature["image/segmentation/class/encoded"].bytes_list.value[0]))
        rng = random  # Seeded per worker by the DataLoader.
        if rng.random() < 0.5:
            image, label = TF.hflip(image), TF.hflip(label)
        scale = rng.uniform(a.min_scale, a.max_scale)
        w, h = max(1, round(image.width * scale)), max(1, round(image.height * scale))
        image = image.resize((w, h), Image.BILINEAR)
        label = label.resize((w, h), Image.NEAREST)
        if w < a.crop or h < a.crop:
            pad = [0, 0, max(0, a.crop - w), max(0, a.crop - h)]
            image, label = TF.pad(image, pad, fill=0), TF.pad(label, pad, fill=255)
        x, y = rng.randint(0, image.width - a.crop), rng.randint(0, image.height - a.crop)
        image = image.crop((x, y, x + a.crop, y + a.crop))
        label = label.crop((x, y, x + a.crop, y + a.crop))
        image = self.jitter(image)
        tensor = self.normalize(TF.to_tensor(image))
        target = torch.from_numpy(np.asarray(label, dtype=np.int64).copy())
        target[target >= a.num_classes] = 255
        return tensor, target


def main():
    p = argparse.ArgumentParser()
    p.add_argument("record")
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--num-classes", type=int, required=True)
    p.add_argument("--crop", type=int, default=256)
    p.add_argument("--min-scale", type=float, default=0.75)
    p.add_argument("--max-scale", type=float, default=1.25)
    p.add_argument("--brightness", type=float, default=0.125)
    p.add_argument("--contrast", type=float, default=0.2)
    p.add_argument("--saturation", type=float, default=0.2)
    p.add_argument("--hue", type=float, default=0.02)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--weight-decay", type=float, default=4e-5)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--channels-last", action="store_true")
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    dataset = RecordDataset(a.record, a)
    sampler = torch.utils.data.RandomSampler(dataset, num_samples=a.steps * a.batch_size)
    loader = torch.utils.data.DataLoader(dataset, batch_size=a.batch_size, sampler=sampler, drop_last=True,
                                         num_workers=a.workers, persistent_workers=a.workers > 0)
    model = torchvision.models.segmentation.lraspp_mobilenet_v3_large(weights=None, weights_backbone=None,
                                                                      num_classes=a.num_classes)
    fmt = torch.channels_last if a.channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=0.9, weight_decay=a.weight_decay)

    wait = compute = 0.0
    steps = images = 0
    it = iter(loader)
    while True:
        start = time.perf_counter()
        try:
            x, y = next(it)
        except StopIteration:
            break
        got = time.perf_counter()
        x = x.contiguous(memory_format=fmt)
        loss = F.cross_entropy(model(x)["out"], y, ignore_index=255)
        loss_value = loss.item()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        done = time.perf_counter()
        wait += got - start
        compute += done - got
        steps += 1
        images += x.shape[0]
    if not np.isfinite(loss_value):
        raise SystemExit("non-finite loss")
    print(f"pytorch steps {steps} images {images} data_wait_s {wait:.3f} compute_s {compute:.3f} "
          f"images_per_s {images / (wait + compute):.2f} threads {torch.get_num_threads()} workers {a.workers} "
          f"last_loss {loss_value:.4f}")


if __name__ == "__main__":
    main()
