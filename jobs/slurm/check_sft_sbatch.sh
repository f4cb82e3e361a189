#!/usr/bin/env bash
# Checks jobs/slurm/sft.sbatch without Slurm: fake `srun` (runs the real mdrl under mpirun on 2
# ranks), `squeue` (time left, from a list) and `scontrol` (records requeues) go first on PATH, and
# the s1K recipe is trained on the tiny preset with a few generated s1K-shaped rows on the CPU.
# Covers: a dry run, a run to the end, a stop by run.walltime followed by a requeue and a resumed
# "restart" that finishes, a resume inside the same allocation, the STOP file, a failing step, and
# an allocation too short to train. Needs a built build/${MDRL_PRESET:-release}/bin/mdrl and mpirun.
#
#   jobs/slurm/check_sft_sbatch.sh            # prints "ok: ..." per case, exits non-zero on failure
set -euo pipefail

CHECK_NAME=check_sft_sbatch
# shellcheck source=lib/fake_slurm.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/fake_slurm.sh"

python3 - "$WORK/s1k.jsonl" <<'EOF'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(24):
        f.write(json.dumps({"question": f"What is {i} + {i}?", "thinking_trajectories": [f"{i} + {i} = {2 * i}."],
                            "attempt": f"{2 * i}"}) + "\n")
EOF
# The tiny model in f32 with the byte-level tokenizer instead of LLaDA-8B; 4 optimizer steps.
TINY=(--model.path= --model.preset=tiny --model.dtype=f32 --tokenizer.path=builtin:byte_level
      --sft.data="$WORK/s1k.jsonl" --sft.max_length=256 --lora.rank=8 --lora.alpha=16
      --train.max_steps=4 --train.eval_every=0)

fail() { echo "FAIL: $*" >&2; exit 1; }
# case NAME: fresh log folder and run directory
start_case() {
  CASE="$1"
  export FAKE_LOG="$WORK/$CASE"
  mkdir -p "$FAKE_LOG"
  RUN="$WORK/$CASE/run"
  unset SLURM_RESTART_COUNT
}
sbatch_() { bash "$ROOT/jobs/slurm/sft.sbatch" "$@" >"$FAKE_LOG/out.txt" 2>&1; }
steps() { grep -c '"loss"' "$RUN/metrics.jsonl"; }

# 1. dry run: prints setup and srun, starts nothing
start_case dry
MDRL_DRY_RUN=1 MDRL_SETUP=1 MDRL_PYTHON=/opt/py/bin/python sbatch_ --run.dir="$RUN" "${TINY[@]}" ||
  fail "dry run exited non-zero: $(cat "$FAKE_LOG/out.txt")"
grep -q 'tools/setup.sh --no-apt --preset release --python /opt/py/bin/python' "$FAKE_LOG/out.txt" || fail "dry run: no setup line"
grep -q '+ srun --kill-on-bad-exit=1 .*mdrl sft -c inputs/recipes/sft_llada8b_s1k.ini' "$FAKE_LOG/out.txt" ||
  fail "dry run: no srun line"
[[ ! -e "$RUN" && ! -e "$FAKE_LOG/srun.log" ]] || fail "dry run started something"
echo "ok: dry run"

# 2. plenty of time: trains to the end, writes final/, no requeue
start_case full
echo "1-00:00:00" >"$FAKE_LOG/left"
sbatch_ --run.dir="$RUN" "${TINY[@]}" || fail "full run: $(tail "$FAKE_LOG/out.txt")"
[[ -d "$RUN/final" && $(steps) == 4 && ! -e "$FAKE_LOG/scontrol.log" ]] || fail "full run: $(tail "$FAKE_LOG/out.txt")"
grep -q -- '--run.walltime=86400' "$FAKE_LOG/srun.log" || fail "full run: walltime not passed"
sbatch_ --run.dir="$RUN" "${TINY[@]}" || fail "finished run: non-zero exit"
grep -q 'already finished' "$FAKE_LOG/out.txt" || fail "finished run started again"
echo "ok: run to the end"

# 3. run.walltime stops it after one step with 20:00 left -> requeue; the restart finishes
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
echo "ok: walltime stop, requeue, resume"

