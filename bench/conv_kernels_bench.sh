#!/usr/bin/env bash
# Issue 20, first step: LR-ASPP MobileNetV3-Large's convolution layers (512x512, batch 1) in LibTorch as
# segtune runs them today, LibTorch's mkldnn path, oneDNN directly and XNNPACK, at 1 and 2 threads
# (per kind and whole conv stack, ratios torch/x, max abs diff to torch); then FTZ/DAZ on vs off on the
# full forward (speed, class map). Prints /proc/loadavg at start and end of each run: the machine is shared.
# usage: bench/conv_kernels_bench.sh BUILD_DIR [ROUNDS=31] [IMAGE]   (PER_LAYER=1 for every layer's medians)
# Needs libdnnl-dev and libxnnpack-dev for the oneDNN/XNNPACK columns (configures BUILD_DIR with
# -DSEGTUNE_BENCH_KERNELS=ON, which changes nothing else); without them only torch and mkldnn are timed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:?usage: conv_kernels_bench.sh BUILD_DIR [ROUNDS] [IMAGE]}"
rounds="${2:-31}"
image="${3:-}"
cmake -S "$here/.." -B "$build" -DSEGTUNE_BENCH_KERNELS=ON >/dev/null
cmake --build "$build" --target conv_kernels_bench -j2 >/dev/null
echo "== conv layers, 1 thread"
"$build/conv_kernels_bench" layers 1 "$rounds"
# At 2 threads one thread pool per process: XNNPACK's pthreadpool and LibTorch's OpenMP workers spinning in
# the same process slow each other down (torch is always timed too, as the reference).
echo "== conv layers, 2 threads (LibTorch, its mkldnn path, oneDNN: one OpenMP pool)"
IMPLS=mkldnn,onednn "$build/conv_kernels_bench" layers 2 "$rounds"
echo "== conv layers, 2 threads (XNNPACK; its torch column is disturbed by the two pools)"
IMPLS=xnnpack "$build/conv_kernels_bench" layers 2 "$rounds"
for threads in 1 2; do
  echo "== denormals, $threads thread(s)"
  "$build/conv_kernels_bench" denormals "$threads" "$rounds" $image
done
