#!/usr/bin/env bash
# Every shipped configuration (inputs/recipes/*.ini, inputs/quickstart/*.ini) is read and validated
# by the mode its file name names (sft_*, diffu_grpo_*, one_step_grpo_*, cj_grpo_*, eval*), through
# `mdrl <mode> -c FILE --print-config`: unknown keys, bad values and invalid decoding combinations
# (spec algorithms.md §1.3-§1.6, Q6/Q7) fail here, before anyone loads an 8B model. Paths that need
# files outside the checkout (the LLaDA folder, task data, the quickstart SFT model) are replaced by
# the tiny preset, the byte-level tokenizer and an empty stand-in file, so this runs on a fresh clone.
# For the CJ-GRPO recipes (spec §2.3, §4.1) it also checks
#   - the decoder their name promises (semiar, eoser, ass, eoser_ass, justgrpo, dare), with the
#     decoding steps splitting evenly over the semi-AR blocks and no step left without tokens;
#   - that everything but [decode], grpo.cj_* and run.dir equals the one-step recipe of the same task
#     (the reference's common settings: lr, G, mu, LoRA, batch layout, ...), resolved the same way;
#   - the same for inputs/quickstart/cj_grpo*.ini against inputs/quickstart/one_step_grpo.ini, but for
#     the run's length and size (train.batch_size, max_steps, eval_every, log_every; checkpoint.every):
#     a CJ-GRPO step costs S scoring forwards, so its quickstart takes fewer prompts per step.
# A mode the binary lists as "not in this build yet" is skipped with a note.
#
#   tests/cli/check_recipes.sh [path/to/mdrl]     # default: $MDRL_EXE, else build/release/bin/mdrl
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="${1:-${MDRL_EXE:-$ROOT/build/release/bin/mdrl}}"
[[ -x "$BIN" ]] || { echo "check_recipes: $BIN is not built" >&2; exit 2; }
cd "$ROOT"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
STANDIN="$WORK/standin.data"
: >"$STANDIN"

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

mode_built() {
  local line
  line="$("$BIN" --help 2>/dev/null | grep -E "^  $1 " || true)"
  [[ -n "$line" && "$line" != *"not in this build"* ]]
}

# The mode of a configuration file, from its name.
mode_of() {
  local name
  name="$(basename "$1" .ini)"
  case "$name" in
    cj_grpo*) echo cj-grpo ;;
    one_step_grpo*) echo one-step-grpo ;;
    diffu_grpo*) echo diffu-grpo ;;
    sft*) echo sft ;;
    eval*) echo eval ;;
    *) echo "" ;;
  esac
}

# section.key=value of an INI file, one per line (comments and blank lines dropped, values trimmed).
ini_pairs() {
  awk '
    /^[ \t]*[#;]/ || /^[ \t]*$/ { next }
    /^[ \t]*\[/ { s = $0; gsub(/^[ \t]*\[|\][ \t]*$/, "", s); next }
    {
      k = $0; sub(/=.*/, "", k); gsub(/^[ \t]+|[ \t]+$/, "", k)
      v = $0; sub(/^[^=]*=/, "", v); gsub(/^[ \t]+|[ \t]+$/, "", v)
      print s "." k "=" v
    }' "$1"
}

# The overrides that make FILE readable without the files it points to.
standins() {
  local pair key value
  echo "--model.path="
  echo "--model.merge_adapter="
  echo "--lora.adapter="
  echo "--tokenizer.path=builtin:byte_level"
  while IFS= read -r pair; do
    key="${pair%%=*}"
    value="${pair#*=}"
    case "$key" in
      tasks.*_train | tasks.*_test | sft.data | sft.eval_data)
        [[ -n "$value" && "$value" != '""' ]] && echo "--$key=$STANDIN" ;;
    esac
  done < <(ini_pairs "$1")
}

# resolve FILE MODE [ARGS...]: prints the name of a file holding the resolved configuration as sorted
# section.key=value lines; on failure says why on stderr and returns 1 (it runs in $(...): the
# caller counts the failure).
resolve() {
  local file="$1" mode="$2" out
  shift 2
  out="$WORK/$(basename "$file" .ini).$mode"
  [[ -s "$out" ]] && { echo "$out"; return 0; }  # resolved before
  local -a extra
  mapfile -t extra < <(standins "$file")
  if ! "$BIN" "$mode" -c "$file" "${extra[@]}" "$@" --print-config >"$out.ini" 2>"$out.err"; then
    echo "FAIL: $file: 'mdrl $mode -c $file --print-config' failed: $(grep -v '^\s*$' "$out.err" | tail -n 3)" >&2
    return 1
  fi
  ini_pairs "$out.ini" | sort >"$out"
  echo "$out"
}

get() { sed -n "s/^$2=//p" "$1" | sed 's/^"\(.*\)"$/\1/'; }

# compare A B WHAT [EXTRA]: equal but for [decode], grpo.cj_*, run.dir, the stand-in overrides and the
# keys matched by the extended regular expression EXTRA.
compare_common() {
  local a="$1" b="$2" what="$3" skip='^(decode\.|grpo\.cj_|run\.dir=)' d
  [[ -n "${4:-}" ]] && skip="$skip|$4"
  d="$(diff <(grep -Ev "$skip" "$a") <(grep -Ev "$skip" "$b") || true)"
  [[ -z "$d" ]] || fail "$what: settings outside [decode], grpo.cj_* and run.dir${4:+ (and $4)} differ:"$'\n'"$d"
}

# check_decoder RESOLVED NAME KIND
check_decoder() {
  local r="$1" name="$2" kind="$3"
  local schedule eoser L steps bl gsched gmin
  schedule="$(get "$r" decode.schedule)"
  eoser="$(get "$r" decode.eoser)"
  L="$(get "$r" decode.gen_length)"
  steps="$(get "$r" decode.steps)"
  bl="$(get "$r" decode.block_length)"
  gsched="$(get "$r" decode.gamma_schedule)"
  gmin="$(get "$r" decode.gamma_min)"
  local want_schedule want_eoser
  case "$kind" in
    semiar | justgrpo | dare) want_schedule=semi_ar want_eoser=false ;;
    eoser) want_schedule=diffusion want_eoser=true ;;
    ass) want_schedule=ass want_eoser=false ;;
    eoser_ass) want_schedule=ass want_eoser=true ;;
    *) fail "$name: unknown CJ decoder '$kind' in the file name"; return ;;
  esac
  [[ "$schedule" == "$want_schedule" ]] || fail "$name: decode.schedule = $schedule, expected $want_schedule"
  [[ "$eoser" == "$want_eoser" ]] || fail "$name: decode.eoser = $eoser, expected $want_eoser"
  if [[ "$want_eoser" == true ]]; then
    local want_gamma=linear
    [[ "$kind" == eoser_ass ]] && want_gamma=power
    [[ "$gsched" == "$want_gamma" ]] || fail "$name: decode.gamma_schedule = $gsched, expected $want_gamma"
    awk -v g="$gmin" 'BEGIN { exit !(g == 0.01) }' || fail "$name: decode.gamma_min = $gmin, expected 0.01 (train.yaml)"
  fi
  if [[ "$schedule" == semi_ar ]]; then
    # spec §1.3: L / block_length blocks of max(1, steps / blocks) steps; every step unmasks a token
    local blocks spb
    if ((bl <= 0 || L % bl != 0)); then
      fail "$name: block_length $bl does not divide gen_length $L"
      return
    fi
    blocks=$((L / bl))
    spb=$((steps / blocks))
    ((spb < 1)) && spb=1
    ((blocks * spb == steps)) || fail "$name: $steps steps do not split evenly over $blocks blocks"
    ((spb <= bl)) || fail "$name: $spb steps per block of $bl tokens leave steps without tokens (Q12)"
  fi
  case "$kind" in
    justgrpo) [[ "$bl" == 1 && "$steps" == "$L" ]] || fail "$name: left-to-right needs block_length 1 and steps = gen_length ($L), got $bl / $steps" ;;
    dare) [[ "$bl" == 32 && "$steps" == 128 && "$L" == 256 ]] || fail "$name: DARE's recipe is L 256, block 32, 128 steps; got $L / $bl / $steps" ;;
  esac
}

