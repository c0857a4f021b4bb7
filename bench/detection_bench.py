"""torchvision peer of bench/detection_bench.cpp, and the writer of the inputs both sides use.

Builds MODEL as a fine-tuning run has it (FrozenBatchNorm2d, trainable_backbone_layers=3, 91 classes,
min_size/max_size from the options, box_score_thresh 0 so post-processing always keeps 100
detections), with the calibrated random weights of tests/detection/reference/make_detection_reference.py.
With --save DIR: writes DIR/MODEL.pth (weights) and DIR/MODEL.inputs.pt (image<i>, boxes<i>,
labels<i>, masks<i>) for the C++ side. Then times eval inference (no_grad) and one SGD train step.
Prints: "torchvision MODEL infer_ms <median> train_ms <median> threads N".
Usage: detection_bench.py MODEL [--images 2] [--size 320] [--repeat 5] [--threads N] [--save DIR]"""
import argparse
import os
import sys

import torch
from torchvision.models import detection, mobilenet_v3_large, resnet50
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.backbone_utils import _mobilenet_extractor, _resnet_fpn_extractor
from torchvision.ops.misc import FrozenBatchNorm2d

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "detection", "reference"))
import make_detection_reference as reference  # noqa: E402
from bench_timing import median_ms  # noqa: E402  (bench/ is the script's directory)


def frozen_model(name, kwargs):
    """What the builders make for a pretrained model (is_trained=True): FrozenBatchNorm2d, 3 trainable stages."""
    if "resnet50" in name:
        backbone = _resnet_fpn_extractor(resnet50(norm_layer=FrozenBatchNorm2d), 3)
        cls = detection.MaskRCNN if name.startswith("maskrcnn") else detection.FasterRCNN
        return cls(backbone, num_classes=91, **kwargs)
    backbone = _mobilenet_extractor(mobilenet_v3_large(norm_layer=FrozenBatchNorm2d), True, 3)
    anchors = AnchorGenerator(((32, 64, 128, 256, 512),) * 3, ((0.5, 1.0, 2.0),) * 3)
    defaults = {"rpn_score_thresh": 0.05}
    if name.endswith("_320_fpn"):
        defaults.update(rpn_pre_nms_top_n_test=150, rpn_post_nms_top_n_test=150)
    return detection.FasterRCNN(backbone, num_classes=91, rpn_anchor_generator=anchors, **{**defaults, **kwargs})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("--images", type=int, default=2)
    p.add_argument("--size", type=int, default=320)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--save")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    kwargs = dict(min_size=a.size, max_size=2 * a.size, box_score_thresh=0.0)
    images = [torch.rand(3, a.size, a.size * 5 // 4) for _ in range(a.images)]
    calibrated = getattr(detection, a.model)(weights=None, weights_backbone=None, num_classes=91, **kwargs)
    reference.calibrate(calibrated, images)
    model = frozen_model(a.model, kwargs)
    model.load_state_dict(reference.frozen_state_dict(calibrated))
    targets = []
    for i, image in enumerate(images):
        h, w = image.shape[-2:]
        xy = torch.rand(4, 2) * torch.tensor([w * 0.6, h * 0.6])
        wh = torch.rand(4, 2) * torch.tensor([w * 0.3, h * 0.3]) + 8
        boxes = torch.cat([xy, xy + wh], 1)
        masks = torch.zeros(4, h, w, dtype=torch.uint8)
        for k, b in enumerate(boxes.long()):
            masks[k, b[1]:b[3], b[0]:b[2]] = 1
        targets.append({"boxes": boxes, "labels": torch.randint(1, 91, (4,)), "masks": masks})
    if a.save:
        torch.save(reference.frozen_state_dict(model), os.path.join(a.save, a.model + ".pth"))
        inputs = {}
        for i, (image, t) in enumerate(zip(images, targets)):
            inputs[f"image{i}"] = image
            for key, value in t.items():
                inputs[f"{key}{i}"] = value
        torch.save(inputs, os.path.join(a.save, a.model + ".inputs.pt"))

    model.eval()

    def infer():
        with torch.no_grad():
            model(images)

    infer_ms = median_ms(a.repeat, infer)
    model.train()
    opt = torch.optim.SGD([q for q in model.parameters() if q.requires_grad], lr=0.001, momentum=0.9)

    def train():
        opt.zero_grad()
        losses = model(images, targets)
        sum(losses.values()).backward()
        opt.step()

    train_ms = median_ms(a.repeat, train)
    print(f"torchvision {a.model} infer_ms {infer_ms:.1f} train_ms {train_ms:.1f} threads {torch.get_num_threads()}")


if __name__ == "__main__":
    main()
