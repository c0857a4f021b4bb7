#include "segtune/models/layers.h"

#include <torch/torch.h>

namespace segtune {

const char* ActivationName(Activation activation) {
  switch (activation) {
    case Activation::kNone: return "none";
    case Activation::kReLU: return "relu";
    case Activation::kHardswish: return "hardswish";
    case Activation::kHardsigmoid: return "hardsigmoid";
    case Activation::kSigmoid: return "sigmoid";
  }
  return "unknown";
}

torch::Tensor ApplyActivation(const torch::Tensor& x, Activation activation) {
  switch (activation) {
    case Activation::kNone: return x;
    case Activation::kReLU: return torch::relu(x);
    case Activation::kHardswish: return torch::hardswish(x);
    case Activation::kHardsigmoid: return torch::hardsigmoid(x);
    case Activation::kSigmoid: return torch::sigmoid(x);
  }
  return x;
}

torch::nn::BatchNorm2d MakeBatchNorm(int64_t channels, const BatchNormSpec& spec) {
  return torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(channels).eps(spec.eps).momentum(spec.momentum));
}

torch::Tensor ResizeBilinear(const torch::Tensor& x, int64_t height, int64_t width) {
  namespace F = torch::nn::functional;
  return F::interpolate(x, F::InterpolateFuncOptions()
                               .size(std::vector<int64_t>{height, width})
                               .mode(torch::kBilinear)
                               .align_corners(false));
}

Conv2dNormActivationImpl::Conv2dNormActivationImpl(const Conv2dNormActivationOptions& opts)
    : options(opts), padding((opts.kernel_size - 1) / 2 * opts.dilation) {
  conv = register_module("0", torch::nn::Conv2d(torch::nn::Conv2dOptions(opts.in_channels, opts.out_channels,
                                                                         opts.kernel_size)
                                                    .stride(opts.stride)
                                                    .padding(padding)
                                                    .dilation(opts.dilation)
                                                    .groups(opts.groups)
                                                    .bias(false)));
  bn = register_module("1", MakeBatchNorm(opts.out_channels, opts.norm));
}

torch::Tensor Conv2dNormActivationImpl::forward(const torch::Tensor& x) {
  return ApplyActivation(bn->forward(conv->forward(x)), options.activation);
}

SqueezeExcitationImpl::SqueezeExcitationImpl(int64_t input, int64_t squeeze)
    : input_channels(input), squeeze_channels(squeeze) {
  fc1 = register_module("fc1", torch::nn::Conv2d(torch::nn::Conv2dOptions(input, squeeze, 1)));
  fc2 = register_module("fc2", torch::nn::Conv2d(torch::nn::Conv2dOptions(squeeze, input, 1)));
}

torch::Tensor SqueezeExcitationImpl::forward(const torch::Tensor& x) {
  torch::Tensor scale = torch::adaptive_avg_pool2d(x, {1, 1});
  scale = ApplyActivation(fc1->forward(scale), activation);
  scale = ApplyActivation(fc2->forward(scale), scale_activation);
  return scale * x;
}

namespace {
// Module::modules(include_self=true) needs the root held by a shared_ptr, which it is not yet while
// its constructor runs (where this is called); walk children() instead.
void CollectModules(torch::nn::Module& module, std::vector<torch::nn::Module*>* out) {
  out->push_back(&module);
  for (const auto& child : module.children()) CollectModules(*child, out);
}
}  // namespace

void InitializeLikeTorchvisionBackbone(torch::nn::Module& root) {
  torch::NoGradGuard no_grad;
  std::vector<torch::nn::Module*> all;
  CollectModules(root, &all);
  for (torch::nn::Module* module : all) {
    if (auto* conv = module->as<torch::nn::Conv2dImpl>()) {
      torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
      if (conv->bias.defined()) torch::nn::init::zeros_(conv->bias);
    } else if (auto* bn = module->as<torch::nn::BatchNorm2dImpl>()) {
      torch::nn::init::ones_(bn->weight);
      torch::nn::init::zeros_(bn->bias);
    } else if (auto* linear = module->as<torch::nn::LinearImpl>()) {
      torch::nn::init::normal_(linear->weight, 0.0, 0.01);
      torch::nn::init::zeros_(linear->bias);
    }
  }
}

}  // namespace segtune
