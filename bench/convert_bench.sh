#!/bin/bash
# segtune convert throughput (issue 21): 5,000 generated 96x64 JPEGs with 3 polygons and 1 box each,
# as a YOLO dataset, as a semantic mask folder (class-index PNGs) and as a CVAT XML task export
# (plus one <mask> per image), converted
#   - to COCO: `segtune convert --to coco` against convert_peer.py (PyYAML/json + PIL sizes; numpy RLE
#     for masks), and
#   - to TFRecord with instance masks: `segtune coco2tfrecord --from FORMAT --include-masks` (one
#     step) against convert_peer.py + coco2tfrecord_peer.py --masks (polygons drawn with PIL, RLE
#     masks decoded with numpy, each instance a PNG, on both sides).
# Each side is timed twice: whole process (wall, start-up included) and the conversion alone. Both
# sides time the conversion themselves, after start-up: segtune's `-v` line "read and written in X s"
# (timed around the library call, after the process start and the data plugin's loading), the
# Python peers' own line after their imports. The start-up printed is the whole run minus that.
# Every figure is the best of three runs (a shared machine: the minimum is the least disturbed run).
# Conversion to COCO copies no image bytes; the TFRecord leg embeds them (both sides).
#   bench/convert_bench.sh BUILD_DIR [WORK_DIR] [N]
set -euo pipefail
BUILD=${1:?usage: convert_bench.sh BUILD_DIR [WORK_DIR] [N]}
WORK=${2:-/tmp/segtune-convert-bench}
N=${3:-5000}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
SEGTUNE="$BUILD/segtune"
# SEGTUNE_BENCH_NO_BUILD=1: use the binaries as they are.
[ "${SEGTUNE_BENCH_NO_BUILD:-0}" = 1 ] || cmake --build "$BUILD" -j2 --target segtune_cli segtune_plugin >/dev/null
if [ "$(cat "$WORK/n" 2>/dev/null)" != "$N" ]; then
  rm -rf "$WORK" && mkdir -p "$WORK"
  $PY "$HERE/convert_bench_gen.py" "$WORK/in" "$N"
  echo "$N" > "$WORK/n"
fi
cat "$WORK"/in/yolo/images/*/*.jpg "$WORK"/in/masks/masks/*/*.png "$WORK"/in/cvat/annotations.xml > /dev/null  # Warm the page cache for both sides.
echo "machine: $(nproc) cores, $(uptime | sed 's/.*load/load/')"

now() { date +%s.%N; }
rate() { $PY -c "import sys; print('%.0f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$1" "$2"; }
ratio() { $PY -c "import sys; print('%.1fx' % (float(sys.argv[2]) / float(sys.argv[1])))" "$1" "$2"; }

# Best of three: the Python peer's own timing line ("... in X s ...") and the wall time of its run(s).
peer_best_of_3() {
  local best_own=999 best_wall=999 a own wall
  for _ in 1 2 3; do
    a=$(now)
    own=$("$@" | sed -n 's/.* in \([0-9.]*\) s = .*/\1/p' | paste -sd+ | bc -l)
    wall=$($PY -c "import sys; print(float(sys.argv[1]) - float(sys.argv[2]))" "$(now)" "$a")
    best_own=$($PY -c "import sys; print(min(map(float, sys.argv[1:])))" "$best_own" "$own")
    best_wall=$($PY -c "import sys; print(min(map(float, sys.argv[1:])))" "$best_wall" "$wall")
  done
  echo "$best_own $best_wall"
}
# Best of three: segtune's own "read and written in X s" (-v) and the wall time of its run.
segtune_best_of_3() {
  local best_own=999 best_wall=999 a own wall
  for _ in 1 2 3; do
    a=$(now)
    own=$("$SEGTUNE" -v "$@" 2>&1 >/dev/null | sed -n 's/.* read and written in \([0-9.]*\) s$/\1/p')
    wall=$($PY -c "import sys; print(float(sys.argv[1]) - float(sys.argv[2]))" "$(now)" "$a")
    [ -n "$own" ] || { echo "segtune $*: no timing line" >&2; exit 1; }
    best_own=$($PY -c "import sys; print(min(map(float, sys.argv[1:])))" "$best_own" "$own")
    best_wall=$($PY -c "import sys; print(min(map(float, sys.argv[1:])))" "$best_wall" "$wall")
  done
  echo "$best_own $best_wall"
}
sub() { $PY -c "import sys; print('%.3f' % (float(sys.argv[1]) - float(sys.argv[2])))" "$1" "$2"; }
line() {  # FORMAT TARGET SEGTUNE_OWN SEGTUNE_WALL PY_OWN PY_WALL NOTE
  local s_conv s_start p_start
  s_conv=$3; s_start=$(sub "$4" "$3"); p_start=$(sub "$6" "$5")
  printf '%-5s -> %-8s conversion: segtune %.3f s = %6s images/s | python %.3f s = %5s images/s | ratio %s\n' "$1" "$2" \
    "$s_conv" "$(rate "$N" "$s_conv")" "$5" "$(rate "$N" "$5")" "$(ratio "$s_conv" "$5")"
  printf '%-5s -> %-8s whole run:  segtune %.3f s (start-up %.3f s) | python %.3f s (start-up %.3f s) | ratio %s%s\n' "$1" "$2" \
    "$4" "$s_start" "$6" "$p_start" "$(ratio "$4" "$6")" "$7"
}

for format in yolo masks cvat; do
  in="$WORK/in/$format"
  out="$WORK/out-$format"
  rm -rf "$out" "$WORK/peer-$format" && mkdir -p "$out"
  note=' (with instance masks)'

  # To COCO.
  read -r s_coco s_coco_wall < <(segtune_best_of_3 convert --from "$format" --to coco "$in" -o "$out/coco.json" --overwrite)
  read -r p_coco p_coco_wall < <(peer_best_of_3 $PY "$HERE/convert_peer.py" "$format" "$in" "$WORK/peer-$format")
  line "$format" coco "$s_coco" "$s_coco_wall" "$p_coco" "$p_coco_wall" ""

  # To TFRecord: segtune in one step; Python converts to COCO, then writes the records.
  read -r s_tf s_tf_wall < <(segtune_best_of_3 coco2tfrecord --from "$format" --annotations "$in" \
                             -o "$out/train.record" --include-masks --overwrite)
  both_peers() {
    $PY "$HERE/convert_peer.py" "$format" "$in" "$WORK/peer-$format"
    $PY "$HERE/coco2tfrecord_peer.py" "$WORK/peer-$format" "$WORK/peer-$format/train.record" --masks --crc=zlib
  }
  read -r p_tf p_tf_wall < <(peer_best_of_3 both_peers)
  line "$format" tfrecord "$s_tf" "$s_tf_wall" "$p_tf" "$p_tf_wall" "$note"
done
