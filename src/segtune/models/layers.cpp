#include "segtune/models/layers.h"

#include <torch/torch.h>

#include "segtune/core/error.h"

// libtorch 1.13 defines BatchNormImplBase::pretty_print in its .cpp and does not export it, yet the
// construction vtables of any subclass of BatchNorm2dImpl (FoldableBatchNorm2dImpl) refer to it.
// This definition (same output as libtorch's) is instantiated here for that reference only.
namespace torch::nn {
template <size_t D, typename Derived>
void BatchNormImplBase<D, Derived>::pretty_print(std::ostream& stream) const {
  stream << std::boolalpha << "torch::nn::BatchNorm" << D << "d(" << this->options.num_features() << ", "
         << "eps=" << this->options.eps() << ", "
         << "momentum=";
  if (this->options.momentum().has_value()) {
    stream << this->options.momentum().value();
  } else {
    stream << "None";
  }
  stream << ", "
         << "affine=" << this->options.affine() << ", "
         << "track_running_stats=" << this->options.track_running_stats() << ")";
}
}  // namespace torch::nn

namespace segtune {

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

FoldableBatchNorm2dImpl::FoldableBatchNorm2dImpl(const torch::nn::BatchNorm2dOptions& options)
    : torch::nn::BatchNorm2dImpl(options) {}

torch::Tensor FoldableBatchNorm2dImpl::forward(const torch::Tensor& x) {
  if (folded_) return x;
  if (reducer_ && is_training()) return SynchronisedForward(x);
  return torch::nn::BatchNorm2dImpl::forward(x);
}

namespace {
// Sum over the replicas whose backward is again the sum over the replicas of the incoming gradients
// (torch.distributed.nn.all_reduce): each replica's loss depends on every replica's statistics.
struct ReplicaSum : torch::autograd::Function<ReplicaSum> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& t,
                               BatchNormStatsReducer* reducer) {
    // Saved as an integer (autograd contexts hold IValues): the BatchNorm module owning the reducer
    // outlives the graph its forward builds.
    ctx->saved_data["reducer"] = static_cast<int64_t>(reinterpret_cast<intptr_t>(reducer));
    torch::Tensor sum = t.detach().clone();
    reducer->SumOverReplicas(sum);
    return sum;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto* reducer = reinterpret_cast<BatchNormStatsReducer*>(static_cast<intptr_t>(ctx->saved_data["reducer"].toInt()));
    torch::Tensor sum = grads[0].contiguous().clone();
    reducer->SumOverReplicas(sum);
    return {sum, torch::Tensor()};
  }
};
}  // namespace

torch::Tensor FoldableBatchNorm2dImpl::SynchronisedForward(const torch::Tensor& x) {
  const int64_t channels = x.size(1);
  const std::vector<int64_t> reduce{0, 2, 3};
  // Sums in double: the variance is E[x^2] - mean^2, which would lose digits in float.
  const torch::Tensor local = torch::cat({x.sum(reduce, false, torch::kDouble), (x * x).sum(reduce, false, torch::kDouble),
                                          torch::full({1}, static_cast<double>(x.numel() / channels), torch::kDouble)});
  const torch::Tensor global = ReplicaSum::apply(local, reducer_.get());
  const double count = global[2 * channels].item<double>();
  if (count <= 1) {
    throw UsageError("BatchNorm(" + std::to_string(channels) +
                     "): expected more than 1 value per channel over the global batch when training");
  }
  const torch::Tensor mean = global.slice(0, 0, channels) / count;
  const torch::Tensor var = global.slice(0, channels, 2 * channels) / count - mean * mean;
  if (options.track_running_stats() && running_mean.defined()) {
    // As ATen's batch_norm update: in double, then stored in the buffers' dtype; unbiased variance.
    torch::NoGradGuard no_grad;
    num_batches_tracked += 1;
    const double factor = options.momentum() ? *options.momentum() : 1.0 / num_batches_tracked.item<double>();
    running_mean.copy_(running_mean.to(torch::kDouble) * (1 - factor) + mean.detach() * factor);
    running_var.copy_(running_var.to(torch::kDouble) * (1 - factor) + var.detach() * (count / (count - 1)) * factor);
  }
  torch::Tensor scale = (var + options.eps()).rsqrt().to(x.scalar_type());
  if (weight.defined()) scale = scale * weight;
  torch::Tensor y = (x - mean.to(x.scalar_type()).view({1, channels, 1, 1})) * scale.view({1, channels, 1, 1});
  return bias.defined() ? y + bias.view({1, channels, 1, 1}) : y;
}

