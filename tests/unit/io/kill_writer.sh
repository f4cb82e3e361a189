#!/usr/bin/env bash
# A trajectory writer SIGKILLed mid-interval, then resumed (tests/unit/io/test_trajectory_kill.cpp):
# on one process and under `mpirun -np 2`, with steps after the last checkpoint buffered
# (flush_every 8) or already written to the open segment (flush_every 1, 2).
# Usage: kill_writer.sh <test_io_kill executable> <mpiexec>
set -u
exe=$1 mpiexec=$2
fail=0
for np in 1 2; do
  for fe in 1 2 8; do
    d=$(mktemp -d)
    if [[ $np == 1 ]]; then launch=(); else launch=("$mpiexec" -np 2 --oversubscribe --bind-to none); fi
    MDRL_KILL_DIR=$d MDRL_KILL_FLUSH_EVERY=$fe "${launch[@]}" "$exe" --run_test=trajectory_kill/killed_child \
      >"$d/child.log" 2>&1
    rc=$?
    # Killed, not finished: 137 on one process; mpirun reports the killed ranks with a non-zero status.
    if [[ $rc == 0 ]] || { [[ $np == 1 ]] && [[ $rc != 137 ]]; }; then
      echo "np $np flush_every $fe: the child was not killed (exit $rc)"; cat "$d/child.log"; fail=1
    fi
    if ! MDRL_KILL_DIR=$d MDRL_KILL_FLUSH_EVERY=$fe "${launch[@]}" "$exe" --run_test=trajectory_kill/after_kill \
      --log_level=test_suite >"$d/check.log" 2>&1; then
      echo "np $np flush_every $fe: after the kill:"; cat "$d/check.log"; fail=1
    else
      echo "np $np flush_every $fe: killed (exit $rc), history intact, resumed"
    fi
    rm -rf "$d"
  done
done
exit $fail
