// Issue 20, first step: the convolution layers of LR-ASPP MobileNetV3-Large (512x512, batch 1) timed in
// the candidate kernel libraries side by side, on the same (BatchNorm-folded) weights and inputs:
//   torch    segtune before issue 20's engine: the prepared model's own modules with --engine torch (BN folded,
//            channels-last), i.e. at::conv2d + activation, output allocated per call;
//   mkldnn   LibTorch 1.13's at::mkldnn_convolution on the same dense channels-last tensors, activation
//            in place afterwards (LibTorch's oneDNN path forced for every layer);
//   onednn   oneDNN 2.x directly: NHWC convolution primitive with bias and the activation as eltwise
//            post-ops, created once, weights reordered once, output preallocated;
//   xnnpack  XNNPACK NHWC F32 convolution operators created once (min/max clamp for ReLU, hard sigmoid
//            folded into weights/bias + clamp), hardswish/sigmoid as separate operators.
// The layers and their inputs come from a forward pass through segtune's own modules (the inputs each
// layer really sees), so shapes are the model's by construction.
//
// usage: conv_kernels_bench layers THREADS ROUNDS   per-layer timings, per kind and whole conv stack
//        (IMPLS=a,b: only torch and those; PER_LAYER=1: every layer's medians)
//        conv_kernels_bench denormals THREADS ROUNDS [IMAGE]   FTZ/DAZ on vs off (speed, class maps)
// Medians over ROUNDS rounds; within a round each implementation runs the whole stack once, in an order
// rotated per round, so slow phases of a shared machine hit all of them alike.
// Built only when asked (bench/conv_kernels_bench.sh; oneDNN and XNNPACK with -DSEGTUNE_BENCH_KERNELS=ON).
#include <torch/torch.h>
#include <xmmintrin.h>

#include <dlfcn.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <limits>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "segtune/data/image_decode.h"
#include "segtune/export/prepare_inference.h"
#include "segtune/inference/thread_plan.h"
#include "segtune/models/layers.h"
#include "segtune/models/lraspp.h"
#include "segtune/models/mobilenet_v3.h"
#include "segtune/models/semantic_registry.h"

#ifdef SEGTUNE_BENCH_DNNL
#include <oneapi/dnnl/dnnl.hpp>

#include "segtune/runtime/onednn_activation.h"
#endif
#ifdef SEGTUNE_BENCH_XNNPACK
#include <xnnpack.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