void FoldableBatchNorm2dImpl::Fold() {
  torch::NoGradGuard no_grad;
  // Identity parameters too, so a caller that reaches the base class's forward (through a
  // BatchNorm2dImpl pointer, e.g. the ONNX emitter) still computes the folded model.
  if (weight.defined()) weight.fill_(1.0);
  if (bias.defined()) bias.fill_(0.0);
  if (running_mean.defined()) running_mean.fill_(0.0);
  if (running_var.defined()) running_var.fill_(1.0 - options.eps());
  folded_ = true;
}

void FoldableBatchNorm2dImpl::pretty_print(std::ostream& stream) const {
  stream << "segtune::FoldableBatchNorm2d(" << options.num_features() << ", eps=" << options.eps()
         << ", momentum=" << (options.momentum() ? std::to_string(*options.momentum()) : "None")
         << ", affine=" << options.affine() << ", track_running_stats=" << options.track_running_stats()
         << (folded_ ? ", folded" : "") << ")";
}

FoldableBatchNorm2d MakeBatchNorm(int64_t channels, const BatchNormSpec& spec) {
  return FoldableBatchNorm2d(torch::nn::BatchNorm2dOptions(channels).eps(spec.eps).momentum(spec.momentum));
}

namespace {

class GlobalAveragePoolFunction : public torch::autograd::Function<GlobalAveragePoolFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x) {
    ctx->saved_data["sizes"] = x.sizes();
    return torch::adaptive_avg_pool2d(x, {1, 1});
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const std::vector<int64_t> sizes = ctx->saved_data["sizes"].toIntVector();
    // LibTorch's mean backward: grad.expand(sizes) / (H*W). Dividing first gives each element the
    // same value without writing the full-size tensor.
    return {(grads[0] / (sizes[2] * sizes[3])).expand(sizes)};
  }
};

}  // namespace

torch::Tensor GlobalAveragePool(const torch::Tensor& x) {
  if (!x.requires_grad() || !torch::GradMode::is_enabled()) return torch::adaptive_avg_pool2d(x, {1, 1});
  return GlobalAveragePoolFunction::apply(x);
}

void SetWeightsMemoryFormat(torch::nn::Module& module, torch::MemoryFormat format) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters()) {
    if (p.dim() == 4) p.set_data(p.contiguous(format));
  }
  for (auto& b : module.buffers()) {
    if (b.dim() == 4) b.set_data(b.contiguous(format));
  }
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
  conv = register_module("0", MakeConv2d(torch::nn::Conv2dOptions(opts.in_channels, opts.out_channels,
                                                                         opts.kernel_size)
                                                    .stride(opts.stride)
                                                    .padding(padding)
                                                    .dilation(opts.dilation)
                                                    .groups(opts.groups)
                                                    .bias(false)));
  bn = register_module("1", MakeBatchNorm(opts.out_channels, opts.norm));
}

namespace {
// In place, as torchvision's inplace=True activations: saves allocating (and page-faulting) a fresh
// tensor per layer. ReLU is safe in place under autograd (its backward reads the output); the hard
// activations are only applied in place when no gradient is recorded.
torch::Tensor ActivateInPlace(torch::Tensor x, Activation activation) {
  const bool recording = torch::GradMode::is_enabled() && !c10::InferenceMode::is_enabled();
  switch (activation) {
    case Activation::kReLU: return torch::relu_(x);
    case Activation::kHardswish: return recording ? torch::hardswish(x) : torch::hardswish_(x);
    case Activation::kHardsigmoid: return recording ? torch::hardsigmoid(x) : torch::hardsigmoid_(x);
    default: return ApplyActivation(x, activation);
  }
}
}  // namespace

torch::Tensor Conv2dNormActivationImpl::forward(const torch::Tensor& x) {
  if (torch::Tensor y = RunConvKernel(kernel, x); y.defined()) return y;
  // bn's output (or, folded, conv's) is a fresh tensor: activate it in place.
  return ActivateInPlace(bn->forward(conv->forward(x)), options.activation);
}

