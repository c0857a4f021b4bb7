"""Reference outputs of torchvision's detection building blocks for tests/detection/*_test.cpp.

Usage: make_ops_reference.py OUTDIR
Writes OUTDIR/ops.pt (a flat dict name -> tensor: inputs and torchvision's outputs),
OUTDIR/rpn.pth and OUTDIR/rpn_train.pth (RegionProposalNetwork state dicts, torch.save zip format).
Every input is generated here from fixed seeds; the C++ tests read the inputs back, run segtune's
implementation and compare with the outputs.
"""
import math
import sys
from collections import OrderedDict

import torch
import torchvision
from torchvision.models.detection import _utils as det_utils
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.rpn import RegionProposalNetwork, RPNHead
from torchvision.models.detection.transform import GeneralizedRCNNTransform
from torchvision.ops import boxes as box_ops

torch.set_num_threads(1)
out = {}


def random_boxes(n, width, height, min_size=1.0, generator=None):
    xy = torch.rand(n, 2, generator=generator) * torch.tensor([width, height])
    wh = torch.rand(n, 2, generator=generator) * torch.tensor([width / 2, height / 2]) + min_size
    return torch.cat([xy, xy + wh], dim=1)


def nms_cases():
    g = torch.Generator().manual_seed(1)
    # Scores quantized to 8 values: many ties, resolved by torchvision's stable sort.
    boxes = random_boxes(300, 100, 80, generator=g)
    boxes[10:20] = boxes[0]  # identical boxes (IoU exactly 1)
    scores = (torch.rand(300, generator=g) * 8).floor() / 8
    out["nms/boxes"], out["nms/scores"] = boxes, scores
    for t in (0.3, 0.5, 0.7):
        out[f"nms/keep/{t}"] = torchvision.ops.nms(boxes, scores, t)
    idxs = torch.randint(0, 5, (300,), generator=g)
    out["nms/idxs"] = idxs
    out["batched_nms/keep"] = torchvision.ops.batched_nms(boxes, scores, idxs, 0.5)
    # Above 1000 boxes torchvision loops over categories: distinct scores keep the final sort unique.
    big = random_boxes(1500, 300, 200, generator=g)
    big_scores = torch.rand(1500, generator=g)
    big_idxs = torch.randint(0, 7, (1500,), generator=g)
    out["batched_nms_big/boxes"], out["batched_nms_big/scores"], out["batched_nms_big/idxs"] = big, big_scores, big_idxs
    out["batched_nms_big/keep"] = torchvision.ops.batched_nms(big, big_scores, big_idxs, 0.6)


def roi_align_cases():
    g = torch.Generator().manual_seed(2)
    x = torch.randn(2, 3, 12, 14, generator=g)
    rois = torch.cat([torch.randint(0, 2, (24, 1), generator=g).float(), random_boxes(24, 60, 50, 0.1, g)], dim=1)
    rois[0, 1:] = torch.tensor([-8.0, -6.0, 3.0, 2.0])   # partly outside, negative corner
    rois[1, 1:] = torch.tensor([50.0, 40.0, 70.0, 60.0])  # beyond the bottom-right border
    rois[2, 1:] = torch.tensor([5.0, 5.0, 5.2, 5.1])      # smaller than a pixel
    out["roi_align/input"], out["roi_align/rois"] = x, rois
    for aligned in (False, True):
        for sampling_ratio in (2, -1):
            for scale in (1.0, 0.5, 0.25):
                key = f"roi_align/{int(aligned)}/{sampling_ratio}/{scale}"
                inp = x.clone().requires_grad_(True)
                y = torchvision.ops.roi_align(inp, rois, (5, 4), scale, sampling_ratio, aligned)
                grad = torch.randn(y.shape, generator=g)
                y.backward(grad)
                out[key + "/out"], out[key + "/grad_out"], out[key + "/grad_in"] = y.detach(), grad, inp.grad


