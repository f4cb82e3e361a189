#!/usr/bin/env bash
# The fake Slurm of the sbatch checks (check_sft_sbatch.sh, check_rl_sbatch.sh), sourced after
# `set -euo pipefail` with CHECK_NAME set: a work folder WORK (removed at exit unless KEEP is set),
# and first on PATH a fake `srun` (drops its own options, runs the program on 2 MPI ranks; a user's
# `touch $FAKE_STOP_FILE` FAKE_STOP_AFTER seconds in; Slurm's --signal=USR1@T as SIGUSR1 after
# FAKE_USR1_AFTER seconds), `squeue -o %L` (the next line of $FAKE_LOG/left, the last repeating) and
# `scontrol` (records requeues in $FAKE_LOG/scontrol.log). Sets ROOT and BIN (the built mdrl).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
BIN="$ROOT/build/${MDRL_PRESET:-release}/bin/mdrl"
[[ -x "$BIN" ]] || { echo "$CHECK_NAME: $BIN is not built" >&2; exit 2; }
WORK="$(mktemp -d)"
trap '[[ -n "${KEEP:-}" ]] || rm -rf "$WORK"' EXIT
FAKE="$WORK/bin"
mkdir -p "$FAKE"

cat >"$FAKE/srun" <<'EOF'
#!/usr/bin/env bash
# Fake srun: drop srun's own options, run the program on 2 MPI ranks.
while [[ $# -gt 0 && $1 == -* ]]; do shift; done
echo "$*" >>"$FAKE_LOG/srun.log"
# The fake job's SLURM_* variables would make mpirun launch through Slurm: hide them.
while read -r v; do unset "$v"; done < <(compgen -e | grep '^SLURM_')
# A user's `touch <run_dir>/STOP` FAKE_STOP_AFTER seconds into the step.
if [[ -n "${FAKE_STOP_FILE:-}" ]]; then (sleep "${FAKE_STOP_AFTER:-3}" && touch "$FAKE_STOP_FILE") & fi
if [[ -z "${FAKE_USR1_AFTER:-}" ]]; then exec mpirun --oversubscribe -np 2 "$@"; fi
# Slurm's --signal=USR1@T: SIGUSR1 to the step after FAKE_USR1_AFTER seconds (mpirun forwards it).
mpirun --oversubscribe -np 2 "$@" &
pid=$!
(sleep "$FAKE_USR1_AFTER" && kill -USR1 "$pid" 2>/dev/null) &
wait "$pid"
EOF
cat >"$FAKE/squeue" <<'EOF'
#!/usr/bin/env bash
# Fake squeue -o %L: the next line of $FAKE_LOG/left (the last one repeats).
f="$FAKE_LOG/left"
[[ -s $f ]] || { echo UNLIMITED; exit 0; }
head -n 1 "$f"
[[ $(wc -l <"$f") -gt 1 ]] && sed -i 1d "$f"
exit 0
EOF
cat >"$FAKE/scontrol" <<'EOF'
#!/usr/bin/env bash
echo "$*" >>"$FAKE_LOG/scontrol.log"
EOF
chmod +x "$FAKE"/*

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export PATH="$FAKE:$PATH" MDRL_ROOT="$ROOT" MDRL_SITE='' MDRL_SETUP=0 MDRL_STARTUP_S=0
export SLURM_JOB_ID=4242 SLURM_JOB_NUM_NODES=1 SLURM_NTASKS=2 SLURM_CPUS_PER_TASK=1
