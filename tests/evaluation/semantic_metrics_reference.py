"""Reference semantic-segmentation metrics, computed the way torchvision's
references/segmentation/utils.py ConfusionMatrix does (bincount of n*gt+pred over 0<=gt<n).

usage: semantic_metrics_reference.py NUM_CLASSES GT.raw PRED.raw  -> prints JSON {mean_iou, pixel_accuracy, ...}
"""
import json
import sys

import torch

n = int(sys.argv[1])
a = torch.frombuffer(bytearray(open(sys.argv[2], "rb").read()), dtype=torch.uint8).to(torch.int64)
b = torch.frombuffer(bytearray(open(sys.argv[3], "rb").read()), dtype=torch.uint8).to(torch.int64)

# torchvision ConfusionMatrix.update / compute.
k = (a >= 0) & (a < n)
inds = n * a[k] + b[k]
h = torch.bincount(inds, minlength=n**2).reshape(n, n).double()
acc_global = torch.diag(h).sum() / h.sum()
acc = torch.diag(h) / h.sum(1)
iu = torch.diag(h) / (h.sum(1) + h.sum(0) - torch.diag(h))
freq = h.sum(1) / h.sum()
print(json.dumps({
    "mean_iou": iu.mean().item(),
    "pixel_accuracy": acc_global.item(),
    "mean_class_accuracy": acc.mean().item(),
    "frequency_weighted_iou": (freq * iu).sum().item(),
    "iou": iu.tolist(),
    "confusion": h.flatten().long().tolist(),
}))
