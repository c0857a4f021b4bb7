#!/bin/bash
# Training throughput of `segtune train` vs the equivalent PyTorch/torchvision Python loop
# (bench/train_bench_peer.py), in the same run: lraspp_mobilenet_v3_large from scratch, batch 8,
# 256x256 crops from the SAME TFRecords (generated 320x320 JPEGs with semantic PNG masks, made by
# segtune synth -> labelbox2coco -> download (file:// URLs) -> coco2tfrecord --semantic-masks), augmentation random horizontal
# flip + random scale 0.75..1.25 + 256x256 crop + color jitter (brightness, contrast, saturation, hue),
# SGD momentum 0.9, weight decay 4e-5, same torch threads and decode workers.
#   bench/train_bench.sh BUILD_DIR [WORK_DIR] [STEPS] [THREADS] [WORKERS]
# Throughput on both sides = images / (data wait + compute) over all steps, where data wait is the time
# blocked on the input pipeline and compute is forward + loss + backward + optimizer step. ROUNDS=N
# (default 3) alternating rounds; the medians are compared.
set -euo pipefail
BUILD=${1:?usage: train_bench.sh BUILD_DIR [WORK_DIR] [STEPS] [THREADS] [WORKERS]}
WORK=${2:-/tmp/segtune-train-bench}
STEPS=${3:-30}
THREADS=${4:-2}
WORKERS=${5:-$THREADS}
BATCH=8
HERE=$(cd "$(dirname "$0")" && pwd)
PY=${SEGTUNE_PYTHON:-/usr/bin/python3}
# SEGTUNE_BENCH_NO_BUILD=1: use the binary as it is; SEGTUNE_BIN: another segtune binary (e.g. a
# copy of the previous build, for before/after runs).
SEGTUNE=${SEGTUNE_BIN:-$BUILD/segtune}
[ "${SEGTUNE_BENCH_NO_BUILD:-0}" = 1 ] || cmake --build "$BUILD" --target segtune_cli >/dev/null
mkdir -p "$WORK"

if [ ! -f "$WORK/train.record" ]; then
  "$SEGTUNE" synth --overwrite --out "$WORK/synth" --num-images 64 --classes bottle,can,box --size 320x320 --seed 7 >/dev/null
  "$SEGTUNE" labelbox2coco --overwrite "$WORK/synth/export.json" -o "$WORK/coco_urls.json" >/dev/null 2>&1
  "$SEGTUNE" download --overwrite --allow-file-urls "$WORK/synth" "$WORK/coco_urls.json" --images-dir "$WORK/images" -o "$WORK/coco.json" >/dev/null 2>&1
  "$SEGTUNE" coco2tfrecord --annotations "$WORK/coco.json" --images-dir "$WORK" \
    -o "$WORK/train.record" --semantic-masks >/dev/null 2>&1
fi
NUM_CLASSES=4  # bottle, can, box + background.

cat > "$WORK/pipeline.config" <<EOF
model { segmentation { architecture: "lraspp_mobilenet_v3_large" num_classes: $NUM_CLASSES } }
train_config {
  batch_size: $BATCH
  num_steps: $STEPS
  seed: 42
  optimizer { momentum_optimizer {
    learning_rate { constant_learning_rate { learning_rate: 0.01 } }
    momentum_optimizer_value: 0.9
    weight_decay: 4e-5
  } }
  data_augmentation_options { random_horizontal_flip { probability: 0.5 } }
  data_augmentation_options { random_scale_crop {
    min_scale_ratio: 0.75 max_scale_ratio: 1.25 crop_height: 256 crop_width: 256 } }
  data_augmentation_options { random_adjust_brightness { max_delta: 0.125 } }
  data_augmentation_options { random_adjust_contrast { min_delta: 0.8 max_delta: 1.2 } }
  data_augmentation_options { random_adjust_saturation { min_delta: 0.8 max_delta: 1.2 } }
  data_augmentation_options { random_adjust_hue { max_delta: 0.02 } }
  checkpoint_every_n_steps: 100000
  image_summary_every_n_steps: 0
  log_every_n_steps: 10
}
train_input_reader {
  tf_record_input_reader { input_path: "train.record" }
  num_workers: $WORKERS
}
EOF

cat "$WORK/train.record" >/dev/null  # Warm the page cache for both sides.
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
field() { echo "$1" | tr ',;()' '    ' | awk -v k="$2" '{for (i = 1; i < NF; i++) if ($i == k) print $(i + 1)}'; }
# ms per step (data wait + compute) of one run's result line.
step_ms() { awk -v s="$STEPS" -v w="$(field "$1" data_wait_s)" -v c="$(field "$1" compute_s)" 'BEGIN { printf "%.1f", 1000 * (w + c) / s }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# ROUNDS rounds (default 3), each running segtune, the channels-last PyTorch loop and the plain one in
# turn, so that a slow spell of the shared machine hits all three alike; the medians are compared.
ROUNDS=${ROUNDS:-3}
ours_ms=() cl_ms=() plain_ms=()
for round in $(seq "$ROUNDS"); do
  rm -rf "$WORK/train-dir"
  ours=$("$SEGTUNE" --threads "$THREADS" train --pipeline-config "$WORK/pipeline.config" --train-dir "$WORK/train-dir" \
    2>/dev/null | grep '^trained')
  # The same loop with the model and batches channels-last, as segtune trains on CPU (a plain PyTorch
  # loop stays NCHW unless told otherwise).
  peer_cl=$("$PY" "$HERE/train_bench_peer.py" "$WORK/train.record" --steps "$STEPS" --batch-size "$BATCH" \
    --threads "$THREADS" --workers "$WORKERS" --num-classes "$NUM_CLASSES" --channels-last)
  peer=$("$PY" "$HERE/train_bench_peer.py" "$WORK/train.record" --steps "$STEPS" --batch-size "$BATCH" \
    --threads "$THREADS" --workers "$WORKERS" --num-classes "$NUM_CLASSES")
  ours_ms+=("$(step_ms "$ours")") cl_ms+=("$(step_ms "$peer_cl")") plain_ms+=("$(step_ms "$peer")")
  echo "round $round: ms per step (data wait + compute): segtune ${ours_ms[-1]}  pytorch channels-last ${cl_ms[-1]}  pytorch ${plain_ms[-1]}"
  echo "  segtune: $ours"
  echo "  channels-last: $peer_cl"
  echo "  plain: $peer"
done
awk -v o="$(median "${ours_ms[@]}")" -v c="$(median "${cl_ms[@]}")" -v p="$(median "${plain_ms[@]}")" -v b="$BATCH" \
    -v r="$ROUNDS" 'BEGIN {
  printf "median of %d rounds, ms per step: segtune %.1f  pytorch channels-last %.1f  pytorch %.1f\n", r, o, c, p
  printf "images/s  segtune %.2f  pytorch channels-last %.2f  pytorch %.2f\n", 1000 * b / o, 1000 * b / c, 1000 * b / p
  printf "ratio segtune/pytorch-channels-last %.2fx (issue 20 target >= 1.4x)  segtune/pytorch %.2fx\n", c / o, p / o }'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
