#!/usr/bin/env bash
# GPU check (issue 19): on a machine with a CUDA GPU, build mdrl against that machine's own
# PyTorch (the python given by MDRL_PYTHON, else python3), run the `gpu` tests and the GPU
# benchmarks (bench_model: LLaDA-8B-shaped bf16 forward as a fraction of peak; bench_allreduce:
# NCCL all-reduce bandwidth; bench_decode: decode tokens/s for EOSER+ASS and semi-AR), all under
# a 10-minute budget, and print one JSON summary on stdout. Without CUDA it says so and exits 3.
#   tools/gpu_check.sh [build folder, default build/gpu-check]
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build/gpu-check}
PY=${MDRL_PYTHON:-python3}
DEADLINE=$(( $(date +%s) + ${MDRL_GPU_CHECK_SECONDS:-570} ))
left() { echo $(( DEADLINE - $(date +%s) )); }
fail() { printf '{"gpu_check": "failed", "stage": "%s", "detail": "%s"}\n' "$1" "$2"; exit "${3:-1}"; }

command -v nvidia-smi >/dev/null 2>&1 || fail no_cuda "nvidia-smi not found: this machine has no CUDA GPU" 3
"$PY" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null ||
  fail no_cuda "$PY has no CUDA-enabled torch (torch.cuda.is_available() is false)" 3
TORCH_DIR=$("$PY" -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "share/cmake/Torch"))')
GPU=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
NGPU=$(nvidia-smi --query-gpu=name --format=csv,noheader | wc -l)

log=$(mktemp -d)/gpu_check
mkdir -p "$log"
timeout "$(left)" cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTorch_DIR="$TORCH_DIR" \
  -DMDRL_PYTHON="$(command -v "$PY")" >"$log/configure.log" 2>&1 || fail configure "see $log/configure.log"
GPU_TESTS=$(ctest --test-dir "$BUILD" -N -L gpu 2>/dev/null | sed -n 's/^ *Test *#[0-9]*: //p' | tr '\n' ' ')
timeout "$(left)" cmake --build "$BUILD" -j"$(nproc)" --target mdrl bench_model bench_allreduce bench_decode \
  $GPU_TESTS >"$log/build.log" 2>&1 || fail build "see $log/build.log"

timeout "$(left)" ctest --test-dir "$BUILD" -L gpu -LE bench --output-on-failure >"$log/gpu_tests.log" 2>&1
TESTS_RC=$?
PASSED=$(grep -c ' Passed' "$log/gpu_tests.log" || true)
FAILED=$(grep -cE '\*\*\*Failed|\*\*\*Exception|\*\*\*Timeout' "$log/gpu_tests.log" || true)

run_json() {  # name, command...: the command's stdout JSON, or null
  local name=$1; shift
  local t=$(( $(left) - 5 ))
  if [ "$t" -le 10 ]; then echo null; return; fi
  if timeout "$t" "$@" >"$log/$name.json" 2>"$log/$name.err"; then cat "$log/$name.json"; else echo null; fi
}
MODEL=$(run_json bench_model "$BUILD/tests/bench_model")
ALLRED=$(run_json bench_allreduce mpirun --allow-run-as-root --oversubscribe --bind-to none -np "$(( NGPU > 1 ? NGPU : 2 ))" \
  "$BUILD/tests/bench_allreduce")
DECODE=$(run_json bench_decode "$BUILD/tests/bench_decode")

printf '{"gpu_check": "done", "gpu": "%s", "gpus": %s, "gpu_tests": {"rc": %s, "passed": %s, "failed": %s},\n' \
  "$GPU" "$NGPU" "$TESTS_RC" "$PASSED" "$FAILED"
printf ' "bench_model": %s,\n "bench_allreduce": %s,\n "bench_decode": %s,\n "logs": "%s"}\n' \
  "$MODEL" "$ALLRED" "$DECODE" "$log"
[ "$TESTS_RC" -eq 0 ]
