#!/bin/sh
# segtune vs PyTorch (torchvision) segmentation models: eval forward latency and one SGD train step,
# batch 4, 256x256, same threads, interleaved in the same run. Prints the ratio pytorch / segtune
# (> 1 means segtune is faster) for the eager forward and the train step (same memory layout both
# sides), and for "infer": segtune's model after PrepareForInference (BatchNorm folded, channels-last,
# InferenceMode; what `segtune infer` runs) against PyTorch's eager no_grad forward in that layout.
# Usage: bench/models_bench.sh BUILD_DIR [REPEAT] [MODELS...]
#   e.g. cmake --build build --target models_bench && bench/models_bench.sh build 5
set -eu
BUILD=${1:?usage: models_bench.sh BUILD_DIR [REPEAT] [MODELS...]}
REPEAT=${2:-5}
shift $(( $# >= 2 ? 2 : 1 ))
MODELS=${*:-"lraspp_mobilenet_v3_large deeplabv3_mobilenet_v3_large deeplabv3_resnet50 fcn_resnet50 deeplabv3_resnet101 fcn_resnet101"}
THREADS=${THREADS:-$(nproc)}
# CLOCK=cpu: compare process CPU time instead of wall time (for a loaded machine; use THREADS=1).
CLOCK_FLAG=$([ "${CLOCK:-wall}" = cpu ] && echo --cpu-time || true)
HERE=$(dirname "$0")
PY=${SEGTUNE_PYTHON:-/usr/bin/python3}

field() { echo "$1" | awk -v k="$2" '{for (i = 1; i < NF; i++) if ($i == k) print $(i + 1)}'; }

for model in $MODELS; do
  # ResNet-101 models are slow on 2 cores: fewer repeats.
  r=$REPEAT; case $model in *resnet101) r=$(( REPEAT > 2 ? 2 : REPEAT ));; esac
  for layout in "" "--channels-last"; do
    ours=$("$BUILD/models_bench" "$model" --repeat "$r" --threads "$THREADS" $layout $CLOCK_FLAG)
    peer=$("$PY" "$HERE/models_bench.py" "$model" --repeat "$r" --threads "$THREADS" $layout $CLOCK_FLAG)
    echo "$ours"
    echo "$peer"
    awk -v m="$model${layout:+ cl}" -v of="$(field "$ours" forward_ms)" -v pf="$(field "$peer" forward_ms)" \
        -v ot="$(field "$ours" train_ms)" -v pt="$(field "$peer" train_ms)" -v oi="$(field "$ours" infer_ms)" \
        'BEGIN { printf "ratio %s forward pytorch/segtune %.2f  train pytorch/segtune %.2f  infer pytorch/segtune %.2f\n", m, pf / of, pt / ot, pf / oi }'
  done
done
