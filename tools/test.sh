#!/usr/bin/env bash
# Runs the default test set (labels unit, mpi, regression, multinode, gpu; never bench) of a built
# preset; in CI also tools/check_sanitizers.sh (fuzz smoke and asan subset).
#   tools/test.sh [ctest arguments...]       e.g. tools/test.sh -L unit
# Environment: MDRL_PRESET (default release).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PRESET="${MDRL_PRESET:-release}"
cd "$ROOT"
[[ -d "build/$PRESET" ]] || { echo "build/$PRESET does not exist: run tools/setup.sh first" >&2; exit 1; }
ctest --preset "$PRESET" -j "$(nproc)" "$@"
# In CI (CI=true, no arguments) also the sanitizer checks of issue 17: every fuzz harness replays
# its corpus and regression inputs and fuzzes FUZZ_SECONDS (default 5 here), and the asan subset
# (unit and mpi tests of the non-torch modules, core, dist and io under ASan + UBSan + LSan).
# Locally: tools/check_sanitizers.sh, or MDRL_SANITIZER_CHECK=1 tools/test.sh.
if [[ $# -eq 0 && ( ${CI:-} == true || ${MDRL_SANITIZER_CHECK:-0} == 1 ) ]]; then
  FUZZ_SECONDS="${FUZZ_SECONDS:-5}" "$ROOT/tools/check_sanitizers.sh"
fi
