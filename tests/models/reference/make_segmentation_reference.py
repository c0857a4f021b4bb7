"""Reference outputs of torchvision's segmentation models for segtune's parity tests.

For each model: builds it with torchvision 0.14 (random weights, torch.manual_seed, BatchNorm running
statistics and affine parameters randomized so BN matters), then writes into OUTDIR:
  <name>.pth          state_dict as torch.save writes it (OrderedDict, zip format)
  <name>.safetensors  the same tensors as .safetensors (only with --safetensors NAME), written by hand
  <name>.21.pth       (only with --zoo-shaped NAME) another random model with torchvision's zoo shape:
                      21 classes and the aux head where supported, for the transfer surgery test
  <name>.ref.pt       a plain dict of reference tensors (readable by libtorch's pickle_load):
      input, out, aux (eval-mode forward); train_input, train_target, train_loss, grad/<param>
      (one train-mode forward/backward with dropout disabled, loss = CE(out) + 0.5 CE(aux)) and
      running_mean/<bn> (BN running means after that train-mode forward).
Usage: make_segmentation_reference.py OUTDIR --models a,b,... [--size 64] [--safetensors a,b] [--zoo-shaped a,b]
"""
import argparse
import json
import os
import struct

import torch
import torch.nn.functional as F
import torchvision
from torchvision.models import segmentation

NUM_CLASSES = 5


ZOO_CLASSES = 21  # COCO with VOC labels: every torchvision segmentation zoo file.


def build(name, num_classes=NUM_CLASSES):
    builder = getattr(segmentation, name)
    aux = name != "lraspp_mobilenet_v3_large"
    kwargs = dict(weights=None, weights_backbone=None, num_classes=num_classes)
    if aux:
        kwargs["aux_loss"] = True
    return builder(**kwargs)


def randomize_batchnorm(model):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.0)
                m.bias.uniform_(-0.2, 0.2)
                m.num_batches_tracked.fill_(7)


DTYPES = {torch.float32: ("F32", 4), torch.int64: ("I64", 8), torch.float64: ("F64", 8)}


def write_safetensors(tensors, path):
    """safetensors by hand (docs/formats.md §6): u64 LE header size, JSON header, raw data.
    Tensor bytes are written straight from their memory (no copies: the ResNet-101 files are 240 MB)."""
    items = sorted(tensors.items(), key=lambda kv: (-DTYPES[kv[1].dtype][1], kv[0]))
    header, arrays, offset = {}, [], 0
    for key, t in items:
        array = t.detach().contiguous().numpy()
        header[key] = {"dtype": DTYPES[t.dtype][0], "shape": list(t.shape),
                       "data_offsets": [offset, offset + array.nbytes]}
        arrays.append(array)
        offset += array.nbytes
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for array in arrays:
            if array.nbytes:
                f.write(memoryview(array).cast("B"))


def gradient_names(model, name):
    params = [n for n, _ in model.named_parameters()]
    heads = ("classifier.low_classifier", "classifier.high_classifier") if name.startswith("lraspp") else (
        "classifier.4", "aux_classifier.4")
    chosen = [params[0], params[len(params) // 2]]
    chosen += [n for n in params if n.startswith(heads)]
    return chosen


def make_zoo_shaped(name, outdir):
    torch.manual_seed(4321)
    model = build(name, ZOO_CLASSES)
    randomize_batchnorm(model)
    torch.save(model.state_dict(), os.path.join(outdir, name + ".21.pth"))


def make_reference(name, outdir, size, safetensors):
    torch.manual_seed(1234)
    model = build(name)
    randomize_batchnorm(model)
    state = model.state_dict()
    torch.save(state, os.path.join(outdir, name + ".pth"))
    if safetensors:
        write_safetensors(dict(state), os.path.join(outdir, name + ".safetensors"))

    ref = {}
    model.eval()
    x = torch.randn(1, 3, size, size)
    with torch.no_grad():
        result = model(x)
    ref["input"] = x
    ref["out"] = result["out"]
    if "aux" in result:
        ref["aux"] = result["aux"]

    model.train()
    for m in model.modules():  # Dropout is random: disable it so gradients are comparable.
        if isinstance(m, torch.nn.Dropout):
            m.eval()
    xt = torch.randn(2, 3, size, size)
    target = torch.randint(0, NUM_CLASSES, (2, size, size))
    result = model(xt)
    loss = F.cross_entropy(result["out"], target)
    if "aux" in result:
        loss = loss + 0.5 * F.cross_entropy(result["aux"], target)
    loss.backward()
    ref["train_input"] = xt
    ref["train_target"] = target
    ref["train_loss"] = loss.detach().reshape(1)
    named = dict(model.named_parameters())
    for n in gradient_names(model, name):
        ref["grad/" + n] = named[n].grad.clone()
    bns = [n for n, m in model.named_modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for n in (bns[0], bns[-1]):
        ref["running_mean/" + n + ".running_mean"] = model.get_submodule(n).running_mean.clone()
    torch.save(ref, os.path.join(outdir, name + ".ref.pt"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("outdir")
    parser.add_argument("--models", required=True)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--safetensors", default="")
    parser.add_argument("--zoo-shaped", default="")
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    safetensors = set(filter(None, args.safetensors.split(",")))
    for name in args.models.split(","):
        make_reference(name, args.outdir, args.size, name in safetensors)
    for name in filter(None, args.zoo_shaped.split(",")):
        make_zoo_shaped(name, args.outdir)
    print("torchvision", torchvision.__version__, "ok")


if __name__ == "__main__":
    main()