# The one-step files read as cj-grpo, whose decoding defaults are ASS + EOSER: their semi-AR
# settings under semi_ar ([decode] is not compared).
SEMI_AR=(--decode.schedule=semi_ar --decode.eoser=false)
checked=0
skipped=()
declare -A built
for file in inputs/recipes/*.ini inputs/quickstart/*.ini; do
  mode="$(mode_of "$file")"
  if [[ -z "$mode" ]]; then
    fail "$file: the name does not say its mode (sft_*, diffu_grpo_*, one_step_grpo_*, cj_grpo_*, eval*)"
    continue
  fi
  if [[ -z "${built[$mode]:-}" ]]; then
    if mode_built "$mode"; then built[$mode]=1; else built[$mode]=0; fi
  fi
  if [[ "${built[$mode]}" == 0 ]]; then
    skipped+=("$file")
    continue
  fi
  r="$(resolve "$file" "$mode")" || { failures=$((failures + 1)); continue; }
  checked=$((checked + 1))
  name="$(basename "$file" .ini)"
  if [[ "$mode" == cj-grpo && "$file" == inputs/recipes/* ]]; then
    if [[ ! "$name" =~ ^cj_grpo_(.+)_llada8b_(gsm8k|math|countdown|sudoku)$ ]]; then
      fail "$file: a CJ-GRPO recipe is named cj_grpo_<decoder>_llada8b_<task>.ini"
      continue
    fi
    kind="${BASH_REMATCH[1]}"
    task="${BASH_REMATCH[2]}"
    check_decoder "$r" "$file" "$kind"
    base="inputs/recipes/one_step_grpo_llada8b_$task.ini"
    if rb="$(resolve "$base" cj-grpo)"; then compare_common "$rb" "$r" "$file vs $base"; else failures=$((failures + 1)); fi
    [[ "$(get "$r" run.dir)" == "runs/$name" ]] || fail "$file: run.dir = $(get "$r" run.dir), expected runs/$name"
  elif [[ "$mode" == cj-grpo ]]; then
    base=inputs/quickstart/one_step_grpo.ini
    if rb="$(resolve "$base" cj-grpo "${SEMI_AR[@]}")"; then compare_common "$rb" "$r" "$file vs $base" \
      '^(train\.(batch_size|max_steps|eval_every|log_every)|checkpoint\.every)='; else failures=$((failures + 1)); fi
  fi
done
for f in "${skipped[@]}"; do echo "skipped: $f (mdrl $(mode_of "$f") is not in this build)"; done
if ((failures > 0)); then
  echo "check_recipes: $failures failure(s)" >&2
  exit 1
fi
echo "check_recipes: $checked configuration files valid${skipped:+, ${#skipped[@]} skipped}"
