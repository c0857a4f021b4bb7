// segtune's activations as oneDNN eltwise post-ops: one mapping for every oneDNN primitive segtune
// builds (runtime/onednn_conv.h, bench/conv_kernels_bench.cpp's direct oneDNN runs).
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include "segtune/runtime/activation.h"

namespace segtune {

// Appends `activation` to `ops` (nothing for kNone). oneDNN 2.6 has no hardsigmoid: it is
// clip(x / 6 + 1/2, 0, 1), two post-ops.
void AppendActivation(dnnl::post_ops& ops, Activation activation);

}  // namespace segtune
