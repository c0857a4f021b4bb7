#!/bin/bash
# segtune convert throughput (issue 21): 5,000 generated 96x64 JPEGs with 3 polygons and 1 box each,
# as a YOLO dataset, as a semantic mask folder (class-index PNGs) and as a CVAT XML task export
# (plus one <mask> per image), converted
#   - to COCO: `segtune convert --to coco` against convert_peer.py (PyYAML/json + PIL sizes; numpy RLE
#     for masks), and
#   - to TFRecord: `segtune convert --to coco` + `segtune coco2tfrecord` against convert_peer.py +
#     coco2tfrecord_peer.py (instance masks from the YOLO polygons on both sides; boxes only from the
#     mask folder, since the Python peer cannot rasterize RLE).
# Prints images/s of each and the ratio (python time / segtune time). Conversion to COCO copies no
# image bytes; the TFRecord leg embeds them (both sides). segtune's wall times include its start-up
# (loading the plugin: LibTorch, OpenCV), which at this size is most of it, so the COCO leg is also
# shown without it (start-up measured on a one-image input); the Python peer times itself after its
# imports. The COCO step is the best of three runs on each side (a shared machine); the coco2tfrecord
# step is run once.
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
  $PY "$HERE/convert_bench_gen.py" "$WORK/in1" 1  # One image: segtune's start-up cost (loading the plugin).
  echo "$N" > "$WORK/n"
fi
cat "$WORK"/in/yolo/images/*/*.jpg "$WORK"/in/masks/masks/*/*.png "$WORK"/in/cvat/annotations.xml > /dev/null  # Warm the page cache for both sides.
echo "machine: $(nproc) cores, $(uptime | sed 's/.*load/load/')"

now() { date +%s.%N; }
# Seconds of the fastest of three runs of a command (the machine is shared: the minimum is the least
# disturbed run).
best_of_3() {
  local best=999 a
  for _ in 1 2 3; do
    a=$(now)
    "$@" > /dev/null
    best=$($PY -c "import sys; print(min(float(sys.argv[1]), float(sys.argv[2]) - float(sys.argv[3])))" "$best" "$(now)" "$a")
  done
  echo "$best"
}
rate() { $PY -c "import sys; print('%.0f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$1" "$2"; }
ratio() { $PY -c "import sys; print('%.1fx' % (float(sys.argv[2]) / float(sys.argv[1])))" "$1" "$2"; }

for format in yolo masks cvat; do
  in="$WORK/in/$format"
  out="$WORK/out-$format"
  rm -rf "$out" "$WORK/peer-$format" && mkdir -p "$out"
  masks_flag=$([ "$format" != masks ] && echo --include-masks || true)
  peer_masks=$([ "$format" = yolo ] && echo --masks || true)

  # Start-up: the best of three one-image conversions (the plugin loads LibTorch and OpenCV).
  startup=$(best_of_3 "$SEGTUNE" --quiet convert --from "$format" --to coco "$WORK/in1/$format" -o "$out/one.json" --overwrite)
  s_coco=$(best_of_3 "$SEGTUNE" --quiet convert --from "$format" --to coco "$in" -o "$out/coco.json" --overwrite)
  # The peer's own timing (after its imports), best of three.
  p_coco=999
  for _ in 1 2 3; do
    t=$($PY "$HERE/convert_peer.py" "$format" "$in" "$WORK/peer-$format" | sed -n 's/.* in \([0-9.]*\) s = .*/\1/p')
    p_coco=$($PY -c "import sys; print(min(float(sys.argv[1]), float(sys.argv[2])))" "$p_coco" "$t")
  done
  # TFRecord: one run each of the second step, added to the best COCO step.
  t0=$(now)
  images_dir=$([ "$format" = cvat ] && echo "$in/images" || echo "$in")  # CVAT names images relative to images/.
  "$SEGTUNE" --quiet coco2tfrecord --annotations "$out/coco.json" --images-dir "$images_dir" -o "$out/train.record" $masks_flag > /dev/null
  t1=$(now)
  $PY "$HERE/coco2tfrecord_peer.py" "$WORK/peer-$format" "$WORK/peer-$format/train.record" $peer_masks --crc=zlib > /dev/null
  t2=$(now)
  s_tf=$(echo "$s_coco + $t1 - $t0" | bc -l); p_tf=$(echo "$p_coco + $t2 - $t1" | bc -l)
  printf '%-5s -> coco:     segtune %6.2f s = %6s images/s | python %6.2f s = %6s images/s | ratio %s\n' "$format" \
    "$s_coco" "$(rate "$N" "$s_coco")" "$p_coco" "$(rate "$N" "$p_coco")" "$(ratio "$s_coco" "$p_coco")"
  c_coco=$(echo "$s_coco - $startup" | bc -l)
  printf '%-5s -> coco, excluding segtune start-up (%.2f s): segtune %.2f s = %s images/s | ratio %s\n' "$format" \
    "$startup" "$c_coco" "$(rate "$N" "$c_coco")" "$(ratio "$c_coco" "$p_coco")"
  printf '%-5s -> tfrecord: segtune %6.2f s = %6s images/s | python %6.2f s = %6s images/s | ratio %s%s\n' "$format" \
    "$s_tf" "$(rate "$N" "$s_tf")" "$p_tf" "$(rate "$N" "$p_tf")" "$(ratio "$s_tf" "$p_tf")" \
    "$([ "$format" = yolo ] && echo ' (with instance masks)' || echo ' (boxes on the python side)')"
done
