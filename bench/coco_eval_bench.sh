#!/usr/bin/env bash
# COCO evaluation benchmark: segtune coco-eval on 5,000 images x 80 categories x 100 detections per
# image (bbox and segm), against a named peer: tests/evaluation/pycocotools_cocoeval_transliteration.py,
# a line-by-line transliteration of pycocotools' coco.py/cocoeval.py in Python/numpy (pycocotools itself
# cannot be installed here). Caveat: real pycocotools computes IoUs (bbIou, rleIou) in C, the
# transliteration in Python, so the peer is slower than pycocotools, much more so for segm than for
# bbox; the ratios below are against the transliteration, not against pycocotools.
# The peer runs on a subset (the first PEER_BBOX / PEER_SEGM images, cut into their own files); segtune
# is timed on the full set and on the same subset, and the subset's 12 numbers are compared.
# Times are evaluate+accumulate (+summarize for the peer), JSON loading excluded on both sides.
#   bench/coco_eval_bench.sh BUILD_DIR [WORK_DIR] [IMAGES] [PEER_BBOX] [PEER_SEGM]
set -euo pipefail
BUILD=${1:?usage: coco_eval_bench.sh BUILD_DIR [WORK_DIR] [IMAGES] [PEER_BBOX] [PEER_SEGM]}
WORK=${2:-/tmp/segtune-coco-bench}
IMAGES=${3:-5000}
declare -A PEER=([bbox]=${4:-500} [segm]=${5:-50})
SRC=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
# SEGTUNE_BENCH_NO_BUILD=1: use the binaries as they are (e.g. linked by hand while the tree is mid-edit).
[ "${SEGTUNE_BENCH_NO_BUILD:-0}" = 1 ] || cmake --build "$BUILD" -j2 --target coco_eval_bench_gen segtune_cli >/dev/null
mkdir -p "$WORK"
[ -f "$WORK/gt.json" ] && [ "$(cat "$WORK/images" 2>/dev/null)" = "$IMAGES" ] || {
  "$BUILD/coco_eval_bench_gen" "$WORK" "$IMAGES"
  echo "$IMAGES" > "$WORK/images"
  rm -f "$WORK"/sub_*.json
}
echo "machine: $(nproc) cores, $(uptime | sed 's/.*load/load/')"
seconds_of() { $PY -c "import json,sys;print(json.load(open(sys.argv[1]))['seconds'])" "$1"; }
rate() { $PY -c "import sys;print('%.0f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$1" "$2"; }

for type in bbox segm; do
  n=${PEER[$type]}
  # The peer's subset: the first n images (sorted by id) with their gt and detections.
  [ -f "$WORK/sub_${type}_$n.gt.json" ] || $PY - "$WORK" "$type" "$n" <<'PYEOF'
import json, sys
work, kind, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
gt = json.load(open(f"{work}/gt.json"))
keep = set(sorted(im["id"] for im in gt["images"])[:n])
gt["images"] = [im for im in gt["images"] if im["id"] in keep]
gt["annotations"] = [a for a in gt["annotations"] if a["image_id"] in keep]
json.dump(gt, open(f"{work}/sub_{kind}_{n}.gt.json", "w"))
dt = [d for d in json.load(open(f"{work}/dt_{kind}.json")) if d["image_id"] in keep]
json.dump(dt, open(f"{work}/sub_{kind}_{n}.dt.json", "w"))
PYEOF
  t0=$(date +%s.%N)
  "$BUILD/segtune" --quiet coco-eval --overwrite --groundtruth "$WORK/gt.json" --predictions "$WORK/dt_$type.json" --type "$type" \
    -o "$WORK/metrics_$type.json" > "$WORK/summary_$type.txt"
  wall=$(echo "$(date +%s.%N) - $t0" | bc -l)
  full_s=$(seconds_of "$WORK/metrics_$type.json")
  printf 'segtune coco-eval %s: %d images, %.2f s wall incl. JSON loading (%s images/s); evaluate+accumulate %.3f s = %s images/s\n' \
    "$type" "$IMAGES" "$wall" "$(rate "$IMAGES" "$wall")" "$full_s" "$(rate "$IMAGES" "$full_s")"
  head -1 "$WORK/summary_$type.txt"

  "$BUILD/segtune" --quiet coco-eval --overwrite --groundtruth "$WORK/sub_${type}_$n.gt.json" --predictions "$WORK/sub_${type}_$n.dt.json" \
    --type "$type" -o "$WORK/metrics_sub_$type.json" > /dev/null
  sub_s=$(seconds_of "$WORK/metrics_sub_$type.json")
  $PY "$SRC/tests/evaluation/pycocotools_cocoeval_transliteration.py" "$WORK/sub_${type}_$n.gt.json" \
    "$WORK/sub_${type}_$n.dt.json" "$WORK/peer_$type.json" --type "$type"
  peer_s=$(seconds_of "$WORK/peer_$type.json")
  maxdiff=$($PY -c "import json,sys; a=json.load(open(sys.argv[1]))['stats_list']; b=json.load(open(sys.argv[2]))['stats']; print('%.1e' % max(abs(x-y) for x,y in zip(a,b)))" \
    "$WORK/metrics_sub_$type.json" "$WORK/peer_$type.json")
  printf 'peer (pycocotools transliteration, Python/numpy IoU) %s: %d images in %.2f s = %.2f images/s; segtune on the same %d images: %.3f s; max |stat difference| %s\n' \
    "$type" "$n" "$peer_s" "$(echo "$n / $peer_s" | bc -l)" "$n" "$sub_s" "$maxdiff"
  printf 'ratio %s (segtune images/s on %d images vs transliteration images/s on %d): %sx\n' "$type" "$IMAGES" "$n" \
    "$($PY -c "import sys;print('%.0f' % ((float(sys.argv[1])/float(sys.argv[2])) / (float(sys.argv[3])/float(sys.argv[4]))))" "$IMAGES" "$full_s" "$n" "$peer_s")"
done
