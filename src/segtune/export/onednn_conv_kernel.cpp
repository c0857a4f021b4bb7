#include "segtune/export/onednn_conv_kernel.h"

#include <ATen/record_function.h>
#include <oneapi/dnnl/dnnl.hpp>
#include <torch/torch.h>

#include <map>
#include <mutex>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

namespace segtune {
namespace {

using dnnl::algorithm;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

dnnl::engine& CpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// Per thread: a stream is cheap but not free, and the scratchpad (user mode, so that workers sharing a
// primitive never share its scratch memory) is reused across calls.
dnnl::stream& ThreadStream() {
  thread_local dnnl::stream stream(CpuEngine());
  return stream;
}

void* ThreadScratchpad(size_t bytes) {
  thread_local std::vector<uint8_t> buffer;
  constexpr size_t kAlign = 64;
  if (buffer.size() < bytes + kAlign) buffer.resize(bytes + kAlign);
  const auto address = reinterpret_cast<uintptr_t>(buffer.data());
  return buffer.data() + (kAlign - address % kAlign) % kAlign;
}

// A Conv2d's geometry as oneDNN takes it.
struct ConvGeometry {
  int64_t in = 0, out = 0, groups = 1, kh = 1, kw = 1;
  dnnl::memory::dims strides, dilates, padding;  // dilates: oneDNN counts dilation - 1.

  // For profiles (bench/forward_profile.cpp): "onednn conv 1x1", "onednn conv dw 3x3", "onednn conv 3x3".
  std::string Label() const {
    const std::string k = std::to_string(kh) + "x" + std::to_string(kw);
    return "onednn conv " + std::string(groups > 1 && groups == in ? "dw " : "") + k;
  }

  int64_t OutSize(int64_t size, int d) const {
    const int64_t k = d == 0 ? kh : kw;
    const int64_t span = size + 2 * padding[d] - (dilates[d] + 1) * (k - 1) - 1;
    return span < 0 ? 0 : span / strides[d] + 1;  // 0: the input is smaller than the kernel (LibTorch says so).
  }
  dnnl::memory::dims WeightDims() const {
    return groups > 1 ? dnnl::memory::dims{groups, out / groups, in / groups, kh, kw}
                      : dnnl::memory::dims{out, in, kh, kw};
  }
};

ConvGeometry GeometryOf(const torch::nn::Conv2dImpl& conv) {
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
  ConvGeometry g;
  g.in = o.in_channels();
  g.out = o.out_channels();
  g.groups = o.groups();
  g.kh = w.size(2);
  g.kw = w.size(3);
  g.strides = {(*o.stride())[0], (*o.stride())[1]};
  g.dilates = {(*o.dilation())[0] - 1, (*o.dilation())[1] - 1};
  g.padding = {(*padding)->at(0), (*padding)->at(1)};
  return g;
}

// The input shape a primitive is made for.
struct Shape {
  int64_t n, h, w;
  bool add;
  bool operator<(const Shape& o) const { return std::tie(n, h, w, add) < std::tie(o.n, o.h, o.w, o.add); }
};

struct Compiled {
  bool usable = false;  // False: oneDNN offers only its reference implementation (or none); LibTorch runs it.
  dnnl::convolution_forward primitive;
  dnnl::memory::desc src, dst;
  dnnl::memory weights;
  int64_t oh = 0, ow = 0;
  size_t scratchpad_bytes = 0;
};

void AppendActivation(dnnl::post_ops& ops, Activation activation) {
  switch (activation) {
    case Activation::kNone: break;
    case Activation::kReLU: ops.append_eltwise(1.f, algorithm::eltwise_relu, 0.f, 0.f); break;
    case Activation::kHardswish: ops.append_eltwise(1.f, algorithm::eltwise_hardswish, 0.f, 0.f); break;
    case Activation::kHardsigmoid:  // oneDNN 2.6 has no hardsigmoid: clip(x / 6 + 1/2, 0, 1).
      ops.append_eltwise(1.f, algorithm::eltwise_linear, 1.f / 6.f, 0.5f);
      ops.append_eltwise(1.f, algorithm::eltwise_clip, 0.f, 1.f);
      break;
    case Activation::kSigmoid: ops.append_eltwise(1.f, algorithm::eltwise_logistic, 0.f, 0.f); break;
  }
}

class OneDnnConvKernel final : public ConvKernel {
 public:
  OneDnnConvKernel(const torch::nn::Conv2dImpl& conv, Activation activation)
      : g_(GeometryOf(conv)), activation_(activation), label_(g_.Label()), label_add_(label_ + " +add") {
    weight_ = conv.weight.detach().contiguous();  // OIHW: the layout the weights are reordered from.
    bias_ = conv.bias.defined() ? conv.bias.detach().to(torch::kFloat).contiguous() : torch::zeros({g_.out});
  }

