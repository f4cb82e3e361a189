"""mdrl-analyze: offline analysis of mdrl trajectory files and metrics.jsonl.

  mdrl-analyze summary INPUT... [--json] [-o DIR]    per training step: samples, reward mean/std,
                                                     completion length, EOS share, unmasked per step
  mdrl-analyze eos INPUT... [--label NAME]... -o DIR the EOS-trap figures (step x position heatmap of EOS
                                                     commits, EOS vs non-EOS commits and confidences
                                                     per step) and each input's EOS share of the first
                                                     quarter of the decoding steps' commits
  mdrl-analyze order INPUT... [--label NAME]... -o DIR   decoding order heatmap (position x step)
  mdrl-analyze rewards METRICS... [--label NAME]... -o DIR   reward / eval accuracy curves, overlaid
  mdrl-analyze report RUN [RUN2] -o DIR              all of it in DIR/index.html (two runs side by side)

INPUT: a run folder (its trajectories/), a trajectories/ folder, an eval traces/<setup> folder, or one
.h5 trajectory file (format: src/io/README.md). Exit status 2 for bad inputs (not an mdrl trajectory
file, a newer format version, a malformed metrics.jsonl, bad options), with the file named.
"""
import argparse
import json
import os
import sys

from . import data
from .data import FormatError, InputError


def _common(p, labels=True):
    p.add_argument("--steps", metavar="A:B", help="only these training steps (inclusive; A:, :B or one step)")
    p.add_argument("--eos-id", metavar="ID[,ID]",
                   help="EOS token id(s) (default: the file's model: model.path's config.json or model.preset)")
    if labels:
        p.add_argument("--label", action="append", default=[], metavar="NAME",
                       help="name of each input in the figures, once per input in order")


