// Transfer surgery: a checkpoint with torchvision's zoo shape (21 classes, aux head where supported;
// built and saved by torchvision in tests/models/reference) loaded into a 3-class model through
// load_state.h keeps every backbone (and other class-independent) tensor bit-identical, re-initialises
// exactly the final classifier layers, and reports exactly those.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

#include "segmentation_reference.h"
#include "segtune/models/load_state.h"
#include "segtune/models/semantic_registry.h"
#include "segtune/models/weights.h"

namespace segtune {
namespace {

using testing::ModelTensors;
using testing::ReferenceFiles;

// `expected_reinit`: the classifier tensors (written out here, not derived from transfer_keys.h) whose
// shape depends on the class count.
void ExpectSurgeryKeepsBackboneAndReinitialisesHead(const std::string& name,
                                                    const std::set<std::string>& expected_reinit) {
  ASSERT_EQ(ReferenceFiles::Get().error(), "");
  const NamedTensors checkpoint = LoadWeights(ReferenceFiles::Get().Path(name, ".21.pth"));
  for (const auto& key : expected_reinit) {
    const torch::Tensor* tensor = checkpoint.Find(key);
    ASSERT_NE(tensor, nullptr) << key;
    EXPECT_EQ(tensor->size(0), 21) << key << ": the checkpoint should have torchvision's 21 classes";
  }
  SemanticModel model = CreateSemanticModel(name, 3, FindSemanticModelInfo(name).supports_aux);
  std::map<std::string, torch::Tensor> fresh;
  for (const auto& [key, tensor] : ModelTensors(*model)) fresh[key] = tensor.clone();

  LoadOptions options;
  options.strict = true;
  options.reinit_mismatched = true;
  const LoadReport report = LoadStateDict(*model, checkpoint, options);

  EXPECT_EQ(std::set<std::string>(report.reinitialized.begin(), report.reinitialized.end()), expected_reinit)
      << report.ToString();
  EXPECT_TRUE(report.missing.empty()) << report.ToString();
  EXPECT_TRUE(report.unexpected.empty()) << report.ToString();
  for (const auto& key : expected_reinit) {
    EXPECT_NE(report.ToString().find(key), std::string::npos) << key << " not named in the report";
  }

  const std::map<std::string, torch::Tensor> loaded = ModelTensors(*model);
  int backbone_tensors = 0;
  for (const auto& [key, file_tensor] : checkpoint.items) {
    const torch::Tensor& now = loaded.at(key);
    if (expected_reinit.count(key)) {
      EXPECT_EQ(now.size(0), 3) << key;
      EXPECT_TRUE(torch::equal(now, fresh.at(key))) << key << " should keep the fresh init";
    } else {
      EXPECT_TRUE(torch::equal(now, file_tensor)) << key << " should be bit-identical to the checkpoint";
      backbone_tensors += key.rfind("backbone.", 0) == 0;
    }
  }
  EXPECT_GT(backbone_tensors, 100);
  model->eval();
  torch::NoGradGuard no_grad;
  EXPECT_EQ(model->forward(torch::randn({1, 3, 64, 64})).out.size(1), 3);
}

TEST(Surgery, Lraspp21ClassCheckpointInto3ClassModelReinitialisesOnlyTheClassifiers) {
  ExpectSurgeryKeepsBackboneAndReinitialisesHead(
      "lraspp_mobilenet_v3_large",
      {"classifier.low_classifier.weight", "classifier.low_classifier.bias", "classifier.high_classifier.weight",
       "classifier.high_classifier.bias"});
}

TEST(Surgery, DeepLabV321ClassCheckpointWithAuxInto3ClassModelReinitialisesOnlyBothLastLayers) {
  ExpectSurgeryKeepsBackboneAndReinitialisesHead(
      "deeplabv3_mobilenet_v3_large",
      {"classifier.4.weight", "classifier.4.bias", "aux_classifier.4.weight", "aux_classifier.4.bias"});
}

}  // namespace
}  // namespace segtune
