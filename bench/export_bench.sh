#!/usr/bin/env bash
# Inference latency at 512x512 batch 1 of exported models: segtune (BN folded, channels-last) with
# LibTorch throughout and with its oneDNN kernels, OpenCV DNN and ONNX Runtime (node) against PyTorch
# eager (Debian python3 + torchvision), in the same run.
# usage: bench/export_bench.sh BUILD_DIR [MODEL...] (default: lraspp_mobilenet_v3_large deeplabv3_mobilenet_v3_large)
# THREADS (default: nproc) threads for every engine (segtune, OpenCV, ONNX Runtime, PyTorch).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:?usage: export_bench.sh BUILD_DIR [MODEL...]}"; shift
models=("${@:-lraspp_mobilenet_v3_large deeplabv3_mobilenet_v3_large}")
[ $# -eq 0 ] && models=(lraspp_mobilenet_v3_large deeplabv3_mobilenet_v3_large)
repeats="${REPEATS:-10}"
threads="${THREADS:-$(nproc)}"
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $threads threads, $(uptime | sed 's/.*load/load/')"
cmake --build "$build" --target export_bench -j2 >/dev/null
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
for m in "${models[@]}"; do
  cpp="$("$build/export_bench" "$m" "$work" "$repeats" "$threads")"
  val() { awk -v k="$1" '$1 == k {print $2}' <<<"$cpp"; }
  seg=$(val segtune_ms); dnn=$(val segtune_onednn_ms); ocv=$(val opencv_ms)
  seg_am=$(val segtune_argmax_ms); dnn_am=$(val segtune_onednn_argmax_ms)
  seg_inf=$(val segtune_infer_path_ms); dnn_inf=$(val segtune_onednn_infer_path_ms)
  ort=$(ORT_THREADS="$threads" node "$here/../tests/export/run_ort.js" "$work/$m.onnx" "$work/input.bin" float32 1,3,512,512 "$work/ort" "$((repeats + 1))" |
        node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const ms=JSON.parse(s).ms.slice(1).sort((a,b)=>a-b);console.log(ms[Math.floor(ms.length/2)].toFixed(2))})')
  py=$(/usr/bin/python3 "$here/export_bench_peer.py" "$m" "$repeats" "$threads" | awk '/^pytorch_ms/ {print $2}')
  awk -v m="$m" -v s="$seg" -v d="$dnn" -v sa="$seg_am" -v da="$dnn_am" -v si="$seg_inf" -v di="$dnn_inf" \
      -v o="$ocv" -v r="$ort" -v p="$py" 'BEGIN {
    printf "%s 512x512 batch 1, median ms [ratio = pytorch eager / engine]\n", m
    printf "  full-size logits + argmax (the ONNX graph'"'"'s outputs): pytorch eager %.1f | ONNX Runtime %.1f (%.2fx) | OpenCV DNN %.1f (%.2fx)\n", p, r, p/r, o, p/o
    printf "    segtune libtorch: aten::argmax %.1f (%.2fx), segtune argmax %.1f (%.2fx)\n", s, p/s, sa, p/sa
    printf "    segtune onednn:   aten::argmax %.1f (%.2fx), segtune argmax %.1f (%.2fx)\n", d, p/d, da, p/da
    printf "  segtune infer'"'"'s path (head logits, resize fused into the argmax): libtorch %.1f (%.2fx) | onednn %.1f (%.2fx)\n", si, p/si, di, p/di
  }'
done
