#!/bin/bash
# End-to-end `segtune infer` throughput vs the equivalent PyTorch Python loop (bench/infer_bench_peer.py)
# on N generated 512x512 JPEGs in a TFRecord: same weights, threads and batch size, masks and output
# records written by both. The two sides run alternately RUNS times; medians and their ratio are printed.
# segtune runs once per inference engine in ENGINES (default "onednn torch": `segtune infer --engine`).
#   bench/infer_bench.sh BUILD_DIR [WORK_DIR] [N] [THREADS] [RUNS]
set -euo pipefail
BUILD=${1:?usage: infer_bench.sh BUILD_DIR [WORK_DIR] [N] [THREADS] [RUNS]}
WORK=${2:-/tmp/segtune-infer-bench}
N=${3:-64}
THREADS=${4:-2}
RUNS=${5:-3}
read -r -a ENGINE_LIST <<< "${ENGINES:-onednn torch}"
HERE=$(cd "$(dirname "$0")" && pwd)
cmake --build "$BUILD" --target infer_bench_gen segtune_cli >/dev/null
mkdir -p "$WORK"
[ -f "$WORK/test.record" ] || "$BUILD/infer_bench_gen" "$WORK" "$N"
cat "$WORK/test.record" > /dev/null
declare -A cpp_rates
py_rates=()
for run in $(seq "$RUNS"); do
  line="run $run:"
  for engine in "${ENGINE_LIST[@]}"; do
    rm -rf "$WORK/masks-cpp"
    start=$(date +%s.%N)
    "$BUILD/segtune" --quiet --threads "$THREADS" infer --model "$WORK/model" --input "$WORK/test.record" \
      --output "$WORK/inference.record" --discard-image-pixels --masks-dir "$WORK/masks-cpp" --batch-size 4 \
      --engine "$engine" --overwrite >/dev/null
    end=$(date +%s.%N)
    count=$(ls "$WORK/masks-cpp" | wc -l)
    cpp=$(/usr/bin/python3 -c "print('%.2f' % ($count / ($end - $start)))")
    cpp_rates[$engine]="${cpp_rates[$engine]:-} $cpp"
    line="$line segtune infer --engine $engine (wall, incl. model load) $count images = $cpp images/s;"
  done
  rm -rf "$WORK/masks-py"
  py=$(/usr/bin/python3 "$HERE/infer_bench_peer.py" "$WORK/model" "$WORK/test.record" "$WORK/masks-py" \
    --output "$WORK/inference-py.record" --batch-size 4 --threads "$THREADS" --workers "$THREADS")
  pyrate=$(echo "$py" | sed -n 's/.*= \([0-9.]*\) images\/s.*/\1/p')
  echo "$line $py  [$(uptime | sed 's/.*load/load/')]"
  py_rates+=("$pyrate")
done
for engine in "${ENGINE_LIST[@]}"; do
  /usr/bin/python3 - "$engine" "${cpp_rates[$engine]}" "${py_rates[*]}" <<'PY'
import statistics, sys
engine = sys.argv[1]
cpp = [float(x) for x in sys.argv[2].split()]
py = [float(x) for x in sys.argv[3].split()]
c, p = statistics.median(cpp), statistics.median(py)
print("median: segtune infer --engine %s %.2f images/s, python peer %.2f images/s" % (engine, c, p))
print("ratio: %.2fx (segtune infer --engine %s / python peer, medians of %d alternating runs)" % (c / p, engine, len(cpp)))
PY
done
same=$(/usr/bin/python3 - "$WORK/masks-cpp" "$WORK/masks-py" <<'PY'
import os, sys
import numpy as np
from PIL import Image
a, b = sys.argv[1], sys.argv[2]
agree = total = 0
for name in sorted(os.listdir(a))[:16]:
    x = np.asarray(Image.open(os.path.join(a, name))); y = np.asarray(Image.open(os.path.join(b, name)))
    agree += (x == y).sum(); total += x.size
print('%.4f' % (agree / total))
PY
)
echo "mask agreement segtune vs python (first 16 images): $same"
