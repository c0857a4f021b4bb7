#include "segtune/runtime/onednn_conv.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <tuple>
#include <unordered_map>
#include <utility>

#include "segtune/runtime/onednn_activation.h"

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

int64_t OutSize(int64_t size, int64_t kernel, int64_t stride, int64_t dilation, int64_t pad) {
  const int64_t span = size + 2 * pad - dilation * (kernel - 1) - 1;
  return span < 0 ? 0 : span / stride + 1;
}

dnnl::memory::dims WeightDims(const ConvShape& s) {
  return s.groups > 1 ? dnnl::memory::dims{s.groups, s.out / s.groups, s.in / s.groups, s.kernel_h, s.kernel_w}
                      : dnnl::memory::dims{s.out, s.in, s.kernel_h, s.kernel_w};
}

dnnl::convolution_forward::primitive_desc Describe(const ConvShape& s, Activation activation, int64_t n, int64_t h,
                                                   int64_t w, bool add) {
  const dnnl::memory::desc src({n, s.in, h, w}, dt::f32, tag::nhwc);
  const dnnl::memory::desc dst({n, s.out, s.OutHeight(h), s.OutWidth(w)}, dt::f32, tag::nhwc);
  const dnnl::memory::desc weights(WeightDims(s), dt::f32, tag::any);
  const dnnl::memory::desc bias({s.out}, dt::f32, tag::a);
  const dnnl::convolution_forward::desc desc(
      dnnl::prop_kind::forward_inference, algorithm::convolution_direct, src, weights, bias, dst,
      {s.stride_h, s.stride_w}, {s.dilation_h - 1, s.dilation_w - 1}, {s.pad_h, s.pad_w}, {s.pad_h, s.pad_w});
  dnnl::post_ops ops;
  // A sum post-op, not a binary add: oneDNN 2.6 keeps its brgemm kernels with a sum but falls back to
  // older ones with a full-tensor binary add.
  if (add) ops.append_sum(1.f);
  AppendActivation(ops, activation);
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return dnnl::convolution_forward::primitive_desc(desc, attr, CpuEngine());
}

}  // namespace

int64_t ConvShape::OutHeight(int64_t height) const { return OutSize(height, kernel_h, stride_h, dilation_h, pad_h); }
int64_t ConvShape::OutWidth(int64_t width) const { return OutSize(width, kernel_w, stride_w, dilation_w, pad_w); }

std::string ConvShape::Label() const {
  const std::string k = std::to_string(kernel_h) + "x" + std::to_string(kernel_w);
  return "onednn conv " + std::string(groups > 1 && groups == in ? "dw " : "") + k;
}

struct OneDnnConv::ReorderedWeights {
  dnnl::memory::desc layout;
  dnnl::memory memory;
};

struct OneDnnConv::Compiled {
  bool usable = false;  // False: oneDNN offers only its reference implementation (or none).
  dnnl::convolution_forward primitive;
  dnnl::memory::desc src, dst, bias;
  dnnl::memory weights;
  size_t scratchpad_bytes = 0;
};

bool OneDnnConv::Key::operator<(const Key& o) const { return std::tie(n, h, w, add) < std::tie(o.n, o.h, o.w, o.add); }

OneDnnConv::OneDnnConv(const ConvShape& shape, std::vector<float> weights, std::vector<float> bias,
                       Activation activation)
    : shape_(shape), activation_(activation), weights_(std::move(weights)), bias_(std::move(bias)) {
  if (shape.in <= 0 || shape.out <= 0 || shape.groups <= 0 || shape.in % shape.groups != 0 ||
      shape.out % shape.groups != 0) {
    throw UsageError("convolution: " + std::to_string(shape.in) + " -> " + std::to_string(shape.out) +
                     " channels cannot be split into " + std::to_string(shape.groups) + " groups");
  }
  const size_t expected = static_cast<size_t>(shape.out * (shape.in / shape.groups) * shape.kernel_h * shape.kernel_w);
  if (weights_.size() != expected) {
    throw UsageError("convolution: " + std::to_string(weights_.size()) + " weights, expected " +
                     std::to_string(expected));
  }
  if (bias_.empty()) bias_.assign(static_cast<size_t>(shape.out), 0.f);
  if (bias_.size() != static_cast<size_t>(shape.out)) {
    throw UsageError("convolution: " + std::to_string(bias_.size()) + " biases, expected " +
                     std::to_string(shape.out));
  }
}

