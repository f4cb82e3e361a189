#!/usr/bin/env bash
# One fuzz test (CTest label fuzz): replays the seed corpus and the kept regression inputs of a
# harness, then fuzzes for a few seconds. Fails on any crash, leak, UB report or timeout.
# Usage: run_fuzzer.sh EXE NAME SECONDS MAX_LEN WORKDIR [DICT [libFuzzer flags...]]
set -euo pipefail
exe=$1 name=$2 seconds=$3 max_len=$4 work=$5 dict=${6:-}
shift $(( $# < 6 ? $# : 6 ))
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work/corpus" "$here/corpus/$name" "$here/regressions/$name"
export LSAN_OPTIONS="suppressions=$here/../sanitizers/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len="$max_len"
      -artifact_prefix="$work/" -print_final_stats=1)
[[ -n $dict ]] && args+=(-dict="$dict")
args+=("$@")
exec "$exe" "${args[@]}" "$work/corpus" "$here/corpus/$name" "$here/regressions/$name"
