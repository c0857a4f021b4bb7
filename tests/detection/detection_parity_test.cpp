// Parity of segtune's Faster R-CNN / Mask R-CNN with torchvision 0.14: the four models are built by
// torchvision with random weights (tests/detection/reference/make_detection_reference.py, run once
// per test binary), saved as .pth with the COCO checkpoints' keys, and loaded here through
// LoadDetectionWeights; eval-mode detections (boxes, scores, labels, pasted masks) must match.
// Also: transfer surgery 91 -> 3 classes, and a train-mode step.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <set>
#include <string>

#include "detection/detection_match.h"
#include "models/segmentation_reference.h"
#include "segtune/core/error.h"
#include "segtune/export/prepare_detection.h"
#include "segtune/models/detection/detection_registry.h"
#include "segtune/models/detection/frozen_batch_norm.h"
#include "segtune/models/detection/generalized_rcnn.h"
#include "segtune/models/weights.h"
#include "test_util.h"

namespace segtune::detection {
namespace {

using segtune::testing::LoadReferenceTensors;
using segtune::testing::MaxAbsDiff;
using segtune::testing::ModelTensors;
using segtune::testing::CommandResult;
using segtune::testing::ReportMeasured;
using segtune::testing::RunPython;
using segtune::testing::SourcePath;

// Float bounds. segtune and torchvision run the same ATen/oneDNN kernels, so the differences are float
// rounding of reordered sums (RoIAlign, FPN adds), and they depend on the kernels oneDNN picks for the
// CPU. Each bound is a margin over the worst case measured across DNNL_MAX_CPU_ISA=SSE41|AVX|AVX2|
// AVX512_CORE|AVX512_CORE_BF16 and ATEN_CPU_CAPABILITY=default|avx2 (tools/parity_spread.sh); the
// measured worst case is next to each. Detections are matched where scores are tied (detection_match.h).
constexpr double kFeatureTolerance = 3e-4;  // Relative to the level's max |value|. Measured: 5.5e-5 (SSE41).
constexpr segtune::testing::DetectionTolerance kFloatTolerance{
    /*box=*/1e-2,    // Pixels in ~200 px images. Measured: 2.4e-3 (fasterrcnn_resnet50_fpn, AVX).
    /*score=*/5e-4,  // Measured: 1.5e-4 (maskrcnn_resnet50_fpn, SSE41); the report gave 1e-4 (AVX-512).
    /*mask=*/2e-3};  // Pasted mask probabilities. Measured: 3.9e-4 (maskrcnn_resnet50_fpn, SSE41).
// Double bounds: in float64 both sides round ~1e-16, so a real difference (an operation, an order, a
// constant) shows as a far larger error than any CPU's rounding. Every detection must be at its own
// position. Measured: 0 (bit-identical to torchvision) under every setting above.
constexpr segtune::testing::DetectionTolerance kDoubleTolerance{/*box=*/1e-6, /*score=*/1e-9, /*mask=*/1e-8};
constexpr double kDoubleFeatureTolerance = 1e-9;  // Relative. Measured: 0.

// The models compared again in double: one per backbone (ResNet-50 with the mask head, MobileNetV3).
const std::vector<std::string>& DoubleModels() {
  static const std::vector<std::string> names{"fasterrcnn_mobilenet_v3_large_fpn", "maskrcnn_resnet50_fpn"};
  return names;
}

const std::vector<std::string>& AllModels() {
  static const std::vector<std::string> names{"fasterrcnn_resnet50_fpn", "fasterrcnn_mobilenet_v3_large_fpn",
                                              "fasterrcnn_mobilenet_v3_large_320_fpn", "maskrcnn_resnet50_fpn"};
  return names;
}

// <name>.pth, <name>.ref.pt (and <name>.double.ref.pt) generated on first use, one model at a time: CTest
// runs every test in a process of its own, and generating all four models (and the double runs) for
// each would cost a minute per test. In /dev/shm when available.
class DetectionReference {
 public:
  static DetectionReference& Get() {
    static DetectionReference files;
    return files;
  }
  // Generates `model`'s files (with the double reference when asked) unless present; returns the
  // generator's output on failure, "" on success.
  std::string Ensure(const std::string& model, bool with_double = false) {
    if (std::filesystem::exists(Path(model, with_double ? ".double.ref.pt" : ".ref.pt"))) return "";
    const CommandResult result =
        RunPython(SourcePath("tests/detection/reference/make_detection_reference.py") + " '" + dir_.string() +
                  "' --models " + model + (with_double ? " --double-models " + model : ""));
    return result.exit_code == 0 ? "" : "reference generation failed:\n" + result.output;
  }
  std::filesystem::path Path(const std::string& model, const std::string& ext) const { return dir_ / (model + ext); }
  ~DetectionReference() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

