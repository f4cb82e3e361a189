#!/usr/bin/env bash
# The body of every training job (jobs/slurm/<mode>.sbatch sources it after its #SBATCH lines):
# site settings, build, the time left, srun of `mdrl $MDRL_MODE` with --run.walltime, and the
# resume / requeue loop. Documented in jobs/slurm/README.md; the variables are those listed at the
# top of sft.sbatch. Needs MDRL_MODE (sft, diffu-grpo, one-step-grpo, cj-grpo, eval) and
# MDRL_DEFAULT_RECIPE from the sbatch file, and the job's arguments as "$@". Optional, for modes
# whose output folder is not a training run (eval): MDRL_DIR_OPTION, the option naming the folder
# (default run.dir), and the functions mdrl_job_finished (default: <dir>/final exists) and
# mdrl_job_progress (prints a value that changes when a start made progress; default: the newest
# checkpoint's name), defined by the sbatch file before it sources this one.
set -euo pipefail

MODE="${MDRL_MODE:?jobs/slurm/lib/train_job.sh: the sbatch file must set MDRL_MODE}"
say() { printf '[%s.sbatch %(%F %T)T] %s\n' "$MODE" -1 "$*"; }
die() { printf '[%s.sbatch] error: %s\n' "$MODE" "$*" >&2; exit 1; }
DRY_RUN="${MDRL_DRY_RUN:-0}"
# Print a command, then run it (or only print it in a dry run).
run() {
  local text
  text="$(printf '%q ' "$@")"
  say "+ ${text% }"
  [[ $DRY_RUN == 1 ]] || "$@"
}

# ---- checkout and site settings ------------------------------------------------------------------
ROOT="${MDRL_ROOT:-${SLURM_SUBMIT_DIR:-$(pwd)}}"
[[ -x "$ROOT/tools/setup.sh" ]] ||
  die "$ROOT is not an mdrl checkout (no tools/setup.sh): submit from the checkout's root or set MDRL_ROOT"
cd "$ROOT"
SITE_ENV="$ROOT/jobs/slurm/sites/${MDRL_SITE:-default}.env"
if [[ -f "$SITE_ENV" ]]; then
  say "site settings: $SITE_ENV"
  # shellcheck source=/dev/null
  source "$SITE_ENV"
elif [[ -n "${MDRL_SITE:-}" ]]; then
  die "MDRL_SITE=$MDRL_SITE, but $SITE_ENV does not exist (copy jobs/slurm/sites/example.env.example)"
fi

PRESET="${MDRL_PRESET:-release}"
RECIPE="${MDRL_RECIPE:-${MDRL_DEFAULT_RECIPE:?the sbatch file must set MDRL_DEFAULT_RECIPE}}"
[[ -f "$RECIPE" ]] || die "MDRL_RECIPE=$RECIPE does not exist (relative paths are from $ROOT)"
RECIPE_NAME="$(basename "$RECIPE" .ini)"
BIN="$ROOT/build/$PRESET/bin/mdrl"
STARTUP_S="${MDRL_STARTUP_S:-300}"
MIN_RUN_S="${MDRL_MIN_RUN_S:-1800}"

# The run directory: the last --run.dir (MDRL_DIR_OPTION) among the arguments, else MDRL_RUN_DIR,
# else a default from the recipe's name. It must stay the same across requeues: resume reads it.
DIR_OPTION="${MDRL_DIR_OPTION:-run.dir}"
RUN_DIR="${MDRL_RUN_DIR:-${MDRL_SCRATCH:-$ROOT}/runs/$RECIPE_NAME}"
RUN_DIR_ARG=1
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    "--$DIR_OPTION="*) RUN_DIR="${args[i]#--"$DIR_OPTION"=}"; RUN_DIR_ARG=0 ;;
    "--$DIR_OPTION") RUN_DIR="${args[i + 1]:-}"; RUN_DIR_ARG=0 ;;
  esac
