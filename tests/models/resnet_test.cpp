// ResNet backbones: torchvision's dilation schedule for segmentation, downsample placement, and the
// layer3/layer4 output resolutions (stride 8 with replace_stride_with_dilation {F, T, T}).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "segtune/models/resnet.h"

namespace segtune {
namespace {

TEST(ResNet, SegmentationVariantDilatesLayer3And4) {
  ResNetBackbone backbone = ResNet50Backbone();
  auto block = [&](torch::nn::Sequential& layer, size_t i) { return layer[i]->as<BottleneckImpl>(); };
  EXPECT_EQ(block(backbone->layer2, 0)->stride, 2);
  EXPECT_EQ(block(backbone->layer3, 0)->stride, 1);
  EXPECT_EQ(block(backbone->layer3, 0)->dilation, 1);  // First block keeps the previous dilation.
  EXPECT_EQ(block(backbone->layer3, 1)->dilation, 2);
  EXPECT_EQ(block(backbone->layer4, 0)->dilation, 2);
  EXPECT_EQ(block(backbone->layer4, 2)->dilation, 4);
  const auto padding = c10::get<torch::ExpandingArray<2>>(block(backbone->layer4, 2)->conv2->options.padding());
  EXPECT_EQ((*padding)[0], 4);
  EXPECT_TRUE(block(backbone->layer1, 0)->downsample);  // 64 -> 256 channels.
  EXPECT_FALSE(block(backbone->layer1, 1)->downsample);
  EXPECT_EQ(backbone->layer3->size(), 6u);
  EXPECT_EQ(ResNet101Backbone()->layer3->size(), 23u);
}

TEST(ResNet, DilatedBackboneKeepsOutputStride8) {
  ResNetBackbone backbone = ResNet50Backbone();
  backbone->set_return_layers({{"layer3", "aux"}, {"layer4", "out"}});
  backbone->eval();
  torch::NoGradGuard no_grad;
  const FeatureMap features = backbone->forward(torch::randn({1, 3, 64, 64}));
  EXPECT_EQ(features.at("aux").sizes(), (std::vector<int64_t>{1, 1024, 8, 8}));
  EXPECT_EQ(features.at("out").sizes(), (std::vector<int64_t>{1, 2048, 8, 8}));
  EXPECT_EQ(features.size(), 2u);
}

TEST(ResNet, HasNoClassificationHead) {
  ResNetBackbone backbone = ResNet50Backbone();
  for (const auto& p : backbone->named_parameters()) {
    EXPECT_NE(p.key().rfind("fc.", 0), 0u) << p.key();
  }
}

}  // namespace
}  // namespace segtune