  // Throws KernelUnavailable unless oneDNN describes the convolution for a small input.
  void Probe(bool adds) const {
    const Shape probe{1, (g_.dilates[0] + 1) * (g_.kh - 1) + 1, (g_.dilates[1] + 1) * (g_.kw - 1) + 1, adds};
    try {
      Describe(probe);
    } catch (const dnnl::error& e) {
      throw KernelUnavailable(std::string("no oneDNN convolution primitive (") + e.what() + ")");
    }
  }

  torch::Tensor Run(const torch::Tensor& x, const torch::Tensor& add) override {
    if (!Accepts(x) || (add.defined() && !Accepts(add))) return {};
    RECORD_FUNCTION(add.defined() ? label_add_ : label_, std::vector<c10::IValue>());
    const std::shared_ptr<const Compiled> c = Compile({x.size(0), x.size(2), x.size(3), add.defined()});
    if (!c->usable) return {};
    const std::vector<int64_t> out_sizes{x.size(0), g_.out, c->oh, c->ow};
    if (add.defined() && add.sizes() != c10::IntArrayRef(out_sizes)) return {};
    const torch::Tensor src = x.contiguous(torch::MemoryFormat::ChannelsLast);
    torch::Tensor out = torch::empty(out_sizes, x.options().memory_format(torch::MemoryFormat::ChannelsLast));
    if (add.defined()) out.copy_(add);  // The sum post-op adds the convolution to dst's contents.
    dnnl::engine& eng = CpuEngine();
    std::unordered_map<int, dnnl::memory> args{
        {DNNL_ARG_SRC, dnnl::memory(c->src, eng, src.data_ptr())},
        {DNNL_ARG_WEIGHTS, c->weights},
        {DNNL_ARG_BIAS, dnnl::memory({{g_.out}, dt::f32, tag::a}, eng, bias_.data_ptr())},
        {DNNL_ARG_DST, dnnl::memory(c->dst, eng, out.data_ptr())}};
    if (c->scratchpad_bytes > 0) {
      args.emplace(DNNL_ARG_SCRATCHPAD,
                   dnnl::memory({{static_cast<int64_t>(c->scratchpad_bytes)}, dt::u8, tag::a}, eng,
                                ThreadScratchpad(c->scratchpad_bytes)));
    }
    c->primitive.execute(ThreadStream(), args);
    ThreadStream().wait();
    return out;
  }

 private:
  bool Accepts(const torch::Tensor& t) const {
    if (!t.defined() || t.dim() != 4 || t.scalar_type() != torch::kFloat || !t.device().is_cpu()) return false;
    if (t.requires_grad() && torch::GradMode::is_enabled()) return false;  // Inference only: no backward.
    return t.numel() > 0;
  }

