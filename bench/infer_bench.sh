#!/bin/bash
# End-to-end `segtune infer` throughput vs the equivalent PyTorch Python loop (bench/infer_bench_peer.py)
# on N generated 512x512 JPEGs in a TFRecord, masks written, same weights, same threads and batch size.
#   bench/infer_bench.sh BUILD_DIR [WORK_DIR] [N] [THREADS]
set -euo pipefail
BUILD=${1:?usage: infer_bench.sh BUILD_DIR [WORK_DIR] [N] [THREADS]}
WORK=${2:-/tmp/segtune-infer-bench}
N=${3:-64}
THREADS=${4:-2}
HERE=$(cd "$(dirname "$0")" && pwd)
cmake --build "$BUILD" --target infer_bench_gen segtune_cli >/dev/null
mkdir -p "$WORK"
[ -f "$WORK/test.record" ] || "$BUILD/infer_bench_gen" "$WORK" "$N"
cat "$WORK/test.record" > /dev/null
rm -rf "$WORK/masks-cpp" "$WORK/masks-py"
start=$(date +%s.%N)
"$BUILD/segtune" --threads "$THREADS" infer --model "$WORK/model" --input "$WORK/test.record" \
  --output "$WORK/inference.record" --discard-image-pixels --masks-dir "$WORK/masks-cpp" --batch-size 4
end=$(date +%s.%N)
count=$(ls "$WORK/masks-cpp" | wc -l)
cpp=$(/usr/bin/python3 -c "print('%.2f' % ($count / ($end - $start)))")
echo "segtune infer (wall, incl. model load): $count images = $cpp images/s"
py=$(/usr/bin/python3 "$HERE/infer_bench_peer.py" "$WORK/model" "$WORK/test.record" "$WORK/masks-py" \
  --batch-size 4 --threads "$THREADS")
echo "$py"
pyrate=$(echo "$py" | sed -n 's/.*= \([0-9.]*\) images\/s.*/\1/p')
echo "ratio: $(/usr/bin/python3 -c "print('%.2fx' % ($cpp / $pyrate))") (segtune infer / python peer)"
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
