#!/bin/bash
# Data-parallel training throughput on this machine: `segtune train` as 1 process x 2 threads vs
# 2 processes x 1 thread (--nproc-per-node 2, c10d/Gloo over loopback), same global batch and steps,
# plus the gradient allreduce time per step not hidden behind backward ("exposed"): once with the
# allreduce after backward (SEGTUNE_DDP_OVERLAP=0, the whole allreduce is exposed) and once overlapped
# with backward (the default: buckets launched from gradient hooks). Throughput = median of metrics.csv images_per_second rows
# (global batch images per second of step compute, every 5 steps) after the first row (warm-up).
#   bench/ddp_bench.sh BUILD_DIR [WORK_DIR] [STEPS] [SIZE] [BATCH]
set -euo pipefail
BUILD=${1:?usage: ddp_bench.sh BUILD_DIR [WORK_DIR] [STEPS] [SIZE] [BATCH]}
WORK=${2:-/tmp/segtune-ddp-bench}
STEPS=${3:-40}
SIZE=${4:-128}
BATCH=${5:-8}
cmake --build "$BUILD" --target ddp_bench_gen segtune_cli >/dev/null
rm -rf "$WORK"
"$BUILD/ddp_bench_gen" "$WORK" 64 "$SIZE" "$BATCH"
echo "machine: $(nproc) cores; $(uptime)"

median_rate() {  # metrics.csv -> median images_per_second after the first row
  /usr/bin/python3 - "$1" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))[1:]
print('%.2f' % statistics.median(float(r['images_per_second']) for r in rows))
PY
}

run() {  # name, threads, train options...
  local name=$1 threads=$2; shift 2
  local start end
  start=$(date +%s.%N)
  "$BUILD/segtune" --threads "$threads" train --pipeline-config "$WORK/pipeline.config" --train-dir "$WORK/$name" \
    --num-steps "$STEPS" "$@" > "$WORK/$name.log" 2>&1
  end=$(date +%s.%N)
  echo "$name: $(median_rate "$WORK/$name/metrics.csv") images/s (wall $(/usr/bin/python3 -c "print('%.1f' % ($end - $start))") s for $STEPS steps incl. start-up)"
}

run single 2
SEGTUNE_DDP_OVERLAP=0 run ddp_after_backward 1 --nproc-per-node 2
run ddp 1 --nproc-per-node 2
one=$(median_rate "$WORK/single/metrics.csv")
two=$(median_rate "$WORK/ddp/metrics.csv")
for name in ddp_after_backward ddp; do
  grep -o "gradient allreduce [0-9.]* ms/step" "$WORK/$name.log" | sed "s/^/$name: exposed /"
done
echo "ratio: $(/usr/bin/python3 -c "print('%.2fx' % ($two / $one))") (2 processes x 1 thread / 1 process x 2 threads, global batch $BATCH, ${SIZE}x${SIZE})"
