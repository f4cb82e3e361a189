#!/usr/bin/env bash
# Checks jobs/slurm/diffu_grpo.sbatch, one_step_grpo.sbatch and cj_grpo.sbatch without Slurm, as
# check_sft_sbatch.sh does for sft.sbatch: fake `srun` (runs the real mdrl under mpirun on 2 ranks),
# `squeue` (time left, from a list) and `scontrol` (records requeues) go first on PATH, and each
# job's default recipe (a LLaDA-8B GSM8K one) is run on the tiny preset on the CPU, on generated
# Sudoku with short rollouts of the recipe's decoder. Per job: a dry run, a run to the end, a stop
# by run.walltime followed by a requeue and a resumed "restart" that finishes, and a STOP file
# created during a run. Needs a
# built build/${MDRL_PRESET:-release}/bin/mdrl and mpirun.
#
#   jobs/slurm/check_rl_sbatch.sh             # prints "ok: ..." per case, exits non-zero on failure
set -euo pipefail

CHECK_NAME=check_rl_sbatch
# shellcheck source=lib/fake_slurm.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/fake_slurm.sh"
# The tiny model in f32 with the byte-level tokenizer instead of LLaDA-8B, full fine-tuning (beta
# 0.04 then takes a frozen copy as the reference); 64 generated Sudoku puzzles with bare prompts
# instead of the recipe's GSM8K file; 2 ranks x 4 rows = 4 prompts x G 2 per step, mu 2; 16-token
# rollouts (per job, below); 4 optimizer steps.
TINY_COMMON=(--model.path= --model.preset=tiny --model.dtype=f32 --tokenizer.path=builtin:byte_level
      --lora.rank=0 --rl.task=sudoku --rl.prompt_style=bare --tasks.generated_count=64
      --tasks.gsm8k_train= --tasks.sudoku_train=
      --grpo.num_generations=2 --grpo.num_iterations=2
      --train.batch_size=4 --train.grad_accum=1 --train.max_steps=4)
# The jobs checked, each with the default recipe its srun line must name and its 16-token rollouts:
# one semi-AR block in 8 steps; cj_grpo keeps its recipe's EOSER + ASS decoder (ASS over 16 tokens
# takes floor(log2 16) = 4 steps).
JOBS=(diffu_grpo one_step_grpo cj_grpo)
declare -A DEFAULT_RECIPE=(
  [diffu_grpo]=inputs/recipes/diffu_grpo_llada8b_gsm8k.ini
  [one_step_grpo]=inputs/recipes/one_step_grpo_llada8b_gsm8k.ini
  [cj_grpo]=inputs/recipes/cj_grpo_eoser_ass_llada8b_gsm8k.ini
)
declare -A TINY_DECODE=(
  [diffu_grpo]="--decode.gen_length=16 --decode.block_length=16 --decode.steps=8"
  [one_step_grpo]="--decode.gen_length=16 --decode.block_length=16 --decode.steps=8"
  [cj_grpo]="--decode.gen_length=16 --decode.steps=4 --decode.block_num=1"
)

fail() { echo "FAIL ($JOB): $*" >&2; exit 1; }
# case NAME: fresh log folder and run directory
start_case() {
  CASE="$JOB-$1"
  export FAKE_LOG="$WORK/$CASE"
  mkdir -p "$FAKE_LOG"
  RUN="$WORK/$CASE/run"
  unset SLURM_RESTART_COUNT
}
sbatch_() { bash "$ROOT/jobs/slurm/$JOB.sbatch" "$@" >"$FAKE_LOG/out.txt" 2>&1; }
steps() { grep -c '"loss"' "$RUN/metrics.jsonl"; }

