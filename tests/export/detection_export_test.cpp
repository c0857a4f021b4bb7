// `segtune export` for detection models: the bundle's model.json and the round trip through
// LoadDetectionBundle (same detections as the model the checkpoint came from).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "export/detection_fixture.h"
#include "export/onnx_check_util.h"
#include "segtune/core/error.h"
#include "segtune/export/detection_bundle.h"
#include "segtune/export/detection_onnx.h"
#include "segtune/export/semantic_bundle.h"
#include "test_util.h"

namespace segtune {
namespace {

std::vector<torch::Tensor> RandomImages() {
  torch::manual_seed(11);
  return {torch::rand({3, 72, 96}), torch::rand({3, 100, 64})};
}

void ExpectSameDetections(detection::GeneralizedRCNNImpl& a, detection::GeneralizedRCNNImpl& b) {
  torch::NoGradGuard no_grad;
  const auto images = RandomImages();
  const auto da = a.forward(images).detections;
  const auto db = b.forward(images).detections;
  ASSERT_EQ(da.size(), db.size());
  for (size_t i = 0; i < da.size(); ++i) {
    ASSERT_GT(da[i].boxes.size(0), 0) << "a random model should still detect something in image " << i;
    EXPECT_TRUE(torch::equal(da[i].boxes, db[i].boxes)) << "image " << i;
    EXPECT_TRUE(torch::equal(da[i].scores, db[i].scores)) << "image " << i;
    EXPECT_TRUE(torch::equal(da[i].labels, db[i].labels)) << "image " << i;
    EXPECT_EQ(da[i].masks.defined(), db[i].masks.defined());
    if (da[i].masks.defined()) EXPECT_TRUE(torch::equal(da[i].masks, db[i].masks)) << "image " << i;
  }
}

TEST(DetectionExport, CliExportsFasterRcnnBundleThatReproducesTheModel) {
  testing::TempDir dir;
  const std::string name = "fasterrcnn_mobilenet_v3_large_320_fpn";
  detection::DetectionModelOptions options = detection::DefaultDetectionOptions(name);
  options.num_classes = 3;
  detection::GeneralizedRCNN model = testing::SmallDetectionModel(name, options);
  testing::SaveCheckpoint(model, name, dir / "ckpt-000012.safetensors");
  testing::WriteCatDogLabelMap(dir / "label_map.pbtxt");
  // No --model: the checkpoint's "architecture" metadata names it.
  const auto run = testing::RunSegtune("export --checkpoint '" +
                                       (dir / "ckpt-000012.safetensors").string() + "' --label-map '" +
                                       (dir / "label_map.pbtxt").string() + "' -o '" + (dir / "out").string() + "'");
  ASSERT_EQ(run.exit_code, 0) << run.output;

  const nlohmann::json j = nlohmann::json::parse(ReadFile(dir / "out" / "model.json"));
  EXPECT_EQ(j["kind"], "detection");
  EXPECT_EQ(j["architecture"], name);
  EXPECT_EQ(j["num_classes"], 3);  // From the checkpoint's box predictor.
  EXPECT_EQ(j["class_names"], (std::vector<std::string>{"background", "cat", "dog"}));
  EXPECT_EQ(j["detection_options"]["min_size"], 320);
  EXPECT_EQ(j["detection_options"]["rpn"]["post_nms_top_n_test"], 150);
  EXPECT_EQ(j["provenance"]["checkpoint_step"], 12);
  EXPECT_TRUE(std::filesystem::exists(dir / "out" / "label_map.pbtxt"));
  EXPECT_EQ(j["onnx"], (std::vector<std::string>{"detector_features.onnx"}));
  EXPECT_TRUE(std::filesystem::exists(dir / "out" / "detector_features.onnx"));
  EXPECT_TRUE(IsDetectionBundle(dir / "out"));

  DetectionBundle bundle = LoadDetectionBundle(dir / "out");
  EXPECT_FALSE(bundle.metadata.has_masks);
  ExpectSameDetections(*model, *bundle.model);
  EXPECT_THROW(LoadSemanticBundle(dir / "out"), UsageError);  // Not a segmentation bundle.

  const auto inspect = testing::RunSegtune("inspect '" + (dir / "out").string() + "'");
  ASSERT_EQ(inspect.exit_code, 0) << inspect.output;
  EXPECT_NE(inspect.output.find("backbone + FPN + RPN head at 320x320"), std::string::npos) << inspect.output;
  EXPECT_NE(inspect.output.find("rpn/head/cls_logits"), std::string::npos) << inspect.output;
}

TEST(DetectionExport, MaskRcnnBundleKeepsOptionsAndMasks) {
  testing::TempDir dir;
  const std::string name = "maskrcnn_resnet50_fpn";
  const detection::DetectionModelOptions options = testing::SmallDetectionOptions(name, 96, 128);
  detection::GeneralizedRCNN model = testing::SmallDetectionModel(name, options);
  testing::ExportSmallDetectionModel(model, name, options, dir.path());
  DetectionBundle bundle = LoadDetectionBundle(dir / "export");
  EXPECT_TRUE(bundle.metadata.has_masks);
  EXPECT_EQ(bundle.metadata.options.min_size, 96);
  EXPECT_EQ(bundle.metadata.options.max_size, 128);
  EXPECT_EQ(bundle.metadata.options.box.detections_per_img, 20);
  ExpectSameDetections(*model, *bundle.model);
}

// A detection pipeline config gives the model, every option it sets, and the label map.
TEST(DetectionExport, PipelineConfigGivesModelOptionsAndLabelMap) {
  testing::TempDir dir;
  const std::string name = "fasterrcnn_mobilenet_v3_large_320_fpn";
  detection::GeneralizedRCNN model = testing::SmallDetectionModel(name, testing::SmallDetectionOptions(name));
  testing::SaveCheckpoint(model, name, dir / "ckpt-000012.safetensors");
  testing::WriteCatDogLabelMap(dir / "label_map.pbtxt");
  WriteFileAtomic(dir / "pipeline.config",
                  "model { detection { architecture: '" + name + "' num_classes: 3 min_size: 256 max_size: 384\n"
                  "  box_score_thresh: 0.2 box_detections_per_img: 7 } }\n"
                  "train_input_reader { label_map_path: '" + (dir / "label_map.pbtxt").string() + "' }\n");
  const auto run = testing::RunSegtune("export --pipeline-config '" + (dir / "pipeline.config").string() +
                                       "' --checkpoint '" + (dir / "ckpt-000012.safetensors").string() + "' -o '" +
                                       (dir / "out").string() + "'");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const DetectionBundle bundle = LoadDetectionBundle(dir / "out");
  EXPECT_EQ(bundle.metadata.common.architecture, name);
  EXPECT_EQ(bundle.metadata.options.min_size, 256);
  EXPECT_EQ(bundle.metadata.options.max_size, 384);
  EXPECT_NEAR(bundle.metadata.options.box.score_thresh, 0.2, 1e-6);
  EXPECT_EQ(bundle.metadata.options.box.detections_per_img, 7);
  EXPECT_EQ(bundle.metadata.options.rpn.post_nms_top_n_test, 150);  // The 320 variant's default, kept.
  EXPECT_EQ(bundle.metadata.common.class_names, (std::vector<std::string>{"background", "cat", "dog"}));
  EXPECT_FALSE(bundle.metadata.common.config_sha256.empty());
}

TEST(DetectionExport, RejectsACheckpointOfAnotherArchitecture) {
  testing::TempDir dir;
  const std::string name = "fasterrcnn_mobilenet_v3_large_320_fpn";
  detection::GeneralizedRCNN model = testing::SmallDetectionModel(name, testing::SmallDetectionOptions(name));
  testing::SaveCheckpoint(model, name, dir / "ckpt.safetensors");
  const auto run = testing::RunSegtune("export --model fasterrcnn_resnet50_fpn --checkpoint '" +
                                       (dir / "ckpt.safetensors").string() + "' -o '" + (dir / "out").string() + "'");
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.output.find("does not fit fasterrcnn_resnet50_fpn"), std::string::npos) << run.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "out"));
}