namespace {

using segtune::Activation;
using Clock = std::chrono::steady_clock;

double Ms(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// One convolution with its activation, as the model runs it.
struct ConvLayer {
  std::string name;  // torchvision module path
  std::string kind;
  torch::Tensor weight;  // [O, I/groups, k, k] folded
  torch::Tensor bias;    // [O]
  int64_t stride = 1, padding = 0, dilation = 1, groups = 1;
  Activation act = Activation::kNone;
  torch::Tensor input;                                     // [1, C, H, W] channels-last
  std::function<torch::Tensor(const torch::Tensor&)> today;  // segtune's module call
  double macs = 0;
};

torch::Tensor Activate(torch::Tensor x, Activation act) {
  switch (act) {
    case Activation::kNone: return x;
    case Activation::kReLU: return x.relu_();
    case Activation::kHardswish: return at::hardswish_(x);
    case Activation::kHardsigmoid: return at::hardsigmoid_(x);
    case Activation::kSigmoid: return x.sigmoid_();
  }
  return x;
}

ConvLayer MakeLayer(std::string name, std::string kind, torch::nn::Conv2dImpl& conv, int64_t padding, Activation act,
                    const torch::Tensor& input, std::function<torch::Tensor(const torch::Tensor&)> today) {
  ConvLayer l;
  l.name = std::move(name);
  l.kind = std::move(kind);
  l.weight = conv.weight;
  l.bias = conv.bias.defined() ? conv.bias : torch::zeros({conv.weight.size(0)});
  l.stride = (*conv.options.stride())[0];
  l.dilation = (*conv.options.dilation())[0];
  l.groups = conv.options.groups();
  l.padding = padding;
  l.act = act;
  l.input = input.contiguous(torch::MemoryFormat::ChannelsLast);
  l.today = std::move(today);
  const int64_t k = l.weight.size(2);
  const int64_t oh = (l.input.size(2) + 2 * padding - l.dilation * (k - 1) - 1) / l.stride + 1;
  l.macs = static_cast<double>(oh) * oh * l.weight.size(0) * l.weight.size(1) * k * k;
  return l;
}

std::string DepthwiseKind(const segtune::Conv2dNormActivationOptions& o) {
  std::string kind = "dw" + std::to_string(o.kernel_size) + "x" + std::to_string(o.kernel_size) + " s" +
                     std::to_string(o.stride);
  if (o.dilation > 1) kind += " d" + std::to_string(o.dilation);
  return kind;
}

// Walks the prepared LR-ASPP exactly as its forward() does, recording every convolution with the input
// it sees. Checks the walk against the model's own block outputs.
std::vector<ConvLayer> CollectLayers(segtune::LRASPPImpl& model, const torch::Tensor& image) {
  using segtune::Conv2dNormActivation;
  std::vector<ConvLayer> layers;
  auto& bb = *model.backbone->as<segtune::MobileNetV3LargeBackboneImpl>();
  auto module_call = [](Conv2dNormActivation m) { return [m](const torch::Tensor& t) mutable { return m->forward(t); }; };
  auto add_cna = [&](const std::string& name, const std::string& kind, Conv2dNormActivation m, const torch::Tensor& x) {
    layers.push_back(MakeLayer(name, kind, *m->conv, m->padding, m->options.activation, x, module_call(m)));
  };
  torch::Tensor x = image.contiguous(torch::MemoryFormat::ChannelsLast);
  add_cna("backbone.0", "stem 3x3 s2", bb.stem, x);
  x = bb.stem->forward(x);
  std::vector<torch::Tensor> outs{x};
  for (size_t i = 0; i < bb.blocks.size(); ++i) {
    auto& blk = *bb.blocks[i];
    const std::string prefix = "backbone." + std::to_string(i + 1) + ".block.";
    int child = 0;
    torch::Tensor h = x;
    if (blk.expand) {
      add_cna(prefix + std::to_string(child++), "pw expand", blk.expand, h);
      h = blk.expand->forward(h);
    }
    add_cna(prefix + std::to_string(child++), DepthwiseKind(blk.depthwise->options), blk.depthwise, h);
    h = blk.depthwise->forward(h);
    if (blk.se) {
      const std::string se = prefix + std::to_string(child++);
      auto m = blk.se;
      const torch::Tensor pooled = at::adaptive_avg_pool2d(h, {1, 1});
      layers.push_back(MakeLayer(se + ".fc1", "se 1x1", *m->fc1, 0, Activation::kReLU, pooled,
                                 [m](const torch::Tensor& t) mutable { return segtune::ApplyActivation(m->fc1->forward(t), Activation::kReLU); }));
      const torch::Tensor s = segtune::ApplyActivation(m->fc1->forward(pooled), Activation::kReLU);
      layers.push_back(MakeLayer(se + ".fc2", "se 1x1", *m->fc2, 0, Activation::kHardsigmoid, s, [m](const torch::Tensor& t) mutable {
        return segtune::ApplyActivation(m->fc2->forward(t), Activation::kHardsigmoid);
      }));
      h = m->forward(h);
    }
    add_cna(prefix + std::to_string(child++), "pw project", blk.project, h);
    h = blk.project->forward(h);
    if (blk.use_res_connect) h = h + x;
    const double diff = (h - bb.blocks[i]->forward(x)).abs().max().item<double>();
    if (diff != 0) std::cerr << "warning: walk of block " << i + 1 << " differs from its forward by " << diff << "\n";
    x = h;
    outs.push_back(x);
  }
  add_cna("backbone.16", "pw last 1x1", bb.last, x);
  outs.push_back(bb.last->forward(x));
  const std::vector<int> stages = bb.StageIndices();
  const torch::Tensor low = outs.at(stages[stages.size() - 4]);
  const torch::Tensor high = outs.back();
  auto& head = *model.classifier;
  auto cbr = head.cbr;
  auto scale = head.scale;
  layers.push_back(MakeLayer("classifier.cbr.0", "head 1x1", *cbr[0]->as<torch::nn::Conv2dImpl>(), 0, Activation::kReLU,
                             high, [cbr](const torch::Tensor& t) mutable { return cbr->forward(t); }));
  const torch::Tensor pooled = at::adaptive_avg_pool2d(high, {1, 1});
  auto* scale_conv = scale[1]->as<torch::nn::Conv2dImpl>();
  layers.push_back(MakeLayer("classifier.scale.1", "head 1x1", *scale_conv, 0, Activation::kSigmoid, pooled,
                             [scale_conv](const torch::Tensor& t) mutable { return scale_conv->forward(t).sigmoid(); }));
  auto low_cls = head.low_classifier;
  auto high_cls = head.high_classifier;
  layers.push_back(MakeLayer("classifier.low_classifier", "head 1x1", *low_cls, 0, Activation::kNone, low,
                             [low_cls](const torch::Tensor& t) mutable { return low_cls->forward(t); }));
  const torch::Tensor mid = segtune::ResizeBilinear(cbr->forward(high) * scale->forward(high), low.size(2), low.size(3));
  layers.push_back(MakeLayer("classifier.high_classifier", "head 1x1", *high_cls, 0, Activation::kNone, mid,
                             [high_cls](const torch::Tensor& t) mutable { return high_cls->forward(t); }));
  return layers;
}

// An implementation prepared for one layer: run() computes into output().
struct Prepared {
  std::function<void()> run;
  std::function<torch::Tensor()> output;
};

struct Implementation {
  std::string name;
  std::function<Prepared(const ConvLayer&)> prepare;
};

Prepared PrepareTorch(const ConvLayer& l) {
  auto out = std::make_shared<torch::Tensor>();
  return {[&l, out] { *out = l.today(l.input); }, [out] { return *out; }};
}

Prepared PrepareMkldnn(const ConvLayer& l) {
  auto out = std::make_shared<torch::Tensor>();
  const int64_t p = l.padding, s = l.stride, d = l.dilation;
  return {[&l, out, p, s, d] {
            *out = Activate(at::mkldnn_convolution(l.input, l.weight, l.bias, {p, p}, {s, s}, {d, d}, l.groups), l.act);
          },
          [out] { return *out; }};
}

torch::Tensor EmptyOutput(const ConvLayer& l) {
  const int64_t k = l.weight.size(2);
  const int64_t oh = (l.input.size(2) + 2 * l.padding - l.dilation * (k - 1) - 1) / l.stride + 1;
  const int64_t ow = (l.input.size(3) + 2 * l.padding - l.dilation * (k - 1) - 1) / l.stride + 1;
  return torch::empty({1, l.weight.size(0), oh, ow}, torch::TensorOptions().memory_format(torch::MemoryFormat::ChannelsLast));
}

#ifdef SEGTUNE_BENCH_DNNL
dnnl::engine& DnnlEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

std::map<std::string, std::string>& DnnlImplByKind() {
  static std::map<std::string, std::string> impls;
  return impls;
}

Prepared PrepareDnnl(const ConvLayer& l) {
  using dnnl::algorithm;
  using tag = dnnl::memory::format_tag;
  using dt = dnnl::memory::data_type;
  dnnl::engine& eng = DnnlEngine();
  auto stream = std::make_shared<dnnl::stream>(eng);
  auto out = std::make_shared<torch::Tensor>(EmptyOutput(l));
  const int64_t c = l.input.size(1), o = l.weight.size(0), k = l.weight.size(2), g = l.groups;
  const dnnl::memory::dims src_dims{1, c, l.input.size(2), l.input.size(3)};
  const dnnl::memory::dims dst_dims{1, o, out->size(2), out->size(3)};
  const dnnl::memory::dims w_dims = g > 1 ? dnnl::memory::dims{g, o / g, c / g, k, k} : dnnl::memory::dims{o, c, k, k};
  const dnnl::memory::desc src_md(src_dims, dt::f32, tag::nhwc), dst_md(dst_dims, dt::f32, tag::nhwc);
  const dnnl::memory::desc w_any(w_dims, dt::f32, tag::any), b_md({o}, dt::f32, tag::a);
  const dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference, algorithm::convolution_direct, src_md, w_any,
                                             b_md, dst_md, {l.stride, l.stride}, {l.dilation - 1, l.dilation - 1},
                                             {l.padding, l.padding}, {l.padding, l.padding});
  dnnl::post_ops ops;
  segtune::AppendActivation(ops, l.act);
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  const dnnl::convolution_forward::primitive_desc pd(desc, attr, eng);
  DnnlImplByKind()[l.kind] = pd.impl_info_str();
  auto user_w = std::make_shared<torch::Tensor>(l.weight.contiguous());
  dnnl::memory user_w_mem({w_dims, dt::f32, g > 1 ? tag::goihw : tag::oihw}, eng, user_w->data_ptr());
  dnnl::memory w_mem(pd.weights_desc(), eng);
  dnnl::reorder(user_w_mem, w_mem).execute(*stream, user_w_mem, w_mem);
  stream->wait();
  auto bias = std::make_shared<torch::Tensor>(l.bias.contiguous());
  dnnl::memory b_mem(b_md, eng, bias->data_ptr());
  dnnl::memory src_mem(src_md, eng, l.input.data_ptr());
  dnnl::memory dst_mem(dst_md, eng, out->data_ptr());
  if (pd.dst_desc() != dst_md || pd.src_desc() != src_md) throw std::runtime_error("oneDNN changed the NHWC layout of " + l.name);
  auto prim = std::make_shared<dnnl::convolution_forward>(pd);
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, src_mem}, {DNNL_ARG_WEIGHTS, w_mem}, {DNNL_ARG_BIAS, b_mem}, {DNNL_ARG_DST, dst_mem}};
  return {[prim, stream, args, bias, user_w] {
            prim->execute(*stream, args);
            stream->wait();
          },
          [out] { return *out; }};
}
#endif

