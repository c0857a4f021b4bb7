// The model catalog (config/model_catalog.h): the one list of model names the config code and the
// models layer share. That every entry builds, with torchvision's parameter counts, is checked by the
// `segtune models` tests (tests/models/semantic_registry_test.cpp).
#include "segtune/config/model_catalog.h"

#include <gtest/gtest.h>

#include <set>

#include "segtune/config/detection_options.h"
#include "segtune/core/error.h"

namespace segtune {
namespace {

TEST(ModelCatalog, EveryNameIsUniqueAndBelongsToOneTask) {
  std::set<std::string> names;
  for (const auto& m : ListSemanticModels()) {
    EXPECT_TRUE(names.insert(m.name).second) << m.name;
    EXPECT_TRUE(IsSemanticModel(m.name));
    EXPECT_FALSE(IsDetectionModel(m.name));
  }
  for (const auto& m : detection::ListDetectionModels()) {
    EXPECT_TRUE(names.insert(m.name).second) << m.name;
    EXPECT_TRUE(IsDetectionModel(m.name));
    EXPECT_FALSE(IsSemanticModel(m.name));
  }
  EXPECT_EQ(names.size(), 10u);
}

TEST(ModelCatalog, NamesForMessagesFollowListOrder) {
  EXPECT_EQ(ModelNames(ModelTask::kSemantic),
            "lraspp_mobilenet_v3_large, deeplabv3_mobilenet_v3_large, deeplabv3_resnet50, deeplabv3_resnet101, "
            "fcn_resnet50, fcn_resnet101");
  EXPECT_EQ(ModelNames(ModelTask::kDetection),
            "fasterrcnn_resnet50_fpn, fasterrcnn_mobilenet_v3_large_fpn, fasterrcnn_mobilenet_v3_large_320_fpn, "
            "maskrcnn_resnet50_fpn");
}

TEST(ModelCatalog, UnknownNamesThrowUsageErrorListingTheKnownOnes) {
  try {
    FindSemanticModelInfo("deeplabv4");
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()), "unknown model 'deeplabv4'; known models: " + ModelNames(ModelTask::kSemantic));
  }
  try {
    detection::GetDetectionModelInfo("fasterrcnn_resnet18");
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()),
              "unknown detection model 'fasterrcnn_resnet18' (known: " + ModelNames(ModelTask::kDetection) + ")");
  }
}

TEST(ModelCatalog, FactsTheConfigReads) {
  EXPECT_FALSE(FindSemanticModelInfo("lraspp_mobilenet_v3_large").supports_aux);
  EXPECT_TRUE(FindSemanticModelInfo("fcn_resnet101").supports_aux);
  EXPECT_EQ(FindSemanticModelInfo("deeplabv3_resnet50").class_specific_prefixes,
            (std::vector<std::string>{"classifier.4", "aux_classifier.4"}));
  EXPECT_TRUE(detection::GetDetectionModelInfo("maskrcnn_resnet50_fpn").has_masks);
  EXPECT_FALSE(detection::GetDetectionModelInfo("fasterrcnn_resnet50_fpn").has_masks);
  // torchvision's defaults: the 320 variant's sizes and proposal counts, MobileNet's RPN threshold.
  const detection::DetectionModelOptions small = detection::DefaultDetectionOptions("fasterrcnn_mobilenet_v3_large_320_fpn");
  EXPECT_EQ(small.min_size, 320);
  EXPECT_EQ(small.max_size, 640);
  EXPECT_EQ(small.rpn.post_nms_top_n_test, 150);
  EXPECT_DOUBLE_EQ(small.rpn.score_thresh, 0.05);
  const detection::DetectionModelOptions resnet = detection::DefaultDetectionOptions("fasterrcnn_resnet50_fpn");
  EXPECT_EQ(resnet.min_size, 800);
  EXPECT_DOUBLE_EQ(resnet.rpn.score_thresh, 0.0);
  EXPECT_EQ(resnet.num_classes, 91);
  EXPECT_THROW(detection::DefaultDetectionOptions("nope"), UsageError);
}

}  // namespace
}  // namespace segtune