# 4. stopped early with time left (the limit looked short, then 2 h): resumes in the same allocation
start_case inalloc
printf '%s\n' 20:00 2:00:00 >"$FAKE_LOG/left"
MDRL_MIN_RUN_S=1800 sbatch_ --run.dir="$RUN" "${TINY[@]}" --run.walltime_margin=1199.9 ||
  fail "in-allocation: $(tail "$FAKE_LOG/out.txt")"
[[ -d "$RUN/final" && $(wc -l <"$FAKE_LOG/srun.log") == 2 && ! -e "$FAKE_LOG/scontrol.log" ]] ||
  fail "in-allocation: $(tail "$FAKE_LOG/out.txt")"
echo "ok: resume inside the allocation"

# 5. STOP file: not started, not requeued
start_case stop
mkdir -p "$RUN" && touch "$RUN/STOP"
sbatch_ --run.dir="$RUN" "${TINY[@]}" || fail "STOP: non-zero exit"
[[ ! -e "$FAKE_LOG/srun.log" && ! -e "$FAKE_LOG/scontrol.log" ]] || fail "STOP: started or requeued"
echo "ok: STOP file"
# 5b. STOP created during a run: mdrl checkpoints, renames it STOP.done; the job neither resumes
# in the allocation nor requeues
start_case stopmid
echo "2:00:00" >"$FAKE_LOG/left"
FAKE_STOP_FILE="$RUN/STOP" FAKE_STOP_AFTER=4 sbatch_ --run.dir="$RUN" "${TINY[@]}" --train.max_steps=100000 ||
  fail "STOP mid-run: non-zero exit: $(tail "$FAKE_LOG/out.txt")"
grep -q 'stopped by .*STOP' "$FAKE_LOG/out.txt" || fail "STOP mid-run: not reported: $(tail "$FAKE_LOG/out.txt")"
[[ -e "$RUN/STOP.done" && ! -e "$RUN/STOP" && $(wc -l <"$FAKE_LOG/srun.log") == 1 && ! -e "$FAKE_LOG/scontrol.log" ]] ||
  fail "STOP mid-run: resumed or requeued: $(tail "$FAKE_LOG/out.txt")"
echo "ok: STOP during a run"

# 6. a failing step (a missing data file): its status, no requeue
start_case error
rc=0
sbatch_ --run.dir="$RUN" "${TINY[@]}" --sft.data="$WORK/missing.jsonl" || rc=$?
[[ $rc != 0 && ! -e "$FAKE_LOG/scontrol.log" ]] || fail "error: rc $rc: $(tail "$FAKE_LOG/out.txt")"
echo "ok: failing step (status $rc) is not requeued"

# 7. an allocation too short to train: refuses instead of requeueing forever
start_case short
echo "0:30" >"$FAKE_LOG/left"
rc=0
sbatch_ --run.dir="$RUN" "${TINY[@]}" || rc=$?
[[ $rc != 0 && ! -e "$FAKE_LOG/srun.log" && ! -e "$FAKE_LOG/scontrol.log" ]] || fail "short: $(tail "$FAKE_LOG/out.txt")"
echo "ok: too short an allocation"
# 8. SIGUSR1 (Slurm's warning signal) in the middle of a long run, 4 minutes left: checkpoint, requeue
start_case usr1
printf '%s\n' 2:00:00 4:00 >"$FAKE_LOG/left"
FAKE_USR1_AFTER=3 sbatch_ --run.dir="$RUN" "${TINY[@]}" --train.max_steps=100000 || fail "USR1: $(tail "$FAKE_LOG/out.txt")"
grep -q 'stopping after step .*SIGUSR1' "$FAKE_LOG/out.txt" || fail "USR1: no stop: $(tail "$FAKE_LOG/out.txt")"
grep -qx 'requeue 4242' "$FAKE_LOG/scontrol.log" || fail "USR1: no requeue: $(tail "$FAKE_LOG/out.txt")"
echo "ok: SIGUSR1 -> checkpoint and requeue (stopped at step $(steps))"
echo "all sft.sbatch checks passed"
