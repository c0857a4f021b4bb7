#!/usr/bin/env bash
# Runs the libFuzzer harnesses of a SEGTUNE_FUZZ build one after another (`make fuzz`).
#   tools/run-fuzzers.sh BUILD_DIR SECONDS [HARNESS...]     (default: every fuzz_* binary in BUILD_DIR)
# Each runs for SECONDS in fork mode (one worker), continuing past crashes, leaks, timeouts and
# out-of-memory inputs so one known problem does not hide the next. Inputs that found new coverage go to
# BUILD_DIR/fuzz-work/<harness>/corpus (not the source tree); every crash/oom/timeout/leak input is
# copied into tests/fuzz/corpus/<harness>/ as a regression input, run by `make test` from then on.
# Exits 1 if any harness produced one. A one-line summary per harness is in BUILD_DIR/fuzz-work/summary.
set -uo pipefail
build=${1:?usage: run-fuzzers.sh BUILD_DIR SECONDS [HARNESS...]}
seconds=${2:?usage: run-fuzzers.sh BUILD_DIR SECONDS [HARNESS...]}
shift 2
src=$(cd "$(dirname "$0")/.." && pwd)
harnesses=("$@")
if [ ${#harnesses[@]} -eq 0 ]; then
  for bin in "$build"/fuzz_*; do harnesses+=("$(basename "$bin" | sed 's/^fuzz_//')"); done
fi
# Byte strings the mutator should know about (keys and keywords of each format).
dict_for() {
  case "$1" in
    coco|coco_results|labelbox|safetensors|rle) echo "$src/tests/fuzz/json.dict" ;;
    label_map|pipeline_config) echo "$src/tests/fuzz/pbtxt.dict" ;;
    wkt) echo "$src/tests/fuzz/wkt.dict" ;;
  esac
}
# Leaks inside LibTorch's zip reader are not ours to fix (see the file).
export LSAN_OPTIONS="suppressions=$src/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
mkdir -p "$build/fuzz-work"
summary="$build/fuzz-work/summary"
found=0
for h in "${harnesses[@]}"; do
  bin="$build/fuzz_$h"
  [ -x "$bin" ] || { echo "no harness $bin" >&2; exit 2; }
  work="$build/fuzz-work/$h"
  mkdir -p "$work/corpus" "$work/artifacts" "$src/tests/fuzz/corpus/$h"
  dict=$(dict_for "$h")
  echo "== fuzz_$h for ${seconds}s (log: $work/log)"
  start=$(date +%s)
  # -close_fd_mask=3: the parsers' warnings would flood the log; libFuzzer keeps its own reports.
  "$bin" -fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 -max_total_time="$seconds" \
    -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=30 -max_len=65536 -close_fd_mask=3 \
    -artifact_prefix="$work/artifacts/" ${dict:+-dict="$dict"} "$work/corpus" "$src/tests/fuzz/corpus/$h" \
    >"$work/log" 2>&1
  elapsed=$(( $(date +%s) - start ))
  new=0
  for a in "$work"/artifacts/*; do
    [ -f "$a" ] || continue
    dest="$src/tests/fuzz/corpus/$h/$(basename "$a")"
    [ -f "$dest" ] && continue
    cp "$a" "$dest"
    new=$((new + 1))
    # Fork mode keeps no stack: rerun the input alone for the sanitizer's report.
    mkdir -p "$work/reports"
    timeout 120 "$bin" -rss_limit_mb=2048 -malloc_limit_mb=2048 "$a" >"$work/reports/$(basename "$a").txt" 2>&1
    echo "   kept $(basename "$a") -> tests/fuzz/corpus/$h/ (report: $work/reports/$(basename "$a").txt)"
  done
  last=$(grep -E '^#[0-9]+' "$work/log" | tail -1)
  line="$h: ${elapsed}s, new regression inputs: $new; last status: ${last:-none}"
  echo "   $line"
  echo "$(date -u +%FT%TZ) $line" >>"$summary"
  [ "$new" -gt 0 ] && found=1
done
exit $found
