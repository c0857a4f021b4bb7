#!/bin/sh
# segtune vs torchvision detection models: eval inference latency (2 images, detections with
# post-processing, 100 per image) and one SGD train step (FrozenBatchNorm2d, 3 trainable backbone
# stages, RPN + RoI losses; masks for Mask R-CNN), same weights and inputs, same threads, in the same
# run. Prints the ratio torchvision / segtune (> 1 means segtune is faster).
# Usage: bench/detection_bench.sh BUILD_DIR [REPEAT] [SIZE] [MODELS...]
#   e.g. cmake --build build --target detection_bench && bench/detection_bench.sh build 5 320
set -eu
BUILD=${1:?usage: detection_bench.sh BUILD_DIR [REPEAT] [SIZE] [MODELS...]}
REPEAT=${2:-5}
SIZE=${3:-320}
shift $(( $# >= 3 ? 3 : $# ))
MODELS=${*:-"fasterrcnn_mobilenet_v3_large_320_fpn fasterrcnn_mobilenet_v3_large_fpn fasterrcnn_resnet50_fpn maskrcnn_resnet50_fpn"}
THREADS=${THREADS:-$(nproc)}
HERE=$(dirname "$0")
PY=${SEGTUNE_PYTHON:-/usr/bin/python3}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/detection-bench-XXXXXX")
trap 'rm -rf "$WORK"' EXIT

field() { echo "$1" | awk -v k="$2" '{for (i = 1; i < NF; i++) if ($i == k) print $(i + 1)}'; }

for model in $MODELS; do
  peer=$("$PY" "$HERE/detection_bench.py" "$model" --size "$SIZE" --repeat "$REPEAT" --threads "$THREADS" --save "$WORK" 2>/dev/null)
  ours=$("$BUILD/detection_bench" "$model" "$WORK" --size "$SIZE" --repeat "$REPEAT" --threads "$THREADS")
  echo "$ours"
  echo "$peer"
  awk -v m="$model" -v oi="$(field "$ours" infer_ms)" -v pi="$(field "$peer" infer_ms)" \
      -v ot="$(field "$ours" train_ms)" -v pt="$(field "$peer" train_ms)" -v oe="$(field "$ours" engine_infer_ms)" \
      'BEGIN { printf "ratio %s infer torchvision/segtune %.2f (prepared, oneDNN engine: %.2f)  train torchvision/segtune %.2f\n", m, pi / oi, pi / oe, pt / ot }'
  rm -f "$WORK/$model.pth" "$WORK/$model.inputs.pt"
done
