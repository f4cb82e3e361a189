#!/usr/bin/env bash
# The embedded default, end to end on this machine (no GPU needed): the SPMD executable on two MPI
# ranks reporting the build, devices and rank placement; the byte-level tokenizer; the tiny LLaDA
# preset exported as a Hugging Face folder and read back; then the pipeline of the paper on the
# tiny model: SFT from scratch on generated 4x4 Sudoku, `mdrl eval` of six decoding strategies,
# CJ-GRPO with EOSER + ASS rollouts, the same evaluation again, a before/after table and a report
# folder (<run dir>/report: the table, the EOS-trap figures of the decodings, reward curves).
# Every stage is resumable: run it again and finished stages are skipped (MDRL_FRESH=1 starts over).
# Environment: MDRL_PRESET (default release), MDRL_NP (ranks, default 2), MDRL_RUN_DIR (default
# runs/quickstart), MDRL_FRESH (1 = delete the run directory first).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PRESET="${MDRL_PRESET:-release}"
NP="${MDRL_NP:-2}"
RUN_DIR="${MDRL_RUN_DIR:-$ROOT/runs/quickstart}"
MDRL="$ROOT/build/$PRESET/bin/mdrl"
[[ -x "$MDRL" ]] || { echo "$MDRL not found: run tools/setup.sh first" >&2; exit 1; }
PYTHON="$(sed -n 's/^MDRL_PYTHON:[A-Z]*=//p' "$ROOT/build/$PRESET/CMakeCache.txt" 2>/dev/null || true)"
[[ -x "$PYTHON" ]] || PYTHON=python3
if [[ $EUID -eq 0 ]]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
[[ "${MDRL_FRESH:-0}" == 1 ]] && rm -rf "$RUN_DIR"
mkdir -p "$RUN_DIR"
START=$SECONDS
stage_time() { echo "   ($1: $((SECONDS - $2)) s; $((SECONDS - START)) s since the start)"; }
mpirun_() { mpirun -np "$NP" --oversubscribe --bind-to none "$MDRL" "$@"; }

echo "== mpirun -np $NP mdrl info"
mpirun -np "$NP" --oversubscribe --bind-to none "$MDRL" info

echo; echo "== mdrl tokenize: a chat prompt through the embedded byte-level tokenizer"
"$MDRL" tokenize --tokenize.form=chat "What is 2+2?" | head -n 3

echo; echo "== mdrl export: the tiny LLaDA preset as a Hugging Face folder, then read back"
"$MDRL" export --model.preset=tiny --export.what=base --export.out="$RUN_DIR/tiny-hf"
"$MDRL" export --model.path="$RUN_DIR/tiny-hf" --export.what=base --export.out="$RUN_DIR/tiny-hf-roundtrip"
ls -l "$RUN_DIR/tiny-hf"

echo; echo "== mdrl generate: EOSER + ASS (log2 64 = 6 steps) with the tiny preset"
echo "   (random weights until the SFT mode trains it: the text is noise, the plan and the loop are real)"
"$MDRL" generate --model.preset=tiny --decode.schedule=ass --decode.gen_length=64 --decode.steps=6 \
  --decode.eoser=true --generate.show_plan=true --log.level=warn "What is 2+2?"

echo; echo "== mpirun -np $NP mdrl sft: the tiny LLaDA trained from scratch on generated 4x4 Sudoku"
echo "   (inputs/quickstart/sft.ini; held-out accuracy is reported at each evaluation)"
t=$SECONDS
if [[ -d "$RUN_DIR/sft/final" ]]; then echo "   finished in an earlier run: $RUN_DIR/sft/final"
else mpirun_ sft -c "$ROOT/inputs/quickstart/sft.ini" --run.dir="$RUN_DIR/sft"; fi
stage_time sft $t

