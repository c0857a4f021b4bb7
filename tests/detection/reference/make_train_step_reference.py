"""Reference of one torchvision training forward/backward for segtune's detection train-step parity test.

torchvision 0.14's fasterrcnn_mobilenet_v3_large_320_fpn built as for training from scratch
(weights=None, weights_backbone=None: nn.BatchNorm2d and every backbone stage trainable), num_classes=3,
small images, torch.manual_seed(0) for the weights. Two images with drawn rectangles and their boxes;
torch.manual_seed(1) right before the train-mode forward, so the random draws (the transform's
min_size choice, the RPN and RoI samplers) are the ones segtune makes after the same seed.
Writes into OUTDIR:
  model.pth     the initial state dict (with BatchNorm's num_batches_tracked), torch.save zip format
  step.ref.pt   image<i>, boxes<i>, labels<i> (inputs); loss/<name> (the four losses);
                grad/<param> for a parameter of each part (backbone stem and last stage, FPN, RPN head,
                box head, box predictor); running_mean/<bn> after the forward (BatchNorm statistics)
  step.double.ref.pt  the same step with the model, images and boxes in float64 (model.double() on the
                same initial weights, the same seed). Float rounding alone moves the stem's and the last
                stage's gradients by ~3e-3 of their maximum (this step in float against itself in double,
                measured under every DNNL_MAX_CPU_ISA), so the tight comparison is made in double.
Usage: make_train_step_reference.py OUTDIR
"""
import os
import sys

import torch
from torchvision.models import detection

SIZE = 128
GRADS = ["backbone.body.0.0.weight", "backbone.body.16.0.weight", "backbone.fpn.inner_blocks.0.0.weight",
         "backbone.fpn.layer_blocks.1.0.weight", "rpn.head.conv.0.0.weight", "rpn.head.cls_logits.weight",
         "rpn.head.bbox_pred.weight", "roi_heads.box_head.fc7.weight",
         "roi_heads.box_predictor.cls_score.weight", "roi_heads.box_predictor.bbox_pred.weight"]
RUNNING_MEANS = ["backbone.body.0.1.running_mean", "backbone.body.16.1.running_mean"]


def scene(boxes, colors):
    image = torch.rand(3, SIZE, SIZE) * 0.2 + 0.4
    for (x1, y1, x2, y2), c in zip(boxes, colors):
        image[:, y1:y2, x1:x2] = torch.tensor(c).view(3, 1, 1)
    return image


def main():
    outdir = sys.argv[1]
    torch.set_num_threads(2)
    torch.manual_seed(0)
    model = detection.fasterrcnn_mobilenet_v3_large_320_fpn(
        weights=None, weights_backbone=None, num_classes=3, min_size=SIZE, max_size=SIZE,
        rpn_pre_nms_top_n_train=200, rpn_post_nms_top_n_train=100, box_batch_size_per_image=32)
    torch.save(model.state_dict(), os.path.join(outdir, "model.pth"))
    boxes = [[[10, 20, 70, 90], [80, 30, 120, 110]], [[30, 10, 100, 60]]]
    labels = [[1, 2], [2]]
    colors = [[(0.9, 0.1, 0.1), (0.1, 0.2, 0.9)], [(0.1, 0.2, 0.9)]]
    images = [scene(b, c) for b, c in zip(boxes, colors)]
    targets = [{"boxes": torch.tensor(b, dtype=torch.float32), "labels": torch.tensor(l)} for b, l in zip(boxes, labels)]
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    for dtype, file_name in [(torch.float32, "step.ref.pt"), (torch.float64, "step.double.ref.pt")]:
        model.load_state_dict(initial)
        model.zero_grad(set_to_none=True)
        model.to(dtype)
        step(model, [i.to(dtype) for i in images],
             [{"boxes": t["boxes"].to(dtype), "labels": t["labels"]} for t in targets],
             os.path.join(outdir, file_name))


def step(model, images, targets, path):
    """One train-mode forward/backward after torch.manual_seed(1); saves inputs, losses, grads, statistics."""
    model.train()
    torch.manual_seed(1)
    losses = model(images, targets)
    sum(losses.values()).backward()
    ref = {}
    for i, (image, t) in enumerate(zip(images, targets)):
        ref[f"image{i}"], ref[f"boxes{i}"], ref[f"labels{i}"] = image, t["boxes"], t["labels"]
    for name, value in losses.items():
        ref["loss/" + name] = value.detach()
    params = dict(model.named_parameters())
    for name in GRADS:
        ref["grad/" + name] = params[name].grad
    buffers = dict(model.named_buffers())
    for name in RUNNING_MEANS:
        ref["running_mean/" + name] = buffers[name]
    torch.save(ref, path)
    print(path, {k: round(float(v), 5) for k, v in losses.items()})


if __name__ == "__main__":
    main()