done
[[ -n "$RUN_DIR" ]] || die "the run directory is empty (--$DIR_OPTION or MDRL_RUN_DIR)"
[[ "$RUN_DIR" == /* ]] || RUN_DIR="$ROOT/$RUN_DIR"

say "job ${SLURM_JOB_ID:-none} (restart ${SLURM_RESTART_COUNT:-0}): ${SLURM_JOB_NUM_NODES:-1} node(s) ${SLURM_JOB_NODELIST:-$(hostname)}, ${SLURM_NTASKS:-1} rank(s)"
say "recipe $RECIPE, run directory $RUN_DIR, binary $BIN"

# ---- time left in the allocation ---------------------------------------------------------------------
# Slurm's [D-]HH:MM:SS, MM:SS or SS in seconds; nothing for UNLIMITED, NOT_SET, INVALID.
slurm_seconds() {
  local t="$1" days=0 s=0 part
  [[ $t =~ ^([0-9]+-)?[0-9]+(:[0-9]+){0,2}$ ]] || return 0
  if [[ $t == *-* ]]; then days="${t%%-*}"; t="${t#*-}"; fi
  local IFS=:
  for part in $t; do s=$((s * 60 + 10#$part)); done
  echo $((days * 86400 + s))
}
# Seconds until the job's time limit (live from squeue, so a changed limit counts), else from
# SLURM_JOB_END_TIME; nothing without a limit or outside Slurm.
seconds_left() {
  local left=""
  if [[ -n "${SLURM_JOB_ID:-}" ]] && command -v squeue >/dev/null; then
    left="$(slurm_seconds "$(squeue -h -j "$SLURM_JOB_ID" -o %L 2>/dev/null | head -n 1 | tr -d ' ')")"
  fi
  if [[ -z "$left" && "${SLURM_JOB_END_TIME:-0}" =~ ^[0-9]+$ && "${SLURM_JOB_END_TIME:-0}" -gt 0 ]]; then
    left=$((SLURM_JOB_END_TIME - $(date +%s)))
  fi
  echo "$left"
}

# ---- run state -------------------------------------------------------------------------------------------
finished() {
  if declare -F mdrl_job_finished >/dev/null; then mdrl_job_finished; else [[ -d "$RUN_DIR/final" ]]; fi
}
latest_checkpoint() {
  if declare -F mdrl_job_progress >/dev/null; then mdrl_job_progress; else cat "$RUN_DIR/checkpoints/latest" 2>/dev/null || true; fi
}
stop_file() { [[ -e "$RUN_DIR/STOP" ]]; }
# mdrl renames a STOP file it acted on to STOP.done (so a rerun goes on): this attempt was stopped by it.
stopped_by_file() { [[ -e "$RUN_DIR/STOP.done" ]]; }

if finished; then
  say "$RUN_DIR/final exists: training already finished, nothing to do"
  exit 0
fi
if stop_file; then
  say "$RUN_DIR/STOP exists: not starting (remove it to resume)"
  exit 0
fi

# ---- build (first node only; idempotent, serialised by a lock in the cache) --------------------
if [[ "${MDRL_SETUP:-1}" == 1 ]]; then
  setup=("$ROOT/tools/setup.sh" --no-apt --preset "$PRESET")
  if [[ -n "${MDRL_PYTHON:-}" ]]; then setup+=(--python "$MDRL_PYTHON"); fi
  run "${setup[@]}"
fi
[[ $DRY_RUN == 1 || -x "$BIN" ]] || die "$BIN does not exist: build it (tools/setup.sh --preset $PRESET) or set MDRL_SETUP=1"

# ---- train until finished, stopped, or out of time ---------------------------------------------------
# LibTorch threads per rank for CPU-side work (dist.threads = 0 follows it); a site value wins.
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-${SLURM_CPUS_PER_TASK:-1}}"
read -r -a srun_extra <<<"${MDRL_SRUN_ARGS:-}"
run mkdir -p "$RUN_DIR"
attempt=0
progressed=0  # checkpoints written in this allocation
while true; do
  attempt=$((attempt + 1))
  left="$(seconds_left)"
  cmd=("$BIN" "$MODE" -c "$RECIPE")
  if ((RUN_DIR_ARG)); then cmd+=("--$DIR_OPTION=$RUN_DIR"); fi
  if [[ -n "$left" ]]; then
    # mdrl's clock starts after the model is loaded: leave the start-up time out.
    walltime=$((left - STARTUP_S))
    if ((walltime < 60)); then
      say "only ${left}s left in the allocation: not starting another training step"
      break
    fi
    cmd+=("--run.walltime=$walltime")
    say "attempt $attempt: ${left}s left in the allocation; --run.walltime=$walltime (MDRL_STARTUP_S=$STARTUP_S left out)"
  else
    say "attempt $attempt: no time limit known; mdrl stops on SIGUSR1/SIGTERM"
  fi
  cmd+=("$@")
  before="$(latest_checkpoint)"
  [[ $DRY_RUN == 1 ]] || rm -f "$RUN_DIR/STOP.done"
  rc=0
  run srun --kill-on-bad-exit=1 --cpu-bind=cores "${srun_extra[@]}" "${cmd[@]}" || rc=$?
  if [[ $DRY_RUN == 1 ]]; then
    say "dry run: nothing was started"
    exit 0
  fi
  if ((rc != 0)); then
    ckpt="$(latest_checkpoint)"
    say "mdrl exited with status $rc: not resuming; fix the cause, then submit again${ckpt:+ to resume from $ckpt}"
    exit "$rc"
  fi
  if finished; then
    say "training finished: $RUN_DIR/final"
    exit 0
  fi
  if stop_file || stopped_by_file; then
    say "stopped by $RUN_DIR/STOP (now STOP.done): submit again to resume"
    exit 0
  fi
  after="$(latest_checkpoint)"
  if [[ "$after" == "$before" ]]; then
    die "mdrl stopped without a new checkpoint (still '${after:-none}'): the time left was too short for a step, or it was stopped before the first one; not resuming"
  fi
  progressed=$((progressed + 1))
  say "mdrl checkpointed $after and stopped before the end"
  left="$(seconds_left)"
  if [[ -n "$left" ]] && ((left < MIN_RUN_S)); then
    break
  fi
  say "resuming in this allocation (${left:-unlimited}s left)"
done

# ---- out of time: requeue (same job id, same run directory; mdrl resumes from its checkpoint) -------
restarts="${SLURM_RESTART_COUNT:-0}"
if ((progressed == 0)); then
  die "the time limit leaves no time to train (MDRL_STARTUP_S=$STARTUP_S): submit with a longer --time"
elif [[ "${MDRL_REQUEUE:-1}" != 1 || -z "${SLURM_JOB_ID:-}" ]]; then
  say "not finished; submit the same command again to resume from $(latest_checkpoint)"
elif ((restarts >= ${MDRL_MAX_REQUEUES:-50})); then
  say "not finished after $restarts restarts (MDRL_MAX_REQUEUES); submit again to resume from $(latest_checkpoint)"
else
  say "not finished: requeueing job $SLURM_JOB_ID (restart $((restarts + 1)))"
  run scontrol requeue "$SLURM_JOB_ID"
fi
exit 0