def pooler_cases():
    g = torch.Generator().manual_seed(3)
    feats = OrderedDict()
    for name, (h, w) in (("0", (32, 40)), ("1", (16, 20)), ("2", (8, 10)), ("pool", (4, 5))):
        feats[name] = torch.randn(2, 4, h, w, generator=g).requires_grad_(True)
    image_sizes = [(128, 160), (120, 150)]
    boxes = [random_boxes(15, 120, 100, 2.0, g) * torch.tensor([1.0, 1.0, 1.6, 1.6]), random_boxes(9, 110, 90, 8.0, g)]
    pooler = torchvision.ops.MultiScaleRoIAlign(["0", "1", "2"], 7, 2)
    y = pooler(feats, boxes, image_sizes)
    grad = torch.randn(y.shape, generator=g)
    y.backward(grad)
    for name, f in feats.items():
        out[f"pooler/feat/{name}"] = f.detach()
    out["pooler/grad_in/0"], out["pooler/grad_in/2"] = feats["0"].grad, feats["2"].grad
    out["pooler/boxes/0"], out["pooler/boxes/1"] = boxes[0], boxes[1]
    out["pooler/out"], out["pooler/grad_out"] = y.detach(), grad
    single = torchvision.ops.MultiScaleRoIAlign(["1"], (3, 5), -1)
    out["pooler_single/out"] = single(feats, boxes, image_sizes).detach()


def anchor_cases():
    images = ImageList(torch.zeros(2, 3, 64, 96), [(64, 96), (60, 90)])
    fpn = AnchorGenerator(((32,), (64,), (128,)), ((0.5, 1.0, 2.0),) * 3)
    maps = [torch.zeros(2, 1, 16, 24), torch.zeros(2, 1, 8, 12), torch.zeros(2, 1, 4, 6)]
    out["anchors/fpn"] = fpn(images, maps)[0]
    mobile = AnchorGenerator(((32, 64, 128, 256, 512),) * 2, ((0.5, 1.0, 2.0),) * 2)
    out["anchors/mobile"] = mobile(images, [torch.zeros(2, 1, 3, 5), torch.zeros(2, 1, 2, 3)])[1]


def box_cases():
    g = torch.Generator().manual_seed(4)
    a, b = random_boxes(30, 50, 40, 0.5, g), random_boxes(40, 50, 40, 0.5, g)
    out["box/a"], out["box/b"], out["box/iou"] = a, b, box_ops.box_iou(a, b)
    out["box/clipped"] = box_ops.clip_boxes_to_image(a * 1.5 - 10, (37, 45))
    out["box/small"] = box_ops.remove_small_boxes(a, 10.0)
    proposals = random_boxes(30, 50, 40, 0.5, g)
    codes = torch.randn(30, 12, generator=g) * 3  # large dw/dh exercise bbox_xform_clip
    out["box/proposals"], out["box/codes"] = proposals, codes
    for name, weights in (("unit", (1.0, 1.0, 1.0, 1.0)), ("rcnn", (10.0, 10.0, 5.0, 5.0))):
        coder = det_utils.BoxCoder(weights)
        out[f"box/encode/{name}"] = coder.encode_single(a, proposals)
        out[f"box/decode/{name}"] = coder.decode(codes, [proposals[:12], proposals[12:]])
    matcher = det_utils.Matcher(0.5, 0.2, allow_low_quality_matches=True)
    iou = box_ops.box_iou(a[:6], b)
    iou[:, 7] = iou[0, 7]  # equal qualities: ties among the best predictions of a gt
    out["box/match_quality"] = iou
    out["box/matches/low_quality"] = matcher(iou)
    out["box/matches/strict"] = det_utils.Matcher(0.5, 0.2, False)(iou)
    labels = [torch.randint(-1, 3, (200,), generator=g).float(), torch.randint(-1, 2, (50,), generator=g).float()]
    out["sampler/labels/0"], out["sampler/labels/1"] = labels
    torch.manual_seed(11)
    pos, neg = det_utils.BalancedPositiveNegativeSampler(64, 0.25)(labels)
    out["sampler/pos/0"], out["sampler/pos/1"], out["sampler/neg/0"], out["sampler/neg/1"] = pos + neg


def make_rpn(batch_size_per_image, outdir, file_name):
    torch.manual_seed(5)
    anchors = AnchorGenerator(((16,), (32,)), ((0.5, 1.0, 2.0),) * 2)
    head = RPNHead(8, 3)
    with torch.no_grad():  # Larger than torchvision's std 0.01 init: spread scores, fewer near-ties.
        for p in head.parameters():
            p.normal_(0.0, 0.3)
    rpn = RegionProposalNetwork(anchors, head, 0.5, 0.3, batch_size_per_image, 0.5,
                                dict(training=300, testing=150), dict(training=60, testing=40), 0.7)
    torch.save(rpn.state_dict(), f"{outdir}/{file_name}")
    return rpn


