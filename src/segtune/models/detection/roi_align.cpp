#include "segtune/models/detection/roi_align.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "segtune/core/error.h"

namespace segtune::detection {

namespace {

// The kernels below follow torchvision's csrc/ops/cpu/roi_align_kernel.cpp (0.14) statement by
// statement, including the float types of intermediate values, so results agree bit for bit.

// One RoI's sampling grid in feature-map coordinates.
template <typename T>
struct RoiGrid {
  int batch_index;
  T start_h, start_w, bin_size_h, bin_size_w;
  int grid_h, grid_w;
};

template <typename T>
RoiGrid<T> MakeGrid(const T* roi, T spatial_scale, int pooled_height, int pooled_width, int sampling_ratio,
                    bool aligned) {
  RoiGrid<T> g;
  g.batch_index = static_cast<int>(roi[0]);
  const T offset = aligned ? static_cast<T>(0.5) : static_cast<T>(0.0);
  g.start_w = roi[1] * spatial_scale - offset;
  g.start_h = roi[2] * spatial_scale - offset;
  const T end_w = roi[3] * spatial_scale - offset;
  const T end_h = roi[4] * spatial_scale - offset;
  T roi_width = end_w - g.start_w;
  T roi_height = end_h - g.start_h;
  if (!aligned) {  // Force malformed RoIs to be 1x1.
    roi_width = std::max(roi_width, static_cast<T>(1.));
    roi_height = std::max(roi_height, static_cast<T>(1.));
  }
  g.bin_size_h = static_cast<T>(roi_height) / static_cast<T>(pooled_height);
  g.bin_size_w = static_cast<T>(roi_width) / static_cast<T>(pooled_width);
  g.grid_h = (sampling_ratio > 0) ? sampling_ratio : static_cast<int>(std::ceil(roi_height / pooled_height));
  g.grid_w = (sampling_ratio > 0) ? sampling_ratio : static_cast<int>(std::ceil(roi_width / pooled_width));
  return g;
}

// Bilinear weights and the four neighbours of (y, x); all weights zero outside [-1, size].
template <typename T>
struct Bilinear {
  int y_low = -1, y_high = -1, x_low = -1, x_high = -1;
  T w1 = 0, w2 = 0, w3 = 0, w4 = 0;
  bool inside = false;
};

template <typename T>
Bilinear<T> Interpolation(int height, int width, T y, T x) {
  Bilinear<T> b;
  if (y < -1.0 || y > height || x < -1.0 || x > width) return b;
  if (y <= 0) y = 0;
  if (x <= 0) x = 0;
  b.y_low = static_cast<int>(y);
  b.x_low = static_cast<int>(x);
  if (b.y_low >= height - 1) {
    b.y_high = b.y_low = height - 1;
    y = static_cast<T>(b.y_low);
  } else {
    b.y_high = b.y_low + 1;
  }
  if (b.x_low >= width - 1) {
    b.x_high = b.x_low = width - 1;
    x = static_cast<T>(b.x_low);
  } else {
    b.x_high = b.x_low + 1;
  }
  const T ly = y - b.y_low;
  const T lx = x - b.x_low;
  const T hy = 1. - ly, hx = 1. - lx;
  b.w1 = hy * hx;
  b.w2 = hy * lx;
  b.w3 = ly * hx;
  b.w4 = ly * lx;
  b.inside = true;
  return b;
}

template <typename T>
T SampleY(const RoiGrid<T>& g, int ph, int iy) {
  return g.start_h + ph * g.bin_size_h + static_cast<T>(iy + .5f) * g.bin_size_h / static_cast<T>(g.grid_h);
}

template <typename T>
T SampleX(const RoiGrid<T>& g, int pw, int ix) {
  return g.start_w + pw * g.bin_size_w + static_cast<T>(ix + .5f) * g.bin_size_w / static_cast<T>(g.grid_w);
}

struct Shape {
  int channels, height, width, pooled_height, pooled_width, sampling_ratio;
  bool aligned;
};

// The bilinear samples of one RoI, bin by bin (row-major), grid_h x grid_w samples per bin.
template <typename T>
void SampleWeights(const RoiGrid<T>& g, const Shape& s, std::vector<Bilinear<T>>* samples) {
  samples->clear();
  for (int ph = 0; ph < s.pooled_height; ++ph)
    for (int pw = 0; pw < s.pooled_width; ++pw)
      for (int iy = 0; iy < g.grid_h; ++iy)
        for (int ix = 0; ix < g.grid_w; ++ix)
          samples->push_back(Interpolation<T>(s.height, s.width, SampleY(g, ph, iy), SampleX(g, pw, ix)));
}

template <typename T>
void ForwardKernel(const T* input, const T* rois, int64_t n_rois, T spatial_scale, const Shape& s, T* output) {
  at::parallel_for(0, n_rois, 1, [&](int64_t begin, int64_t end) {
    std::vector<Bilinear<T>> samples;
    for (int64_t n = begin; n < end; ++n) {
      const RoiGrid<T> g = MakeGrid(rois + n * 5, spatial_scale, s.pooled_height, s.pooled_width, s.sampling_ratio,
                                    s.aligned);
      const T count = std::max(g.grid_h * g.grid_w, 1);
      SampleWeights(g, s, &samples);  // The same for every channel.
      for (int c = 0; c < s.channels; ++c) {
        const T* plane = input + (static_cast<int64_t>(g.batch_index) * s.channels + c) * s.height * s.width;
        T* out = output + (n * s.channels + c) * s.pooled_height * s.pooled_width;
        size_t k = 0;
        for (int bin = 0; bin < s.pooled_height * s.pooled_width; ++bin) {
          T value = 0.;
          for (int i = 0; i < g.grid_h * g.grid_w; ++i, ++k) {
            const Bilinear<T>& b = samples[k];
            if (!b.inside) {
              value += 0 * plane[0];  // torchvision adds 0 * input[0]: zero unless the input holds inf/nan.
              continue;
            }
            value += b.w1 * plane[b.y_low * s.width + b.x_low] + b.w2 * plane[b.y_low * s.width + b.x_high] +
                     b.w3 * plane[b.y_high * s.width + b.x_low] + b.w4 * plane[b.y_high * s.width + b.x_high];
          }
          value /= count;
          out[bin] = value;
        }
      }
    }
  });
}

// Parallel over channels rather than RoIs: RoIs overlap in grad_input, channels never do, and
// each gradient element then receives its contributions in torchvision's (sequential) order.
template <typename T>
void BackwardKernel(const T* grad_output, const T* rois, int64_t n_rois, T spatial_scale, const Shape& s,
                    std::array<int64_t, 4> go_stride, T* grad_input) {
  std::vector<RoiGrid<T>> grids(n_rois);
  std::vector<std::vector<Bilinear<T>>> samples(n_rois);
  at::parallel_for(0, n_rois, 1, [&](int64_t begin, int64_t end) {
    for (int64_t n = begin; n < end; ++n) {
      grids[n] = MakeGrid(rois + n * 5, spatial_scale, s.pooled_height, s.pooled_width, s.sampling_ratio, s.aligned);
      SampleWeights(grids[n], s, &samples[n]);
    }
  });
  at::parallel_for(0, s.channels, 1, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      for (int64_t n = 0; n < n_rois; ++n) {
        const RoiGrid<T>& g = grids[n];
        T* plane = grad_input + (static_cast<int64_t>(g.batch_index) * s.channels + c) * s.height * s.width;
        const T* go = grad_output + n * go_stride[0] + c * go_stride[1];
        const T count = g.grid_h * g.grid_w;
        size_t k = 0;
        for (int ph = 0; ph < s.pooled_height; ++ph) {
          for (int pw = 0; pw < s.pooled_width; ++pw) {
            const T grad_bin = go[ph * go_stride[2] + pw * go_stride[3]];
            for (int i = 0; i < g.grid_h * g.grid_w; ++i, ++k) {
              const Bilinear<T>& b = samples[n][k];
              if (!b.inside) continue;
              plane[b.y_low * s.width + b.x_low] += grad_bin * b.w1 / count;
              plane[b.y_low * s.width + b.x_high] += grad_bin * b.w2 / count;
              plane[b.y_high * s.width + b.x_low] += grad_bin * b.w3 / count;
              plane[b.y_high * s.width + b.x_high] += grad_bin * b.w4 / count;
            }
          }
        }
      }
    }
  });
}