  dnnl::convolution_forward::primitive_desc Describe(const Shape& s) const {
    const int64_t oh = g_.OutSize(s.h, 0), ow = g_.OutSize(s.w, 1);
    const dnnl::memory::desc src({s.n, g_.in, s.h, s.w}, dt::f32, tag::nhwc);
    const dnnl::memory::desc dst({s.n, g_.out, oh, ow}, dt::f32, tag::nhwc);
    const dnnl::memory::desc weights(g_.WeightDims(), dt::f32, tag::any);
    const dnnl::memory::desc bias({g_.out}, dt::f32, tag::a);
    const dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference, algorithm::convolution_direct, src,
                                               weights, bias, dst, g_.strides, g_.dilates, g_.padding, g_.padding);
    dnnl::post_ops ops;
    // A sum post-op, not a binary add: oneDNN 2.6 keeps its brgemm kernels with a sum but falls back to
    // older ones with a full-tensor binary add.
    if (s.add) ops.append_sum(1.f);
    AppendActivation(ops, activation_);
    dnnl::primitive_attr attr;
    attr.set_post_ops(ops);
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    return dnnl::convolution_forward::primitive_desc(desc, attr, CpuEngine());
  }

  std::shared_ptr<const Compiled> Compile(const Shape& s) {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto found = compiled_.find(s);
    if (found != compiled_.end()) return found->second;
    auto c = std::make_shared<Compiled>();
    c->oh = g_.OutSize(s.h, 0);
    c->ow = g_.OutSize(s.w, 1);
    if (c->oh > 0 && c->ow > 0) {
      try {
        const auto pd = Describe(s);
        // Reference implementations are far slower than LibTorch's; a layout other than the tensors' would
        // need copies.
        c->usable = std::string(pd.impl_info_str()).rfind("ref", 0) != 0 &&
                    pd.src_desc() == dnnl::memory::desc({s.n, g_.in, s.h, s.w}, dt::f32, tag::nhwc) &&
                    pd.dst_desc() == dnnl::memory::desc({s.n, g_.out, c->oh, c->ow}, dt::f32, tag::nhwc);
        if (c->usable) {
          c->primitive = dnnl::convolution_forward(pd);
          c->src = pd.src_desc();
          c->dst = pd.dst_desc();
          c->weights = WeightsIn(pd.weights_desc());
          c->scratchpad_bytes = pd.scratchpad_desc().get_size();
        }
      } catch (const dnnl::error&) {
        c->usable = false;
      }
    }
    // Bounded: eval over images of many sizes would otherwise keep a primitive per size.
    if (compiled_.size() >= kMaxShapes) compiled_.clear();
    compiled_.emplace(s, c);
    return c;
  }

  // The weights in `layout`, reordered once per layout. Called with mutex_ held.
  dnnl::memory WeightsIn(const dnnl::memory::desc& layout) {
    for (const auto& [desc, memory] : weights_) {
      if (desc == layout) return memory;
    }
    const tag user_tag = g_.groups > 1 ? tag::goihw : tag::oihw;
    dnnl::memory user({g_.WeightDims(), dt::f32, user_tag}, CpuEngine(), weight_.data_ptr());
    dnnl::memory reordered(layout, CpuEngine());
    dnnl::stream stream(CpuEngine());
    dnnl::reorder(user, reordered).execute(stream, user, reordered);
    stream.wait();
    weights_.emplace_back(layout, reordered);
    return reordered;
  }

  static constexpr size_t kMaxShapes = 16;
  const ConvGeometry g_;
  const Activation activation_;
  const std::string label_, label_add_;
  torch::Tensor weight_, bias_;
  std::mutex mutex_;
  std::map<Shape, std::shared_ptr<const Compiled>> compiled_;
  std::vector<std::pair<dnnl::memory::desc, dnnl::memory>> weights_;
};

}  // namespace

ConvKernelPtr MakeOneDnnConvKernel(const torch::nn::Conv2dImpl& conv, Activation activation, bool adds) {
  auto kernel = std::make_shared<OneDnnConvKernel>(conv, activation);
  kernel->Probe(adds);
  return kernel;
}

std::string OneDnnVersion() {
  const dnnl_version_t* v = dnnl::version();
  return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
}

}  // namespace segtune