#ifdef SEGTUNE_BENCH_XNNPACK
pthreadpool_t& XnnPool() {
  static pthreadpool_t pool = nullptr;
  return pool;
}

void XnnCheck(xnn_status status, const std::string& what) {
  if (status != xnn_status_success) throw std::runtime_error("XNNPACK " + what + " failed: status " + std::to_string(status));
}

Prepared PrepareXnn(const ConvLayer& l) {
  const int64_t c = l.input.size(1), o = l.weight.size(0), k = l.weight.size(2), g = l.groups;
  // XNNPACK's kernel layout is [groups][group out][kh][kw][group in]: PyTorch's OIHW with I moved last.
  torch::Tensor w = l.weight.permute({0, 2, 3, 1}).contiguous();
  torch::Tensor b = l.bias.contiguous().clone();
  float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
  if (l.act == Activation::kReLU) lo = 0;
  if (l.act == Activation::kHardsigmoid) {  // hardsigmoid(y) = clamp(y / 6 + 1/2, 0, 1): fold the affine part.
    w = w / 6;
    b = b / 6 + 0.5;
    lo = 0;
    hi = 1;
  }
  auto keep = std::make_shared<std::vector<torch::Tensor>>(std::vector<torch::Tensor>{w, b});
  xnn_operator_t conv = nullptr;
  const auto p = static_cast<uint32_t>(l.padding), kk = static_cast<uint32_t>(k), s = static_cast<uint32_t>(l.stride),
             d = static_cast<uint32_t>(l.dilation);
  XnnCheck(xnn_create_convolution2d_nhwc_f32(p, p, p, p, kk, kk, s, s, d, d, static_cast<uint32_t>(g), c / g, o / g, c, o,
                                             w.data_ptr<float>(), b.data_ptr<float>(), lo, hi, 0, &conv),
           "create convolution " + l.name);
  auto out = std::make_shared<torch::Tensor>(EmptyOutput(l));
  const bool separate = l.act == Activation::kHardswish || l.act == Activation::kSigmoid;
  torch::Tensor mid = separate ? EmptyOutput(l) : *out;
  keep->push_back(mid);
  XnnCheck(xnn_setup_convolution2d_nhwc_f32(conv, 1, l.input.size(2), l.input.size(3), l.input.data_ptr<float>(),
                                            mid.data_ptr<float>(), XnnPool()),
           "setup convolution " + l.name);
  xnn_operator_t act = nullptr;
  if (separate) {
    const size_t pixels = out->size(2) * out->size(3);
    if (l.act == Activation::kHardswish) {
      XnnCheck(xnn_create_hardswish_nc_f32(o, o, o, 0, &act), "create hardswish");
      XnnCheck(xnn_setup_hardswish_nc_f32(act, pixels, mid.data_ptr<float>(), out->data_ptr<float>(), XnnPool()), "setup hardswish");
    } else {
      XnnCheck(xnn_create_sigmoid_nc_f32(o, o, o, 0, &act), "create sigmoid");
      XnnCheck(xnn_setup_sigmoid_nc_f32(act, pixels, mid.data_ptr<float>(), out->data_ptr<float>(), XnnPool()), "setup sigmoid");
    }
  }
  // The operators live until the process ends (a bench).
  return {[conv, act, keep] {
            xnn_run_operator(conv, XnnPool());
            if (act) xnn_run_operator(act, XnnPool());
          },
          [out] { return *out; }};
}
#endif

