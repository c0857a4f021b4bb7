#!/bin/bash
# coco2tfrecord throughput: segtune vs a straightforward Python converter (PIL + protobuf), on 2,000
# generated 640x480 JPEGs with 5 polygons each, with and without instance masks. Prints the ratios.
#   bench/coco2tfrecord_bench.sh BUILD_DIR [WORK_DIR] [N]
set -euo pipefail
BUILD=${1:?usage: coco2tfrecord_bench.sh BUILD_DIR [WORK_DIR] [N]}
WORK=${2:-/tmp/segtune-coco2tfrecord-bench}
N=${3:-2000}
HERE=$(cd "$(dirname "$0")" && pwd)
# SEGTUNE_BENCH_NO_BUILD=1: use the binaries as they are (e.g. linked by hand while the tree is mid-edit).
[ "${SEGTUNE_BENCH_NO_BUILD:-0}" = 1 ] || cmake --build "$BUILD" --target coco2tfrecord_bench >/dev/null
DRIVER="$BUILD/coco2tfrecord_bench"
[ -f "$WORK/coco.json" ] || "$DRIVER" generate "$WORK" "$N"
cat "$WORK"/images/*.jpg > /dev/null  # Warm the page cache for both sides.
echo "machine: $(nproc) cores, $(uptime | sed 's/.*load/load/')"
# Both sides write ~140 MB; segtune also fsyncs it (AtomicFile) before renaming it into place, the
# peer does not. On a loaded machine that I/O is a large part of the no-masks time.

rate() { sed -n 's/.*= \([0-9.]*\) images\/s.*/\1/p'; }
cpu_rate() { sed -n 's/.*= \([0-9.]*\) images per CPU-second.*/\1/p'; }
ratio() { /usr/bin/python3 -c "print('%.1fx' % ($1 / $2))"; }

for masks in "" "--masks"; do
  cpp=$("$DRIVER" run "$WORK" "$WORK/segtune.record" $masks)
  py=$(/usr/bin/python3 "$HERE/coco2tfrecord_peer.py" "$WORK" "$WORK/python.record" $masks --crc=zlib)
  echo "$cpp"
  echo "$py"
  echo "ratio${masks:+ (masks)}: $(ratio "$(echo "$cpp" | rate)" "$(echo "$py" | rate)") wall (segtune / python peer with C-speed CRC stand-in)," \
       "$(ratio "$(echo "$cpp" | cpu_rate)" "$(echo "$py" | cpu_rate)") per CPU-second"
done
# The peer with a real (pure-Python) CRC32C, on a subset: what a TF-free Python script actually pays.
py_crc=$(/usr/bin/python3 "$HERE/coco2tfrecord_peer.py" "$WORK" "$WORK/python-crc.record" --crc=python --limit 200)
echo "$py_crc"
cpp=$("$DRIVER" run "$WORK" "$WORK/segtune.record")
echo "ratio (no masks, peer with pure-Python CRC32C): $(ratio "$(echo "$cpp" | rate)" "$(echo "$py_crc" | rate)")"
