#!/usr/bin/env bash
# Per-operator profile of one training step (issue 20): segtune's step (bench/train_profile.cpp) and
# PyTorch's (bench/train_profile_peer.py) on the same model, batch and threads, both with the legacy
# autograd profiler, summed over each trace's top-level events per thread (nested calls counted in their
# caller; the backward pass's events are autograd::engine::evaluate_function: <Op>Backward on the
# autograd thread). Prints ms per step and per operator side by side, largest first. The profiler's own
# cost inflates both sides alike; the wall ms per step is also printed unprofiled by train_bench.sh.
# usage: bench/train_profile.sh BUILD_DIR [MODEL] [THREADS] [ROUNDS] [BATCH] [SIZE]
set -euo pipefail
build="${1:?usage: train_profile.sh BUILD_DIR [MODEL] [THREADS] [ROUNDS] [BATCH] [SIZE]}"
model="${2:-lraspp_mobilenet_v3_large}"; threads="${3:-2}"; rounds="${4:-5}"; batch="${5:-8}"; size="${6:-256}"
[ "${SEGTUNE_BENCH_NO_BUILD:-0}" = 1 ] || cmake --build "$build" --target train_profile -j2 >/dev/null
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
echo "$(date -u '+%Y-%m-%d %H:%M UTC') $(uptime | sed 's/.*load/load/')"
"$build/train_profile" "$model" "$threads" "$rounds" "$batch" "$size" "$work/segtune.json"
/usr/bin/python3 "$(dirname "$0")/train_profile_peer.py" "$model" "$threads" "$rounds" "$batch" "$size" "$work/pytorch.json"
/usr/bin/python3 - "$work/segtune.json" "$work/pytorch.json" "$rounds" <<'PY'
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
            if ts >= end:
                name = e["name"].replace("autograd::engine::evaluate_function: ", "backward: ")
                totals[name] += dur / 1000.0 / rounds
                end = ts + dur
    return totals
rounds = int(sys.argv[3])
ours, theirs = top_level(sys.argv[1], rounds), top_level(sys.argv[2], rounds)
names = sorted(set(ours) | set(theirs), key=lambda n: -max(ours[n], theirs[n]))
to, tt = sum(ours.values()), sum(theirs.values())
print("| operator (top level) | segtune ms | % | PyTorch ms | % |")
print("|---|---|---|---|---|")
for n in names[:40]:
    print("| %s | %.2f | %.1f | %.2f | %.1f |" % (n, ours[n], 100 * ours[n] / to, theirs[n], 100 * theirs[n] / tt))
rest_o = sum(ours[n] for n in names[40:]); rest_t = sum(theirs[n] for n in names[40:])
print("| (%d others) | %.2f | %.1f | %.2f | %.1f |" % (max(0, len(names) - 40), rest_o, 100 * rest_o / to, rest_t, 100 * rest_t / tt))
print("| **total (profiled)** | %.2f | | %.2f | |" % (to, tt))
PY