OneDnnConv::~OneDnnConv() = default;

void OneDnnConv::Probe(bool adds) const {
  try {
    Describe(shape_, activation_, 1, shape_.dilation_h * (shape_.kernel_h - 1) + 1,
             shape_.dilation_w * (shape_.kernel_w - 1) + 1, adds);
  } catch (const dnnl::error& e) {
    throw KernelUnavailable(std::string("no oneDNN convolution primitive (") + e.what() + ")");
  }
}

std::shared_ptr<const OneDnnConv::Compiled> OneDnnConv::Compile(const Key& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto found = compiled_.find(key);
  if (found != compiled_.end()) return found->second;
  auto c = std::make_shared<Compiled>();
  const int64_t oh = shape_.OutHeight(key.h), ow = shape_.OutWidth(key.w);
  if (oh > 0 && ow > 0) {
    try {
      const auto pd = Describe(shape_, activation_, key.n, key.h, key.w, key.add);
      // Reference implementations are far slower than any other path; a layout other than dense NHWC
      // would need copies.
      c->usable = (accept_reference_ || std::string(pd.impl_info_str()).rfind("ref", 0) != 0) &&
                  pd.src_desc() == dnnl::memory::desc({key.n, shape_.in, key.h, key.w}, dt::f32, tag::nhwc) &&
                  pd.dst_desc() == dnnl::memory::desc({key.n, shape_.out, oh, ow}, dt::f32, tag::nhwc);
      if (c->usable) {
        c->primitive = dnnl::convolution_forward(pd);
        c->src = pd.src_desc();
        c->dst = pd.dst_desc();
        c->bias = pd.bias_desc();
        c->scratchpad_bytes = pd.scratchpad_desc().get_size();
        // The weights in the primitive's layout, reordered once per layout.
        const dnnl::memory::desc layout = pd.weights_desc();
        for (const auto& r : reordered_) {
          if (r->layout == layout) c->weights = r->memory;
        }
        if (!c->weights) {
          const dnnl::memory user({WeightDims(shape_), dt::f32, shape_.groups > 1 ? tag::goihw : tag::oihw},
                                  CpuEngine(), weights_.data());
          dnnl::memory reordered(layout, CpuEngine());
          dnnl::stream stream(CpuEngine());
          dnnl::reorder(user, reordered).execute(stream, const_cast<dnnl::memory&>(user), reordered);
          stream.wait();
          reordered_.push_back(std::make_shared<ReorderedWeights>(ReorderedWeights{layout, reordered}));
          c->weights = reordered;
        }
      }
    } catch (const dnnl::error&) {
      c->usable = false;
    }
  }
  // Bounded: eval over images of many sizes would otherwise keep a primitive per size.
  if (compiled_.size() >= 16) compiled_.clear();
  compiled_.emplace(key, c);
  return c;
}

bool OneDnnConv::Run(const float* src, int64_t n, int64_t h, int64_t w, float* dst, bool add) {
  if (n <= 0 || h <= 0 || w <= 0) return false;
  const std::shared_ptr<const Compiled> c = Compile({n, h, w, add});
  if (!c->usable) return false;
  dnnl::engine& eng = CpuEngine();
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, dnnl::memory(c->src, eng, const_cast<float*>(src))},
                                             {DNNL_ARG_WEIGHTS, c->weights},
                                             {DNNL_ARG_BIAS, dnnl::memory(c->bias, eng, bias_.data())},
                                             {DNNL_ARG_DST, dnnl::memory(c->dst, eng, dst)}};
  if (c->scratchpad_bytes > 0) {
    args.emplace(DNNL_ARG_SCRATCHPAD, dnnl::memory({{static_cast<int64_t>(c->scratchpad_bytes)}, dt::u8, tag::a}, eng,
                                                   ThreadScratchpad(c->scratchpad_bytes)));
  }
  c->primitive.execute(ThreadStream(), args);
  ThreadStream().wait();
  return true;
}

std::string OneDnnVersion() {
  const dnnl_version_t* v = dnnl::version();
  return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
}

}  // namespace segtune
