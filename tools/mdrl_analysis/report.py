"""`mdrl-analyze report`: one static HTML page (index.html, PNGs beside it, report.json with the numbers)
for one run, or two side by side. A run folder contributes what it holds: trajectories/ (the rollouts:
per-step table and curves; EOS and order figures of its first and last recorded step), metrics.jsonl
(reward and accuracy curves) and every eval traces/<setup> folder below it (EOS and order figures per
setup: the EOS-trap comparison of decoding strategies)."""
import datetime
import html
import json
import os

from . import data, plots
from .data import InputError
import mdrl_trajectories as mt


def _find_traces(run, max_depth=4):
    found = []
    base = os.path.abspath(run)
    for root, dirs, _ in os.walk(base):
        depth = os.path.relpath(root, base).count(os.sep) + (root != base)
        if depth >= max_depth:
            dirs[:] = []
        if os.path.basename(root) == "traces" and root != base:
            for d in sorted(dirs):
                p = os.path.join(root, d)
                if mt.run_files(p):
                    found.append(p)
            dirs[:] = []
        dirs.sort()
    return found


def discover(run):
    if not os.path.isdir(run):
        raise InputError(f"{run}: not a folder; report takes run folders (trajectories/, metrics.jsonl, eval traces/)")
    traj = None
    if mt.run_files(run):
        traj = run
    elif os.path.isdir(os.path.join(run, "trajectories")) and mt.run_files(os.path.join(run, "trajectories")):
        traj = os.path.join(run, "trajectories")
    metrics = os.path.join(run, "metrics.jsonl")
    metrics = metrics if os.path.isfile(metrics) else None
    traces = _find_traces(run)
    if traj is None and metrics is None and not traces:
        raise InputError(f"{run} holds no trajectories/, metrics.jsonl or eval traces/<setup> folders")
    parents = sorted({os.path.dirname(os.path.dirname(t)) for t in traces})
    labelled = []
    for t in traces:
        name = os.path.basename(t)
        if len(parents) > 1:
            rel = os.path.relpath(os.path.dirname(os.path.dirname(t)), os.path.abspath(run))
            name = (os.path.basename(os.path.abspath(run)) if rel == "." else rel) + "/" + name
        labelled.append((name, t))
    return traj, metrics, labelled


def _e(x):
    return html.escape(str(x))


def _table(head, rows, cls="num"):
    out = [f"<div class='wide'><table class='{cls}'>"]
    if any(head):
        out.append("<thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr></thead>")
    out += ["<tbody>"] + ["<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>" for r in rows]
    return "".join(out) + "</tbody></table></div>"


def _img(name, alt):
    return f"<figure><img src='{_e(name)}' alt='{_e(alt)}'><figcaption>{_e(alt)}</figcaption></figure>"


class RunReport:
    def __init__(self, run, label, prefix, out, eos_ids, max_cols=3):
        self.run, self.prefix, self.out = run, prefix, out
        self.label = label or os.path.basename(os.path.abspath(run))
        self.traj, self.metrics, self.traces = discover(run)
        self.summary = self.eos = self.order = None
        self.metric_rows = data.read_metrics(self.metrics) if self.metrics else None
        self.meta = {}
        inputs = []
        if self.traj:
            full = data.Decodings(self.traj, label=self.label, eos_ids=eos_ids)
            self.summary = data.summary_doc(full)
            self.meta = {k: str(full.attrs.get(k, "")) for k in ("git_commit", "mdrl_version", "created", "world_size")}
            self.meta["mode"] = str(full.attrs.get("config_ini", "")).split("\n", 1)[0].lstrip("# ")
            self.meta["EOS id"] = f"{','.join(map(str, full.eos_ids))} ({full.eos_source})"
            steps = [int(s) for s in full.step_values]
            for s in sorted({steps[0], steps[-1]}) if steps else []:
                inputs.append(data.Decodings(self.traj, label=f"rollouts, step {s}", steps=(s, s), eos_ids=eos_ids))
        for name, path in self.traces:
            inputs.append(data.Decodings(path, label=name, eos_ids=eos_ids))
        if inputs:
            self.eos = [data.eos_stats(d) for d in inputs]
            self.order = [data.order_stats(d) for d in inputs]
        self.files = {}
        if self.summary:
            self.files["summary"] = plots.summary([self.summary], os.path.join(out, prefix + "summary.png"))
        if self.eos:
            names = ("eos_share", "eos_heatmap", "eos_counts", "eos_confidence")
            for n, f in zip(names, plots.write_eos(self.eos, out, prefix, max_cols)):
                self.files[n] = f
            self.files["order"] = plots.order(self.order, os.path.join(out, prefix + "order.png"), max_cols)

    def numbers(self):
        return {"run": self.run, "label": self.label, "meta": self.meta, "summary": self.summary,
                "eos": data.eos_json(self.eos or []), "traces": [p for _, p in self.traces],
                "metrics": self.metrics}


def _section(title, parts, two, note=""):
    body = "".join(f"<div class='col'>{p}</div>" for p in parts) if two else parts[0]
    cls = "cols" if two else "one"
    return f"<section><h2>{_e(title)}</h2>{note}<div class='{cls}'>{body}</div></section>"


