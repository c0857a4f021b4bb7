#!/usr/bin/env bash
# ONNX Runtime's throughput on an exported graph (issue 20's peer for `segtune infer` images/s): the
# graph run on one 1x3xHxW input N times per worker, either one session with THREADS intra-op threads,
# or WORKERS processes with THREADS/WORKERS threads each running at the same time (whole images on
# separate cores, as `segtune infer` runs them). Images/s = the sum over workers of runs / time, the
# first run of each worker (session warm-up) left out. Bare model: no decode, no outputs written.
# usage: bench/ort_throughput.sh MODEL.onnx INPUT.bin N,C,H,W [RUNS] [THREADS]
#   (bench/export_bench MODEL DIR writes a fixed-size MODEL.onnx and INPUT.bin into DIR)
set -euo pipefail
model=${1:?usage: ort_throughput.sh MODEL.onnx INPUT.bin N,C,H,W [RUNS] [THREADS]}
input=${2:?}; dims=${3:?}; runs=${4:-25}; threads=${5:-$(nproc)}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
rate() {  # The summed images/s of the workers' JSON lines in $@.
  node -e 'let t=0; for (const f of process.argv.slice(1)) { const ms=JSON.parse(require("fs").readFileSync(f)).ms.slice(1); t += ms.length * 1000 / ms.reduce((a,b)=>a+b,0); } console.log(t.toFixed(2))' "$@"
}
for workers in 1 "$threads"; do
  per=$(( threads / workers ))
  for w in $(seq "$workers"); do
    ORT_THREADS=$per node "$here/../tests/export/run_ort.js" "$model" "$input" float32 "$dims" "$work/out$w" "$runs" \
      > "$work/w$w.json" &
  done
  wait
  echo "ONNX Runtime $(basename "$model"): $workers worker(s) x $per thread(s): $(rate "$work"/w*.json) images/s"
  rm -f "$work"/w*.json
  [ "$threads" -gt 1 ] || break
done
