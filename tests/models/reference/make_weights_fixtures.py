"""Reference fixtures for segtune's weight readers and writers, made with real torch.save/torch.load.

  make DIR            writes DIR/state.pth (an nn.Module state_dict, an OrderedDict, with extra
                      tensors of every common dtype, non-contiguous and storage-sharing views, a
                      scalar and an empty tensor), DIR/checkpoint.pth (a training checkpoint dict
                      wrapping it under "model" beside an optimizer and argparse.Namespace) and
                      DIR/reference.json (every tensor's dtype, shape and contiguous bytes in hex).
  dump FILE OUT       torch.load(FILE) and write OUT in the same JSON form, plus its Python type.
  safetensors FILE OUT  parse a .safetensors file by hand (no safetensors package) into the same form.
"""
import argparse
import collections
import json
import struct
import sys

import torch

SAFETENSORS_NAMES = {
    torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.bfloat16: "BF16",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
    torch.uint8: "U8", torch.bool: "BOOL",
}
TORCH_DTYPES = {v: k for k, v in SAFETENSORS_NAMES.items()}


def tensor_bytes(t):
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.numpy().tobytes()


def describe(sd):
    return [{"name": k, "dtype": SAFETENSORS_NAMES[v.dtype], "shape": list(v.shape),
             "hex": tensor_bytes(v).hex()} for k, v in sd.items()]


def make_state_dict():
    torch.manual_seed(7)
    module = torch.nn.Sequential(collections.OrderedDict([
        ("conv", torch.nn.Conv2d(3, 4, 3, bias=False)),
        ("bn", torch.nn.BatchNorm2d(4)),
        ("head", torch.nn.Conv2d(4, 2, 1)),
    ]))
    module.bn.running_mean.normal_()
    module.bn.running_var.uniform_(0.5, 2.0)
    module.bn.num_batches_tracked.fill_(12345678901)  # Needs LONG1 / 8 bytes in the pickle.
    sd = module.state_dict()  # An OrderedDict with _metadata (pickled with BUILD).
    base = torch.arange(40, dtype=torch.float32) * 0.5 - 3.25
    sd["shared.a"] = base[2:7]                 # Same storage, offset 2.
    sd["shared.b"] = base[10:18].view(2, 4)   # Same storage, offset 10.
    sd["shared.strided"] = base[1:21:3]       # Stride 3.
    sd["transposed"] = torch.randn(3, 5).t()  # Non-contiguous.
    sd["scalar"] = torch.tensor(2.718281828, dtype=torch.float64)
    sd["empty"] = torch.zeros(0, 3)
    sd["half"] = torch.randn(2, 3).half()
    sd["bfloat16"] = torch.randn(4).bfloat16()
    sd["int32"] = torch.tensor([-2147483648, 0, 2147483647], dtype=torch.int32)
    sd["int16"] = torch.tensor([-300, 7, 32767], dtype=torch.int16)
    sd["int8"] = torch.tensor([-128, 1, 127], dtype=torch.int8)
    sd["uint8"] = torch.tensor([0, 128, 255], dtype=torch.uint8)
    sd["bool"] = torch.tensor([True, False, True])
    sd["int64.big"] = torch.tensor([-(2 ** 62), 2 ** 40], dtype=torch.int64)
    return sd


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["make", "dump", "safetensors"])
    parser.add_argument("path")
    parser.add_argument("out", nargs="?")
    args = parser.parse_args()
    if args.mode == "make":
        sd = make_state_dict()
        torch.save(sd, f"{args.path}/state.pth")
        checkpoint = {"epoch": 3, "model": sd, "optimizer": {"state": {}, "param_groups": [{"lr": 0.01}]},
                      "args": argparse.Namespace(lr=0.01, name="run")}
        torch.save(checkpoint, f"{args.path}/checkpoint.pth")
        with open(f"{args.path}/reference.json", "w") as f:
            json.dump({"type": type(sd).__name__, "tensors": describe(sd)}, f)
    elif args.mode == "dump":
        obj = torch.load(args.path)
        with open(args.out, "w") as f:
            json.dump({"type": type(obj).__name__, "tensors": describe(obj)}, f)
    else:
        with open(args.path, "rb") as f:
            data = f.read()
        (n,) = struct.unpack("<Q", data[:8])
        header = json.loads(data[8:8 + n])
        metadata = header.pop("__metadata__", {})
        tensors = []
        for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
            begin, end = info["data_offsets"]
            tensors.append({"name": name, "dtype": info["dtype"], "shape": info["shape"],
                            "hex": data[8 + n + begin:8 + n + end].hex()})
        layout = {"header_length": n, "padded": n % 8 == 0, "header_tail": data[8:8 + n][-8:].decode("latin-1"),
                  "order": [t["name"] for t in tensors]}
        with open(args.out, "w") as f:
            json.dump({"type": "safetensors", "metadata": metadata, "tensors": tensors, "layout": layout}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
