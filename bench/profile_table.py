"""Two LibTorch profiler traces (Chrome trace JSON, legacy profiler) side by side: per operator name, the
time of the top-level events of each thread summed (nested calls counted in their caller), in ms per
round, largest first. Backward events (autograd::engine::evaluate_function: X) are shown as "backward: X".
Used by bench/forward_profile.sh and bench/train_profile.sh.

usage: profile_table.py ROUNDS LABEL_A TRACE_A LABEL_B TRACE_B [TOP]   (TOP: rows before "others")
"""
import collections
import json
import sys


def top_level(path, rounds):
    with open(path) as f:
        data = json.load(f)
    events = data["traceEvents"] if isinstance(data, dict) else data
    by_thread = collections.defaultdict(list)
    for e in events:
        if e.get("ph") == "X":
            by_thread[e.get("tid")].append(e)
    totals = collections.Counter()
    for evs in by_thread.values():
        evs.sort(key=lambda e: (float(e["ts"]), -float(e["dur"])))
        end = -1.0
        for e in evs:
            ts, dur = float(e["ts"]), float(e["dur"])
            if ts >= end:  # Not inside the previous top-level event.
                name = e["name"].replace("autograd::engine::evaluate_function: ", "backward: ")
                totals[name] += dur / 1000.0 / rounds
                end = ts + dur
    return totals


def main():
    rounds = int(sys.argv[1])
    label_a, a = sys.argv[2], top_level(sys.argv[3], rounds)
    label_b, b = sys.argv[4], top_level(sys.argv[5], rounds)
    names = sorted(set(a) | set(b), key=lambda n: -max(a[n], b[n]))
    top = int(sys.argv[6]) if len(sys.argv) > 6 else len(names)
    ta, tb = sum(a.values()), sum(b.values())
    print("| operator (top level) | %s ms | %% | %s ms | %% |" % (label_a, label_b))
    print("|---|---|---|---|---|")
    for n in names[:top]:
        print("| %s | %.2f | %.1f | %.2f | %.1f |" % (n, a[n], 100 * a[n] / ta, b[n], 100 * b[n] / tb))
    if len(names) > top:
        ra, rb = sum(a[n] for n in names[top:]), sum(b[n] for n in names[top:])
        print("| (%d others) | %.2f | %.1f | %.2f | %.1f |" % (len(names) - top, ra, 100 * ra / ta, rb, 100 * rb / tb))
    print("| **total (profiled)** | %.2f | | %.2f | |" % (ta, tb))


if __name__ == "__main__":
    main()
