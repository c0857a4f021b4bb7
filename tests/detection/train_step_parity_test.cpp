// Training-mode parity with torchvision 0.14: fasterrcnn_mobilenet_v3_large_320_fpn built for training
// from scratch (trainable nn.BatchNorm2d, every backbone stage trainable), the same initial weights and
// inputs (tests/detection/reference/make_train_step_reference.py) and the same seed before the forward:
// the four losses, the gradients of each part and the BatchNorm statistics updated by the forward match.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <string>

#include "models/segmentation_reference.h"
#include "segtune/models/detection/detection_registry.h"
#include "segtune/models/detection/generalized_rcnn.h"
#include "segtune/models/weights.h"
#include "test_util.h"

namespace segtune::detection {
namespace {

using segtune::testing::CommandResult;
using segtune::testing::LoadReferenceTensors;
using segtune::testing::MaxAbsDiff;
using segtune::testing::RunPython;
using segtune::testing::SourcePath;

constexpr double kLossTolerance = 1e-4;      // Relative.
constexpr double kGradientTolerance = 1e-3;  // Relative to the tensor's max |gradient|.

TEST(DetectionTrainStep, LossesGradientsAndBatchNormStatisticsMatchTorchvisionFromScratch) {
  testing::TempDir dir;
  const CommandResult made =
      RunPython(SourcePath("tests/detection/reference/make_train_step_reference.py") + " '" + dir.path().string() + "'");
  ASSERT_EQ(made.exit_code, 0) << made.output;
  const auto ref = LoadReferenceTensors(dir / "step.ref.pt");

  const std::string name = "fasterrcnn_mobilenet_v3_large_320_fpn";
  DetectionModelOptions options = DefaultDetectionOptions(name);
  options.num_classes = 3;
  options.min_size = options.max_size = 128;
  options.rpn.pre_nms_top_n_train = 200;
  options.rpn.post_nms_top_n_train = 100;
  options.box.batch_size_per_image = 32;
  options.frozen_batch_norm = false;
  options.trainable_backbone_layers = 6;
  GeneralizedRCNN model = BuildDetectionModel(name, options);
  const LoadReport report = LoadDetectionWeights(*model, name, LoadWeights(dir / "model.pth"));
  ASSERT_TRUE(report.missing.empty() && report.unexpected.empty() && report.mismatched.empty()) << report.ToString();

  std::vector<torch::Tensor> images;
  std::vector<DetectionTarget> targets;
  for (int i = 0; i < 2; ++i) {
    const std::string n = std::to_string(i);
    images.push_back(ref.at("image" + n));
    DetectionTarget t;
    t.boxes = ref.at("boxes" + n);
    t.labels = ref.at("labels" + n);
    targets.push_back(t);
  }
  model->train();
  torch::manual_seed(1);
  const DetectionOutput out = model->forward(images, &targets);
  torch::Tensor total = torch::zeros({});
  size_t compared = 0;
  for (const auto& [key, loss] : out.losses) {
    const auto it = ref.find("loss/" + key);
    ASSERT_NE(it, ref.end()) << "segtune loss " << key << " not in torchvision's";
    const double expected = it->second.item<double>();
    EXPECT_NEAR(loss.item<double>(), expected, kLossTolerance * std::max(1.0, std::abs(expected))) << key;
    total = total + loss;
    ++compared;
  }
  EXPECT_EQ(compared, 4u);
  total.backward();

  auto params = model->named_parameters();
  auto buffers = model->named_buffers();
  for (const auto& [key, expected] : ref) {
    if (key.rfind("grad/", 0) == 0) {
      const std::string param = key.substr(5);
      ASSERT_TRUE(params.contains(param)) << param;
      const torch::Tensor grad = params[param].grad();
      ASSERT_TRUE(grad.defined()) << param << " got no gradient";
      const double scale = expected.abs().max().item<double>();
      ASSERT_GT(scale, 0.0) << param;
      EXPECT_LE(MaxAbsDiff(grad, expected), kGradientTolerance * scale) << param;
    } else if (key.rfind("running_mean/", 0) == 0) {
      const std::string buffer = key.substr(13);
      ASSERT_TRUE(buffers.contains(buffer)) << buffer;
      EXPECT_LE(MaxAbsDiff(buffers[buffer], expected), 1e-4 * std::max(1.0, expected.abs().max().item<double>()))
          << buffer;
    }
  }
}

}  // namespace
}  // namespace segtune::detection