checked=()
for JOB in "${JOBS[@]}"; do
  MODE="${JOB//_/-}"
  RECIPE="${DEFAULT_RECIPE[$JOB]}"
  [[ -f "$ROOT/$RECIPE" ]] || fail "default recipe '$RECIPE' does not exist"
  read -r -a tiny_decode <<<"${TINY_DECODE[$JOB]}"
  TINY=("${TINY_COMMON[@]}" "${tiny_decode[@]}")

  # 1. dry run: prints setup and srun with the job's mode and default recipe, starts nothing
  start_case dry
  MDRL_DRY_RUN=1 MDRL_SETUP=1 MDRL_PYTHON=/opt/py/bin/python sbatch_ --run.dir="$RUN" "${TINY[@]}" ||
    fail "dry run exited non-zero: $(cat "$FAKE_LOG/out.txt")"
  grep -q 'tools/setup.sh --no-apt --preset release --python /opt/py/bin/python' "$FAKE_LOG/out.txt" ||
    fail "dry run: no setup line"
  grep -q "+ srun --kill-on-bad-exit=1 .*mdrl $MODE -c $RECIPE" "$FAKE_LOG/out.txt" || fail "dry run: no srun line"
  [[ ! -e "$RUN" && ! -e "$FAKE_LOG/srun.log" ]] || fail "dry run started something"
  echo "ok: $JOB dry run"

  # 2. plenty of time: trains to the end, writes final/ and the trajectories, no requeue
  start_case full
  echo "1-00:00:00" >"$FAKE_LOG/left"
  sbatch_ --run.dir="$RUN" "${TINY[@]}" || fail "full run: $(tail "$FAKE_LOG/out.txt")"
  [[ -d "$RUN/final" && $(steps) == 4 && ! -e "$FAKE_LOG/scontrol.log" ]] || fail "full run: $(tail "$FAKE_LOG/out.txt")"
  compgen -G "$RUN/trajectories/seg-*.h5" >/dev/null || fail "full run: no trajectory segments"
  grep -q -- '--run.walltime=86400' "$FAKE_LOG/srun.log" || fail "full run: walltime not passed"
  sbatch_ --run.dir="$RUN" "${TINY[@]}" || fail "finished run: non-zero exit"
  grep -q 'already finished' "$FAKE_LOG/out.txt" || fail "finished run started again"
  echo "ok: $JOB run to the end"

  # 3. run.walltime stops it after one step (mid mu-cycle) with 20:00 left -> requeue; the restart
  # resumes and finishes
  start_case requeue
  printf '%s\n' 20:00 10:00 >"$FAKE_LOG/left"
  sbatch_ --run.dir="$RUN" "${TINY[@]}" --run.walltime_margin=1199.9 || fail "requeue: $(tail "$FAKE_LOG/out.txt")"
  [[ ! -d "$RUN/final" && $(steps) == 1 ]] || fail "requeue: expected 1 step: $(tail "$FAKE_LOG/out.txt")"
  grep -qx 'requeue 4242' "$FAKE_LOG/scontrol.log" || fail "requeue: scontrol requeue not called"
  echo "2:00:00" >"$FAKE_LOG/left"
  SLURM_RESTART_COUNT=1 sbatch_ --run.dir="$RUN" "${TINY[@]}" || fail "restart: $(tail "$FAKE_LOG/out.txt")"
  [[ -d "$RUN/final" && $(steps) == 4 && $(wc -l <"$FAKE_LOG/scontrol.log") == 1 ]] ||
    fail "restart: $(tail "$FAKE_LOG/out.txt")"
  grep -q 'resumed from' "$FAKE_LOG/out.txt" || fail "restart did not resume"
  # step 2 optimises step 1's rollouts again (mu 2): the rollout buffer came back with the checkpoint
  grep '"step":2,' "$RUN/metrics.jsonl" | grep -q '"rollout_reuse":1' || fail "restart: step 2 did not reuse step 1's rollouts"
  echo "ok: $JOB walltime stop, requeue, resume"

  # 4. STOP created during a run: mdrl checkpoints, renames it STOP.done; the job neither resumes
  # in the allocation nor requeues
  start_case stopmid
  echo "2:00:00" >"$FAKE_LOG/left"
  FAKE_STOP_FILE="$RUN/STOP" FAKE_STOP_AFTER=4 sbatch_ --run.dir="$RUN" "${TINY[@]}" --train.max_steps=100000 ||
    fail "STOP mid-run: non-zero exit: $(tail "$FAKE_LOG/out.txt")"
  grep -q 'stopped by .*STOP' "$FAKE_LOG/out.txt" || fail "STOP mid-run: not reported: $(tail "$FAKE_LOG/out.txt")"
  [[ -e "$RUN/STOP.done" && ! -e "$RUN/STOP" && ! -d "$RUN/final" && $(wc -l <"$FAKE_LOG/srun.log") == 1 &&
     ! -e "$FAKE_LOG/scontrol.log" ]] || fail "STOP mid-run: resumed or requeued: $(tail "$FAKE_LOG/out.txt")"
  echo "ok: $JOB STOP during a run (stopped at step $(steps))"
  checked+=("$JOB.sbatch")
done
echo "all checks passed: ${checked[*]}"
