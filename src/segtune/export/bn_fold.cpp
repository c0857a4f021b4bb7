#include "segtune/export/bn_fold.h"

#include <torch/torch.h>

#include "segtune/core/error.h"
#include "segtune/models/layers.h"

namespace segtune {

ConvWeights FoldBatchNorm(const ConvWeights& conv, const torch::nn::BatchNorm2dImpl& bn) {
  if (!bn.running_mean.defined() || !bn.running_var.defined()) {
    throw Error("BatchNorm folding: BatchNorm2d has no running statistics");
  }
  const int64_t out = conv.weight.size(0);
  if (bn.running_mean.numel() != out) {
    throw Error("BatchNorm folding: BatchNorm2d has " + std::to_string(bn.running_mean.numel()) +
                " features but the convolution has " + std::to_string(out) + " output channels");
  }
  torch::NoGradGuard no_grad;
  const auto d = [](const torch::Tensor& t) { return t.detach().to(torch::kFloat64); };
  const torch::Tensor gamma = bn.weight.defined() ? d(bn.weight) : torch::ones({out}, torch::kFloat64);
  const torch::Tensor beta = bn.bias.defined() ? d(bn.bias) : torch::zeros({out}, torch::kFloat64);
  const torch::Tensor scale = gamma / torch::sqrt(d(bn.running_var) + bn.options.eps());
  const torch::Tensor bias = conv.bias.defined() ? d(conv.bias) : torch::zeros({out}, torch::kFloat64);
  const torch::ScalarType dtype = conv.weight.scalar_type();  // A float64 model stays float64.
  ConvWeights folded;
  folded.weight = (d(conv.weight) * scale.view({-1, 1, 1, 1})).to(dtype).contiguous();
  folded.bias = ((bias - d(bn.running_mean)) * scale + beta).to(dtype).contiguous();
  return folded;
}

namespace {
void MakeIdentity(torch::nn::BatchNorm2dImpl& bn) {
  if (auto* foldable = dynamic_cast<FoldableBatchNorm2dImpl*>(&bn)) {
    foldable->Fold();
    return;
  }
  bn.weight.fill_(1.0);
  bn.bias.fill_(0.0);
  bn.running_mean.fill_(0.0);
  bn.running_var.fill_(1.0 - bn.options.eps());
}

bool IsFolded(const torch::nn::BatchNorm2dImpl& bn) {
  const auto* foldable = dynamic_cast<const FoldableBatchNorm2dImpl*>(&bn);
  return foldable != nullptr && foldable->folded();
}
}  // namespace

int FoldBatchNormInPlace(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  int folded = 0;
  const auto children = model.children();
  for (const auto& child : children) folded += FoldBatchNormInPlace(*child);
  for (size_t i = 0; i + 1 < children.size(); ++i) {
    auto* conv = dynamic_cast<torch::nn::Conv2dImpl*>(children[i].get());
    auto* bn = dynamic_cast<torch::nn::BatchNorm2dImpl*>(children[i + 1].get());
    if (conv == nullptr || bn == nullptr || !bn->weight.defined() || IsFolded(*bn)) continue;
    const ConvWeights w = FoldBatchNorm({conv->weight, conv->bias}, *bn);
    conv->weight.set_data(w.weight);
    if (conv->bias.defined()) {
      conv->bias.set_data(w.bias);
    } else {
      // A bias-free Conv2d has "bias" registered as an undefined tensor, which cannot be re-registered;
      // forward() reads the member, so setting it is enough for inference.
      conv->bias = w.bias;
    }
    MakeIdentity(*bn);
    ++folded;
  }
  return folded;
}

}  // namespace segtune