std::vector<Implementation> Implementations() {
  std::vector<Implementation> impls{{"torch", PrepareTorch}, {"mkldnn", PrepareMkldnn}};
#ifdef SEGTUNE_BENCH_DNNL
  impls.push_back({"onednn", PrepareDnnl});
#endif
#ifdef SEGTUNE_BENCH_XNNPACK
  impls.push_back({"xnnpack", PrepareXnn});
#endif
  // IMPLS=mkldnn,onednn keeps torch (the reference) and those: one thread pool per process at 2 threads.
  if (const char* only = std::getenv("IMPLS")) {
    const std::string keep = std::string(",") + only + ",";
    impls.erase(std::remove_if(impls.begin() + 1, impls.end(),
                               [&](const Implementation& i) { return keep.find("," + i.name + ",") == std::string::npos; }),
                impls.end());
  }
  return impls;
}

const torch::Tensor& Mean() {
  static const torch::Tensor mean = torch::tensor({0.485f, 0.456f, 0.406f}).view({1, 3, 1, 1});
  return mean;
}
const torch::Tensor& Std() {
  static const torch::Tensor std = torch::tensor({0.229f, 0.224f, 0.225f}).view({1, 3, 1, 1});
  return std;
}

// A 512x512 RGB image in [0, 1], NCHW: IMAGE resized, or a fixed pseudo-random one.
torch::Tensor LoadImage(const std::string& path) {
  if (path.empty()) {
    torch::manual_seed(1);
    return torch::rand({1, 3, 512, 512});
  }
  cv::Mat bgr = segtune::DecodeImageFile(path, cv::IMREAD_COLOR), rgb;
  cv::resize(bgr, bgr, {512, 512}, 0, 0, cv::INTER_AREA);
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return torch::from_blob(rgb.data, {1, 512, 512, 3}, torch::kUInt8).permute({0, 3, 1, 2}).to(torch::kFloat) / 255;
}

