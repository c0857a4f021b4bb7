// Training-mode parity with torchvision 0.14: fasterrcnn_mobilenet_v3_large_320_fpn built for training
// from scratch (trainable nn.BatchNorm2d, every backbone stage trainable), the same initial weights and
// inputs (tests/detection/reference/make_train_step_reference.py) and the same seed before the forward:
// the four losses, the gradients of each part and the BatchNorm statistics updated by the forward match.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
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
using segtune::testing::ReportMeasured;
using segtune::testing::RunPython;
using segtune::testing::SourcePath;

// Bounds, each a margin over the worst case measured across DNNL_MAX_CPU_ISA=SSE41|AVX|AVX2|AVX512_CORE|
// AVX512_CORE_BF16 and ATEN_CPU_CAPABILITY=default|avx2 (tools/parity_spread.sh).
struct StepTolerance {
  double loss;                // Relative to max(1, |loss|).
  double gradient;            // Relative to the tensor's max |gradient|.
  double amplified_gradient;  // The same, for kBatchNormAmplified.
  double statistics;          // BatchNorm running means, relative to max(1, max |mean|).
};
// From scratch, the stem's and the last stage's gradients (and the FPN's first inner block, fed by the
// last stage) pass through train-mode BatchNorm over a 2-image batch, where rounding is amplified:
// torchvision's own float step differs from its double step there by 2.7e-3 (stem), 4.7e-3 (last
// stage) and 3.5e-3 (FPN) of the maximum, and by ~3e-6 everywhere else.
const std::set<std::string> kBatchNormAmplified{"backbone.body.0.0.weight", "backbone.body.16.0.weight",
                                                "backbone.fpn.inner_blocks.0.0.weight"};
// Float, segtune against torchvision, worst measured: losses 2e-7; gradients 5e-6, amplified ones 1.2e-2
// (stem, with AVX2 and AVX-512 kernels; the report gave 2.7e-3); running means 2e-8.
constexpr StepTolerance kFloatTolerance{1e-4, 1e-3, 5e-2, 1e-4};
// Double: the tight comparison. Measured: 0 for every loss, gradient and mean (bit-identical); the
// objectness loss is float32 on both sides (see below) and held to the float bound.
constexpr StepTolerance kDoubleTolerance{1e-10, 1e-8, 1e-8, 1e-10};

// One train-mode step of fasterrcnn_mobilenet_v3_large_320_fpn from the reference's initial weights in
// `dtype`, compared with the reference file `ref_name` made by torchvision in the same dtype.
void ExpectStepMatches(const std::filesystem::path& dir, const std::string& ref_name, torch::Dtype dtype,
                       const StepTolerance& tolerance) {
  const auto ref = LoadReferenceTensors(dir / ref_name);
  const std::string what = ref_name;
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
  model->to(dtype);

  std::vector<torch::Tensor> images;
  std::vector<DetectionTarget> targets;
  for (int i = 0; i < 2; ++i) {
    const std::string n = std::to_string(i);
    ASSERT_EQ(ref.at("image" + n).scalar_type(), dtype);
    images.push_back(ref.at("image" + n));
    DetectionTarget t;
    t.boxes = ref.at("boxes" + n);
    t.labels = ref.at("labels" + n);
    targets.push_back(t);
  }
  model->train();
  torch::manual_seed(1);
  const DetectionOutput out = model->forward(images, &targets);
  torch::Tensor total = torch::zeros({}, dtype);
  size_t compared = 0;
  for (const auto& [key, loss] : out.losses) {
    const auto it = ref.find("loss/" + key);
    ASSERT_NE(it, ref.end()) << "segtune loss " << key << " not in torchvision's";
    // torchvision's RPN labels are float32 whatever the model's dtype, and ATen's BCE-with-logits
    // computes in the target's dtype: its objectness loss is float32 in a double model too.
    ASSERT_EQ(loss.scalar_type(), it->second.scalar_type()) << key;
    const double bound = loss.scalar_type() == torch::kFloat ? kFloatTolerance.loss : tolerance.loss;
    const double expected = it->second.item<double>();
    const double relative = std::abs(loss.item<double>() - expected) / std::max(1.0, std::abs(expected));
    EXPECT_LE(ReportMeasured(what + " loss " + key, relative, bound), bound) << key;
    total = total + loss;
    ++compared;
  }
  EXPECT_EQ(compared, 4u);
  total.backward();

  auto params = model->named_parameters();
  auto buffers = model->named_buffers();
  size_t gradients = 0, statistics = 0;
  for (const auto& [key, expected] : ref) {
    if (key.rfind("grad/", 0) == 0) {
      const std::string param = key.substr(5);
      ASSERT_TRUE(params.contains(param)) << param;
      const torch::Tensor grad = params[param].grad();
      ASSERT_TRUE(grad.defined()) << param << " got no gradient";
      const double scale = expected.abs().max().item<double>();
      ASSERT_GT(scale, 0.0) << param;
      const double relative = MaxAbsDiff(grad, expected) / scale;
      const double bound = kBatchNormAmplified.count(param) ? tolerance.amplified_gradient : tolerance.gradient;
      EXPECT_LE(ReportMeasured(what + " gradient " + param, relative, bound), bound) << param;
      ++gradients;
    } else if (key.rfind("running_mean/", 0) == 0) {
      const std::string buffer = key.substr(13);
      ASSERT_TRUE(buffers.contains(buffer)) << buffer;
      const double relative =
          MaxAbsDiff(buffers[buffer], expected) / std::max(1.0, expected.abs().max().item<double>());
      EXPECT_LE(ReportMeasured(what + " running mean " + buffer, relative, tolerance.statistics), tolerance.statistics)
          << buffer;
      ++statistics;
    }
  }
  EXPECT_EQ(gradients, 10u);
  EXPECT_EQ(statistics, 2u);
}

class DetectionTrainStep : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir;
    const CommandResult made = RunPython(SourcePath("tests/detection/reference/make_train_step_reference.py") + " '" +
                                         dir_->path().string() + "'");
    if (made.exit_code != 0) error_ = made.output;
  }
  static void TearDownTestSuite() { delete dir_; }
  void SetUp() override { ASSERT_EQ(error_, "") << "reference generation failed"; }
  static testing::TempDir* dir_;
  static std::string error_;
};
testing::TempDir* DetectionTrainStep::dir_ = nullptr;
std::string DetectionTrainStep::error_;

TEST_F(DetectionTrainStep, LossesGradientsAndBatchNormStatisticsMatchTorchvisionFromScratch) {
  ExpectStepMatches(dir_->path(), "step.ref.pt", torch::kFloat, kFloatTolerance);
}

TEST_F(DetectionTrainStep, LossesGradientsAndBatchNormStatisticsMatchTorchvisionInDouble) {
  ExpectStepMatches(dir_->path(), "step.double.ref.pt", torch::kDouble, kDoubleTolerance);
}

}  // namespace
}  // namespace segtune::detection
