#!/usr/bin/env bash
# Sanitizer checks (issue 17): configures and builds the `fuzz` tree (clang, libFuzzer + ASan +
# UBSan) and the `asan` tree (ASan + UBSan, LeakSanitizer with tests/sanitizers/lsan.supp), then
# runs the fuzz smoke (every harness replays its corpus and regression inputs and fuzzes
# FUZZ_SECONDS, default 20; CTest label fuzz) and the asan subset (CTest label asan). Prints the
# time of each phase. Uses ccache like every tree; JOBS (default 2) sets the build parallelism.
#   tools/check_sanitizers.sh [--fuzz-only | --asan-only]
# Exit status: 0 when everything passed, 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=${JOBS:-2}
fuzz_seconds=${FUZZ_SECONDS:-20}
do_fuzz=1 do_asan=1
case "${1:-}" in
  --fuzz-only) do_asan=0 ;;
  --asan-only) do_fuzz=0 ;;
  "") ;;
  *) echo "usage: $0 [--fuzz-only | --asan-only]" >&2; exit 2 ;;
esac
status=0
declare -a report
phase() {  # phase NAME COMMAND...: runs it, records the time and the outcome
  local name=$1; shift
  local t0=$SECONDS
  echo "== $name: $*"
  if "$@"; then report+=("$(printf '%-22s %5ds  ok' "$name" $((SECONDS - t0)))")
  else report+=("$(printf '%-22s %5ds  FAILED' "$name" $((SECONDS - t0)))"); status=1; fi
}

if (( do_fuzz )); then
  phase "fuzz configure" cmake --preset fuzz -DMDRL_FUZZ_SECONDS="$fuzz_seconds"
  phase "fuzz build" cmake --build build/fuzz -j"$jobs" --target mdrl_fuzzers
  phase "fuzz smoke" ctest --test-dir build/fuzz -L fuzz --output-on-failure
fi
if (( do_asan )); then
  phase "asan configure" cmake --preset asan
  phase "asan build" cmake --build build/asan -j"$jobs" --target mdrl_asan_subset
  phase "asan subset" ctest --test-dir build/asan -L asan --output-on-failure
fi
echo
echo "== check_sanitizers summary (seconds)"
printf '%s\n' "${report[@]}"
exit $status
