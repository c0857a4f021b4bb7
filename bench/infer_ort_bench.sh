#!/bin/bash
# Issue 20's images/s point: the whole `segtune infer` run (from process start: plugin and model loading
# included) against ONNX Runtime running the same model's exported graph on its own (forward + argmax,
# the better of 1 session x THREADS threads and THREADS sessions x 1 thread), counted two ways:
#   - warm: bench/ort_throughput.sh, its start-up (node, session creation, first run) left out;
#   - whole: N runs from process start to exit (node, session creation included), as segtune is timed.
# N generated 512x512 JPEG records; the sides alternate RUNS times and the medians are compared.
#   bench/infer_ort_bench.sh BUILD_DIR [MODEL] [WORK_DIR] [N] [THREADS] [RUNS]
set -euo pipefail
BUILD=${1:?usage: infer_ort_bench.sh BUILD_DIR [MODEL] [WORK_DIR] [N] [THREADS] [RUNS]}
MODEL=${2:-deeplabv3_mobilenet_v3_large}
WORK=${3:-/tmp/segtune-infer-ort-bench-$MODEL}
N=${4:-48}
THREADS=${5:-2}
RUNS=${6:-5}
HERE=$(cd "$(dirname "$0")" && pwd)
cmake --build "$BUILD" --target infer_bench_gen export_bench segtune_cli >/dev/null
mkdir -p "$WORK"
[ -f "$WORK/test.record" ] || "$BUILD/infer_bench_gen" "$WORK" "$N" "$MODEL" >/dev/null
[ -f "$WORK/$MODEL.onnx" ] || "$BUILD/export_bench" "$MODEL" "$WORK" 1 "$THREADS" >/dev/null
# ONNX Runtime's whole run: N images over WORKERS processes of THREADS/WORKERS threads; images/s.
ort_whole() {
  local workers=$1 per=$(( THREADS / $1 )) start end w
  start=$(date +%s.%N)
  for w in $(seq "$workers"); do
    ORT_THREADS=$per node "$HERE/../tests/export/run_ort.js" "$WORK/$MODEL.onnx" "$WORK/input.bin" float32 1,3,512,512 \
      "$WORK/ort$w" $(( N / workers )) >/dev/null &
  done
  wait
  end=$(date +%s.%N)
  /usr/bin/python3 -c "print('%.2f' % ($N / ($end - $start)))"
}
segtune_rates=() ort_rates=() ort_whole_rates=()
for run in $(seq "$RUNS"); do
  rm -rf "$WORK/masks"
  start=$(date +%s.%N)
  "$BUILD/segtune" --quiet --threads "$THREADS" infer --model "$WORK/model" --input "$WORK/test.record" \
    --output "$WORK/inference.record" --discard-image-pixels --masks-dir "$WORK/masks" --batch-size 4 --overwrite >/dev/null
  end=$(date +%s.%N)
  count=$(ls "$WORK/masks" | wc -l)
  s=$(/usr/bin/python3 -c "print('%.2f' % ($count / ($end - $start)))")
  o=$(bash "$HERE/ort_throughput.sh" "$WORK/$MODEL.onnx" "$WORK/input.bin" 1,3,512,512 25 "$THREADS" |
      sed -n 's/.*: \([0-9.]*\) images\/s$/\1/p' | sort -g | tail -1)
  ow=$(printf '%s\n' "$(ort_whole 1)" "$(ort_whole "$THREADS")" | sort -g | tail -1)
  echo "run $run: segtune infer (whole run) $count images = $s images/s; ONNX Runtime (best mode) warm $o, whole run $ow images/s  [$(uptime | sed 's/.*load/load/')]"
  segtune_rates+=("$s"); ort_rates+=("$o"); ort_whole_rates+=("$ow")
done
/usr/bin/python3 - "${segtune_rates[*]}" "${ort_rates[*]}" "${ort_whole_rates[*]}" "$MODEL" <<'PY'
import statistics, sys
s, o, w = ([float(x) for x in a.split()] for a in sys.argv[1:4])
ms, mo, mw = statistics.median(s), statistics.median(o), statistics.median(w)
print("median (%s): segtune infer %.2f images/s; ONNX Runtime warm %.2f, whole run %.2f images/s" % (sys.argv[4], ms, mo, mw))
for name, peer, m in (("warm, start-up left out", o, mo), ("whole run", w, mw)):
    print("ratio: %.2fx against ONNX Runtime %s (medians of %d alternating runs; per run %s)"
          % (ms / m, name, len(s), ", ".join("%.2f" % (a / b) for a, b in zip(s, peer))))
PY
