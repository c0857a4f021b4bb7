"""torchvision.ops peer of detection_ops_bench.cpp: same sizes, same timing protocol.
Usage: detection_ops_bench.py [--threads N] [--repeats R]"""
import argparse

import torch
import torchvision
from bench_timing import median_ms  # noqa: E402  (bench/ is the script's directory)


def boxes(n, width, height):
    xy = torch.rand(n, 2) * torch.tensor([width, height])
    wh = torch.rand(n, 2) * torch.tensor([width / 4, height / 4]) + 1
    return torch.cat([xy, xy + wh], 1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    b, s = boxes(5000, 1000, 800), torch.rand(5000)
    print("nms 5000 boxes: %.3f ms" % median_ms(args.repeats, lambda: torchvision.ops.nms(b, s, 0.5)))
    feature = torch.randn(1, 256, 50, 68)
    rois = torch.cat([torch.zeros(512, 1), boxes(512, 68 * 16, 50 * 16)], 1)
    grad = torch.randn(512, 256, 7, 7)

    def roi_align():
        x = feature.detach().requires_grad_(True)
        torchvision.ops.roi_align(x, rois, (7, 7), 1.0 / 16, 2, False).backward(grad)

    print("roi_align fwd+bwd 512 rois 256x50x68: %.3f ms" % median_ms(args.repeats, roi_align))


if __name__ == "__main__":
    main()
