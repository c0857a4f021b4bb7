// The model registry, its argument checks, the class-specific layer prefixes, the ImageNet backbone
// key remapping, and the `segtune models` table.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "segtune/core/error.h"
#include "segtune/models/semantic_registry.h"
#include "segtune/models/transfer_keys.h"
#include "test_util.h"

namespace segtune {
namespace {

TEST(SemanticRegistry, ListsTheSixTorchvisionSegmentationModels) {
  std::vector<std::string> names;
  for (const auto& info : ListSemanticModels()) names.push_back(info.name);
  EXPECT_EQ(names, (std::vector<std::string>{"lraspp_mobilenet_v3_large", "deeplabv3_mobilenet_v3_large",
                                             "deeplabv3_resnet50", "deeplabv3_resnet101", "fcn_resnet50",
                                             "fcn_resnet101"}));
}

TEST(SemanticRegistry, UnknownNameThrowsUsageErrorListingKnownModels) {
  try {
    CreateSemanticModel("deeplabv4", 3);
    FAIL() << "no exception";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("deeplabv4"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("lraspp_mobilenet_v3_large"), std::string::npos);
  }
}

TEST(SemanticRegistry, RejectsAuxLossForLraspp) {
  EXPECT_THROW(CreateSemanticModel("lraspp_mobilenet_v3_large", 3, /*aux_loss=*/true), UsageError);
}

TEST(SemanticRegistry, RejectsZeroClasses) { EXPECT_THROW(CreateSemanticModel("fcn_resnet50", 0), UsageError); }

TEST(SemanticRegistry, BuildsRequestedClassesAndAuxHead) {
  SemanticModel model = CreateSemanticModel("deeplabv3_mobilenet_v3_large", 3, /*aux_loss=*/true);
  EXPECT_TRUE(model->has_aux());
  EXPECT_EQ(model->num_classes(), 3);
  const auto params = model->named_parameters();
  EXPECT_EQ(params["classifier.4.weight"].size(0), 3);
  EXPECT_EQ(params["aux_classifier.4.weight"].sizes(), (std::vector<int64_t>{3, 10, 1, 1}));
  model->eval();
  torch::NoGradGuard no_grad;
  const SemanticOutput result = model->forward(torch::randn({2, 3, 50, 70}));
  EXPECT_EQ(result.out.sizes(), (std::vector<int64_t>{2, 3, 50, 70}));
  EXPECT_EQ(result.aux.sizes(), (std::vector<int64_t>{2, 3, 50, 70}));
}

TEST(SemanticRegistry, RejectsInputThatIsNotAnImageBatch) {
  SemanticModel model = CreateSemanticModel("lraspp_mobilenet_v3_large", 3);
  EXPECT_THROW(model->forward(torch::randn({1, 1, 32, 32})), UsageError);
}

TEST(TransferKeys, ClassSpecificPrefixesPerArchitecture) {
  EXPECT_EQ(ClassSpecificPrefixes("lraspp_mobilenet_v3_large"),
            (std::vector<std::string>{"classifier.low_classifier", "classifier.high_classifier"}));
  EXPECT_EQ(ClassSpecificPrefixes("fcn_resnet101"), (std::vector<std::string>{"classifier.4", "aux_classifier.4"}));
  const auto prefixes = ClassSpecificPrefixes("deeplabv3_resnet50");
  EXPECT_TRUE(IsClassSpecific("classifier.4.bias", prefixes));
  EXPECT_FALSE(IsClassSpecific("classifier.40.bias", prefixes));
  EXPECT_FALSE(IsClassSpecific("classifier.0.convs.0.0.weight", prefixes));
}

TEST(TransferKeys, ClassSpecificPrefixesNameExactlyTheLayersThatDependOnNumClasses) {
  // One model per head type (LR-ASPP, DeepLabHead, FCNHead; aux heads included): building all six
  // twice costs ~20 s.
  for (const char* name : {"lraspp_mobilenet_v3_large", "deeplabv3_mobilenet_v3_large", "fcn_resnet50"}) {
    const SemanticModelInfo& info = FindSemanticModelInfo(name);
    SemanticModel a = CreateSemanticModel(info.name, 2, info.supports_aux);
    SemanticModel b = CreateSemanticModel(info.name, 7, info.supports_aux);
    const auto b_params = b->named_parameters();
    for (const auto& p : a->named_parameters()) {
      const bool differs = p.value().sizes() != b_params[p.key()].sizes();
      EXPECT_EQ(differs, IsClassSpecific(p.key(), info.class_specific_prefixes)) << info.name << " " << p.key();
    }
  }
}

TEST(TransferKeys, RemapsMobileNetImageNetKeysToBackbone) {
  NamedTensors imagenet;
  imagenet.items = {{"features.0.0.weight", torch::zeros({16, 3, 3, 3})},
                    {"features.16.1.running_var", torch::ones({960})},
                    {"classifier.0.weight", torch::zeros({1280, 960})}};
  const BackboneRemap remap = RemapImageNetBackbone("lraspp_mobilenet_v3_large", imagenet, "mnv3.pth");
  ASSERT_EQ(remap.tensors.items.size(), 2u);
  EXPECT_EQ(remap.tensors.items[0].first, "backbone.0.0.weight");
  EXPECT_EQ(remap.tensors.items[1].first, "backbone.16.1.running_var");
  EXPECT_EQ(remap.dropped, (std::vector<std::string>{"classifier.0.weight"}));
}

TEST(TransferKeys, RemapsResNetImageNetKeysAndDropsFc) {
  NamedTensors imagenet;
  imagenet.items = {{"conv1.weight", torch::zeros({64, 3, 7, 7})},
                    {"layer4.2.bn3.running_mean", torch::zeros({2048})},
                    {"fc.weight", torch::zeros({1000, 2048})},
                    {"fc.bias", torch::zeros({1000})}};
  const BackboneRemap remap = RemapImageNetBackbone("deeplabv3_resnet50", imagenet, "r50.pth");
  ASSERT_EQ(remap.tensors.items.size(), 2u);
  EXPECT_EQ(remap.tensors.items[1].first, "backbone.layer4.2.bn3.running_mean");
  EXPECT_EQ(remap.dropped.size(), 2u);
  // Every remapped key names a tensor of the segmentation model.
  const auto params = CreateSemanticModel("deeplabv3_resnet50", 3)->named_parameters();
  EXPECT_TRUE(params.contains("backbone.conv1.weight"));
}

TEST(TransferKeys, RejectsACheckpointOfTheWrongBackbone) {
  NamedTensors resnet;
  resnet.items = {{"conv1.weight", torch::zeros({64, 3, 7, 7})}};
  EXPECT_THROW(RemapImageNetBackbone("lraspp_mobilenet_v3_large", resnet, "r50.pth"), FormatError);
}

TEST(ModelsVerb, PrintsEveryModelWithParametersAndZooFiles) {
  const auto result = testing::RunSegtune("models");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("lraspp_mobilenet_v3_large"), std::string::npos);
  EXPECT_NE(result.output.find("lraspp_mobilenet_v3_large-d234d4ea.pth"), std::string::npos);
  EXPECT_NE(result.output.find("fcn_resnet101_coco-7ecb50ca.pth"), std::string::npos);
  EXPECT_NE(result.output.find("mean 0.485,0.456,0.406"), std::string::npos);
  // torchvision's meta["num_params"] of the COCO checkpoints (21 classes, aux head where present).
  for (const char* count : {"3221538", "11029328", "42004074", "60996202", "35322218", "54314346"}) {
    EXPECT_NE(result.output.find(count), std::string::npos) << count << " in\n" << result.output;
  }
}

TEST(ModelsVerb, ListsTheDetectionModelsWithTorchvisionsParameterCounts) {
  const auto result = testing::RunSegtune("models");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  // torchvision's meta["num_params"] of the COCO checkpoints (FrozenBatchNorm2d: no BN parameters).
  const std::vector<std::pair<std::string, std::string>> models{
      {"fasterrcnn_resnet50_fpn ", "41755286"},
      {"fasterrcnn_mobilenet_v3_large_fpn ", "19386354"},
      {"fasterrcnn_mobilenet_v3_large_320_fpn ", "19386354"},
      {"maskrcnn_resnet50_fpn ", "44401393"}};
  for (const auto& [name, count] : models) {
    const size_t row = result.output.find(name);
    ASSERT_NE(row, std::string::npos) << name << " in\n" << result.output;
    const std::string line = result.output.substr(row, result.output.find('\n', row) - row);
    EXPECT_NE(line.find(count), std::string::npos) << line;
  }
  EXPECT_NE(result.output.find("maskrcnn_resnet50_fpn_coco-bf2d0c1e.pth"), std::string::npos);
}

}  // namespace
}  // namespace segtune
