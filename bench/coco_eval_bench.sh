#!/usr/bin/env bash
# COCO evaluation benchmark: segtune coco-eval on 5,000 images x 80 categories x 100 detections per
# image (bbox and segm), against a named peer: tests/evaluation/pycocotools_cocoeval_transliteration.py,
# a line-by-line transliteration of pycocotools' cocoeval.py in pure Python/numpy (bbox only; real
# pycocotools computes box IoU in C, so the true ratio against it is somewhat lower), run on the
# first 500 images because it is slow.
#   bench/coco_eval_bench.sh BUILD_DIR [WORK_DIR] [IMAGES]
set -euo pipefail
BUILD=${1:?usage: coco_eval_bench.sh BUILD_DIR [WORK_DIR] [IMAGES]}
WORK=${2:-/tmp/segtune-coco-bench}
IMAGES=${3:-5000}
PEER_IMAGES=500
SRC=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
cmake --build "$BUILD" -j2 --target coco_eval_bench_gen segtune_cli >/dev/null
mkdir -p "$WORK"
[ -f "$WORK/gt.json" ] && [ "$(cat "$WORK/images" 2>/dev/null)" = "$IMAGES" ] || {
  "$BUILD/coco_eval_bench_gen" "$WORK" "$IMAGES"
  echo "$IMAGES" > "$WORK/images"
}
now() { date +%s.%N; }
declare -A SEG
for type in bbox segm; do
  t0=$(now)
  "$BUILD/segtune" --quiet coco-eval --gt "$WORK/gt.json" --dt "$WORK/dt_$type.json" --type "$type" \
    -o "$WORK/metrics_$type.json" > "$WORK/summary_$type.txt"
  t1=$(now)
  wall=$(echo "$t1 - $t0" | bc -l)
  eval_s=$($PY -c "import json;print(json.load(open('$WORK/metrics_$type.json'))['seconds'])")
  SEG[$type]=$eval_s
  printf 'segtune coco-eval %s: %d images in %.2f s wall incl. JSON loading (%.0f images/s); evaluate+accumulate %.3f s (%.0f images/s)\n' \
    "$type" "$IMAGES" "$wall" "$(echo "$IMAGES / $wall" | bc -l)" "$eval_s" "$(echo "$IMAGES / $eval_s" | bc -l)"
  head -1 "$WORK/summary_$type.txt"
done
# Peer on the first 500 images (bbox): evaluate+accumulate+summarize time, loading excluded.
$PY "$SRC/tests/evaluation/pycocotools_cocoeval_transliteration.py" "$WORK/gt.json" "$WORK/dt_bbox.json" \
  "$WORK/peer_bbox.json" --max-images $PEER_IMAGES
peer_s=$($PY -c "import json;print(json.load(open('$WORK/peer_bbox.json'))['seconds'])")
peer_rate=$(echo "$PEER_IMAGES / $peer_s" | bc -l)
ours_rate=$(echo "$IMAGES / ${SEG[bbox]}" | bc -l)
printf 'peer (pycocotools transliteration, pure Python/numpy) bbox: %d images in %.2f s (%.1f images/s)\n' \
  $PEER_IMAGES "$peer_s" "$peer_rate"
printf 'ratio bbox (segtune evaluate+accumulate vs peer evaluate+accumulate+summarize): %.0fx\n' \
  "$(echo "$ours_rate / $peer_rate" | bc -l)"