Shape MakeShape(const torch::IntArrayRef input_sizes, std::array<int64_t, 2> output_size, int64_t sampling_ratio,
                bool aligned) {
  return Shape{static_cast<int>(input_sizes[1]), static_cast<int>(input_sizes[2]), static_cast<int>(input_sizes[3]),
               static_cast<int>(output_size[0]), static_cast<int>(output_size[1]), static_cast<int>(sampling_ratio),
               aligned};
}

torch::Tensor Forward(const torch::Tensor& input, const torch::Tensor& rois, std::array<int64_t, 2> output_size,
                      double spatial_scale, int64_t sampling_ratio, bool aligned) {
  RECORD_FUNCTION("segtune::roi_align", std::vector<c10::IValue>());  // Named in profiles (bench/).
  const torch::Tensor in = input.contiguous();
  const torch::Tensor r = rois.contiguous();
  const Shape shape = MakeShape(in.sizes(), output_size, sampling_ratio, aligned);
  torch::Tensor output = torch::zeros({r.size(0), in.size(1), output_size[0], output_size[1]}, in.options());
  if (output.numel() == 0) return output;
  AT_DISPATCH_FLOATING_TYPES(in.scalar_type(), "segtune_roi_align_forward", [&] {
    ForwardKernel<scalar_t>(in.data_ptr<scalar_t>(), r.data_ptr<scalar_t>(), r.size(0),
                            static_cast<scalar_t>(spatial_scale), shape, output.data_ptr<scalar_t>());
  });
  return output;
}

