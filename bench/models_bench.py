"""PyTorch peer of bench/models_bench.cpp: same model (torchvision), input, loss, optimizer, timing.
Usage: models_bench.py MODEL [--batch 4] [--size 256] [--repeat 5] [--threads N] [--channels-last] [--cpu-time]"""
import argparse

import torch
import torch.nn.functional as F
from torchvision.models import segmentation
from bench_timing import median_cpu_ms, median_ms  # noqa: E402  (bench/ is the script's directory)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--cpu-time", action="store_true")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    kwargs = dict(weights=None, weights_backbone=None, num_classes=21)
    if a.model != "lraspp_mobilenet_v3_large":
        kwargs["aux_loss"] = True
    model = getattr(segmentation, a.model)(**kwargs)
    fmt = torch.channels_last if a.channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    x = torch.randn(a.batch, 3, a.size, a.size).contiguous(memory_format=fmt)
    target = torch.randint(0, 21, (a.batch, a.size, a.size))

    median = median_cpu_ms if a.cpu_time else median_ms
    model.eval()

    def forward():
        with torch.no_grad():
            model(x)

    forward_ms = median(a.repeat, forward)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def train():
        opt.zero_grad()
        out = model(x)
        loss = F.cross_entropy(out["out"], target)
        if "aux" in out:
            loss = loss + 0.5 * F.cross_entropy(out["aux"], target)
        loss.backward()
        opt.step()

    train_ms = median(a.repeat, train)
    print(f"pytorch {a.model}{' channels_last' if a.channels_last else ''} forward_ms {forward_ms:.1f} "
          f"train_ms {train_ms:.1f} threads {torch.get_num_threads()} clock {'cpu' if a.cpu_time else 'wall'}")


if __name__ == "__main__":
    main()
