"""The training step of bench/train_profile.cpp in PyTorch (Debian python3-torch + torchvision), profiled
the same way (the legacy autograd profiler's Chrome trace): torchvision's model channels-last in train
mode, forward, cross-entropy (ignore 255), zero_grad, backward, SGD step (momentum 0.9, weight decay 4e-5).

usage: train_profile_peer.py MODEL THREADS ROUNDS BATCH SIZE TRACE_JSON
"""
import sys
import time

import torch
import torchvision


def main():
    name, threads, rounds, batch, size, trace = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), \
        int(sys.argv[5]), sys.argv[6]
    classes = int(sys.argv[7]) if len(sys.argv) > 7 else 21
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = getattr(torchvision.models.segmentation, name)(weights=None, weights_backbone=None, num_classes=classes,
                                                             aux_loss=None if name.startswith("lraspp") else False)
    model.train()
    model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=4e-5)
    images = torch.randn(batch, 3, size, size).contiguous(memory_format=torch.channels_last)
    labels = torch.randint(0, classes, (batch, size, size))

    def step():
        loss = torch.nn.functional.cross_entropy(model(images)["out"], labels, ignore_index=255)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    for _ in range(3):  # The first two steps take seconds here (primitive creation).
        step()
    start = time.time()
    for _ in range(rounds):
        step()
    ms = (time.time() - start) * 1000 / rounds
    with torch.autograd.profiler.profile() as prof:
        for _ in range(rounds):
            step()
    prof.export_chrome_trace(trace)
    print("pytorch %s threads %d ms_per_step (unprofiled) %.1f" % (name, torch.get_num_threads(), ms))


if __name__ == "__main__":
    main()
