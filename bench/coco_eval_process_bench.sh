#!/usr/bin/env bash
# Whole-process COCO evaluation, as a user runs it: `segtune coco-eval` from exec to exit (start-up,
# JSON loading, evaluate, accumulate, summarize, metrics.json) against the peer's whole process
# (python3 start-up, numpy import, loading, the same steps), on 1,000 images x 100 detections x 80
# categories (bench/coco_eval_bench_gen.cpp), bbox and segm.
# Peers, in one run: tests/evaluation/pycocotools_cocoeval_transliteration.py (pycocotools' Python
# line by line, its C mask functions in Python too, so slower than pycocotools, most for segm) and
# real pycocotools when python3 can import it (not installable here: no Debian package).
# segtune: median of 5 runs; each peer: one run. The 12 stats must agree (max |difference| printed).
#   bench/coco_eval_process_bench.sh BUILD_DIR [WORK_DIR] [IMAGES]
set -euo pipefail
BUILD=${1:?usage: coco_eval_process_bench.sh BUILD_DIR [WORK_DIR] [IMAGES]}
WORK=${2:-/tmp/segtune-coco-process-bench}
IMAGES=${3:-1000}
SRC=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
cmake --build "$BUILD" -j2 --target coco_eval_bench_gen segtune_cli >/dev/null
mkdir -p "$WORK"
[ -f "$WORK/gt.json" ] && [ "$(cat "$WORK/images" 2>/dev/null)" = "$IMAGES" ] || {
  "$BUILD/coco_eval_bench_gen" "$WORK" "$IMAGES"
  echo "$IMAGES" > "$WORK/images"
}
echo "machine: $(nproc) cores, $(uptime | sed 's/.*load/load/'); $IMAGES images"
wall() { local t0; t0=$(date +%s.%N); "$@" > /dev/null; echo "$(date +%s.%N) - $t0" | bc -l; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
have_pycocotools=$($PY -c "import pycocotools" 2>/dev/null && echo 1 || echo 0)
for type in bbox segm; do
  runs=()
  for _ in 1 2 3 4 5; do
    runs+=("$(wall "$BUILD/segtune" --quiet coco-eval --overwrite --groundtruth "$WORK/gt.json" --predictions "$WORK/dt_$type.json" \
               --type "$type" -o "$WORK/metrics_$type.json")")
  done
  ours=$(median "${runs[@]}")
  peer=$(wall $PY "$SRC/tests/evaluation/pycocotools_cocoeval_transliteration.py" "$WORK/gt.json" \
         "$WORK/dt_$type.json" "$WORK/peer_$type.json" --type "$type")
  diff=$($PY -c "import json,sys; a=json.load(open(sys.argv[1]))['stats_list']; b=json.load(open(sys.argv[2]))['stats']; print('%.1e' % max(abs(x-y) for x,y in zip(a,b)))" \
         "$WORK/metrics_$type.json" "$WORK/peer_$type.json")
  printf '%s: segtune %.2f s (median of 5); transliteration %.2f s; ratio %.1fx; max |stat difference| %s\n' \
    "$type" "$ours" "$peer" "$(echo "$peer / $ours" | bc -l)" "$diff"
  if [ "$have_pycocotools" = 1 ]; then
    real=$(wall $PY -c "
import sys
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
gt = COCO(sys.argv[1]); dt = gt.loadRes(sys.argv[2]); e = COCOeval(gt, dt, sys.argv[3])
e.evaluate(); e.accumulate(); e.summarize()" "$WORK/gt.json" "$WORK/dt_$type.json" "$type")
    printf '%s: pycocotools %.2f s; ratio %.1fx\n' "$type" "$real" "$(echo "$real / $ours" | bc -l)"
  else
    echo "$type: pycocotools: not importable by $PY (no Debian package); not measured"
  fi
done