segtune::SemanticModel PreparedModel() {
  torch::manual_seed(0);
  auto model = segtune::CreateSemanticModel("lraspp_mobilenet_v3_large", 21, false);
  // LibTorch's modules throughout: the "torch" column is the reference the kernels are compared with.
  segtune::PrepareOptions options;
  options.engine = segtune::InferenceEngine::kTorch;
  segtune::PrepareForInference(*model, torch::kCPU, options);
  return model;
}

std::string LoadAvg() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

double ThreadCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

// Per kind: median over rounds of the round's sum over the kind's layers, ratio torch/x, max abs diff
// of the outputs to torch's.
void PrintTable(const std::string& what, const std::vector<ConvLayer>& layers, const std::vector<Implementation>& impls,
                const std::vector<std::vector<Prepared>>& prepared, const std::vector<torch::Tensor>& reference,
                const std::vector<std::vector<std::vector<double>>>& ms, int rounds) {
  std::vector<std::string> kinds;
  for (const auto& l : layers)
    if (std::find(kinds.begin(), kinds.end(), l.kind) == kinds.end()) kinds.push_back(l.kind);
  kinds.push_back("ALL conv layers");
  std::cout << "[" << what << "] kind | layers | MMAC | ";
  for (const auto& impl : impls) std::cout << impl.name << " ms (torch/x) maxdiff | ";
  std::cout << "\n";
  for (const auto& kind : kinds) {
    const bool all = kind == "ALL conv layers";
    int count = 0;
    double macs = 0;
    for (const auto& l : layers)
      if (all || l.kind == kind) ++count, macs += l.macs;
    std::cout << kind << " | " << count << " | " << std::setprecision(1) << macs / 1e6 << std::setprecision(3) << " | ";
    double torch_ms = 0;
    for (size_t j = 0; j < impls.size(); ++j) {
      std::vector<double> sums(rounds, 0.0);
      double diff = 0;
      for (size_t li = 0; li < layers.size(); ++li) {
        if (!all && layers[li].kind != kind) continue;
        for (int r = 0; r < rounds; ++r) sums[r] += ms[j][li][r];
        diff = std::max(diff, (prepared[j][li].output() - reference[li]).abs().max().item<double>());
      }
      const double med = Median(sums);
      if (j == 0) torch_ms = med;
      std::cout << med << " (" << std::setprecision(2) << torch_ms / med << "x) " << std::scientific << std::setprecision(1)
                << diff << std::fixed << std::setprecision(3) << " | ";
    }
    std::cout << "\n";
  }
}

