#!/usr/bin/env bash
# The embedded default, end to end on this machine (no GPU needed). For now: the SPMD executable on
# two MPI ranks reporting the build, devices and rank placement; the training and evaluation
# pipeline on the tiny model joins here as its modes land.
# Environment: MDRL_PRESET (default release), MDRL_NP (ranks, default 2).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PRESET="${MDRL_PRESET:-release}"
NP="${MDRL_NP:-2}"
MDRL="$ROOT/build/$PRESET/bin/mdrl"
[[ -x "$MDRL" ]] || { echo "$MDRL not found: run tools/setup.sh first" >&2; exit 1; }
if [[ $EUID -eq 0 ]]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi

echo "== mpirun -np $NP mdrl info"
mpirun -np "$NP" --oversubscribe --bind-to none "$MDRL" info
