#include "segtune/models/deeplabv3.h"

#include <torch/torch.h>

#include "segtune/models/layers.h"

namespace segtune {
namespace {

torch::nn::Conv2d ConvNoBias(int64_t in, int64_t out, int64_t kernel, int64_t padding = 0, int64_t dilation = 1) {
  return MakeConv2d(
      torch::nn::Conv2dOptions(in, out, kernel).padding(padding).dilation(dilation).bias(false));
}

}  // namespace

ASPPConvImpl::ASPPConvImpl(int64_t in, int64_t out, int64_t dilation_) : dilation(dilation_) {
  conv = register_module("0", ConvNoBias(in, out, 3, dilation, dilation));
  bn = register_module("1", MakeBatchNorm(out, {}));
}

torch::Tensor ASPPConvImpl::forward(const torch::Tensor& x) {
  if (torch::Tensor y = RunConvKernel(kernel, x); y.defined()) return y;
  return bn->forward(conv->forward(x)).relu_();
}

std::vector<ConvSlot> ASPPConvImpl::ConvSlots() {
  return {{"0", conv.get(), bn.get(), Activation::kReLU, false, &kernel}};
}

ASPPPoolingImpl::ASPPPoolingImpl(int64_t in, int64_t out) {
  conv = register_module("1", ConvNoBias(in, out, 1));
  bn = register_module("2", MakeBatchNorm(out, {}));
}

torch::Tensor ASPPPoolingImpl::forward(const torch::Tensor& x) {
  const torch::Tensor pooled = GlobalAveragePool(x);
  torch::Tensor y = RunConvKernel(kernel, pooled);
  if (!y.defined()) y = bn->forward(conv->forward(pooled)).relu_();
  return ResizeBilinear(y, x.size(2), x.size(3));
}

std::vector<ConvSlot> ASPPPoolingImpl::ConvSlots() {
  return {{"1", conv.get(), bn.get(), Activation::kReLU, false, &kernel}};
}

ASPPImpl::ASPPImpl(int64_t in, std::vector<int64_t> rates, int64_t out)
    : atrous_rates(std::move(rates)), out_channels(out) {
  convs = torch::nn::ModuleList();
  branch1x1 = torch::nn::Sequential(ConvNoBias(in, out, 1), MakeBatchNorm(out, {}), torch::nn::ReLU());
  convs->push_back(branch1x1);
  for (const int64_t rate : atrous_rates) {
    atrous.push_back(ASPPConv(in, out, rate));
    convs->push_back(atrous.back());
  }
  pooling = ASPPPooling(in, out);
  convs->push_back(pooling);
  register_module("convs", convs);
  const int64_t branches = static_cast<int64_t>(convs->size());
  project = register_module("project", torch::nn::Sequential(ConvNoBias(branches * out, out, 1), MakeBatchNorm(out, {}),
                                                             torch::nn::ReLU(), torch::nn::Dropout(0.5)));
}

torch::Tensor ASPPImpl::forward(const torch::Tensor& x) {
  torch::Tensor first = RunConvKernel(branch1x1_kernel, x);
  std::vector<torch::Tensor> branches{first.defined() ? first : branch1x1->forward(x)};
  for (auto& branch : atrous) branches.push_back(branch->forward(x));
  branches.push_back(pooling->forward(x));
  const torch::Tensor all = torch::cat(branches, 1);
  if (torch::Tensor y = RunConvKernel(project_kernel, all); y.defined()) return y;
  return project->forward(all);
}

namespace {
// Conv2d "0" and FoldableBatchNorm2d "1" of a Sequential(conv, bn, ...).
ConvSlot SequentialSlot(const std::string& path, torch::nn::Sequential& seq, ConvKernelPtr* kernel) {
  const auto* bn = dynamic_cast<const FoldableBatchNorm2dImpl*>(seq->ptr(1).get());
  return {path + ".0", seq->ptr(0)->as<torch::nn::Conv2d>(), bn, Activation::kReLU, false, kernel};
}
}  // namespace

std::vector<ConvSlot> ASPPImpl::ConvSlots() {
  return {SequentialSlot("convs.0", branch1x1, &branch1x1_kernel), SequentialSlot("project", project, &project_kernel)};
}

DeepLabHeadImpl::DeepLabHeadImpl(int64_t in, int64_t num_classes) {
  aspp = register_module("0", ASPP(in, std::vector<int64_t>{12, 24, 36}));
  conv = register_module("1", ConvNoBias(256, 256, 3, 1));
  bn = register_module("2", MakeBatchNorm(256, {}));
  classifier = register_module("4", MakeConv2d(torch::nn::Conv2dOptions(256, num_classes, 1)));
}

torch::Tensor DeepLabHeadImpl::forward(const torch::Tensor& x) {
  const torch::Tensor features = aspp->forward(x);
  torch::Tensor y = RunConvKernel(conv_kernel, features);
  if (!y.defined()) y = bn->forward(conv->forward(features)).relu_();
  if (torch::Tensor logits = RunConvKernel(classifier_kernel, y); logits.defined()) return logits;
  return classifier->forward(y);
}

std::vector<ConvSlot> DeepLabHeadImpl::ConvSlots() {
  return {{"1", conv.get(), bn.get(), Activation::kReLU, false, &conv_kernel},
          {"4", classifier.get(), nullptr, Activation::kNone, false, &classifier_kernel}};
}

}  // namespace segtune
