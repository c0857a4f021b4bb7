"""Reference outputs of torchvision's detection models for segtune's detection parity tests.

For each model: torch.manual_seed(0), then torchvision 0.14's public builder (weights=None,
weights_backbone=None, num_classes=91, small min_size/max_size so the test is fast, a low
box_score_thresh). Calibration so the outputs are informative rather than degenerate:
  - the backbone BatchNorm statistics are set to the batch statistics of the test images (one
    train-mode pass of the body with momentum=None): random conv weights otherwise give
    exploding or vanishing activations;
  - the box classifier's weights are scaled by CLS_SCALE so class scores spread well away from
    1/91 and from each other (clear NMS order), and BOX_SCORE_THRESH keeps a few dozen detections.
Writes into OUTDIR:
  <name>.pth     the state dict as torchvision's COCO checkpoints have it (FrozenBatchNorm2d: no
                 num_batches_tracked), torch.save zip format
  <name>.ref.pt  a plain dict: image0, image1 (inputs [3,H,W] in [0,1]); min_size, max_size,
                 box_score_thresh (as 0-dim tensors); features/<level> (model.backbone on the
                 transformed batch); boxes<i>, scores<i>, labels<i> (+ masks<i>) of the eval-mode
                 forward, in the original images' pixels.
  <name>.double.ref.pt  for the --double-models: the same outputs with model.double() and float64
                 images (same weights). In float the outputs hold near-ties (scores 1e-7 apart) and
                 torchvision's own float run differs from its double run by up to ~1e-3 in score, so
                 the tight, position-by-position comparison is made in double.
Usage: make_detection_reference.py OUTDIR --models a,b,... [--double-models c,...]
"""
import argparse
import os

import torch
from torchvision.models import detection

IMAGE_SIZES = [(200, 160), (176, 224)]
MIN_SIZE = 160
MAX_SIZE = 256
BOX_SCORE_THRESH = 0.02
CLS_SCALE = 6.0


def build(name):
    builder = getattr(detection, name)
    return builder(weights=None, weights_backbone=None, num_classes=91, min_size=MIN_SIZE, max_size=MAX_SIZE,
                   box_score_thresh=BOX_SCORE_THRESH)


def calibrate(model, images):
    body = model.backbone.body
    batch, _ = model.transform(images)
    for m in body.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    body.train()
    with torch.no_grad():
        body(batch.tensors)
        model.roi_heads.box_predictor.cls_score.weight.mul_(CLS_SCALE)
    model.eval()


def frozen_state_dict(model):
    """FrozenBatchNorm2d checkpoints (the COCO zoo files) have no num_batches_tracked."""
    return {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("outdir")
    parser.add_argument("--models", required=True)
    parser.add_argument("--double-models", default="")
    args = parser.parse_args()
    double_models = set(filter(None, args.double_models.split(",")))
    torch.set_num_threads(2)
    for name in args.models.split(","):
        torch.manual_seed(0)
        model = build(name)
        images = [torch.rand(3, h, w) for h, w in IMAGE_SIZES]
        calibrate(model, images)
        torch.save(frozen_state_dict(model), os.path.join(args.outdir, name + ".pth"))
        save_reference(model, images, os.path.join(args.outdir, name + ".ref.pt"))
        if name in double_models:
            save_reference(model.double(), [i.double() for i in images],
                           os.path.join(args.outdir, name + ".double.ref.pt"))


def save_reference(model, images, path):
    """Inputs, backbone features and eval-mode detections of model on images, saved at path."""
    ref = {"min_size": torch.tensor(MIN_SIZE), "max_size": torch.tensor(MAX_SIZE),
           "box_score_thresh": torch.tensor(BOX_SCORE_THRESH, dtype=torch.float64)}
    with torch.no_grad():
        batch, _ = model.transform(images)
        for level, f in model.backbone(batch.tensors).items():
            ref["features/" + level] = f
        out = model(images)
    for i, (image, o) in enumerate(zip(images, out)):
        ref[f"image{i}"] = image
        for key, value in o.items():
            ref[f"{key}{i}"] = value
    torch.save(ref, path)
    counts = ", ".join(str(len(o["boxes"])) for o in out)
    print(f"{os.path.basename(path)}: detections per image {counts}, top scores "
          f"{[round(float(o['scores'][0]), 4) if len(o['scores']) else None for o in out]}")


if __name__ == "__main__":
    main()