def rpn_cases(outdir):
    g = torch.Generator().manual_seed(6)
    images = ImageList(torch.zeros(2, 3, 64, 80), [(64, 80), (56, 70)])
    feats = OrderedDict([("0", torch.randn(2, 8, 16, 20, generator=g)), ("1", torch.randn(2, 8, 8, 10, generator=g))])
    targets = [dict(boxes=random_boxes(3, 60, 50, 6.0, g)), dict(boxes=random_boxes(2, 50, 40, 10.0, g))]
    for name, f in feats.items():
        out[f"rpn/feat/{name}"] = f
    for i, t in enumerate(targets):
        out[f"rpn/target/{i}"] = t["boxes"]
    rpn = make_rpn(256, outdir, "rpn.pth")
    rpn.eval()
    with torch.no_grad():
        boxes, _ = rpn(images, feats)
    out["rpn/eval/0"], out["rpn/eval/1"] = boxes
    # Training with torchvision's sampler (256 anchors, torch's generator seeded identically).
    rpn.train()
    torch.manual_seed(21)
    boxes, losses = rpn(images, feats, targets)
    out["rpn/train/0"], out["rpn/train/1"] = [b.detach() for b in boxes]
    out["rpn/train/loss_objectness"] = losses["loss_objectness"].detach()
    out["rpn/train/loss_rpn_box_reg"] = losses["loss_rpn_box_reg"].detach()
    # Training where every labelled anchor is sampled: the losses do not depend on the generator.
    full = make_rpn(1 << 20, outdir, "rpn_train.pth")
    full.train()
    _, losses = full(images, feats, targets)
    (losses["loss_objectness"] + losses["loss_rpn_box_reg"]).backward()
    out["rpn/full/loss_objectness"] = losses["loss_objectness"].detach()
    out["rpn/full/loss_rpn_box_reg"] = losses["loss_rpn_box_reg"].detach()
    out["rpn/full/grad/cls_logits"] = full.head.cls_logits.weight.grad
    out["rpn/full/grad/bbox_pred"] = full.head.bbox_pred.weight.grad
    out["rpn/full/grad/conv"] = full.head.conv[0][0].weight.grad


def transform_cases():
    g = torch.Generator().manual_seed(7)
    images = [torch.rand(3, 40, 60, generator=g), torch.rand(3, 50, 31, generator=g)]
    masks = [(torch.rand(2, 40, 60, generator=g) > 0.5).to(torch.uint8), (torch.rand(1, 50, 31, generator=g) > 0.5).to(torch.uint8)]
    boxes = [random_boxes(2, 40, 30, 2.0, g), random_boxes(1, 20, 30, 2.0, g)]
    for i in range(2):
        out[f"transform/image/{i}"], out[f"transform/masks/{i}"], out[f"transform/boxes/{i}"] = images[i], masks[i], boxes[i]
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    cases = (("eval", GeneralizedRCNNTransform(48, 80, mean, std), False),
             ("train", GeneralizedRCNNTransform((40, 48, 56, 64), 90, mean, std), True),
             ("fixed", GeneralizedRCNNTransform(48, 80, mean, std, fixed_size=(64, 48)), False))
    for name, transform, training in cases:
        transform.train(training)
        torch.manual_seed(13)
        targets = [dict(boxes=boxes[i].clone(), masks=masks[i].clone()) for i in range(2)]
        image_list, targets = transform(images, targets)
        out[f"transform/{name}/tensors"] = image_list.tensors
        out[f"transform/{name}/sizes"] = torch.tensor(image_list.image_sizes)
        for i, t in enumerate(targets):
            out[f"transform/{name}/boxes/{i}"], out[f"transform/{name}/masks/{i}"] = t["boxes"], t["masks"]
    transform = GeneralizedRCNNTransform(48, 80, mean, std).eval()
    det_boxes = random_boxes(4, 40, 30, 3.0, g)
    det_masks = torch.rand(4, 1, 14, 14, generator=g)
    out["postprocess/boxes"], out["postprocess/masks"] = det_boxes, det_masks
    result = transform.postprocess([dict(boxes=det_boxes, masks=det_masks)], [(48, 72)], [(40, 60)])[0]
    out["postprocess/out_boxes"], out["postprocess/out_masks"] = result["boxes"], result["masks"]


def main():
    outdir = sys.argv[1]
    nms_cases()
    roi_align_cases()
    pooler_cases()
    anchor_cases()
    box_cases()
    rpn_cases(outdir)
    transform_cases()
    torch.save(out, f"{outdir}/ops.pt")


if __name__ == "__main__":
    main()