// OpenBLAS's thread count (segtune's ThreadPlan sets it to the per-image thread count). At more than one
// LibTorch thread the only convolutions LibTorch still sends to BLAS are the tiny ones (SE 1x1s on 1x1
// inputs, below its oneDNN size threshold): times the full forward with OpenBLAS at `threads` and at 1,
// alternating, and checks that the logits are identical.
void CompareBlasThreads(segtune::SemanticModelImpl& model, const torch::Tensor& x, int threads, int rounds) {
  auto* get = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  auto* set = reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (!get || !set || threads == 1) return;
  const int saved = get();
  std::vector<double> many, one;
  torch::Tensor logits_many, logits_one;
  for (int r = -1; r < rounds; ++r) {
    for (int k = 0; k < 2; ++k) {
      const bool single = (k + r) % 2 == 0;
      set(single ? 1 : saved);
      const auto t0 = Clock::now();
      torch::Tensor logits = segtune::HeadLogits(model, x);
      if (r >= 0) (single ? one : many).push_back(Ms(t0, Clock::now()));
      (single ? logits_one : logits_many) = logits.contiguous();
    }
  }
  set(saved);
  std::cout << "full_forward_ms OpenBLAS threads " << saved << ": " << Median(many) << " | OpenBLAS threads 1: " << Median(one)
            << " (" << std::setprecision(2) << Median(many) / Median(one) << "x) | logits identical: "
            << (torch::equal(logits_many, logits_one) ? "yes" : "NO") << std::setprecision(3) << "\n";
}

int RunLayers(int threads, int rounds) {
  auto model = PreparedModel();
  c10::InferenceMode inference;
  auto* lraspp = dynamic_cast<segtune::LRASPPImpl*>(model.get());
  const torch::Tensor x = (LoadImage("") - Mean()) / Std();
  std::vector<ConvLayer> layers = CollectLayers(*lraspp, x);
#ifdef SEGTUNE_BENCH_XNNPACK
  XnnCheck(xnn_initialize(nullptr), "initialize");
  if (threads > 1) XnnPool() = pthreadpool_create(threads);
#endif
  const std::vector<Implementation> impls = Implementations();
  std::vector<std::vector<Prepared>> prepared(impls.size());
  for (size_t j = 0; j < impls.size(); ++j)
    for (const auto& l : layers) prepared[j].push_back(impls[j].prepare(l));

  // Full forward as segtune infer runs it (HeadLogits: no final resize), for the share of the conv stack.
  auto full = [&] { segtune::HeadLogits(*model, x); };
  const size_t n = impls.size(), m = layers.size();
  using Times = std::vector<std::vector<std::vector<double>>>;  // [implementation][layer][round]
  Times ms(n, std::vector<std::vector<double>>(m)), cpu_ms = ms;
  std::vector<double> full_ms;
  const std::string load_start = LoadAvg();
  // Within a round each implementation runs the whole stack, layer after layer as a forward would, the
  // implementations in an order rotated per round. (Alternating per layer instead measured each library's
  // thread pool spinning against the previous one's at 2 threads: torch's layers summed to 5x its forward.)
  for (int r = -2; r < rounds; ++r) {  // Two warm-up rounds.
    for (size_t j0 = 0; j0 < n; ++j0) {
      const size_t j = (j0 + static_cast<size_t>(r + 2)) % n;
      for (size_t li = 0; li < m; ++li) {
        const double c0 = ThreadCpuMs();
        const auto t0 = Clock::now();
        prepared[j][li].run();
        const auto t1 = Clock::now();
        const double c1 = ThreadCpuMs();
        if (r >= 0) ms[j][li].push_back(Ms(t0, t1)), cpu_ms[j][li].push_back(c1 - c0);
      }
    }
    const auto t0 = Clock::now();
    full();
    if (r >= 0) full_ms.push_back(Ms(t0, Clock::now()));
  }
  const std::string load_end = LoadAvg();

  std::vector<torch::Tensor> reference;
  for (size_t li = 0; li < m; ++li) reference.push_back(prepared[0][li].output().clone());
  std::cout << std::fixed << std::setprecision(3);
  std::cout << "threads " << threads << " rounds " << rounds << " layers " << m << " loadavg_start " << load_start
            << " loadavg_end " << load_end << "\n";
  std::cout << "full_forward_ms (HeadLogits, torch) wall " << Median(full_ms) << "\n";
  PrintTable("wall ms", layers, impls, prepared, reference, ms, rounds);
  // At one thread every implementation runs on the calling thread: its CPU time is the work done, whatever
  // the neighbours' load (wall time on a loaded machine adds their time slices).
  if (threads == 1) PrintTable("thread CPU ms", layers, impls, prepared, reference, cpu_ms, rounds);
#ifdef SEGTUNE_BENCH_DNNL
  for (const auto& [kind, impl] : DnnlImplByKind()) std::cout << "onednn_impl " << kind << ": " << impl << "\n";
#endif
  CompareBlasThreads(*model, x, threads, rounds);
  if (std::getenv("PER_LAYER")) {
    for (size_t li = 0; li < m; ++li) {
      const auto& l = layers[li];
      std::cout << "layer " << l.name << " [" << l.kind << "] in " << l.input.size(1) << "x" << l.input.size(2) << "x"
                << l.input.size(3) << " out " << l.weight.size(0) << " k" << l.weight.size(2) << " act "
                << segtune::ActivationName(l.act);
      for (size_t j = 0; j < n; ++j) std::cout << " " << impls[j].name << "=" << Median(ms[j][li]);
      std::cout << "\n";
    }
  }
  return 0;
}