 private:
  DetectionReference() {
    const std::string base =
        std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path().string();
    std::string tmpl = base + "/segtune-detection-ref-XXXXXX";
    dir_ = mkdtemp(tmpl.data());
  }
  std::filesystem::path dir_;
};

// The model built with torchvision's defaults and the reference's test-size overrides.
DetectionModelOptions ReferenceOptions(const std::string& name, const std::map<std::string, torch::Tensor>& ref) {
  DetectionModelOptions options = DefaultDetectionOptions(name);
  options.min_size = ref.at("min_size").item<int64_t>();
  options.max_size = ref.at("max_size").item<int64_t>();
  options.box.score_thresh = ref.at("box_score_thresh").item<double>();
  return options;
}

GeneralizedRCNN LoadReferenceModel(const std::string& name, const std::map<std::string, torch::Tensor>& ref) {
  GeneralizedRCNN model = BuildDetectionModel(name, ReferenceOptions(name, ref));
  const LoadReport report =
      LoadDetectionWeights(*model, name, LoadWeights(DetectionReference::Get().Path(name, ".pth")));
  EXPECT_TRUE(report.missing.empty() && report.unexpected.empty() && report.mismatched.empty()) << report.ToString();
  model->eval();
  return model;
}

class DetectionParity : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { ASSERT_EQ(DetectionReference::Get().Ensure(GetParam()), ""); }
};

TEST_P(DetectionParity, StateDictNamesAndShapesAreTorchvisions) {
  const std::string name = GetParam();
  const NamedTensors file = LoadWeights(DetectionReference::Get().Path(name, ".pth"));
  GeneralizedRCNN model = BuildDetectionModel(name, DefaultDetectionOptions(name));
  std::map<std::string, torch::Tensor> mine = ModelTensors(*model);
  for (const auto& [key, tensor] : file.items) {
    auto it = mine.find(key);
    ASSERT_NE(it, mine.end()) << name << ": torchvision has " << key << ", segtune does not";
    EXPECT_EQ(it->second.sizes(), tensor.sizes()) << key;
    mine.erase(it);
  }
  for (const auto& [key, tensor] : mine) {
    EXPECT_TRUE(IsBatchNormCounter(key)) << name << ": segtune has " << key << ", torchvision does not";
  }
}

// Backbone + FPN features of the transformed batch against torchvision's, each level relative to its max.
void ExpectFeaturesMatch(GeneralizedRCNN& model, const std::map<std::string, torch::Tensor>& ref, double tolerance,
                         const std::string& what) {
  torch::NoGradGuard no_grad;
  const auto dtype = ref.at("image0").scalar_type();
  const ImageList batch = model->transform->forward({ref.at("image0"), ref.at("image1")});
  const FeatureMaps features = model->backbone->forward(batch.tensors);
  size_t compared = 0;
  for (const auto& [level, tensor] : features) {
    const auto it = ref.find("features/" + level);
    ASSERT_NE(it, ref.end()) << "segtune level " << level << " not in torchvision's output";
    ASSERT_EQ(tensor.sizes(), it->second.sizes()) << level;
    ASSERT_EQ(tensor.scalar_type(), dtype) << level;
    const double scale = it->second.abs().max().item<double>();
    const double relative = MaxAbsDiff(tensor, it->second) / scale;
    EXPECT_LE(ReportMeasured(what + " features relative", relative, tolerance), tolerance) << what << " level " << level;
    ++compared;
  }
  EXPECT_EQ(compared, what.find("mobilenet") != std::string::npos ? 3u : 5u);
}

// Eval-mode detections (and pasted masks) of both images against torchvision's.
void ExpectDetectionsMatch(GeneralizedRCNN& model, const std::map<std::string, torch::Tensor>& ref,
                           const segtune::testing::DetectionTolerance& tolerance, bool require_same_order,
                           const std::string& what) {
  torch::NoGradGuard no_grad;
  const DetectionOutput out = model->forward({ref.at("image0"), ref.at("image1")});
  ASSERT_EQ(out.detections.size(), 2u);
  const bool has_masks = what.rfind("maskrcnn", 0) == 0;
  const auto options = ReferenceOptions(what.substr(0, what.find(' ')), ref);
  for (int i = 0; i < 2; ++i) {
    const std::string n = std::to_string(i), image = what + " image " + n;
    const Detections& d = out.detections[i];
    ASSERT_GT(ref.at("boxes" + n).size(0), 0) << "the reference should have detections";
    ASSERT_EQ(d.boxes.scalar_type(), ref.at("boxes" + n).scalar_type()) << image;
    segtune::testing::DetectionList reference{ref.at("boxes" + n), ref.at("scores" + n), ref.at("labels" + n), {}};
    if (has_masks) {
      reference.masks = ref.at("masks" + n);
      ASSERT_TRUE(d.masks.defined()) << image;
      ASSERT_EQ(d.masks.sizes().slice(1), reference.masks.sizes().slice(1)) << image;
      EXPECT_GT((reference.masks > 0.5).sum().item<int64_t>(), 0) << "the reference masks should not be empty";
    } else {
      EXPECT_FALSE(d.masks.defined()) << image;
    }
    const auto match = segtune::testing::MatchDetections({d.boxes, d.scores, d.labels, d.masks}, reference, tolerance,
                                                         options.box.score_thresh, options.box.detections_per_img);
    for (const auto& problem : match.problems) ADD_FAILURE() << image << ": " << problem;
    EXPECT_GE(match.matched, reference.scores.size(0) - 2) << image << ": nearly every detection must be compared";
    if (require_same_order) EXPECT_EQ(match.matched_in_ties + match.unmatched_at_limits, 0) << image;
    ReportMeasured(what + " boxes px", match.max_box_diff, tolerance.box);
    ReportMeasured(what + " scores", match.max_score_diff, tolerance.score);
    if (has_masks) ReportMeasured(what + " masks", match.max_mask_diff, tolerance.mask);
    ReportMeasured(what + " matched in ties", static_cast<double>(match.matched_in_ties), 0);
  }
}

TEST_P(DetectionParity, BackboneFeaturesMatchTorchvision) {
  const std::string name = GetParam();
  const auto ref = LoadReferenceTensors(DetectionReference::Get().Path(name, ".ref.pt"));
  GeneralizedRCNN model = LoadReferenceModel(name, ref);
  ExpectFeaturesMatch(model, ref, kFeatureTolerance, name);
}

TEST_P(DetectionParity, EvalDetectionsMatchTorchvision) {
  const std::string name = GetParam();
  const auto ref = LoadReferenceTensors(DetectionReference::Get().Path(name, ".ref.pt"));
  GeneralizedRCNN model = LoadReferenceModel(name, ref);
  ExpectDetectionsMatch(model, ref, kFloatTolerance, /*require_same_order=*/false, name);
}

// What `segtune infer` runs (export/prepare_detection.h: BatchNorms folded, channels-last, the
// backbone's, FPN's and RPN head's convolutions in oneDNN kernels) against torchvision's numbers, with
// the same bounds. Worst measured (DNNL_MAX_CPU_ISA=AVX2 / AVX-512, the four models): features 8.1e-5 /
// 8.7e-5 relative, boxes 3.8e-3 / 3.5e-3 px, scores 2.7e-4 / 2.2e-4, masks 9.8e-4 / 8.6e-4.
TEST_P(DetectionParity, PreparedForInferenceWithOneDnnMatchesTorchvision) {
  const std::string name = GetParam();
  const auto ref = LoadReferenceTensors(DetectionReference::Get().Path(name, ".ref.pt"));
  GeneralizedRCNN model = LoadReferenceModel(name, ref);
  const InferencePreparation done = PrepareDetectionForInference(*model, torch::kCPU);
  ASSERT_EQ(done.engine, InferenceEngine::kOneDnn);
  EXPECT_GT(done.folded_batch_norms, 0) << name;
  EXPECT_GT(done.kernels, 0) << DescribePreparation(done, true);
  ExpectFeaturesMatch(model, ref, kFeatureTolerance, name + " onednn");
  ExpectDetectionsMatch(model, ref, kFloatTolerance, /*require_same_order=*/false, name + " onednn");
}

INSTANTIATE_TEST_SUITE_P(Models, DetectionParity, ::testing::ValuesIn(AllModels()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

// The same comparisons with both sides in float64: tight bounds, every detection at its own position.
class DetectionParityDouble : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { ASSERT_EQ(DetectionReference::Get().Ensure(GetParam(), /*with_double=*/true), ""); }
};

TEST_P(DetectionParityDouble, FeaturesAndDetectionsMatchTorchvisionInDouble) {
  const std::string name = GetParam();
  const auto ref = LoadReferenceTensors(DetectionReference::Get().Path(name, ".double.ref.pt"));
  GeneralizedRCNN model = LoadReferenceModel(name, ref);
  model->to(torch::kDouble);
  ExpectFeaturesMatch(model, ref, kDoubleFeatureTolerance, name + " double");
  ExpectDetectionsMatch(model, ref, kDoubleTolerance, /*require_same_order=*/true, name + " double");
}

INSTANTIATE_TEST_SUITE_P(Models, DetectionParityDouble, ::testing::ValuesIn(DoubleModels()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

// The class-specific tensors, written out here rather than read from the registry.
const std::set<std::string> kMaskRcnnClassTensors{
    "roi_heads.box_predictor.cls_score.weight",     "roi_heads.box_predictor.cls_score.bias",
    "roi_heads.box_predictor.bbox_pred.weight",     "roi_heads.box_predictor.bbox_pred.bias",
    "roi_heads.mask_predictor.mask_fcn_logits.weight", "roi_heads.mask_predictor.mask_fcn_logits.bias"};

TEST(DetectionSurgery, CocoCheckpointInto3ClassesKeepsAllButPredictorsBitIdentical) {
  const std::string name = "maskrcnn_resnet50_fpn";
  ASSERT_EQ(DetectionReference::Get().Ensure(name), "");
  const NamedTensors checkpoint = LoadWeights(DetectionReference::Get().Path(name, ".pth"));
  ASSERT_EQ(checkpoint.Find("roi_heads.box_predictor.cls_score.weight")->size(0), 91);
  DetectionModelOptions options = DefaultDetectionOptions(name);
  options.num_classes = 3;
  GeneralizedRCNN model = BuildDetectionModel(name, options);
  std::map<std::string, torch::Tensor> fresh;
  for (const auto& [key, tensor] : ModelTensors(*model)) fresh[key] = tensor.clone();

  DetectionLoadOptions load;
  load.transfer = true;
  const LoadReport report = LoadDetectionWeights(*model, name, checkpoint, load);
  EXPECT_EQ(std::set<std::string>(report.reinitialized.begin(), report.reinitialized.end()), kMaskRcnnClassTensors)
      << report.ToString();
  EXPECT_TRUE(report.missing.empty()) << report.ToString();
  EXPECT_TRUE(report.unexpected.empty()) << report.ToString();

  const auto loaded = ModelTensors(*model);
  for (const auto& [key, file_tensor] : checkpoint.items) {
    if (kMaskRcnnClassTensors.count(key)) {
      EXPECT_TRUE(torch::equal(loaded.at(key), fresh.at(key))) << key << " should keep the fresh init";
    } else {
      EXPECT_TRUE(torch::equal(loaded.at(key), file_tensor)) << key << " should be bit-identical to the checkpoint";
    }
  }
  EXPECT_EQ(loaded.at("roi_heads.box_predictor.bbox_pred.weight").size(0), 12);
  EXPECT_EQ(loaded.at("roi_heads.mask_predictor.mask_fcn_logits.weight").size(0), 3);
}

TEST(DetectionSurgery, ClassMismatchWithoutTransferIsAnError) {
  const std::string name = "fasterrcnn_mobilenet_v3_large_320_fpn";
  ASSERT_EQ(DetectionReference::Get().Ensure(name), "");
  DetectionModelOptions options = DefaultDetectionOptions(name);
  options.num_classes = 3;
  GeneralizedRCNN model = BuildDetectionModel(name, options);
  EXPECT_THROW(LoadDetectionWeights(*model, name, LoadWeights(DetectionReference::Get().Path(name, ".pth"))),
               FormatError);
}

TEST(DetectionRegistry, ListsTheFourModelsWithTheirClassSpecificLayers) {
  std::vector<std::string> names;
  for (const auto& info : ListDetectionModels()) names.push_back(info.name);
  EXPECT_EQ(names, AllModels());
  EXPECT_EQ(GetDetectionModelInfo("maskrcnn_resnet50_fpn").class_specific_prefixes,
            (std::vector<std::string>{"roi_heads.box_predictor", "roi_heads.mask_predictor.mask_fcn_logits"}));
  EXPECT_EQ(GetDetectionModelInfo("fasterrcnn_resnet50_fpn").default_num_classes, 91);
  EXPECT_THROW(GetDetectionModelInfo("deeplabv3_resnet50"), UsageError);
  EXPECT_FALSE(IsDetectionModel("lraspp_mobilenet_v3_large"));
}

TEST(DetectionModel, Mobilenet320DefaultsAreTorchvisions) {
  const DetectionModelOptions o = DefaultDetectionOptions("fasterrcnn_mobilenet_v3_large_320_fpn");
  EXPECT_EQ(o.min_size, 320);
  EXPECT_EQ(o.max_size, 640);
  EXPECT_EQ(o.rpn.pre_nms_top_n_test, 150);
  EXPECT_EQ(o.rpn.post_nms_top_n_test, 150);
  EXPECT_DOUBLE_EQ(o.rpn.score_thresh, 0.05);
  EXPECT_DOUBLE_EQ(o.box.score_thresh, 0.05);
  EXPECT_DOUBLE_EQ(o.box.nms_thresh, 0.5);
  EXPECT_EQ(o.box.detections_per_img, 100);
}

// fastrcnn_loss on hand-made numbers: cross-entropy over all proposals, smooth-L1 with beta 1/9
// (torchvision's value; |d| < 1/9 is quadratic) over the positives' own-class deltas, / proposal count.
TEST(DetectionModel, FastRcnnLossUsesBetaOneNinthAndTheGtClassDeltas) {
  const torch::Tensor logits = torch::tensor({{2.0f, 0.5f, -1.0f}, {0.1f, 0.2f, 3.0f}});
  torch::Tensor deltas = torch::zeros({2, 12});
  deltas[1].slice(0, 8, 12).copy_(torch::tensor({0.05f, 0.5f, -0.02f, 0.0f}));  // proposal 1, class 2
  deltas[1].slice(0, 4, 8).fill_(7.0f);                                   // another class: ignored
  const std::vector<torch::Tensor> labels{torch::tensor({0, 2}, torch::kInt64)};
  const std::vector<torch::Tensor> targets{torch::zeros({2, 4})};
  const auto [classification, box] = FastRCNNLoss(logits, deltas, labels, targets);
  const double beta = 1.0 / 9;
  auto smooth = [&](double d) { return std::abs(d) < beta ? 0.5 * d * d / beta : std::abs(d) - 0.5 * beta; };
  const double expected_box = (smooth(0.05) + smooth(0.5) + smooth(-0.02) + smooth(0.0)) / 2;
  EXPECT_NEAR(box.item<double>(), expected_box, 1e-6);
  const double expected_ce = 0.5 * (torch::logsumexp(logits[0], 0).item<double>() - 2.0 +
                                    torch::logsumexp(logits[1], 0).item<double>() - 3.0);
  EXPECT_NEAR(classification.item<double>(), expected_ce, 1e-6);
}

// A train-mode step: the five losses are finite and positive, gradients reach the heads and the
// trainable backbone stages, the frozen stem and BatchNorm get none, and BatchNorm stays frozen.
TEST(DetectionModel, MaskRcnnTrainStepGivesLossesAndRespectsFrozenLayers) {
  torch::manual_seed(0);
  DetectionModelOptions options = DefaultDetectionOptions("maskrcnn_resnet50_fpn");
  options.num_classes = 3;
  options.min_size = 128;
  options.max_size = 160;
  GeneralizedRCNN model = BuildDetectionModel("maskrcnn_resnet50_fpn", options);
  model->train();
  const torch::Tensor running_var = model->backbone->body->named_buffers()["bn1.running_var"].clone();
  DetectionTarget target;
  target.boxes = torch::tensor({{10.0f, 20.0f, 60.0f, 90.0f}, {70.0f, 5.0f, 120.0f, 50.0f}});
  target.labels = torch::tensor({1, 2}, torch::kInt64);
  target.masks = torch::zeros({2, 128, 128}, torch::kUInt8);
  target.masks[0].slice(0, 20, 90).slice(1, 10, 60).fill_(1);
  target.masks[1].slice(0, 5, 50).slice(1, 70, 120).fill_(1);
  const std::vector<DetectionTarget> targets{target};
  const DetectionOutput out = model->forward({torch::rand({3, 128, 128})}, &targets);
  const std::set<std::string> expected{"loss_classifier", "loss_box_reg", "loss_mask", "loss_objectness",
                                       "loss_rpn_box_reg"};
  std::set<std::string> keys;
  torch::Tensor total = torch::zeros({});
  for (const auto& [key, loss] : out.losses) {
    keys.insert(key);
    EXPECT_TRUE(std::isfinite(loss.item<double>())) << key;
    EXPECT_GE(loss.item<double>(), 0.0) << key;
    total = total + loss;
  }
  EXPECT_EQ(keys, expected);
  total.backward();
  auto params = model->named_parameters();
  EXPECT_TRUE(params["roi_heads.box_predictor.cls_score.weight"].grad().defined());
  EXPECT_TRUE(params["roi_heads.mask_predictor.mask_fcn_logits.weight"].grad().defined());
  EXPECT_TRUE(params["backbone.fpn.layer_blocks.0.0.weight"].grad().defined());
  EXPECT_TRUE(params["backbone.body.layer4.0.conv1.weight"].grad().defined());
  EXPECT_FALSE(params["backbone.body.conv1.weight"].requires_grad());      // trainable_backbone_layers 3
  EXPECT_FALSE(params["backbone.body.layer1.0.conv1.weight"].requires_grad());
  EXPECT_FALSE(params["backbone.body.layer4.0.bn1.weight"].requires_grad());  // FrozenBatchNorm2d
  EXPECT_TRUE(torch::equal(model->backbone->body->named_buffers()["bn1.running_var"], running_var));
}

}  // namespace
}  // namespace segtune::detection
