#!/usr/bin/env bash
# Inference latency at 512x512 batch 1 of exported models: segtune (libtorch, BN folded), OpenCV DNN
# and ONNX Runtime (node) against PyTorch eager (Debian python3 + torchvision), in the same run.
# usage: bench/export_bench.sh BUILD_DIR [MODEL...] (default: lraspp_mobilenet_v3_large deeplabv3_mobilenet_v3_large)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:?usage: export_bench.sh BUILD_DIR [MODEL...]}"; shift
models=("${@:-lraspp_mobilenet_v3_large deeplabv3_mobilenet_v3_large}")
[ $# -eq 0 ] && models=(lraspp_mobilenet_v3_large deeplabv3_mobilenet_v3_large)
repeats="${REPEATS:-10}"
cmake --build "$build" --target export_bench -j2 >/dev/null
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
for m in "${models[@]}"; do
  cpp="$("$build/export_bench" "$m" "$work" "$repeats")"
  seg=$(awk '/^segtune_ms/ {print $2}' <<<"$cpp"); ocv=$(awk '/^opencv_ms/ {print $2}' <<<"$cpp")
  ort=$(node "$here/../tests/export/run_ort.js" "$work/$m.onnx" "$work/input.bin" float32 1,3,512,512 "$work/ort" "$((repeats + 1))" |
        node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const ms=JSON.parse(s).ms.slice(1).sort((a,b)=>a-b);console.log(ms[Math.floor(ms.length/2)].toFixed(2))})')
  py=$(/usr/bin/python3 "$here/export_bench_peer.py" "$m" "$repeats" | awk '/^pytorch_ms/ {print $2}')
  awk -v m="$m" -v s="$seg" -v o="$ocv" -v r="$ort" -v p="$py" 'BEGIN {
    printf "%s 512x512 batch 1 (median ms): pytorch eager %.1f | segtune libtorch %.1f (%.2fx) | OpenCV DNN %.1f (%.2fx) | ONNX Runtime %.1f (%.2fx)  [ratio = pytorch / engine]\n",
           m, p, s, p/s, o, p/o, r, p/r }'
done