torch::Tensor Conv2dNormActivationImpl::ForwardAdd(const torch::Tensor& x, const torch::Tensor& add) {
  if (torch::Tensor y = RunConvKernel(kernel, x, add); y.defined()) return y;
  torch::Tensor y = bn->forward(conv->forward(x));
  y += add;  // In place as torchvision's residual: y is a fresh tensor.
  return ActivateInPlace(y, options.activation);
}

std::vector<ConvSlot> Conv2dNormActivationImpl::ConvSlots() {
  return {{"0", conv.get(), bn.get(), options.activation, /*adds=*/true, &kernel}};
}

SqueezeExcitationImpl::SqueezeExcitationImpl(int64_t input, int64_t squeeze)
    : input_channels(input), squeeze_channels(squeeze) {
  fc1 = register_module("fc1", MakeConv2d(torch::nn::Conv2dOptions(input, squeeze, 1)));
  fc2 = register_module("fc2", MakeConv2d(torch::nn::Conv2dOptions(squeeze, input, 1)));
}

torch::Tensor SqueezeExcitationImpl::forward(const torch::Tensor& x) {
  const torch::Tensor pooled = GlobalAveragePool(x);
  torch::Tensor squeezed = RunConvKernel(fc1_kernel, pooled);
  if (!squeezed.defined()) squeezed = ApplyActivation(fc1->forward(pooled), activation);
  torch::Tensor scale = RunConvKernel(fc2_kernel, squeezed);
  if (!scale.defined()) scale = ApplyActivation(fc2->forward(squeezed), scale_activation);
  return scale * x;
}

std::vector<ConvSlot> SqueezeExcitationImpl::ConvSlots() {
  return {{"fc1", fc1.get(), nullptr, activation, false, &fc1_kernel},
          {"fc2", fc2.get(), nullptr, scale_activation, false, &fc2_kernel}};
}

namespace {
// Module::modules(include_self=true) needs the root held by a shared_ptr, which it is not yet while
// its constructor runs (where this is called); walk children() instead.
void CollectModules(torch::nn::Module& module, std::vector<torch::nn::Module*>* out) {
  out->push_back(&module);
  for (const auto& child : module.children()) CollectModules(*child, out);
}

thread_local bool weights_will_be_loaded = false;  // A WeightsWillBeLoaded is alive on this thread.
}  // namespace

WeightsWillBeLoaded::WeightsWillBeLoaded() : previous_(weights_will_be_loaded) { weights_will_be_loaded = true; }
WeightsWillBeLoaded::~WeightsWillBeLoaded() { weights_will_be_loaded = previous_; }
bool WeightsWillBeLoaded::Active() { return weights_will_be_loaded; }

torch::nn::Conv2d MakeConv2d(const torch::nn::Conv2dOptions& options) {
  if (!weights_will_be_loaded) return torch::nn::Conv2d(options);
  // LibTorch's constructor always draws the weights: let it draw a [groups, 1, k, k] weight (the
  // other options as given), then give the module its real options and tensors of the real shape.
  torch::nn::Conv2dOptions small = options;
  small.in_channels(options.groups()).out_channels(options.groups());
  torch::nn::Conv2d conv(small);
  conv->options.in_channels(options.in_channels()).out_channels(options.out_channels());
  torch::NoGradGuard no_grad;  // set_ swaps the storage of the registered parameters themselves.
  const auto& k = options.kernel_size();
  conv->weight.set_(torch::empty({options.out_channels(), options.in_channels() / options.groups(), k->at(0), k->at(1)}));
  if (conv->bias.defined()) conv->bias.set_(torch::empty({options.out_channels()}));
  return conv;
}

void InitializeLikeTorchvisionBackbone(torch::nn::Module& root) {
  if (weights_will_be_loaded) return;
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

namespace segtune {

int SynchroniseBatchNorm(torch::nn::Module& root, const std::shared_ptr<BatchNormStatsReducer>& reducer) {
  std::vector<torch::nn::Module*> all;
  CollectModules(root, &all);
  int count = 0;
  for (torch::nn::Module* module : all) {
    if (auto* bn = dynamic_cast<FoldableBatchNorm2dImpl*>(module)) {
      bn->SetStatsReducer(reducer);
      ++count;
    }
  }
  return count;
}

}  // namespace segtune