def write(runs, labels, out, eos_ids):
    reps = [RunReport(r, l, f"run{i + 1}_" if len(runs) > 1 else "", out, eos_ids, 2 if len(runs) > 1 else 3)
            for i, (r, l) in enumerate(zip(runs, labels))]
    two = len(reps) == 2
    secs = []
    # Overview.
    parts = []
    for r in reps:
        rows = [["folder", os.path.abspath(r.run)], ["trajectories", r.traj or "-"], ["metrics.jsonl", r.metrics or "-"],
                ["eval traces", ", ".join(n for n, _ in r.traces) or "-"]] + [[k, v] for k, v in r.meta.items()]
        parts.append(f"<h3>{_e(r.label)}</h3>" + _table(["", ""], rows, "kv"))
    secs.append(_section("Runs", parts, two))
    # Rewards: both runs overlaid in one figure.
    mruns = [(r.label, r.metric_rows) for r in reps if r.metric_rows is not None]
    if mruns:
        present = plots.rewards(mruns, os.path.join(out, "rewards.png"), list(data.REWARD_COLUMNS))
        rows = []
        for label, mrows in mruns:
            for c in present:
                xs, ys = data.metric_series(mrows, c)
                if len(xs):
                    rows.append([label, c, f"{ys[0]:.4g}", f"{ys[-1]:.4g}", f"{ys.max():.4g}", str(int(xs[-1]))])
        secs.append(f"<section><h2>Reward and accuracy</h2>{_img('rewards.png', 'metrics.jsonl curves')}"
                    + _table(["run", "column", "first", "last", "max", "last step"], rows) + "</section>")
    # EOS trap.
    eos_note = ("<p class='note'>Each panel is one set of decodings: the run's rollouts at its first and last "
                "recorded training step, and each eval setup found under the run (traces/&lt;setup&gt;). "
                "<b>eos_first_quarter</b>: the share of EOS among the tokens committed in the first quarter of the "
                "decoding steps (steps 0 .. q_steps-1): high under the EOS trap, low when EOS comes late (EOSER). "
                "<b>eos_step_frac</b>: mean decoding step of EOS commits / (dec_steps - 1).</p>")
    if any(r.eos for r in reps):
        parts = []
        for r in reps:
            if not r.eos:
                parts.append(f"<h3>{_e(r.label)}</h3><p>no trajectories</p>")
                continue
            p = f"<h3>{_e(r.label)}</h3>" + _table(*data.eos_table(r.eos))
            for n, alt in (("eos_share", "EOS share of committed tokens"),
                           ("eos_heatmap", "(a) EOS commits: decoding step x position"),
                           ("eos_counts", "(b) EOS vs non-EOS tokens committed per step"),
                           ("eos_confidence", "(c) mean confidence of EOS vs non-EOS commits per step")):
                p += _img(os.path.basename(r.files[n]), alt)
            parts.append(p)
        secs.append(_section("EOS trap", parts, two, eos_note))
        parts = [f"<h3>{_e(r.label)}</h3>" + (_img(os.path.basename(r.files["order"]), "decoding order")
                                              if r.order else "<p>no trajectories</p>") for r in reps]
        secs.append(_section("Decoding order", parts, two))
    # Per-step table of the rollouts.
    if any(r.summary for r in reps):
        parts = []
        for r in reps:
            if not r.summary:
                parts.append(f"<h3>{_e(r.label)}</h3><p>no trajectories/</p>")
                continue
            parts.append(f"<h3>{_e(r.label)}</h3>" + _img(os.path.basename(r.files["summary"]), "rollouts per step")
                         + "<div class='scroll'>" + _table(*data.summary_table(r.summary)) + "</div>")
        secs.append(_section("Rollouts per training step", parts, two))
    title = "mdrl report: " + " vs ".join(r.label for r in reps)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>
<style>
body {{ font-family: DejaVu Sans, Arial, sans-serif; margin: 24px; color: #222; background: #fff; }}
h1 {{ font-size: 22px; }} h2 {{ font-size: 18px; border-bottom: 2px solid #c0392b; padding-bottom: 4px; margin-top: 32px; }}
h3 {{ font-size: 15px; margin: 12px 0 6px; }}
.cols {{ display: grid; grid-template-columns: 1fr 1fr; gap: 24px; }}
.col, .one {{ min-width: 0; }}
img {{ max-width: 100%; border: 1px solid #ddd; }}
figure {{ margin: 10px 0; }} figcaption {{ font-size: 12px; color: #555; }}
table {{ border-collapse: collapse; font-size: 12px; margin: 8px 0; }}
th, td {{ border: 1px solid #ccc; padding: 3px 7px; }} th {{ background: #f3f3f3; }}
table.num td {{ text-align: right; }} table.num td:first-child {{ text-align: left; }}
table.kv td:first-child {{ font-weight: bold; }} .wide {{ overflow-x: auto; max-width: 100%; }}
.scroll {{ max-height: 420px; overflow: auto; }} .note {{ font-size: 13px; color: #444; max-width: 70em; }}
#status {{ font-size: 11px; color: #888; }}
</style></head><body>
<h1>{_e(title)}</h1>
<p class="note">Written by tools/mdrl-analyze on {_e(now)}. Numbers: report.json beside this page.</p>
{''.join(secs)}
<p id="status">images: not checked</p>
<script>
window.addEventListener("load", function () {{
  var im = Array.prototype.slice.call(document.images);
  var ok = im.filter(function (i) {{ return i.complete && i.naturalWidth > 0; }}).length;
  document.getElementById("status").textContent = "images loaded: " + ok + " of " + im.length;
}});
</script>
</body></html>
"""
    path = os.path.join(out, "index.html")
    with open(path, "w", encoding="utf-8") as f:
        f.write(page)
    with open(os.path.join(out, "report.json"), "w", encoding="utf-8") as f:
        json.dump(data.jsonable({"runs": [r.numbers() for r in reps]}), f, indent=1)
    return path
