#!/usr/bin/env bash
# `make demo`: the whole segtune workflow on generated data, printing each command so you can copy it.
#
#   tools/demo.sh [SEGTUNE_BINARY] [WORKDIR]      (defaults: build/segtune, <binary dir>/demo)
#   DEMO_SCALE=small tools/demo.sh ...            a reduced version (used by tests/demo)
#
# Story: a "source" dataset (balls, cups, signs) stands in for a big public dataset; we pre-train on it
# (the stand-in for a model-zoo checkpoint, which would need the network), then fine-tune on a small
# "target" dataset (bottles, cans, boxes) and compare with the same training from scratch.
set -euo pipefail

SEGTUNE=${1:-build/segtune}
case "$SEGTUNE" in /*) ;; *) SEGTUNE="$PWD/$SEGTUNE" ;; esac
WORK=${2:-$(dirname "$SEGTUNE")/demo}
SCALE=${DEMO_SCALE:-full}
MODEL=lraspp_mobilenet_v3_large

if [ "$SCALE" = small ]; then
  SIZE=64x64 INPUT=64 TARGET_TRAIN=16 TARGET_VAL=16 SOURCE_IMAGES=96
  PRETRAIN_STEPS=60 FINETUNE_STEPS=40 BATCH=8
else
  SIZE=128x128 INPUT=128 TARGET_TRAIN=40 TARGET_VAL=80 SOURCE_IMAGES=480
  PRETRAIN_STEPS=600 FINETUNE_STEPS=300 BATCH=8
fi
TARGET_IMAGES=$((TARGET_TRAIN + TARGET_VAL))

# Prints a command as you would type it (segtune instead of the binary's path), then runs it.
quote() {  # Single-quotes a word only when the shell would need it.
  if [[ "$1" =~ ^[A-Za-z0-9_./:=,@%+-]+$ ]]; then printf '%s' "$1"; else printf "'%s'" "${1//\'/\'\\\'\'}"; fi
}
run() {
  local line="+" word first=1
  for word in "$@"; do
    if [ $first = 1 ] && [ "$word" = "$SEGTUNE" ]; then word=segtune; fi
    first=0
    line+=" $(quote "$word")"
  done
  printf '\n%s\n' "$line" >&2
  "$@"
}
step() { printf '\n=== %s\n' "$*" >&2; }
seg() { run "$SEGTUNE" "$@"; }

START=$(date +%s)
echo "segtune demo ($SCALE): segtune is $SEGTUNE; working in $WORK" >&2
rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK"

# ---- 1. Datasets: a labeling tool's export, as a user starts -------------------------------------
prepare_dataset() {  # NAME CLASSES IMAGES SEED VAL_IMAGES
  local name=$1 classes=$2 images=$3 seed=$4 val_images=$5
  local val train
  val=$(awk -v v="$val_images" -v n="$images" 'BEGIN { printf "%.6f", v / n }')
  train=$(awk -v v="$val" 'BEGIN { printf "%.6f", 1 - v }')
  step "dataset '$name': Labelbox export -> COCO -> local images -> checks -> splits -> label map -> TFRecords"
  seg synth --out "$name/labelbox" --images "$images" --classes "$classes" --seed "$seed" --size "$SIZE"
  seg labelbox2coco "$name/labelbox/export.json" -o "$name/coco_urls.json"
  seg download "$name/coco_urls.json" --images-dir "$name/images" -o "$name/coco.json"
  seg validate "$name/coco.json" --images-dir "$name"
  seg split "$name/coco.json" --train "$train" --val "$val" --test 0 --seed "$seed" -o "$name/split"
  seg labelmap "$name/coco.json" -o "$name/label_map.pbtxt"
  for part in train val; do
    seg coco2tfrecord --annotations "$name/split_$part.json" --images "$name" \
      --output "$name/records/$part.record" --shards 2 --semantic-masks
  done
}
prepare_dataset source ball,cup,sign "$SOURCE_IMAGES" 11 "$((SOURCE_IMAGES / 10))"
prepare_dataset target bottle,can,box "$TARGET_IMAGES" 22 "$TARGET_VAL"

# ---- 2. Pre-train on the source set (stands in for a model-zoo checkpoint) ---------------------------
step "pre-train $MODEL on the source set"
seg config init --model "$MODEL" --label-map source/label_map.pbtxt \
  --train 'source/records/train.record-*' --val 'source/records/val.record-*' \
  --num-steps "$PRETRAIN_STEPS" --batch-size "$BATCH" --input-size "$INPUT" -o pretrain/pipeline.config
seg train --pipeline-config pretrain/pipeline.config --train-dir pretrain/train
PRETRAINED=$(ls pretrain/train/ckpt-*.safetensors | tail -1)  # ckpt-<zero-padded step>: the newest sorts last.

# ---- 3. Fine-tune on the small target set, and the same from scratch ---------------------------------
finetune() {  # NAME [CHECKPOINT]
  local name=$1 checkpoint=${2:-}
  step "train '$name' on the target set${checkpoint:+ from $checkpoint}"
  seg config init --model "$MODEL" --label-map target/label_map.pbtxt \
    --train 'target/records/train.record-*' --val 'target/records/val.record-*' \
    --num-steps "$FINETUNE_STEPS" --batch-size "$BATCH" --input-size "$INPUT" \
    ${checkpoint:+--checkpoint "$checkpoint"} -o "$name/pipeline.config"
  seg train --pipeline-config "$name/pipeline.config" --train-dir "$name/train"
  local last
  last=$(ls "$name"/train/ckpt-*.safetensors | tail -1)
  step "export, inspect, infer and evaluate '$name'"
  seg export --pipeline-config "$name/pipeline.config" --checkpoint "$last" --output-dir "$name/exported"
  seg inspect "$name/exported" --logdir "$name/graph"
  seg infer --model "$name/exported" --input 'target/records/val.record-*' --output "$name/inference.record" \
    --overlays-dir "$name/overlays" --masks-dir "$name/masks"
  seg eval --predictions "$name/inference.record" --groundtruth 'target/records/val.record-*' \
    --label-map target/label_map.pbtxt --output "$name/metrics.json"
}
finetune finetuned "$PRETRAINED"
finetune scratch

# ---- 4. The result ---------------------------------------------------------------------------------
miou() { grep -o '"mean_iou": *[0-9.eE+-]*' "$1" | head -1 | sed 's/.*: *//'; }
FT=$(miou finetuned/metrics.json)
SC=$(miou scratch/metrics.json)
cat >&2 <<REPORT

=== result (target validation set, $TARGET_VAL images, $((($(date +%s) - START))) s)
  mIoU fine-tuned from the source pre-training: $FT
  mIoU trained from scratch:                    $SC
where to look:
  overlays:     $WORK/finetuned/overlays/
  TensorBoard:  tensorboard --logdir $WORK   (training curves in */train, model graphs in */graph)
  metrics:      $WORK/finetuned/metrics.json  $WORK/scratch/metrics.json
REPORT
echo "finetuned_miou=$FT scratch_miou=$SC"
