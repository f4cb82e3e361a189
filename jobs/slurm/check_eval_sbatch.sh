#!/usr/bin/env bash
# Checks jobs/slurm/eval.sbatch without Slurm (fake srun/squeue/scontrol, the tiny model on 2 CPU
# ranks, ~10 s): dry run, a run to the end, a run.walltime stop + requeue + restart equal to a
# straight run, a STOP file. Needs the MDRL_DIR_OPTION / mdrl_job_* hooks in lib/train_job.sh.
set -euo pipefail
CHECK_NAME=check_eval_sbatch
source "$(dirname "${BASH_SOURCE[0]}")/lib/fake_slurm.sh"
TINY=(--model.path= --model.preset=tiny --model.dtype=f32 --tokenizer.path=builtin:byte_level
      --tasks.gsm8k_test= --tasks.math_test= --tasks.countdown_test= --tasks.sudoku_test=
      --eval.source=generated --eval.prompt_style=bare --eval.tasks=sudoku,countdown --tasks.generated_count=64
      --eval.subsample=24 --eval.gen_lengths=16 --eval.steps=log2 --decode.gen_length=16 --eval.batch_size=1)
fail() { echo "FAIL: $*" >&2; exit 1; }
start_case() { export FAKE_LOG="$WORK/$1"; mkdir -p "$FAKE_LOG"; RUN="$WORK/$1/run"; unset SLURM_RESTART_COUNT; }
sb() { bash "$ROOT/jobs/slurm/eval.sbatch" "$@" >"$FAKE_LOG/out.txt" 2>&1; }

start_case dry
MDRL_DRY_RUN=1 MDRL_RUN_DIR="$RUN" sb "${TINY[@]}" || fail "dry run: $(cat "$FAKE_LOG/out.txt")"
grep -q -- "mdrl eval -c inputs/recipes/eval_paper.ini --eval.out_dir=$RUN" "$FAKE_LOG/out.txt" || fail "dry run srun line: $(cat "$FAKE_LOG/out.txt")"
[[ ! -e "$RUN" ]] || fail "dry run created $RUN"
echo "ok: dry run"

start_case full
MDRL_RUN_DIR="$RUN" sb "${TINY[@]}" || fail "full: $(cat "$FAKE_LOG/out.txt")"
grep -q '"complete": true' "$RUN/results.json" || fail "full: not complete"
grep -q "training finished" "$FAKE_LOG/out.txt" || fail "full: $(cat "$FAKE_LOG/out.txt")"
[[ ! -s "$FAKE_LOG/scontrol.log" ]] || fail "full: requeued"
MDRL_RUN_DIR="$RUN" sb "${TINY[@]}" || fail "full again"
grep -q "nothing to do" "$FAKE_LOG/out.txt" || fail "full again: $(cat "$FAKE_LOG/out.txt")"
echo "ok: run to the end; a finished folder is not started again"

start_case walltime
printf '1:10\n' >"$FAKE_LOG/left"   # 70 s left: run.walltime stops after the first chunk, then requeue
MDRL_RUN_DIR="$RUN" sb "${TINY[@]}" || fail "walltime: $(cat "$FAKE_LOG/out.txt")"
grep -q "requeue 4242" "$FAKE_LOG/scontrol.log" || fail "walltime: no requeue: $(cat "$FAKE_LOG/out.txt")"
grep -qs '"complete": true' "$RUN/results.json" && fail "walltime: finished in 70 s?"
ls "$RUN/partial/"*.jsonl >/dev/null || fail "walltime: no partial"
printf 'UNLIMITED\n' >"$FAKE_LOG/left"
SLURM_RESTART_COUNT=1 MDRL_RUN_DIR="$RUN" sb "${TINY[@]}" || fail "restart: $(cat "$FAKE_LOG/out.txt")"
grep -q '"complete": true' "$RUN/results.json" || fail "restart: not complete: $(cat "$FAKE_LOG/out.txt")"
start_case straight
MDRL_RUN_DIR="$RUN" sb "${TINY[@]}" || fail "straight"
for f in "$WORK/straight/run/"*.jsonl; do
  cmp <(sed 's/"provenance".*//' "$f") <(sed 's/"provenance".*//' "$WORK/walltime/run/$(basename "$f")") || fail "walltime+restart differs from straight: $f"
done
echo "ok: run.walltime stop, requeue, restart = straight run"

start_case stop
FAKE_STOP_FILE="$RUN/STOP" FAKE_STOP_AFTER=1 MDRL_RUN_DIR="$RUN" sb "${TINY[@]}" --eval.subsample=64 --eval.strategies=eoser_ass,semi-ar_lcr --eval.block_lengths=16 --eval.steps=log2,16 || fail "stop: $(cat "$FAKE_LOG/out.txt")"
if grep -qs '"complete": true' "$RUN/results.json"; then echo "note: finished before the STOP file (1 s)"; else
  grep -q "stopped by" "$FAKE_LOG/out.txt" || fail "stop: $(cat "$FAKE_LOG/out.txt")"
  [[ ! -s "$FAKE_LOG/scontrol.log" ]] || fail "stop: requeued"
  echo "ok: STOP file"
fi
