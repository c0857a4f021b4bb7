#!/usr/bin/env bash
# Measures how far the numeric parity tests' differences move across CPU instruction sets, so their
# bounds are set from the worst case rather than from one machine.
#
# Runs each test binary (with a gtest filter) once per setting of oneDNN's and ATen's instruction sets
# (DNNL_MAX_CPU_ISA, ATEN_CPU_CAPABILITY) with SEGTUNE_PRINT_MEASURED=1, and prints, for every
# "measured <what> <value> bound <bound>" line the tests report, the worst value over all settings,
# the setting that gave it, and the bound. A failing test is reported too.
#
# Usage: tools/parity_spread.sh BUILD_DIR [TEST_BINARY:GTEST_FILTER ...]
#   default tests: the detection, segmentation, export and distributed parity tests.
#   ISAS="SSE41 AVX2" overrides the oneDNN list; CAPS="default avx2" the ATen list.
set -euo pipefail
build=${1:?usage: tools/parity_spread.sh BUILD_DIR [TEST_BINARY:GTEST_FILTER ...]}
shift
tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
  tests=("test_detection:*Parity*:*TrainStep*"
         "test_models:*Parity*:*MatchesTorchvision*"
         "test_export:*"
         "test_engine:*Distributed*:*SyncBatchNorm*")
fi
isas=(${ISAS:-SSE41 AVX AVX2 AVX512_CORE AVX512_CORE_BF16})
caps=(${CAPS:-default avx2})
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

run() {  # run LABEL ENV... : every test binary under the given environment
  local label=$1
  shift
  for spec in "${tests[@]}"; do
    local binary=${spec%%:*} filter=${spec#*:}
    echo "== $label $binary $filter" >&2
    if ! env "$@" SEGTUNE_PRINT_MEASURED=1 "$build/$binary" --gtest_filter="$filter" >"$out/log" 2>&1; then
      echo "FAILED under $label: $binary $filter" | tee -a "$out/failures" >&2
      grep -E "Failure|Expected|Which is|^\[  FAILED" "$out/log" | head -20 >&2 || true
    fi
    grep -E '^measured(-floor)? ' "$out/log" | sed "s|^|$label |" >>"$out/measured" || true
  done
}

for isa in "${isas[@]}"; do run "DNNL_MAX_CPU_ISA=$isa" DNNL_MAX_CPU_ISA="$isa"; done
for cap in "${caps[@]}"; do run "ATEN_CPU_CAPABILITY=$cap" ATEN_CPU_CAPABILITY="$cap"; done

# Columns: setting, "measured" or "measured-floor", what..., value, "bound"/"floor", limit. Worst value
# per "what": the largest for a bound, the smallest for a floor.
awk '{
  n = NF; value = $(n - 2); limit = $n; kind = $(n - 1); what = $3;
  for (i = 4; i <= n - 3; ++i) what = what " " $i;
  seen = (what in worst);  # Test before worst[what] is read: reading an awk array entry creates it.
  worse = !seen || ((kind == "floor") ? value + 0 < worst[what] + 0 : value + 0 > worst[what] + 0);
  if (worse) { worst[what] = value; where[what] = $1; limits[what] = kind " " limit }
} END {
  for (w in worst) printf "%-75s worst %s  %s  (%s)\n", w, worst[w], limits[w], where[w]
}' "$out/measured" | sort
if [ -f "$out/failures" ]; then
  echo "failures:"
  cat "$out/failures"
  exit 1
fi