echo; echo "== mdrl generate: the trained model solves 1034341220434301 (solution 1234341221434321)"
"$MDRL" generate --model.path="$RUN_DIR/sft/final" --generate.form=chat --decode.gen_length=40 \
  --decode.block_length=40 --decode.steps=40 --log.level=warn "Solve the following Sudoku puzzle: 1034341220434301"

# The evaluation before and after RL: 256 new puzzles of the RL task (8 empty cells, generator seed
# 11: not the training puzzles), six strategies x 6/16/32 steps (inputs/quickstart/eval.ini), with
# decode traces for the EOS figures.
EVAL_ARGS=(--tasks.sudoku_empty_cells=8 --eval.traces=true --log.level=warn)
echo; echo "== mpirun -np $NP mdrl eval: the SFT model, 6 strategies x 6/16/32 steps on 256 new puzzles"
t=$SECONDS
mpirun_ eval -c "$ROOT/inputs/quickstart/eval.ini" --model.path="$RUN_DIR/sft/final" \
  --eval.out_dir="$RUN_DIR/sft/eval" "${EVAL_ARGS[@]}" >/dev/null
stage_time "eval of the SFT model" $t

echo; echo "== mpirun -np $NP mdrl cj-grpo: CJ-GRPO of the trained model on harder puzzles (8 empty cells)"
echo "   with EOSER + ASS rollouts (64 tokens in 6 steps; inputs/quickstart/cj_grpo.ini; reward and"
echo "   held-out accuracy at each evaluation). The other RL modes: inputs/quickstart/{one_step,diffu}_grpo.ini"
t=$SECONDS
if [[ -d "$RUN_DIR/cj-grpo/final" ]]; then echo "   finished in an earlier run: $RUN_DIR/cj-grpo/final"
else mpirun_ cj-grpo -c "$ROOT/inputs/quickstart/cj_grpo.ini" --model.path="$RUN_DIR/sft/final" --run.dir="$RUN_DIR/cj-grpo"; fi
stage_time cj-grpo $t

echo; echo "== mpirun -np $NP mdrl eval: the CJ-GRPO model, the same setups"
t=$SECONDS
mpirun_ eval -c "$ROOT/inputs/quickstart/eval.ini" --model.path="$RUN_DIR/cj-grpo/final" \
  --eval.out_dir="$RUN_DIR/cj-grpo/eval" "${EVAL_ARGS[@]}" >/dev/null
stage_time "eval of the CJ-GRPO model" $t

echo; echo "== before / after CJ-GRPO (accuracy = Sudoku cells, %; $RUN_DIR/report/before_after.md)"
"$PYTHON" "$ROOT/tools/quickstart_table.py" "$RUN_DIR/sft/eval" "$RUN_DIR/cj-grpo/eval" -o "$RUN_DIR/report/before_after"
echo; echo "== tools/mdrl-analyze report: $RUN_DIR/report/index.html (reward and accuracy curves; the EOS"
echo "   trap per decoding: where and when each strategy commits EOS, before and after CJ-GRPO)"
"$PYTHON" "$ROOT/tools/mdrl-analyze" report "$RUN_DIR/sft" "$RUN_DIR/cj-grpo" -o "$RUN_DIR/report"
"$PYTHON" "$ROOT/tools/mdrl-analyze" eos "$RUN_DIR/sft/eval/traces/sudoku_diffusion_lcr_64_32_b64" \
  "$RUN_DIR/cj-grpo/eval/traces/sudoku_diffusion_lcr_64_32_b64" "$RUN_DIR/cj-grpo/eval/traces/sudoku_semi-ar_lcr_64_32_b32" \
  "$RUN_DIR/cj-grpo/eval/traces/sudoku_eoser_ass_64_6_b1" --label "diffusion (SFT)" --label "diffusion (CJ-GRPO)" \
  --label "semi-AR (CJ-GRPO)" --label "EOSER+ASS (CJ-GRPO)" -o "$RUN_DIR/report/eos" | tail -n 6
echo; echo "== quickstart done in $((SECONDS - START)) s; outputs under $RUN_DIR"
