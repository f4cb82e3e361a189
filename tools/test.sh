#!/usr/bin/env bash
# Runs the default test set (labels unit, mpi, regression, gpu; never bench) of a built preset.
#   tools/test.sh [ctest arguments...]       e.g. tools/test.sh -L unit
# Environment: MDRL_PRESET (default release).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PRESET="${MDRL_PRESET:-release}"
cd "$ROOT"
[[ -d "build/$PRESET" ]] || { echo "build/$PRESET does not exist: run tools/setup.sh first" >&2; exit 1; }
exec ctest --preset "$PRESET" -j "$(nproc)" "$@"