def _parser():
    ap = argparse.ArgumentParser(prog="mdrl-analyze", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    sub = ap.add_subparsers(dest="cmd", metavar="{summary,eos,order,rewards,report}")
    sub.required = True
    p = sub.add_parser("summary", help="per training step table (text, or --json)")
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    _common(p)
    p.add_argument("--json", action="store_true", help="print JSON instead of the table")
    p.add_argument("-o", "--out", metavar="DIR", help="also write DIR/summary.png")
    p = sub.add_parser("eos", help="the EOS-trap figures for a set of decodings")
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    _common(p)
    p.add_argument("--json", action="store_true", help="print the numbers as JSON instead of the table")
    p.add_argument("-o", "--out", metavar="DIR", default=".", help="folder for the PNGs (default: .)")
    p = sub.add_parser("order", help="decoding order heatmap")
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    _common(p)
    p.add_argument("-o", "--out", metavar="DIR", default=".", help="folder for order.png (default: .)")
    p = sub.add_parser("rewards", help="reward and accuracy curves of metrics.jsonl files")
    p.add_argument("inputs", nargs="+", metavar="METRICS", help="metrics.jsonl files or run folders")
    p.add_argument("--label", action="append", default=[], metavar="NAME")
    p.add_argument("--columns", default=",".join(data.REWARD_COLUMNS),
                   help="metrics.jsonl columns to plot (default: %(default)s)")
    p.add_argument("-o", "--out", metavar="DIR", default=".", help="folder for rewards.png (default: .)")
    p = sub.add_parser("report", help="one HTML page of one run or two side by side")
    p.add_argument("runs", nargs="+", metavar="RUN", help="run folder (trajectories/, metrics.jsonl, eval traces/)")
    p.add_argument("--eos-id", metavar="ID[,ID]")
    p.add_argument("--label", action="append", default=[], metavar="NAME", help="name of each run")
    p.add_argument("-o", "--out", metavar="DIR", required=True, help="output folder (index.html and PNGs)")
    return ap


def _labels(args, n):
    if args.label and len(args.label) != n:
        raise InputError(f"--label given {len(args.label)} times for {n} inputs; give it once per input, in order")
    return args.label or [None] * n


def _outdir(path):
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        raise InputError(f"-o {path}: cannot create the folder ({e.strerror})")
    return path


def load_inputs(args):
    steps, eos = data.parse_steps(args.steps), data.parse_eos_ids(args.eos_id)
    return [data.Decodings(p, label=l, steps=steps, eos_ids=eos) for p, l in zip(args.inputs, _labels(args, len(args.inputs)))]


def cmd_summary(args):
    docs = [data.summary_doc(d) for d in load_inputs(args)]
    if args.out:
        from . import plots
        plots.summary(docs, os.path.join(_outdir(args.out), "summary.png"))
    if args.json:
        print(json.dumps(data.jsonable({"inputs": docs}), indent=1))
        return 0
    for doc in docs:
        print(f"== {doc['label']} ({len(doc['files'])} file(s), completion length {doc['completion_length']}, "
              f"EOS id {','.join(map(str, doc['eos_ids']))} from {doc['eos_source']})")
        print(format_table(*data.summary_table(doc)))
    if args.out:
        print(f"wrote {os.path.join(args.out, 'summary.png')}")
    return 0


def format_table(head, rows):
    w = [max(len(head[i]), *(len(r[i]) for r in rows)) if rows else len(head[i]) for i in range(len(head))]
    line = lambda cells: "  ".join(c.rjust(w[i]) if i < len(head) - 1 else c for i, c in enumerate(cells))  # noqa
    return "\n".join([line(head)] + [line(r) for r in rows])


def cmd_eos(args):
    from . import plots
    decs = load_inputs(args)
    stats = [data.eos_stats(d) for d in decs]
    files = plots.write_eos(stats, _outdir(args.out))
    if args.json:
        print(json.dumps({"inputs": data.eos_json(stats), "files": files}, indent=1))
        return 0
    print(format_table(*data.eos_table(stats)))
    print("eos_first_quarter: EOS share of the tokens committed in the first quarter of the decoding steps "
          "(steps 0..q_steps-1); eos_step_frac: mean decoding step of EOS commits / (dec_steps - 1)")
    for f in files:
        print(f"wrote {f}")
    return 0


def cmd_order(args):
    from . import plots
    stats = [data.order_stats(d) for d in load_inputs(args)]
    path = plots.order(stats, os.path.join(_outdir(args.out), "order.png"))
    print(f"wrote {path}")
    return 0


def metric_runs(paths, labels):
    runs = []
    for p, l in zip(paths, labels):
        mp = data.metrics_path(p)
        runs.append((l or os.path.basename(os.path.dirname(os.path.abspath(mp))), data.read_metrics(mp)))
    return runs


def cmd_rewards(args):
    from . import plots
    runs = metric_runs(args.inputs, _labels(args, len(args.inputs)))
    cols = [c for c in args.columns.split(",") if c]
    path = os.path.join(_outdir(args.out), "rewards.png")
    present = plots.rewards(runs, path, cols)
    for label, rows in runs:
        last = {c: data.metric_series(rows, c) for c in present}
        txt = ", ".join(f"{c} {ys[-1]:.4g} (step {xs[-1]})" for c, (xs, ys) in last.items() if len(xs))
        print(f"{label}: {len(rows)} rows; last {txt or '-'}")
    print(f"wrote {path}")
    return 0


def cmd_report(args):
    from . import report
    if len(args.runs) > 2:
        raise InputError(f"report takes one run or two (side by side), got {len(args.runs)}")
    path = report.write(args.runs, _labels(args, len(args.runs)), _outdir(args.out), data.parse_eos_ids(args.eos_id))
    print(f"wrote {path}")
    return 0


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        return {"summary": cmd_summary, "eos": cmd_eos, "order": cmd_order, "rewards": cmd_rewards,
                "report": cmd_report}[args.cmd](args)
    except (FormatError, InputError) as e:
        print(f"mdrl-analyze: error: {e}", file=sys.stderr)
        return 2