torch::Tensor Backward(const torch::Tensor& grad, const torch::Tensor& rois, torch::IntArrayRef input_sizes,
                       double spatial_scale, int64_t sampling_ratio, bool aligned) {
  RECORD_FUNCTION("segtune::roi_align_backward", std::vector<c10::IValue>());
  const std::array<int64_t, 2> output_size{grad.size(2), grad.size(3)};
  const Shape shape = MakeShape(input_sizes, output_size, sampling_ratio, aligned);
  torch::Tensor grad_input = torch::zeros(input_sizes, grad.options());
  if (grad.numel() == 0) return grad_input;
  const torch::Tensor r = rois.contiguous();
  const std::array<int64_t, 4> strides{grad.stride(0), grad.stride(1), grad.stride(2), grad.stride(3)};
  AT_DISPATCH_FLOATING_TYPES(grad.scalar_type(), "segtune_roi_align_backward", [&] {
    BackwardKernel<scalar_t>(grad.data_ptr<scalar_t>(), r.data_ptr<scalar_t>(), r.size(0),
                             static_cast<scalar_t>(spatial_scale), shape, strides, grad_input.data_ptr<scalar_t>());
  });
  return grad_input;
}

class RoiAlignFunction : public torch::autograd::Function<RoiAlignFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& input,
                               const torch::Tensor& rois, int64_t pooled_height, int64_t pooled_width,
                               double spatial_scale, int64_t sampling_ratio, bool aligned) {
    ctx->saved_data["input_sizes"] = input.sizes();
    ctx->saved_data["pooled_height"] = pooled_height;
    ctx->saved_data["pooled_width"] = pooled_width;
    ctx->saved_data["spatial_scale"] = spatial_scale;
    ctx->saved_data["sampling_ratio"] = sampling_ratio;
    ctx->saved_data["aligned"] = aligned;
    ctx->save_for_backward({rois});
    return Forward(input, rois, {pooled_height, pooled_width}, spatial_scale, sampling_ratio, aligned);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const torch::Tensor rois = ctx->get_saved_variables()[0];
    const std::vector<int64_t> input_sizes = ctx->saved_data["input_sizes"].toIntVector();
    const torch::Tensor grad_input =
        Backward(grad_outputs[0], rois, input_sizes, ctx->saved_data["spatial_scale"].toDouble(),
                 ctx->saved_data["sampling_ratio"].toInt(), ctx->saved_data["aligned"].toBool());
    return {grad_input, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(),
            torch::Tensor()};
  }
};

}  // namespace

torch::Tensor RoiAlign(const torch::Tensor& input, const torch::Tensor& rois, std::array<int64_t, 2> output_size,
                       double spatial_scale, int64_t sampling_ratio, bool aligned) {
  if (input.dim() != 4) throw UsageError("RoiAlign: expected input [N,C,H,W], got " + c10::str(input.sizes()));
  if (rois.dim() != 2 || rois.size(1) != 5) {
    throw UsageError("RoiAlign: expected rois [K,5] (batch index, x1, y1, x2, y2), got " + c10::str(rois.sizes()));
  }
  if (!input.is_floating_point() || rois.scalar_type() != input.scalar_type()) {
    throw UsageError("RoiAlign: input and rois must share one floating dtype");
  }
  if (!input.device().is_cpu()) throw UsageError("RoiAlign: only CPU tensors are supported");
  return RoiAlignFunction::apply(input, rois.detach(), output_size[0], output_size[1], spatial_scale, sampling_ratio,
                                 aligned);
}

}  // namespace segtune::detection
