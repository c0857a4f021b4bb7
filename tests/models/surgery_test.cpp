// Transfer surgery: a torchvision checkpoint for 5 classes loaded into a 3-class model through
// load_state.h keeps every backbone (and other class-independent) tensor bit-identical and leaves
// exactly the class-specific layers (transfer_keys.h) at the model's fresh initialisation.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

#include "segmentation_reference.h"
#include "segtune/models/load_state.h"
#include "segtune/models/registry.h"
#include "segtune/models/transfer_keys.h"
#include "segtune/models/weights.h"

namespace segtune {
namespace {

using testing::ModelTensors;
using testing::ReferenceFiles;

void ExpectSurgeryKeepsBackboneAndReinitialisesHead(const std::string& name) {
  ASSERT_EQ(ReferenceFiles::Get().error(), "");
  const NamedTensors checkpoint = LoadWeights(ReferenceFiles::Get().Path(name, ".pth"));
  SegmentationModel model = CreateSegmentationModel(name, 3, FindModelInfo(name).supports_aux);
  std::map<std::string, torch::Tensor> fresh;
  for (const auto& [key, tensor] : ModelTensors(*model)) fresh[key] = tensor.clone();

  LoadOptions options;
  options.strict = true;
  options.reinit_mismatched = true;
  const LoadReport report = LoadStateDict(*model, checkpoint, options);

  const std::vector<std::string> prefixes = ClassSpecificPrefixes(name);
  std::set<std::string> expected_reinit;
  for (const auto& [key, tensor] : fresh) {
    if (IsClassSpecific(key, prefixes)) expected_reinit.insert(key);
  }
  EXPECT_EQ(std::set<std::string>(report.reinitialized.begin(), report.reinitialized.end()), expected_reinit)
      << report.ToString();
  EXPECT_TRUE(report.missing.empty()) << report.ToString();
  EXPECT_TRUE(report.unexpected.empty()) << report.ToString();

  const std::map<std::string, torch::Tensor> loaded = ModelTensors(*model);
  int backbone_tensors = 0;
  for (const auto& [key, file_tensor] : checkpoint.items) {
    const torch::Tensor& now = loaded.at(key);
    if (expected_reinit.count(key)) {
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

TEST(Surgery, LrasppCheckpointInto3ClassModelKeepsBackboneBitIdentical) {
  ExpectSurgeryKeepsBackboneAndReinitialisesHead("lraspp_mobilenet_v3_large");
}

TEST(Surgery, DeepLabV3CheckpointWithAuxInto3ClassModelReinitialisesBothHeads) {
  ExpectSurgeryKeepsBackboneAndReinitialisesHead("deeplabv3_mobilenet_v3_large");
}

}  // namespace
}  // namespace segtune