// ---- denormals ----------------------------------------------------------------------------------------

// FTZ+DAZ on every thread that may run kernels: at::globalContext().setFlushDenormal() sets MXCSR on the
// calling thread only, and the OpenMP workers keep their own.
void SetFlushDenormal(bool on) {
  at::globalContext().setFlushDenormal(on);
#ifdef _OPENMP
#pragma omp parallel num_threads(at::get_num_threads())
  {
    const unsigned bits = 0x8040;  // FTZ (bit 15) | DAZ (bit 6)
    _mm_setcsr(on ? (_mm_getcsr() | bits) : (_mm_getcsr() & ~bits));
  }
#endif
}

// Fraction of the values of the backbone's feature outputs that are subnormal (FTZ off).
double SubnormalFraction(segtune::LRASPPImpl& model, const torch::Tensor& x) {
  auto& bb = *model.backbone->as<segtune::MobileNetV3LargeBackboneImpl>();
  torch::Tensor h = bb.stem->forward(x.contiguous(torch::MemoryFormat::ChannelsLast));
  double sub = 0, total = 0;
  auto count = [&](const torch::Tensor& t) mutable {
    const torch::Tensor a = t.abs();
    sub += ((a > 0) & (a < std::numeric_limits<float>::min())).sum().item<double>();
    total += static_cast<double>(t.numel());
  };
  count(h);
  for (auto& blk : bb.blocks) count(h = blk->forward(h));
  count(bb.last->forward(h));
  return sub / total;
}

// Makes the weights "trained-like" in the one way that produces denormals in practice: weight decay drives
// the filters of unused channels towards zero. A quarter of every convolution's output channels get
// weights scaled into the subnormal range (and zero bias); the rest stay as they are.
void DecayChannels(segtune::SemanticModelImpl& model, double factor) {
  torch::NoGradGuard no_grad;
  for (auto& mod : model.modules(false)) {
    auto* conv = mod->as<torch::nn::Conv2dImpl>();
    if (!conv) continue;
    const int64_t o = conv->weight.size(0);
    for (int64_t c = 0; c < o; c += 4) {
      conv->weight[c].mul_(factor);
      if (conv->bias.defined()) conv->bias[c].zero_();
    }
  }
}