// detector_features.onnx in ONNX Runtime against the libtorch backbone, FPN and RPN head on the
// transform's output for a batch of two at a size other than the traced one.
void ExpectOnnxFeaturesMatch(const std::string& name, int64_t min_size, int64_t max_size) {
  SEGTUNE_REQUIRE_TEST_DEPENDENCY(testing::OrtAvailable(), testing::kOrtMissing);
  testing::TempDir dir;
  const detection::DetectionModelOptions options = testing::SmallDetectionOptions(name, min_size, max_size);
  detection::GeneralizedRCNN model = testing::SmallDetectionModel(name, options);
  testing::ExportSmallDetectionModel(model, name, options, dir.path());
  const auto onnx_path = dir / "export" / kDetectionFeaturesOnnx;
  EXPECT_EQ(testing::CheckOnnx(onnx_path), "");

  torch::NoGradGuard no_grad;
  torch::manual_seed(2);
  const detection::ImageList batch = model->transform->forward({torch::rand({3, 150, 200}), torch::rand({3, 150, 200})});
  const torch::Tensor images = batch.tensors.contiguous();
  const detection::FeatureMaps features = model->backbone->forward(images);
  std::vector<torch::Tensor> maps;
  for (const auto& [level, map] : features) maps.push_back(map);
  const auto [objectness, deltas] = model->rpn->head->forward(maps);

  testing::WriteRaw(dir / "images.bin", images);
  const auto s = images.sizes();
  const auto run = testing::RunCommand("node '" + testing::SourcePath("tests/export/run_ort.js") + "' '" +
                                       onnx_path.string() + "' '" + (dir / "images.bin").string() + "' float32 " +
                                       std::to_string(s[0]) + ",3," + std::to_string(s[2]) + "," +
                                       std::to_string(s[3]) + " '" + (dir / "ort").string() + "'");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  for (size_t i = 0; i < features.size(); ++i) {
    const std::string& level = features[i].first;
    const std::pair<std::string, torch::Tensor> outputs[] = {
        {"features." + level, maps[i]}, {"objectness." + level, objectness[i]}, {"bbox_deltas." + level, deltas[i]}};
    for (const auto& [output, expected] : outputs) {
      const torch::Tensor got = testing::ReadRaw(dir / ("ort." + output + ".bin"), expected.sizes(), torch::kFloat32);
      EXPECT_LT(testing::ReportMeasured(name + " onnx " + output, (got - expected).abs().max().item<double>(), 1e-3),
                1e-3)
          << name << " " << output;
    }
  }
}

