#!/usr/bin/env bash
# Per-operator profile of a prepared model's forward (512x512, batch 1, full-size logits + argmax) with
# each inference engine, summed over the top-level operators of LibTorch's profiler trace (nested calls
# are counted in their caller). Prints ms per forward and share of the profiled time per operator.
# usage: bench/forward_profile.sh BUILD_DIR [MODEL] [THREADS] [ROUNDS]
set -euo pipefail
build="${1:?usage: forward_profile.sh BUILD_DIR [MODEL] [THREADS] [ROUNDS]}"
model="${2:-lraspp_mobilenet_v3_large}"; threads="${3:-1}"; rounds="${4:-20}"
cmake --build "$build" --target forward_profile -j2 >/dev/null
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
echo "$(date -u '+%Y-%m-%d %H:%M UTC') $(uptime | sed 's/.*load/load/')"
for engine in torch onednn; do
  "$build/forward_profile" "$model" "$engine" "$threads" "$rounds" "$work/$engine.json" 2>/dev/null
done
/usr/bin/python3 "$(dirname "$0")/profile_table.py" "$rounds" torch "$work/torch.json" onednn "$work/onednn.json"
