#!/usr/bin/env python3
"""Benchmark (label bench) of `mdrl eval` (issue 15): samples/s and tokens per forward of EOSER+ASS
(S = floor(log2 L)) vs semi-AR low-confidence (S = L/2, blocks of 32) on llada-100m (random
weights, CPU), under `mpirun -np 2`, with length-sorted batching off and on. Generated Countdown
puzzles (their prompts differ in length, so sorting changes the padding). One JSON object on
stdout: per (sorting, setup) the row of results.json, plus the ratios EOSER+ASS / semi-AR in
samples/s and sorted / unsorted. Accuracies are meaningless (random weights); that the two
sortings give the same generations is checked (exit 1 otherwise).

Environment: MDRL_EXE (required), MPIEXEC (default mpirun), MDRL_BENCH_PRESET (llada-100m),
MDRL_BENCH_GEN (L, 32), MDRL_BENCH_PROMPTS (32), MDRL_BENCH_BATCH (eval.batch_size, 8),
MDRL_BENCH_NP (2), MDRL_BENCH_DIR (temporary folder).
"""
import json
import os
import subprocess
import sys
import tempfile


def main():
    exe = os.environ["MDRL_EXE"]
    mpiexec = os.environ.get("MPIEXEC", "mpirun")
    preset = os.environ.get("MDRL_BENCH_PRESET", "llada-100m")
    L = int(os.environ.get("MDRL_BENCH_GEN", "32"))
    n = int(os.environ.get("MDRL_BENCH_PROMPTS", "32"))
    batch = int(os.environ.get("MDRL_BENCH_BATCH", "8"))
    np_ = int(os.environ.get("MDRL_BENCH_NP", "2"))
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    out = {"benchmark": "eval", "preset": preset, "gen_length": L, "prompts": n, "batch_size": batch, "ranks": np_,
           "runs": {}}
    ok = True
    with tempfile.TemporaryDirectory(dir=os.environ.get("MDRL_BENCH_DIR")) as tmp:
        texts = {}
        for sort in ("false", "true"):
            d = os.path.join(tmp, "sort_" + sort)
            cmd = [mpiexec, "-np", str(np_), "--oversubscribe", "--bind-to", "none", exe, "eval",
                   f"--model.preset={preset}", "--tokenizer.path=builtin:byte_level", "--eval.source=generated",
                   "--eval.prompt_style=bare", "--eval.tasks=countdown", f"--tasks.generated_count={n}",
                   f"--eval.subsample={n}", "--eval.strategies=eoser_ass,semi-ar_lcr", f"--eval.gen_lengths={L}",
                   "--eval.steps=log2,gen/2", f"--eval.block_lengths={min(32, L)}", f"--decode.gen_length={L}",
                   f"--decode.block_length={min(32, L)}", f"--eval.batch_size={batch}",
                   f"--eval.sort_by_length={sort}", "--eval.reference_files=false", f"--eval.out_dir={d}",
                   "--log.level=warn"]
            print("bench_eval: " + " ".join(cmd), file=sys.stderr)
            r = subprocess.run(cmd, env=env, capture_output=True, text=True)
            if r.returncode != 0:
                out["runs"][sort] = {"error": r.stderr[-2000:]}
                ok = False
                continue
            with open(os.path.join(d, "results.json"), encoding="utf-8") as f:
                rows = json.load(f)["rows"]
            out["runs"][sort] = {row["setup"]: {k: row[k] for k in ("steps", "samples_per_s", "tokens_per_forward",
                                                                     "forwards_per_sample", "wall_s", "accuracy")}
                                 for row in rows}
            for row in rows:
                with open(os.path.join(d, row["setup"] + ".jsonl"), encoding="utf-8") as f:
                    texts.setdefault(row["setup"], []).append([json.loads(x)["generation"] for x in f])
        same = all(len(v) == 2 and v[0] == v[1] for v in texts.values())
        out["same_generations_sorted_and_unsorted"] = same
        ok = ok and same
        ratios = {}
        for sort, rows in out["runs"].items():
            if "error" in rows:
                continue
            ea = [v for k, v in rows.items() if "_eoser_ass_" in k]
            sa = [v for k, v in rows.items() if "_semi-ar_lcr_" in k and v["steps"] == L // 2]
            if ea and sa:
                ratios[f"eoser_ass_over_semi_ar_samples_per_s (sort={sort})"] = ea[0]["samples_per_s"] / sa[0]["samples_per_s"]
        if "error" not in out["runs"].get("true", {"error": 1}) and "error" not in out["runs"].get("false", {"error": 1}):
            for setup, v in out["runs"]["true"].items():
                ratios[f"sorted_over_unsorted_samples_per_s ({setup})"] = (
                    v["samples_per_s"] / out["runs"]["false"][setup]["samples_per_s"])
        out["ratios"] = ratios
    print(json.dumps(out, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
