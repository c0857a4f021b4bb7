"""Reference mIoU as torchvision computes it (references/segmentation/utils.py, ConfusionMatrix).

usage: torchvision_miou.py NUM_CLASSES GT_FILE PRED_FILE
The files hold raw uint8 pixels (all images concatenated, same order). Prints one JSON object with
the confusion matrix, per-class IoU, mIoU and global pixel accuracy.
"""
import json
import sys

import torch


class ConfusionMatrix:  # As in torchvision/references/segmentation/utils.py.
    def __init__(self, num_classes):
        self.num_classes = num_classes
        self.mat = None

    def update(self, a, b):
        n = self.num_classes
        if self.mat is None:
            self.mat = torch.zeros((n, n), dtype=torch.int64, device=a.device)
        with torch.inference_mode():
            k = (a >= 0) & (a < n)
            inds = n * a[k].to(torch.int64) + b[k]
            self.mat += torch.bincount(inds, minlength=n**2).reshape(n, n)

    def compute(self):
        h = self.mat.float()
        acc_global = torch.diag(h).sum() / h.sum()
        acc = torch.diag(h) / h.sum(1)
        iu = torch.diag(h) / (h.sum(1) + h.sum(0) - torch.diag(h))
        return acc_global, acc, iu


def main():
    n = int(sys.argv[1])
    gt = torch.frombuffer(bytearray(open(sys.argv[2], "rb").read()), dtype=torch.uint8).to(torch.int64)
    pred = torch.frombuffer(bytearray(open(sys.argv[3], "rb").read()), dtype=torch.uint8).to(torch.int64)
    cm = ConfusionMatrix(n)
    cm.update(gt.flatten(), pred.flatten())
    acc_global, acc, iu = cm.compute()
    print(json.dumps({
        "confusion": cm.mat.tolist(),
        "iou": iu.tolist(),
        "mean_iou": iu.mean().item(),
        "pixel_accuracy": acc_global.item(),
        "mean_class_accuracy": acc.mean().item(),
    }))


if __name__ == "__main__":
    main()
