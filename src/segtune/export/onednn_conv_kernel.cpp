#include "segtune/export/onednn_conv_kernel.h"

#include <ATen/record_function.h>
#include <torch/torch.h>

#include <utility>
#include <vector>

namespace segtune {
namespace {

// A Conv2d's geometry, or why oneDNN cannot take it.
ConvShape ShapeOf(const torch::nn::Conv2dImpl& conv) {
  const auto& o = conv.options;
  const auto* padding = c10::get_if<torch::ExpandingArray<2>>(&o.padding());
  if (padding == nullptr) throw KernelUnavailable("'same' or 'valid' padding (only explicit padding)");
  if (!c10::holds_alternative<torch::enumtype::kZeros>(o.padding_mode())) {
    throw KernelUnavailable("padding mode other than zeros");
  }
  const torch::Tensor& w = conv.weight;
  if (w.scalar_type() != torch::kFloat) {
    throw KernelUnavailable(std::string(c10::toString(w.scalar_type())) + " weights (only float32)");
  }
  if (!w.device().is_cpu()) throw KernelUnavailable("weights on " + w.device().str() + " (only the CPU)");
  ConvShape s;
  s.in = o.in_channels();
  s.out = o.out_channels();
  s.groups = o.groups();
  s.kernel_h = w.size(2);
  s.kernel_w = w.size(3);
  s.stride_h = (*o.stride())[0];
  s.stride_w = (*o.stride())[1];
  s.dilation_h = (*o.dilation())[0];
  s.dilation_w = (*o.dilation())[1];
  s.pad_h = (*padding)->at(0);
  s.pad_w = (*padding)->at(1);
  return s;
}

std::vector<float> FloatsOf(const torch::Tensor& t) {
  const torch::Tensor c = t.detach().to(torch::kFloat).contiguous();  // OIHW for weights.
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

class OneDnnConvKernel final : public ConvKernel {
 public:
  OneDnnConvKernel(const torch::nn::Conv2dImpl& conv, Activation activation)
      : conv_(ShapeOf(conv), FloatsOf(conv.weight), conv.bias.defined() ? FloatsOf(conv.bias) : std::vector<float>{},
              activation),
        label_(conv_.shape().Label()), label_add_(label_ + " +add") {}

  void Probe(bool adds) const { conv_.Probe(adds); }

  torch::Tensor Run(const torch::Tensor& x, const torch::Tensor& add) override {
    if (!Accepts(x) || (add.defined() && !Accepts(add))) return {};
    RECORD_FUNCTION(add.defined() ? label_add_ : label_, std::vector<c10::IValue>());
    const ConvShape& s = conv_.shape();
    const std::vector<int64_t> out_sizes{x.size(0), s.out, s.OutHeight(x.size(2)), s.OutWidth(x.size(3))};
    if (x.size(1) != s.in || (add.defined() && add.sizes() != c10::IntArrayRef(out_sizes))) return {};
    const torch::Tensor src = x.contiguous(torch::MemoryFormat::ChannelsLast);
    torch::Tensor out = torch::empty(out_sizes, x.options().memory_format(torch::MemoryFormat::ChannelsLast));
    if (add.defined()) out.copy_(add);  // The sum post-op adds the convolution to dst's contents.
    if (!conv_.Run(src.data_ptr<float>(), x.size(0), x.size(2), x.size(3), out.data_ptr<float>(), add.defined())) {
      return {};
    }
    return out;
  }

 private:
  static bool Accepts(const torch::Tensor& t) {
    if (!t.defined() || t.dim() != 4 || t.scalar_type() != torch::kFloat || !t.device().is_cpu()) return false;
    if (t.requires_grad() && torch::GradMode::is_enabled()) return false;  // Inference only: no backward.
    return t.numel() > 0;
  }

  OneDnnConv conv_;
  const std::string label_, label_add_;
};

}  // namespace

ConvKernelPtr MakeOneDnnConvKernel(const torch::nn::Conv2dImpl& conv, Activation activation, bool adds) {
  auto kernel = std::make_shared<OneDnnConvKernel>(conv, activation);
  kernel->Probe(adds);
  return kernel;
}

}  // namespace segtune
