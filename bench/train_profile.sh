#!/usr/bin/env bash
# Per-operator profile of one training step (issue 20): segtune's step (bench/train_profile.cpp) and
# PyTorch's (bench/train_profile_peer.py) on the same model, batch and threads, both with the legacy
# autograd profiler, summed over each trace's top-level events per thread (nested calls counted in their
# caller; the backward pass's events are autograd::engine::evaluate_function: <Op>Backward on the
# autograd thread). Prints ms per step and per operator side by side, largest first. The profiler's own
# cost inflates both sides alike; the wall ms per step is also printed unprofiled by train_bench.sh.
# usage: bench/train_profile.sh BUILD_DIR [MODEL] [THREADS] [ROUNDS] [BATCH] [SIZE] [CLASSES]  (train_bench.sh: 4 classes)
set -euo pipefail
build="${1:?usage: train_profile.sh BUILD_DIR [MODEL] [THREADS] [ROUNDS] [BATCH] [SIZE] [CLASSES]}"
model="${2:-lraspp_mobilenet_v3_large}"; threads="${3:-2}"; rounds="${4:-5}"; batch="${5:-8}"; size="${6:-256}"; classes="${7:-21}"
[ "${SEGTUNE_BENCH_NO_BUILD:-0}" = 1 ] || cmake --build "$build" --target train_profile -j2 >/dev/null
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
echo "$(date -u '+%Y-%m-%d %H:%M UTC') $(uptime | sed 's/.*load/load/')"
"$build/train_profile" "$model" "$threads" "$rounds" "$batch" "$size" "$work/segtune.json" "$classes"
/usr/bin/python3 "$(dirname "$0")/train_profile_peer.py" "$model" "$threads" "$rounds" "$batch" "$size" "$work/pytorch.json" "$classes"
/usr/bin/python3 "$(dirname "$0")/profile_table.py" "$rounds" segtune "$work/segtune.json" PyTorch "$work/pytorch.json" 40
