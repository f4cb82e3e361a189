#!/usr/bin/env bash
# The embedded default, end to end on this machine (no GPU needed), with what is built so far:
# the SPMD executable on two MPI ranks reporting the build, devices and rank placement; the
# byte-level tokenizer rendering a chat prompt; the tiny LLaDA preset exported as a Hugging Face
# folder and read back; EOSER + ASS decoding with that (untrained) model. Training and evaluation
# on the tiny model join here as their modes land.
# Environment: MDRL_PRESET (default release), MDRL_NP (ranks, default 2), MDRL_RUN_DIR (default runs/quickstart).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PRESET="${MDRL_PRESET:-release}"
NP="${MDRL_NP:-2}"
RUN_DIR="${MDRL_RUN_DIR:-$ROOT/runs/quickstart}"
MDRL="$ROOT/build/$PRESET/bin/mdrl"
[[ -x "$MDRL" ]] || { echo "$MDRL not found: run tools/setup.sh first" >&2; exit 1; }
if [[ $EUID -eq 0 ]]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
mkdir -p "$RUN_DIR"

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
rm -rf "$RUN_DIR/sft"
mpirun -np "$NP" --oversubscribe --bind-to none "$MDRL" sft -c "$ROOT/inputs/quickstart/sft.ini" --run.dir="$RUN_DIR/sft"

echo; echo "== mdrl generate: the trained model solves 1034341220434301 (solution 1234341221434321)"
"$MDRL" generate --model.path="$RUN_DIR/sft/final" --generate.form=chat --decode.gen_length=40 \
  --decode.block_length=40 --decode.steps=40 --log.level=warn "Solve the following Sudoku puzzle: 1034341220434301"

echo; echo "== mpirun -np $NP mdrl cj-grpo: CJ-GRPO of the trained model on harder puzzles (8 empty cells)"
echo "   with EOSER + ASS rollouts (64 tokens in 6 steps; inputs/quickstart/cj_grpo.ini; reward and"
echo "   held-out accuracy at each evaluation). The other RL modes: inputs/quickstart/{one_step,diffu}_grpo.ini"
rm -rf "$RUN_DIR/cj-grpo"
mpirun -np "$NP" --oversubscribe --bind-to none "$MDRL" cj-grpo -c "$ROOT/inputs/quickstart/cj_grpo.ini" \
  --model.path="$RUN_DIR/sft/final" --run.dir="$RUN_DIR/cj-grpo"
