// LoadStateDict: copying named tensors into a module, and transfer surgery onto a new head.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "segtune/core/error.h"
#include "segtune/models/load_state.h"

namespace segtune {
namespace {

// conv -> bn -> head, like a segmentation classifier: the head's shape depends on num_classes.
struct SmallNetImpl : torch::nn::Module {
  explicit SmallNetImpl(int num_classes)
      : conv(register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 8, 3).bias(false)))),
        bn(register_module("bn", torch::nn::BatchNorm2d(8))),
        head(register_module("head", torch::nn::Conv2d(8, num_classes, 1))) {}
  torch::nn::Conv2d conv;
  torch::nn::BatchNorm2d bn;
  torch::nn::Conv2d head;
};
TORCH_MODULE(SmallNet);

NamedTensors StateOf(torch::nn::Module& module) {
  NamedTensors state;
  for (const auto& p : module.named_parameters()) state.items.emplace_back(p.key(), p.value().detach().clone());
  for (const auto& b : module.named_buffers()) state.items.emplace_back(b.key(), b.value().detach().clone());
  return state;
}

// A 21-class "pretrained" model whose BN statistics are not the defaults.
NamedTensors Pretrained21() {
  torch::manual_seed(1);
  SmallNet trained(21);
  torch::NoGradGuard no_grad;
  trained->bn->running_mean.normal_();
  trained->bn->running_var.uniform_(0.5, 2);
  trained->bn->num_batches_tracked.fill_(777);
  trained->bn->weight.normal_();
  return StateOf(*trained);
}

TEST(LoadState, TransferSurgeryKeepsMatchingTensorsBitIdenticalAndReinitialisesOnlyTheHead) {
  const NamedTensors file = Pretrained21();
  torch::manual_seed(2);
  SmallNet model(3);
  const NamedTensors fresh = StateOf(*model);
  LoadOptions options;
  options.reinit_mismatched = true;
  const LoadReport report = LoadStateDict(*model, file, options);

  EXPECT_EQ(report.reinitialized, (std::vector<std::string>{"head.weight", "head.bias"}));
  ASSERT_EQ(report.mismatched.size(), 2u);
  EXPECT_EQ(report.mismatched[0].name, "head.weight");
  EXPECT_EQ(report.mismatched[0].file_shape, (std::vector<int64_t>{21, 8, 1, 1}));
  EXPECT_EQ(report.mismatched[0].model_shape, (std::vector<int64_t>{3, 8, 1, 1}));
  EXPECT_TRUE(report.missing.empty());
  EXPECT_TRUE(report.unexpected.empty());
  EXPECT_EQ(report.loaded.size(), file.items.size() - 2);
  const NamedTensors after = StateOf(*model);
  for (const auto& [name, tensor] : after.items) {
    const bool head = name.rfind("head.", 0) == 0;
    const torch::Tensor& expected = head ? *fresh.Find(name) : *file.Find(name);
    EXPECT_TRUE(torch::equal(tensor, expected)) << name;  // Exact: bit-identical copies.
  }
  EXPECT_EQ(model->bn->num_batches_tracked.item<int64_t>(), 777);
  const std::string text = report.ToString();
  EXPECT_NE(text.find("head.weight: file [21, 8, 1, 1], model [3, 8, 1, 1]"), std::string::npos) << text;
}

TEST(LoadState, ShareStorageAdoptsTheFileTensorsWhereDtypeAndDeviceAgree) {
  NamedTensors file = Pretrained21();
  torch::Tensor* as_double = nullptr;
  for (auto& [name, tensor] : file.items) {
    if (name == "head.bias") {
      tensor = tensor.to(torch::kDouble);
      as_double = &tensor;
    }
  }
  ASSERT_NE(as_double, nullptr);
  SmallNet model(21);
  LoadOptions options;
  options.strict = true;
  options.share_storage = true;
  LoadStateDict(*model, file, options);
  EXPECT_EQ(model->conv->weight.data_ptr(), file.Find("conv.weight")->data_ptr());
  EXPECT_EQ(model->bn->running_var.data_ptr(), file.Find("bn.running_var")->data_ptr());
  EXPECT_EQ(model->bn->num_batches_tracked.item<int64_t>(), 777);
  EXPECT_TRUE(model->conv->weight.requires_grad());  // Still a parameter.
  // A float64 file tensor is copied into the float32 parameter.
  EXPECT_NE(model->head->bias.data_ptr(), as_double->data_ptr());
  EXPECT_EQ(model->head->bias.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::allclose(model->head->bias.to(torch::kDouble), *as_double));
  // Without the option every tensor is a copy.
  SmallNet copied(21);
  options.share_storage = false;
  LoadStateDict(*copied, file, options);
  EXPECT_NE(copied->conv->weight.data_ptr(), file.Find("conv.weight")->data_ptr());
  EXPECT_TRUE(torch::equal(copied->conv->weight, *file.Find("conv.weight")));
}

TEST(LoadState, ShapeMismatchWithoutReinitThrowsAndCopiesNothing) {
  const NamedTensors file = Pretrained21();
  SmallNet model(3);
  const NamedTensors before = StateOf(*model);
  EXPECT_THROW(LoadStateDict(*model, file), FormatError);
  for (const auto& [name, tensor] : StateOf(*model).items) EXPECT_TRUE(torch::equal(tensor, *before.Find(name))) << name;
}

TEST(LoadState, StrictReportsMissingAndUnexpected) {
  NamedTensors file = Pretrained21();
  file.items.erase(file.items.begin());  // conv.weight missing.
  file.items.emplace_back("extra.weight", torch::zeros({1}));
  SmallNet model(21);
  LoadOptions options;
  options.strict = true;
  try {
    LoadStateDict(*model, file, options);
    FAIL() << "strict load accepted an incomplete file";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("conv.weight"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("extra.weight"), std::string::npos) << e.what();
  }
  const LoadReport lenient = LoadStateDict(*model, file);
  EXPECT_EQ(lenient.missing, std::vector<std::string>{"conv.weight"});
  EXPECT_EQ(lenient.unexpected, std::vector<std::string>{"extra.weight"});
}

TEST(LoadState, RemapsDropsAndRestrictsToPrefixes) {
  // An ImageNet-style file: "features.*" keys and a classifier the target lacks.
  const NamedTensors source = Pretrained21();
  NamedTensors file;
  for (const auto& [name, t] : source.items) {
    if (name.rfind("head.", 0) == 0) {
      file.items.emplace_back("classifier." + name.substr(5), t);
    } else {
      file.items.emplace_back("features." + name, t);
    }
  }
  struct Wrapper : torch::nn::Module {
    Wrapper() { backbone = register_module("backbone", SmallNet(3)); }
    SmallNet backbone{nullptr};
  } model;
  LoadOptions options;
  options.prefix_remap = {{"features.", "backbone."}};
  options.drop_prefixes = {"classifier."};
  options.only_prefixes = {"backbone.conv.", "backbone.bn."};
  options.strict = true;
  const LoadReport report = LoadStateDict(model, file, options);
  EXPECT_EQ(report.dropped, (std::vector<std::string>{"classifier.weight", "classifier.bias"}));
  EXPECT_EQ(report.loaded.size(), 6u);  // conv.weight + bn (weight, bias, mean, var, count).
  EXPECT_TRUE(torch::equal(model.backbone->conv->weight, *source.Find("conv.weight")));
}

}  // namespace
}  // namespace segtune
