#!/usr/bin/env python3
"""Before/after table of two `mdrl eval` output folders (tools/quickstart.sh: the SFT model, then
the CJ-GRPO model, on the same setups): per setup the accuracy before and after, its change, tokens
per forward and wall time. Prints Markdown and writes it (and the rows as JSON) when -o is given.

    quickstart_table.py BEFORE_DIR AFTER_DIR [-o OUT_PREFIX] [--before-label L] [--after-label L]

Exit status 2 when a folder has no results.json or the two runs' setups differ.
"""
import argparse
import json
import os
import sys


def rows_of(folder):
    path = os.path.join(folder, "results.json")
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"quickstart_table: {path}: {e} (run `mdrl eval` into {folder} first)")
    if not doc.get("complete", True):
        print(f"quickstart_table: warning: {path} is not complete", file=sys.stderr)
    return {r["setup"]: r for r in doc["rows"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("-o", "--out", help="write OUT.md and OUT.json")
    ap.add_argument("--before-label", default="SFT")
    ap.add_argument("--after-label", default="CJ-GRPO")
    a = ap.parse_args()
    before, after = rows_of(a.before), rows_of(a.after)
    if set(before) != set(after):
        print(f"quickstart_table: the setups differ: only before {sorted(set(before) - set(after))}, "
              f"only after {sorted(set(after) - set(before))}", file=sys.stderr)
        sys.exit(2)
    b, c = a.before_label, a.after_label
    lines = [f"| task | setup | steps | accuracy {b} (%) | accuracy {c} (%) | change | tokens/forward {c} | "
             f"wall {b} (s) | wall {c} (s) |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    out_rows = []
    for name in before:  # run order
        x, y = before[name], after[name]
        d = y["accuracy"] - x["accuracy"]
        lines.append(f"| {x['task']} | {name} | {x['steps']} | {x['accuracy']:.2f} | {y['accuracy']:.2f} | "
                     f"{d:+.2f} | {y['tokens_per_forward']:.2f} | {x['wall_s']:.1f} | {y['wall_s']:.1f} |")
        out_rows.append({"setup": name, "task": x["task"], "steps": x["steps"], "accuracy_before": x["accuracy"],
                         "accuracy_after": y["accuracy"], "change": d,
                         "tokens_per_forward_after": y["tokens_per_forward"], "wall_s_before": x["wall_s"],
                         "wall_s_after": y["wall_s"]})
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if a.out:
        os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
        with open(a.out + ".md", "w", encoding="utf-8") as f:
            f.write(f"# {b} vs {c}\n\n{text}")
        with open(a.out + ".json", "w", encoding="utf-8") as f:
            json.dump({"before": os.path.abspath(a.before), "after": os.path.abspath(a.after), "rows": out_rows}, f,
                      indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
