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
/usr/bin/python3 - "$work/torch.json" "$work/onednn.json" "$rounds" <<'PY'
import json, sys, collections
def top_level(path, rounds):
    with open(path) as f:
        data = json.load(f)
    events = data["traceEvents"] if isinstance(data, dict) else data
    events = [e for e in events if e.get("ph") == "X"]
    totals = collections.Counter()
    by_thread = collections.defaultdict(list)
    for e in events:
        by_thread[e.get("tid")].append(e)
    for evs in by_thread.values():
        evs.sort(key=lambda e: (float(e["ts"]), -float(e["dur"])))
        end = -1.0
        for e in evs:
            ts, dur = float(e["ts"]), float(e["dur"])
            if ts >= end:  # Not inside the previous top-level event.
                totals[e["name"]] += dur / 1000.0 / rounds
                end = ts + dur
    return totals
rounds = int(sys.argv[3])
torch_ops, onednn_ops = top_level(sys.argv[1], rounds), top_level(sys.argv[2], rounds)
names = sorted(set(torch_ops) | set(onednn_ops), key=lambda n: -max(torch_ops[n], onednn_ops[n]))
tt, to = sum(torch_ops.values()), sum(onednn_ops.values())
print("| operator | torch ms | torch % | onednn ms | onednn % |")
print("|---|---|---|---|---|")
for n in names:
    print("| %s | %.2f | %.1f | %.2f | %.1f |" % (n, torch_ops[n], 100 * torch_ops[n] / tt, onednn_ops[n], 100 * onednn_ops[n] / to))
print("| **total (profiled)** | %.2f | | %.2f | |" % (tt, to))
PY
