// Parity of segtune's detection building blocks with torchvision 0.14 (Debian's python3-torchvision):
// NMS, RoIAlign forward and backward, MultiScaleRoIAlign, anchors, box ops and coding, matching,
// sampling, GeneralizedRCNNTransform. Inputs and references come from make_ops_reference.py.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "detection/ops_reference.h"
#include "segtune/models/detection/anchor_generator.h"
#include "segtune/models/detection/box_ops.h"
#include "segtune/models/detection/nms.h"
#include "segtune/models/detection/poolers.h"
#include "segtune/models/detection/roi_align.h"
#include "segtune/models/detection/transform.h"

namespace segtune::detection {
namespace {

using segtune::testing::MaxAbsDiff;
using segtune::testing::SameInts;

TEST(DetectionNms, MatchesTorchvisionIncludingTiesAndDuplicates) {
  SEGTUNE_REQUIRE_OPS_REFERENCE();
  for (const char* t : {"0.3", "0.5", "0.7"}) {
    const torch::Tensor keep = Nms(ref["nms/boxes"], ref["nms/scores"], std::stod(t));
    EXPECT_TRUE(SameInts(keep, ref[std::string("nms/keep/") + t])) << "threshold " << t;
  }
}

// Box 0 (score 1) against `probe` (score 0.5), with far-away boxes scored in between and below so the
// probe lands on every SIMD lane and in the scalar remainder. Returns whether the probe was kept.
bool ProbeKept(const std::vector<float>& probe, double threshold, int boxes_before) {
  std::vector<float> boxes = {0, 0, 10, 10}, scores = {1.0f};
  for (int k = 0; k < 8; ++k) {
    if (k == boxes_before) {
      boxes.insert(boxes.end(), probe.begin(), probe.end());
      scores.push_back(0.5f);
    }
    const float x = 1000.0f + 20.0f * static_cast<float>(k);
    boxes.insert(boxes.end(), {x, 0, x + 5, 5});
    scores.push_back(k < boxes_before ? 0.9f - 0.01f * static_cast<float>(k) : 0.4f - 0.01f * static_cast<float>(k));
  }
  const int64_t n = static_cast<int64_t>(scores.size());
  const torch::Tensor keep = Nms(torch::tensor(boxes).view({n, 4}), torch::tensor(scores), threshold);
  return (keep == 1 + boxes_before).any().item<bool>();
}

// torchvision compares the float IoU, promoted to double, with the double threshold: an IoU equal to
// the threshold is kept, one above it suppressed, also where float(threshold) > threshold (0.3).
TEST(DetectionNms, ThresholdComparesAsTorchvisionInDouble) {
  for (int before = 0; before < 8; ++before) {
    // IoU 30/100 in float is 0.3f = 0.30000001192..., above the double 0.3.
    EXPECT_FALSE(ProbeKept({0, 0, 10, 3}, 0.3, before)) << before;
    EXPECT_TRUE(ProbeKept({0, 0, 10, 3}, static_cast<double>(0.3f), before)) << before;
    torch::manual_seed(before);
    for (int trial = 0; trial < 50; ++trial) {
      const torch::Tensor r = torch::rand({4}) * 10;
      const float x1 = std::min(r[0].item<float>(), r[2].item<float>()), x2 = std::max(r[0].item<float>(), r[2].item<float>());
      const float y1 = std::min(r[1].item<float>(), r[3].item<float>()), y2 = std::max(r[1].item<float>(), r[3].item<float>());
      const float w = std::max(0.0f, std::min(10.0f, x2) - std::max(0.0f, x1));
      const float h = std::max(0.0f, std::min(10.0f, y2) - std::max(0.0f, y1));
      const float inter = w * h;
      const float iou = inter / (100.0f + (x2 - x1) * (y2 - y1) - inter);
      if (!(iou > 0)) continue;
      EXPECT_TRUE(ProbeKept({x1, y1, x2, y2}, static_cast<double>(iou), before)) << iou;
      EXPECT_FALSE(ProbeKept({x1, y1, x2, y2}, std::nextafter(static_cast<double>(iou), 0.0), before)) << iou;
    }
  }
}

TEST(DetectionNms, KeepsNothingFromNoBoxes) {
  const torch::Tensor keep = Nms(torch::zeros({0, 4}), torch::zeros({0}), 0.5);
  EXPECT_EQ(keep.numel(), 0);
  EXPECT_EQ(keep.scalar_type(), torch::kLong);
}

TEST(DetectionNms, RejectsScoresOfAnotherLength) {
  EXPECT_THROW(Nms(torch::zeros({3, 4}), torch::zeros({2}), 0.5), UsageError);
}

TEST(DetectionBatchedNms, MatchesTorchvisionCoordinateTrick) {
  SEGTUNE_REQUIRE_OPS_REFERENCE();
  const torch::Tensor keep = BatchedNms(ref["nms/boxes"], ref["nms/scores"], ref["nms/idxs"], 0.5);
  EXPECT_TRUE(SameInts(keep, ref["batched_nms/keep"]));
}

TEST(DetectionBatchedNms, MatchesTorchvisionPerCategoryLoopAbove1000Boxes) {
  SEGTUNE_REQUIRE_OPS_REFERENCE();
  const torch::Tensor keep =
      BatchedNms(ref["batched_nms_big/boxes"], ref["batched_nms_big/scores"], ref["batched_nms_big/idxs"], 0.6);
  EXPECT_TRUE(SameInts(keep, ref["batched_nms_big/keep"]));
}

TEST(DetectionRoiAlign, ForwardAndInputGradientMatchTorchvision) {
  SEGTUNE_REQUIRE_OPS_REFERENCE();
  for (int aligned : {0, 1}) {
    for (int sampling_ratio : {2, -1}) {
      for (const char* scale : {"1.0", "0.5", "0.25"}) {
        const std::string key = "roi_align/" + std::to_string(aligned) + "/" + std::to_string(sampling_ratio) + "/" + scale;
        const torch::Tensor input = ref["roi_align/input"].clone().requires_grad_(true);
        const torch::Tensor y = RoiAlign(input, ref["roi_align/rois"], {5, 4}, std::stod(scale), sampling_ratio, aligned);
        y.backward(ref[key + "/grad_out"]);
        EXPECT_LT(MaxAbsDiff(y.detach(), ref[key + "/out"]), 1e-5) << key;
        EXPECT_LT(MaxAbsDiff(input.grad(), ref[key + "/grad_in"]), 1e-5) << key;
      }
    }
  }
}

TEST(DetectionRoiAlign, DoublePrecisionGradientMatchesFiniteDifferences) {
  torch::manual_seed(0);
  const torch::Tensor input = torch::randn({1, 2, 6, 7}, torch::kDouble).requires_grad_(true);
  const torch::Tensor rois = torch::tensor({{0.0, 0.5, 1.2, 4.3, 5.1}, {0.0, 2.0, 0.3, 6.5, 3.9}}, torch::kDouble);
  // Finite differences of the piecewise-bilinear map: compare with the analytic gradient of sum(y * w).
  const torch::Tensor w = torch::randn({2, 2, 3, 3}, torch::kDouble);
  torch::Tensor y = RoiAlign(input, rois, {3, 3}, 1.0, 2, false);
  (y * w).sum().backward();
  const double eps = 1e-6;
  torch::Tensor numeric = torch::zeros_like(input);
  torch::NoGradGuard no_grad;
  auto flat = input.view(-1);
  for (int64_t i = 0; i < flat.numel(); ++i) {
    const double v = flat[i].item<double>();
    flat[i] = v + eps;
    const double plus = (RoiAlign(input, rois, {3, 3}, 1.0, 2, false) * w).sum().item<double>();
    flat[i] = v - eps;
    const double minus = (RoiAlign(input, rois, {3, 3}, 1.0, 2, false) * w).sum().item<double>();
    flat[i] = v;
    numeric.view(-1)[i] = (plus - minus) / (2 * eps);
  }
  EXPECT_LT(MaxAbsDiff(input.grad(), numeric), 1e-6);
}

TEST(DetectionMultiScaleRoIAlign, MatchesTorchvisionForwardAndBackward) {
  SEGTUNE_REQUIRE_OPS_REFERENCE();
  FeatureMaps features;
  for (const char* name : {"0", "1", "2", "pool"}) {
    features.emplace_back(name, ref[std::string("pooler/feat/") + name].clone().requires_grad_(true));
  }
  const MultiScaleRoIAlign pooler({"0", "1", "2"}, {7, 7}, 2);
  const std::vector<ImageSize> sizes{{128, 160}, {120, 150}};
  const torch::Tensor y = pooler.forward(features, {ref["pooler/boxes/0"], ref["pooler/boxes/1"]}, sizes);
  y.backward(ref["pooler/grad_out"]);
  EXPECT_LT(MaxAbsDiff(y.detach(), ref["pooler/out"]), 1e-5);
  EXPECT_LT(MaxAbsDiff(features[0].second.grad(), ref["pooler/grad_in/0"]), 1e-5);
  EXPECT_LT(MaxAbsDiff(features[2].second.grad(), ref["pooler/grad_in/2"]), 1e-5);
  EXPECT_FALSE(features[3].second.grad().defined()) << "a map outside featmap_names got a gradient";
}

TEST(DetectionMultiScaleRoIAlign, SingleLevelMatchesTorchvision) {
  SEGTUNE_REQUIRE_OPS_REFERENCE();
  FeatureMaps features;
  for (const char* name : {"0", "1", "2", "pool"}) features.emplace_back(name, ref[std::string("pooler/feat/") + name]);
  const MultiScaleRoIAlign pooler({"1"}, {3, 5}, -1);
  const torch::Tensor y =
      pooler.forward(features, {ref["pooler/boxes/0"], ref["pooler/boxes/1"]}, {{128, 160}, {120, 150}});
  EXPECT_LT(MaxAbsDiff(y, ref["pooler_single/out"]), 1e-5);
}

TEST(DetectionAnchorGenerator, MatchesTorchvisionFpnAndMultiSizeLevels) {
  SEGTUNE_REQUIRE_OPS_REFERENCE();
  ImageList images{torch::zeros({2, 3, 64, 96}), {{64, 96}, {60, 90}}};
  const AnchorGenerator fpn({{32}, {64}, {128}}, {{0.5, 1.0, 2.0}, {0.5, 1.0, 2.0}, {0.5, 1.0, 2.0}});
  const auto anchors =
      fpn.forward(images, {torch::zeros({2, 1, 16, 24}), torch::zeros({2, 1, 8, 12}), torch::zeros({2, 1, 4, 6})});
  ASSERT_EQ(anchors.size(), 2u);
  EXPECT_TRUE(torch::equal(anchors[0], ref["anchors/fpn"]));
  EXPECT_EQ(fpn.NumAnchorsPerLocation(), (std::vector<int64_t>{3, 3, 3}));
  const AnchorGenerator mobile({{32, 64, 128, 256, 512}, {32, 64, 128, 256, 512}}, {{0.5, 1.0, 2.0}, {0.5, 1.0, 2.0}});
  const auto mobile_anchors = mobile.forward(images, {torch::zeros({2, 1, 3, 5}), torch::zeros({2, 1, 2, 3})});
  EXPECT_TRUE(torch::equal(mobile_anchors[1], ref["anchors/mobile"]));
}

TEST(DetectionBoxOps, IouClipAndSmallBoxesMatchTorchvision) {
  SEGTUNE_REQUIRE_OPS_REFERENCE();
  EXPECT_LT(MaxAbsDiff(BoxIou(ref["box/a"], ref["box/b"]), ref["box/iou"]), 1e-7);
  EXPECT_TRUE(torch::equal(ClipBoxesToImage(ref["box/a"] * 1.5 - 10, {37, 45}), ref["box/clipped"]));
  EXPECT_TRUE(SameInts(RemoveSmallBoxes(ref["box/a"], 10.0), ref["box/small"]));
}

TEST(DetectionBoxCoder, EncodeAndDecodeMatchTorchvision) {
  SEGTUNE_REQUIRE_OPS_REFERENCE();
  const torch::Tensor proposals = ref["box/proposals"];
  for (const auto& [name, weights] : std::vector<std::pair<std::string, std::array<double, 4>>>{
           {"unit", {1, 1, 1, 1}}, {"rcnn", {10, 10, 5, 5}}}) {
    const BoxCoder coder(weights);
    EXPECT_LT(MaxAbsDiff(coder.EncodeSingle(ref["box/a"], proposals), ref["box/encode/" + name]), 1e-6) << name;
    const torch::Tensor decoded = coder.Decode(ref["box/codes"], {proposals.slice(0, 0, 12), proposals.slice(0, 12)});
    ASSERT_EQ(decoded.sizes(), ref["box/decode/" + name].sizes()) << name;
    EXPECT_LT(MaxAbsDiff(decoded, ref["box/decode/" + name]), 1e-4) << name;  // values up to ~1e3
    EXPECT_TRUE(torch::allclose(decoded, ref["box/decode/" + name], 1e-6, 1e-5)) << name;
  }
}

TEST(DetectionMatcher, MatchesTorchvisionWithAndWithoutLowQualityMatches) {
  SEGTUNE_REQUIRE_OPS_REFERENCE();
  EXPECT_TRUE(SameInts(Matcher(0.5, 0.2, true)(ref["box/match_quality"]), ref["box/matches/low_quality"]));
  EXPECT_TRUE(SameInts(Matcher(0.5, 0.2, false)(ref["box/match_quality"]), ref["box/matches/strict"]));
  EXPECT_THROW(Matcher(0.5, 0.2, true)(torch::zeros({0, 5})), UsageError);
}

TEST(DetectionSampler, DrawsTheSameSampleAsTorchvisionFromTheSameSeed) {
  SEGTUNE_REQUIRE_OPS_REFERENCE();
  torch::manual_seed(11);
  const auto [pos, neg] = BalancedPositiveNegativeSampler(64, 0.25)({ref["sampler/labels/0"], ref["sampler/labels/1"]});
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(torch::equal(pos[i], ref["sampler/pos/" + std::to_string(i)])) << i;
    EXPECT_TRUE(torch::equal(neg[i], ref["sampler/neg/" + std::to_string(i)])) << i;
  }
  EXPECT_EQ(pos[0].sum().item<int64_t>(), 16);  // 64 * 0.25 positives, there being enough.
}

class DetectionTransform : public ::testing::Test {
 protected:
  std::vector<DetectionTarget> Targets(const segtune::testing::OpsReference& ref) const {
    std::vector<DetectionTarget> targets(2);
    for (int i = 0; i < 2; ++i) {
      targets[i].boxes = ref["transform/boxes/" + std::to_string(i)].clone();
      targets[i].masks = ref["transform/masks/" + std::to_string(i)].clone();
    }
    return targets;
  }
  void ExpectMatches(const segtune::testing::OpsReference& ref, const std::string& name,
                     GeneralizedRCNNTransform transform) const {
    std::vector<DetectionTarget> targets = Targets(ref);
    torch::manual_seed(13);
    const ImageList list = transform->forward({ref["transform/image/0"], ref["transform/image/1"]}, &targets);
    const torch::Tensor expected = ref["transform/" + name + "/tensors"];
    ASSERT_EQ(list.tensors.sizes(), expected.sizes()) << name;
    EXPECT_LT(MaxAbsDiff(list.tensors, expected), 1e-5) << name;
    const torch::Tensor sizes = ref["transform/" + name + "/sizes"];
    for (int i = 0; i < 2; ++i) {
      EXPECT_EQ(list.image_sizes[i][0], sizes[i][0].item<int64_t>()) << name << " image " << i;
      EXPECT_EQ(list.image_sizes[i][1], sizes[i][1].item<int64_t>()) << name << " image " << i;
      EXPECT_LT(MaxAbsDiff(targets[i].boxes, ref["transform/" + name + "/boxes/" + std::to_string(i)]), 1e-5);
      EXPECT_TRUE(torch::equal(targets[i].masks, ref["transform/" + name + "/masks/" + std::to_string(i)]))
          << name << " masks " << i;
    }
  }
  const std::vector<double> mean_{0.485, 0.456, 0.406};
  const std::vector<double> std_{0.229, 0.224, 0.225};
};

TEST_F(DetectionTransform, EvalResizeNormalizeAndPaddingMatchTorchvision) {
  SEGTUNE_REQUIRE_OPS_REFERENCE();
  GeneralizedRCNNTransform transform(std::vector<int64_t>{48}, 80, mean_, std_);
  transform->eval();
  ExpectMatches(ref, "eval", transform);
}

TEST_F(DetectionTransform, TrainingPicksTheSameMinSizeAsTorchvisionFromTheSameSeed) {
  SEGTUNE_REQUIRE_OPS_REFERENCE();
  GeneralizedRCNNTransform transform(std::vector<int64_t>{40, 48, 56, 64}, 90, mean_, std_);
  transform->train();
  ExpectMatches(ref, "train", transform);
}

TEST_F(DetectionTransform, FixedSizeMatchesTorchvision) {
  SEGTUNE_REQUIRE_OPS_REFERENCE();
  GeneralizedRCNNTransform transform(std::vector<int64_t>{48}, 80, mean_, std_, 32, ImageSize{48, 64});  // torchvision (64, 48)
  transform->eval();
  ExpectMatches(ref, "fixed", transform);
}

TEST_F(DetectionTransform, PostprocessMapsBoxesAndPastesMasksAsTorchvision) {
  SEGTUNE_REQUIRE_OPS_REFERENCE();
  GeneralizedRCNNTransform transform(std::vector<int64_t>{48}, 80, mean_, std_);
  transform->eval();
  Detections d;
  d.boxes = ref["postprocess/boxes"];
  d.masks = ref["postprocess/masks"];
  const auto result = transform->postprocess({d}, {{48, 72}}, {{40, 60}});
  EXPECT_LT(MaxAbsDiff(result[0].boxes, ref["postprocess/out_boxes"]), 1e-5);
  ASSERT_EQ(result[0].masks.sizes(), ref["postprocess/out_masks"].sizes());
  EXPECT_LT(MaxAbsDiff(result[0].masks, ref["postprocess/out_masks"]), 1e-5);
}

}  // namespace
}  // namespace segtune::detection