// Every activation tiny: all biases zero and the stem's weights scaled down, so the whole backbone runs
// on values near or below FLT_MIN (the extreme case).
void ScaleActivationsDown(segtune::SemanticModelImpl& model, double factor) {
  torch::NoGradGuard no_grad;
  auto* lraspp = dynamic_cast<segtune::LRASPPImpl*>(&model);
  for (auto& mod : model.modules(false)) {
    auto* conv = mod->as<torch::nn::Conv2dImpl>();
    if (conv && conv->bias.defined()) conv->bias.zero_();
  }
  lraspp->backbone->as<segtune::MobileNetV3LargeBackboneImpl>()->stem->conv->weight.mul_(factor);
}

int RunDenormals(int threads, int rounds, const std::string& image_path) {
  const torch::Tensor x = (LoadImage(image_path) - Mean()) / Std();
  struct Variant {
    std::string name;
    std::function<void(segtune::SemanticModelImpl&)> edit;
  };
  const std::vector<Variant> variants{
      {"init weights (torchvision init, BN folded)", [](segtune::SemanticModelImpl&) {}},
      {"decayed channels (1/4 of filters x1e-39)", [](segtune::SemanticModelImpl& m) { DecayChannels(m, 1e-39); }},
      {"tiny activations (biases 0, stem x1e-38)", [](segtune::SemanticModelImpl& m) { ScaleActivationsDown(m, 1e-38); }},
  };
  std::cout << std::fixed << std::setprecision(3) << "threads " << threads << " rounds " << rounds << " image "
            << (image_path.empty() ? "random" : image_path) << " loadavg_start " << LoadAvg() << "\n";
  for (const auto& v : variants) {
    auto model = PreparedModel();
    v.edit(*model);
    auto* lraspp = dynamic_cast<segtune::LRASPPImpl*>(model.get());
    c10::InferenceMode inference;
    SetFlushDenormal(false);
    const double subnormal = SubnormalFraction(*lraspp, x);
    // Class map as segtune infer computes it: head logits resized to the input, argmax.
    auto classes = [&] { return segtune::ResizeBilinear(segtune::HeadLogits(*model, x), 512, 512).argmax(1); };
    auto logits = [&] { return segtune::HeadLogits(*model, x).contiguous(); };
    const torch::Tensor map_off = classes(), logits_off = logits();
    SetFlushDenormal(true);
    const torch::Tensor map_on = classes(), logits_on = logits();
    std::vector<double> off, on;
    for (int r = -1; r < rounds; ++r) {
      for (int k = 0; k < 2; ++k) {
        const bool flush = (k + r) % 2 == 0;  // Alternate which goes first.
        SetFlushDenormal(flush);
        const auto t0 = Clock::now();
        segtune::HeadLogits(*model, x);
        if (r >= 0) (flush ? on : off).push_back(Ms(t0, Clock::now()));
      }
    }
    SetFlushDenormal(false);
    const double same = (map_off == map_on).to(torch::kDouble).mean().item<double>();
    std::cout << v.name << ": subnormal activations " << std::setprecision(4) << 100 * subnormal << "% | forward ms FTZ off "
              << std::setprecision(2) << Median(off) << " on " << Median(on) << " (off/on " << Median(off) / Median(on)
              << "x) | class map identical " << std::setprecision(4) << 100 * same << "% of pixels | logits max abs diff "
              << std::scientific << (logits_off - logits_on).abs().max().item<double>() << std::fixed << "\n";
  }
  std::cout << "loadavg_end " << LoadAvg() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: conv_kernels_bench layers|denormals THREADS ROUNDS [IMAGE]\n";
    return 2;
  }
  const std::string mode = argv[1];
  const int threads = std::atoi(argv[2]);
  const int rounds = std::atoi(argv[3]);
  // The thread settings `segtune infer` uses for one image on THREADS threads (LibTorch, OpenCV and
  // OpenBLAS, which runs LibTorch's 1x1 convolutions at one thread); at 1 thread also what each of its
  // workers runs with when images go to separate cores.
  const segtune::ThreadPlan plan(threads, 1, 1, false, {at::get_num_threads, at::set_num_threads});
  plan.StartWorker();
  try {
    if (mode == "layers") return RunLayers(threads, rounds);
    if (mode == "denormals") return RunDenormals(threads, rounds, argc > 4 ? argv[4] : "");
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  std::cerr << "unknown mode " << mode << "\n";
  return 2;
}