TEST(DetectionExport, OnnxFeaturesMatchLibtorchMobileNet) {
  ExpectOnnxFeaturesMatch("fasterrcnn_mobilenet_v3_large_320_fpn", 0, 0);
}

TEST(DetectionExport, OnnxFeaturesMatchLibtorchResNet50) { ExpectOnnxFeaturesMatch("fasterrcnn_resnet50_fpn", 160, 224); }

TEST(DetectionExport, MetadataJsonRoundTrips) {
  DetectionBundleMetadata m;
  m.common.architecture = "fasterrcnn_resnet50_fpn";
  m.common.num_classes = 5;
  m.common.class_names = {"background", "a", "b", "c", "d"};
  m.options = detection::DefaultDetectionOptions(m.common.architecture);
  m.options.num_classes = 5;
  m.options.box.nms_thresh = 0.3;
  m.options.rpn.pre_nms_top_n_test = 77;
  m.options.image_mean = {0.5, 0.5, 0.5};
  const DetectionBundleMetadata back = DetectionBundleMetadataFromJson(DetectionBundleMetadataToJson(m), "model.json");
  EXPECT_EQ(back.common.class_names, m.common.class_names);
  EXPECT_DOUBLE_EQ(back.options.box.nms_thresh, 0.3);
  EXPECT_EQ(back.options.rpn.pre_nms_top_n_test, 77);
  EXPECT_EQ(back.options.image_mean, m.options.image_mean);
  EXPECT_FLOAT_EQ(back.common.mean[0], 0.5f);
  EXPECT_THROW(DetectionBundleMetadataFromJson("{\"kind\": \"detection\", \"format_version\": 1}", "m.json"),
               FormatError);
}

}  // namespace
}  // namespace segtune
