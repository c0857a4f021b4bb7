#!/bin/bash
# segtune's CPU NMS (5,000 boxes) and RoIAlign forward+backward (512 RoIs, 7x7, on 256x50x68)
# against torchvision.ops in the same run, same inputs and timing protocol (median of R runs).
# Prints both timings and the ratio torchvision / segtune (> 1: segtune faster).
#   bench/detection_ops_bench.sh BUILD_DIR [THREADS] [REPEATS]
set -euo pipefail
BUILD=${1:?usage: detection_ops_bench.sh BUILD_DIR [THREADS] [REPEATS]}
THREADS=${2:-1}
REPEATS=${3:-20}
HERE=$(cd "$(dirname "$0")" && pwd)
cmake --build "$BUILD" --target detection_ops_bench >/dev/null
uptime
cpp=$("$BUILD/detection_ops_bench" --threads "$THREADS" --repeats "$REPEATS")
py=$(/usr/bin/python3 "$HERE/detection_ops_bench.py" --threads "$THREADS" --repeats "$REPEATS")
echo "segtune ($THREADS threads):"; echo "$cpp"
echo "torchvision ($THREADS threads):"; echo "$py"
ms() { echo "$1" | grep "^$2" | sed 's/.*: \([0-9.]*\) ms/\1/'; }
for op in nms roi_align; do
  echo "$op ratio torchvision/segtune: $(/usr/bin/python3 -c "print('%.2fx' % ($(ms "$py" $op) / $(ms "$cpp" $op)))")"
done
