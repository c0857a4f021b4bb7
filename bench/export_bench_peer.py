"""PyTorch eager peer of bench/export_bench.cpp: torchvision's model at 512x512, batch 1, eval mode.

usage: export_bench_peer.py MODEL_NAME [REPEATS] [THREADS]   prints "pytorch_ms X" (median after one warm-up).
"""
import statistics
import sys
import time

import torch
import torchvision


def main():
    name = sys.argv[1]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    if len(sys.argv) > 3:
        torch.set_num_threads(int(sys.argv[3]))
    model = getattr(torchvision.models.segmentation, name)(weights=None, weights_backbone=None, num_classes=21).eval()
    x = torch.rand(1, 3, 512, 512)
    with torch.no_grad():
        model(x)
        ms = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            model(x)["out"].argmax(1)
            ms.append((time.perf_counter() - t0) * 1e3)
    print("threads %d" % torch.get_num_threads())
    print("pytorch_ms %.2f" % statistics.median(ms))


if __name__ == "__main__":
    main()
