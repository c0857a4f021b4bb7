// ClassArgmax and ResizedClassArgmax against LibTorch's own ops (argmax, softmax, bilinear interpolate),
// and ResizedClassArgmax of HeadLogits against the prepared models' full forward().
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <vector>

#include "segtune/export/prepare_inference.h"
#include "segtune/inference/class_argmax.h"
#include "segtune/models/semantic_registry.h"

namespace segtune {
namespace {

namespace F = torch::nn::functional;

TEST(ClassArgmax, EqualsTorchArgmaxAndSoftmaxMaximum) {
  torch::manual_seed(5);
  const int64_t classes = 5, h = 37, w = 41;
  torch::Tensor logits = torch::randn({classes, h, w}) * 4;
  logits[2][3][4] = logits[1][3][4];  // A tie: the first maximum wins, as in torch.argmax.
  logits[0][3][4] = logits[1][3][4] - 1;
  for (int c = 3; c < classes; ++c) logits[c][3][4] = logits[1][3][4] - 1;
  std::vector<uint8_t> map(h * w);
  std::vector<float> probability(h * w);
  ClassArgmax(logits.data_ptr<float>(), classes, h * w, h * w, map.data(), probability.data());
  const auto [expected_probability, expected_map] = torch::softmax(logits, 0).max(0);
  EXPECT_TRUE(torch::equal(torch::from_blob(map.data(), {h, w}, torch::kUInt8), logits.argmax(0).to(torch::kUInt8)));
  EXPECT_EQ(map[3 * w + 4], 1);
  EXPECT_TRUE(torch::allclose(torch::from_blob(probability.data(), {h, w}), expected_probability, 1e-6, 1e-7));
}

// What the models return: F.interpolate(logits, size, bilinear, align_corners=False), then the
// class map and the softmax probability of the predicted class, all by LibTorch.
struct Reference {
  torch::Tensor resized, class_map, probability;
};

Reference TorchReference(const torch::Tensor& logits, int64_t out_h, int64_t out_w) {
  Reference r;
  r.resized = F::interpolate(logits.unsqueeze(0), F::InterpolateFuncOptions()
                                                      .size(std::vector<int64_t>{out_h, out_w})
                                                      .mode(torch::kBilinear)
                                                      .align_corners(false))[0];
  r.class_map = r.resized.argmax(0).to(torch::kUInt8);
  r.probability = std::get<0>(torch::softmax(r.resized, 0).max(0));
  return r;
}

LogitsView ViewOf(const torch::Tensor& chw) {  // Any strides: NCHW or a channels-last image.
  return {chw.data_ptr<float>(), chw.size(0), chw.size(1), chw.size(2), chw.stride(0), chw.stride(1), chw.stride(2)};
}

void ExpectMatchesInterpolate(const torch::Tensor& logits, int64_t out_h, int64_t out_w) {
  SCOPED_TRACE(c10::str(logits.sizes(), " -> ", out_h, "x", out_w, " strides ", logits.strides()));
  const Reference ref = TorchReference(logits.contiguous(), out_h, out_w);
  std::vector<uint8_t> map(out_h * out_w);
  std::vector<float> probability(out_h * out_w);
  const int64_t middle = out_h / 3;  // Two calls over split row ranges, as threads do.
  ResizedClassArgmax(ViewOf(logits), out_h, out_w, 0, middle, map.data(), probability.data());
  ResizedClassArgmax(ViewOf(logits), out_h, out_w, middle, out_h, map.data(), probability.data());
  const torch::Tensor got_map = torch::from_blob(map.data(), {out_h, out_w}, torch::kUInt8);
  const torch::Tensor got_probability = torch::from_blob(probability.data(), {out_h, out_w});
  const int64_t differ = (got_map != ref.class_map).sum().item<int64_t>();
  // Both sides round differently only in the last bit (the kernel's vectorization): an argmax flips
  // only on a near-tie, which random logits essentially never have.
  EXPECT_LE(differ, out_h * out_w / 10000) << "class map pixels differing from torch's";
  EXPECT_TRUE(torch::allclose(got_probability, ref.probability, 1e-5, 1e-6));
}

TEST(ResizedClassArgmax, EqualsArgmaxAndProbabilityOfTorchBilinearInterpolate) {
  torch::manual_seed(11);
  const torch::Tensor logits = torch::randn({21, 64, 64}) * 3;
  ExpectMatchesInterpolate(logits, 512, 512);  // LR-ASPP's stride 8 at 512x512.
  ExpectMatchesInterpolate(logits, 300, 333);  // Non-integer scales.
  ExpectMatchesInterpolate(logits, 64, 64);    // Same size: a copy.
  ExpectMatchesInterpolate(logits, 40, 50);    // Downscaling.
  ExpectMatchesInterpolate(torch::randn({3, 1, 7}), 9, 20);  // A single source row.
}

TEST(ResizedClassArgmax, ReadsChannelsLastLogitsInPlace) {
  torch::manual_seed(12);
  const torch::Tensor nhwc = (torch::randn({2, 21, 33, 47}) * 3).contiguous(torch::MemoryFormat::ChannelsLast);
  ExpectMatchesInterpolate(nhwc[1], 263, 375);
}

// What `segtune infer` computes (head logits, fused resize + argmax) vs what the model returns.
void ExpectHeadLogitsResizeToForward(const std::string& name, int64_t stride) {
  SCOPED_TRACE(name);
  torch::manual_seed(13);
  SemanticModel model = CreateSemanticModel(name, 5);
  PrepareForInference(*model, torch::kCPU);
  c10::InferenceMode inference;
  const torch::Tensor x = torch::randn({2, 3, 72, 88});
  const torch::Tensor head = HeadLogits(*model, x);
  EXPECT_EQ(head.sizes(), (std::vector<int64_t>{2, 5, (72 + stride - 1) / stride, (88 + stride - 1) / stride}));
  const torch::Tensor out = model->forward(x).out;
  for (int64_t n = 0; n < 2; ++n) {
    std::vector<uint8_t> map(72 * 88);
    std::vector<float> probability(72 * 88);
    ResizedClassArgmax(ViewOf(head[n]), 72, 88, 0, 72, map.data(), probability.data());
    const auto [expected_probability, expected_map] = torch::softmax(out[n], 0).max(0);
    const torch::Tensor got_map = torch::from_blob(map.data(), {72, 88}, torch::kUInt8);
    EXPECT_LE((got_map != expected_map.to(torch::kUInt8)).sum().item<int64_t>(), 1);
    EXPECT_TRUE(torch::allclose(torch::from_blob(probability.data(), {72, 88}), expected_probability, 1e-5, 1e-6));
  }
}

TEST(HeadLogits, ResizedTheyGiveTheClassMapOfTheModelsForward) {
  ExpectHeadLogitsResizeToForward("lraspp_mobilenet_v3_large", 8);      // LRASPPImpl
  ExpectHeadLogitsResizeToForward("deeplabv3_mobilenet_v3_large", 16);  // SimpleSegmentationModelImpl
}

TEST(ResizedClassArgmax, RejectsClassCountsOutsideOneTo256) {
  const torch::Tensor logits = torch::zeros({257, 2, 2});
  std::vector<uint8_t> map(4);
  EXPECT_THROW(ResizedClassArgmax(ViewOf(logits), 2, 2, 0, 2, map.data(), nullptr), std::exception);
}

}  // namespace
}  // namespace segtune
