"""tools/mdrl-analyze on trajectory files written by the real C++ binary.

Makes a diffu-GRPO run (2 ranks, checkpoint every 2 steps: several segments, with held-out evaluations
in metrics.jsonl), a CJ-GRPO run with EOSER + ASS rollouts, and `mdrl eval` traces of three decoding
setups of the trained model; plus the sample files of io_write_samples (non-zero rewards) when
MDRL_IO_WRITE_SAMPLES is set. Then checks:
- `summary --json` against an independent h5py + numpy computation on the datasets, and against the
  completion_length / eos_share the C++ training loop wrote into metrics.jsonl;
- `eos --json` (first-quarter EOS share, commits and confidences per step) against an independent
  computation; the PNGs of eos, order, rewards, summary exist and are valid, non-blank PNGs;
- bad inputs: not HDF5, another format, a newer format version, a folder without trajectories, a
  malformed metrics.jsonl, a --label count that does not fit -> exit 2 naming the file;
- `report` of one run and of two side by side writes index.html, whose images all exist.
With --browser: the two-run report rendered by headless Chromium (exit 77, CTest skip, without it):
its screenshot is a non-blank PNG and every image of the page loaded.

Environment: MDRL_EXE, MPIEXEC (the C++ binary and the MPI launcher), MDRL_SOURCE_DIR, optional
MDRL_IO_WRITE_SAMPLES; the tool runs under this script's interpreter (CTest: MDRL_PYTHON).
"""
import glob
import json
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import traceback
import zlib

import h5py
import numpy as np

SRC = os.environ.get("MDRL_SOURCE_DIR") or os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
TOOL = os.path.join(SRC, "tools", "mdrl-analyze")
TINY = ("--model.preset=tiny --rl.task=sudoku --rl.prompt_style=bare --tasks.generated_count=64"
        " --grpo.num_generations=2 --grpo.num_iterations=2 --train.batch_size=4 --train.grad_accum=2"
        " --train.lr=1e-3 --decode.gen_length=16 --decode.block_length=16 --decode.steps=8 --log.level=warn").split()
CJ_ASS = "--decode.schedule=ass --decode.steps=4 --decode.block_num=1 --decode.eoser=true --grpo.beta=0.04".split()


def sh(cmd, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if r.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {r.returncode}:\n{r.stdout[-4000:]}")
    return r.stdout


def mpirun(*args):
    return sh([os.environ["MPIEXEC"], "-np", "2", "--oversubscribe", "--bind-to", "none", os.environ["MDRL_EXE"], *args])


def tool(*args, expect=0):
    r = subprocess.run([sys.executable, TOOL, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != expect:
        raise AssertionError(f"mdrl-analyze {' '.join(args)}: exit {r.returncode}, expected {expect}\n"
                             f"stdout: {r.stdout[-3000:]}\nstderr: {r.stderr[-3000:]}")
    return r


# ---- independent computations (h5py + numpy on the datasets, no tools/ code) ----------------------

def raw_samples(store):
    """Every complete sample row of a store's segment files, in file (= step) order."""
    cols = {k: [] for k in ("step", "reward", "completion_ids", "step_map", "confidence")}
    for path in sorted(glob.glob(os.path.join(store, "seg-*.h5"))):
        with h5py.File(path, "r") as f:
            n = int(f.attrs["num_samples"])
            L = int(f.attrs["completion_length"])
            for k in cols:
                cols[k].append(f["samples/" + k][:n])
    return {k: np.concatenate(v) for k, v in cols.items()}, L


def first_eos_length(row, eos):
    for j, t in enumerate(row.tolist()):
        if t in eos:
            return j + 1
    return len(row)


def expected_summary(store, eos):
    s, L = raw_samples(store)
    out = []
    for step in sorted(set(s["step"].tolist())):
        rows = np.nonzero(s["step"] == step)[0]
        r = s["reward"][rows]
        lengths = [first_eos_length(s["completion_ids"][i], eos) for i in rows]
        smap = s["step_map"][rows]
        d = int(smap.max()) + 1
        out.append({"step": step, "samples": len(rows), "reward_mean": float(np.mean(r)),
                    "reward_std": math.sqrt(sum((x - float(np.mean(r))) ** 2 for x in r) / len(r)),
                    "completion_length": sum(lengths) / len(lengths),
                    "eos_share": sum(1 for x in lengths if x < L) / len(lengths), "decoding_steps": d,
                    "unmasked_per_step": [int((smap == k).sum()) / len(rows) for k in range(d)]})
    return out


def expected_eos(store, eos):
    s, L = raw_samples(store)
    ids, smap, conf = s["completion_ids"], s["step_map"], s["confidence"].astype(np.float64)
    n, d = ids.shape[0], int(smap.max()) + 1
    q = math.ceil(d / 4)
    is_eos = np.isin(ids, eos)
    in_q = (smap >= 0) & (smap < q)
    per_e, per_n, c_e, c_n = [], [], [], []
    for k in range(d):
        e, o = (smap == k) & is_eos, (smap == k) & ~is_eos
        per_e.append(e.sum() / n)
        per_n.append(o.sum() / n)
        c_e.append(float(conf[e].mean()) if e.any() else None)
        c_n.append(float(conf[o].mean()) if o.any() else None)
    return {"samples": n, "decoding_steps": d, "first_quarter_steps": q,
            "eos_share_first_quarter": float((in_q & is_eos).sum() / in_q.sum()),
            "eos_share_all": float((is_eos & (smap >= 0)).sum() / (smap >= 0).sum()),
            "eos_per_step": per_e, "non_eos_per_step": per_n, "eos_confidence": c_e, "non_eos_confidence": c_n}


def close(a, b, tol=1e-9, what=""):
    if isinstance(a, list) or isinstance(b, list):
        assert isinstance(a, list) and isinstance(b, list) and len(a) == len(b), f"{what}: {a} != {b}"
        for i, (x, y) in enumerate(zip(a, b)):
            close(x, y, tol, f"{what}[{i}]")
        return
    if a is None or b is None:
        assert a is None and b is None, f"{what}: {a} != {b}"
        return
    assert abs(a - b) <= tol * max(1.0, abs(b)), f"{what}: {a} != {b}"


def check_png(path, min_w=200, min_h=150):
    assert os.path.isfile(path), f"{path} missing"
    data = open(path, "rb").read()
    assert len(data) > 1000, f"{path}: {len(data)} bytes"
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path}: not a PNG signature"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13, f"{path}: no IHDR chunk first"
    w, h = struct.unpack(">II", data[16:24])
    assert zlib.crc32(data[12:29]) & 0xFFFFFFFF == struct.unpack(">I", data[29:33])[0], f"{path}: IHDR CRC"
    assert w >= min_w and h >= min_h, f"{path}: {w}x{h}"
    assert data[-12:-4] == b"\x00\x00\x00\x00IEND", f"{path}: does not end with an IEND chunk"
    import matplotlib.image
    px = matplotlib.image.imread(path)
    assert px.shape[0] == h and px.shape[1] == w, f"{path}: decoded {px.shape}"
    rgb = px[..., :3].reshape(-1, 3)
    assert float(rgb.std()) > 0.02, f"{path}: blank (pixel std {rgb.std()})"
    assert len(np.unique((rgb * 255).astype(np.uint8), axis=0)) > 8, f"{path}: too few colours"
    return w, h


# ---- fixtures ---------------------------------------------------------------------------------------

def make_runs(tmp):
    grpo, cj = os.path.join(tmp, "grpo"), os.path.join(tmp, "cj")
    mpirun("diffu-grpo", "--run.dir=" + grpo, "--train.max_steps=4", "--checkpoint.every=2", "--rl.eval_examples=8",
           "--train.eval_every=2", *TINY)
    mpirun("cj-grpo", "--run.dir=" + cj, "--train.max_steps=2", *TINY, *CJ_ASS)
    # Eval traces of the trained model: full diffusion (16 and 5 steps) and EOSER + ASS (5 steps).
    ev = os.path.join(grpo, "eval")
    mpirun("eval", "--model.path=" + os.path.join(grpo, "final"), "--eval.tasks=sudoku", "--eval.source=generated",
           "--tasks.generated_count=8", "--eval.prompt_style=bare", "--eval.strategies=diffusion_lcr,eoser_ass",
           "--eval.gen_lengths=32", "--eval.steps=16,log2", "--eval.traces", "--eval.out_dir=" + ev,
           "--run.dir=" + ev, "--log.level=warn")
    traces = sorted(glob.glob(os.path.join(ev, "traces", "*")))
    assert len(traces) == 3, traces
    return grpo, cj, traces


def most_frequent_token(stores):
    ids = np.concatenate([raw_samples(s)[0]["completion_ids"].ravel() for s in stores])
    v, c = np.unique(ids, return_counts=True)
    return int(v[c.argmax()])


# ---- tests ------------------------------------------------------------------------------------------

def test_summary(tmp, grpo, cj, traces):
    store = os.path.join(grpo, "trajectories")
    segs = sorted(glob.glob(os.path.join(store, "seg-*.h5")))
    assert len(segs) == 2, segs  # checkpoints at steps 2 and 4: segments from steps 1 and 3
    doc = json.loads(tool("summary", grpo, "--json").stdout)["inputs"][0]
    assert doc["eos_ids"] == [257] and doc["files"] == segs, (doc["eos_ids"], doc["files"])
    assert "config.json" in doc["eos_source"] or "preset" in doc["eos_source"], doc["eos_source"]
    fields = ("step", "samples", "reward_mean", "reward_std", "completion_length", "eos_share", "decoding_steps",
              "unmasked_per_step")
    for eos in ([257], [most_frequent_token([store])]):
        args = ["summary", store, "--json"] + ([] if eos == [257] else ["--eos-id", str(eos[0])])
        got = json.loads(tool(*args).stdout)["inputs"][0]["steps"]
        want = expected_summary(store, eos)
        assert [r["step"] for r in got] == [r["step"] for r in want] == [1, 3], [r["step"] for r in got]
        for g, w in zip(got, want):
            for k in fields:
                close(g[k], w[k], what=f"eos {eos} step {w['step']} {k}")
        if eos != [257]:
            assert any(0 < r["eos_share"] < 1 for r in got), got  # the frequent token makes lengths vary
    # The C++ loop's own figures for the steps with fresh rollouts (metrics.jsonl, f32 means).
    rows = [json.loads(x) for x in open(os.path.join(grpo, "metrics.jsonl"))]
    fresh = {r["step"]: r for r in rows if r.get("rollout_reuse") == 0}
    got = json.loads(tool("summary", grpo, "--json").stdout)["inputs"][0]["steps"]
    assert sorted(fresh) == [r["step"] for r in got], (sorted(fresh), got)
    for r in got:
        close(r["completion_length"], fresh[r["step"]]["completion_length"], 1e-5, "completion_length vs metrics")
        close(r["eos_share"], fresh[r["step"]]["eos_share"], 1e-6, "eos_share vs metrics")
        close(r["reward_mean"], fresh[r["step"]]["reward"], 1e-6, "reward vs metrics")
    # Text table and the figure.
    out = tool("summary", grpo, cj, "-o", os.path.join(tmp, "sum")).stdout
    assert re.search(r"^\s+1\s+16\s", out, re.M) and "== cj" in out, out
    check_png(os.path.join(tmp, "sum", "summary.png"))
    # --steps keeps one step.
    got = json.loads(tool("summary", store, "--json", "--steps", "3:").stdout)["inputs"][0]["steps"]
    assert [r["step"] for r in got] == [3], got


def test_sample_files(tmp, *_):
    exe = os.environ.get("MDRL_IO_WRITE_SAMPLES")
    if not exe:
        print("  (MDRL_IO_WRITE_SAMPLES not set: sample files not checked)")
        return
    d = os.path.join(tmp, "samples")
    os.makedirs(d)
    sh([exe, d])
    store = os.path.join(d, "trajectories")
    got = json.loads(tool("summary", store, "--json").stdout)["inputs"][0]
    assert got["eos_ids"] == [126081] and got["reward_names"] == ["correctness", "format"], got
    want = expected_summary(store, [126081])
    for g, w in zip(got["steps"], want):
        for k in ("step", "samples", "reward_mean", "reward_std", "completion_length", "unmasked_per_step"):
            close(g[k], w[k], what=f"sample files step {w['step']} {k}")
    assert [r["reward_mean"] for r in got["steps"]] == [1.0, 1.0] and got["steps"][0]["reward_std"] == 0.5, got
    assert got["steps"][0]["rewards"] == {"correctness": 0.5, "format": 0.5}, got["steps"][0]
    # A token of the data as EOS: 1001 is the second token of step 1's first sample.
    got = json.loads(tool("summary", store, "--json", "--eos-id", "1001").stdout)["inputs"][0]["steps"]
    assert got[1]["completion_length"] == (2 + 4) / 2 and got[1]["eos_share"] == 0.5, got[1]


def test_eos_and_order(tmp, grpo, cj, traces):
    eos = most_frequent_token(traces)
    out = os.path.join(tmp, "eos")
    labels = [os.path.basename(t) for t in traces]
    args = ["eos", *traces, "--eos-id", str(eos), "-o", out]
    for lab in labels:
        args += ["--label", lab.upper()]
    doc = json.loads(tool(*args, "--json").stdout)
    assert [s["label"] for s in doc["inputs"]] == [lab.upper() for lab in labels]
    for s, t in zip(doc["inputs"], traces):
        want = expected_eos(t, [eos])
        for k, v in want.items():
            close(s[k], v, what=f"{t} {k}")
    assert any(s["eos_share_first_quarter"] > 0 for s in doc["inputs"]), doc
    names = ["eos_share.png", "eos_heatmap.png", "eos_counts.png", "eos_confidence.png"]
    assert sorted(os.path.basename(f) for f in doc["files"]) == sorted(names), doc["files"]
    for n in names:
        check_png(os.path.join(out, n))
    # The text form quotes the first-quarter share per input.
    txt = tool(*args).stdout
    for s in doc["inputs"]:
        line = next(x for x in txt.splitlines() if x.strip().startswith(s["label"]))
        assert f"{s['eos_share_first_quarter']:.3f}" in line, (line, s["eos_share_first_quarter"])
    # Default EOS id from the eval's model.path (its config.json: 257).
    d = json.loads(tool("eos", traces[0], "-o", out, "--json").stdout)["inputs"][0]
    assert d["eos_ids"] == [257] and d["eos_source"].endswith("config.json"), d
    # Training rollouts work too (one step of the CJ run: ASS, 4 decoding steps, 1 + 2 + 4 + 9 tokens).
    d = json.loads(tool("eos", cj, "--steps", "1", "-o", out, "--json").stdout)["inputs"][0]
    assert d["decoding_steps"] == 4 and d["first_quarter_steps"] == 1, d
    close([a + b for a, b in zip(d["eos_per_step"], d["non_eos_per_step"])], [1, 2, 4, 9], what="ASS counts")
    tool("order", *traces, cj, "-o", out)
    check_png(os.path.join(out, "order.png"))


def test_rewards(tmp, grpo, cj, traces):
    out = os.path.join(tmp, "rw")
    txt = tool("rewards", os.path.join(grpo, "metrics.jsonl"), cj, "-o", out).stdout
    assert "grpo: " in txt and "eval_accuracy" in txt and "cj: " in txt, txt
    check_png(os.path.join(out, "rewards.png"), min_w=600)


def test_errors(tmp, grpo, cj, traces):
    bad = os.path.join(tmp, "bad")
    os.makedirs(bad)
    text = os.path.join(bad, "notes.h5")
    open(text, "w").write("not hdf5\n")
    r = tool("summary", text, expect=2)
    assert text in r.stderr and "not an mdrl" in r.stderr, r.stderr
    other = os.path.join(bad, "other.h5")
    with h5py.File(other, "w") as f:
        f.attrs["format"] = "mdrl-checkpoint"
        f.attrs["format_version"] = 2
    r = tool("eos", other, expect=2)
    assert other in r.stderr and "mdrl-checkpoint" in r.stderr, r.stderr
    newer = os.path.join(bad, "trajectories")
    os.makedirs(newer)
    seg = os.path.join(newer, "seg-00000001.h5")
    shutil.copy(sorted(glob.glob(os.path.join(grpo, "trajectories", "seg-*.h5")))[0], seg)
    with h5py.File(seg, "r+") as f:
        f.attrs["format_version"] = np.int64(3)
    for cmd in ("summary", "eos", "order"):
        r = tool(cmd, bad, expect=2)  # the run folder: its trajectories/ holds the newer file
        assert seg in r.stderr and "version 3" in r.stderr, r.stderr
    r = subprocess.run([sys.executable, os.path.join(SRC, "tools", "mdrl_trajectories.py"), newer],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert r.returncode == 2 and seg in r.stderr, r.stderr
    empty = os.path.join(tmp, "empty")
    os.makedirs(empty)
    r = tool("summary", empty, expect=2)
    assert empty in r.stderr, r.stderr
    r = tool("summary", os.path.join(tmp, "missing"), expect=2)
    assert "missing" in r.stderr, r.stderr
    metrics = os.path.join(bad, "metrics.jsonl")
    open(metrics, "w").write('{"step": 1, "reward": 0.5}\nnot json\n{"step": 3}\n')
    r = tool("rewards", metrics, expect=2)
    assert metrics + ":2" in r.stderr, r.stderr
    open(metrics, "w").write('{"step": 1, "reward": 0.5}\n{"step": 2, "rew')  # a torn last line is dropped
    tool("rewards", metrics, "-o", os.path.join(tmp, "rw2"))
    r = tool("eos", *traces[:2], "--label", "one", expect=2)
    assert "--label" in r.stderr, r.stderr
    r = tool("report", empty, "-o", os.path.join(tmp, "rep0"), expect=2)
    assert empty in r.stderr, r.stderr


def report_pages(tmp, grpo, cj, eos):
    one, two = os.path.join(tmp, "report1"), os.path.join(tmp, "report2")
    tool("report", grpo, "-o", one, "--eos-id", str(eos))
    tool("report", grpo, cj, "-o", two, "--eos-id", str(eos))
    for d in (one, two):
        page = open(os.path.join(d, "index.html"), encoding="utf-8").read()
        imgs = re.findall(r"<img src='([^']+)'", page)
        assert len(imgs) >= 7, imgs
        for name in imgs:
            check_png(os.path.join(d, name))
        nums = json.load(open(os.path.join(d, "report.json")))
        assert len(nums["runs"]) == (1 if d == one else 2)
        assert "EOS trap" in page and "Reward and accuracy" in page and "Decoding order" in page
    page = open(os.path.join(two, "index.html"), encoding="utf-8").read()
    assert "class='cols'" in page and "run1_eos_heatmap.png" in page and "run2_eos_heatmap.png" in page
    # The eval setups of the grpo run are panels of its EOS figure.
    nums = json.load(open(os.path.join(one, "report.json")))
    labels = [s["label"] for s in nums["runs"][0]["eos"]]
    assert labels[:2] == ["rollouts, step 1", "rollouts, step 3"] and len(labels) == 5, labels
    return two


def test_report(tmp, grpo, cj, traces):
    report_pages(tmp, grpo, cj, most_frequent_token(traces))


def browser(tmp, grpo, cj, traces):
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    page = os.path.join(report_pages(tmp, grpo, cj, most_frequent_token(traces)), "index.html")
    shot = os.path.join(tmp, "screenshot.png")
    flags = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1400,2400",
             "--virtual-time-budget=5000"]
    url = "file://" + os.path.abspath(page)
    r = subprocess.run(flags + ["--screenshot=" + shot, url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-3000:]
    w, h = check_png(shot, min_w=1000, min_h=1000)
    print(f"  screenshot {shot}: {w}x{h}")
    dom = subprocess.run(flags + ["--dump-dom", url], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                         timeout=120).stdout
    m = re.search(r"images loaded: (\d+) of (\d+)", dom)
    assert m and m.group(1) == m.group(2) and int(m.group(2)) >= 13, (m and m.group(0), dom[-500:])
    print(f"  {m.group(0)}")


def main():
    want_browser = "--browser" in sys.argv[1:]
    if want_browser and not (shutil.which("chromium") or shutil.which("chromium-browser")):
        print("chromium not found (Debian package chromium): browser check skipped")
        return 77
    tmp = tempfile.mkdtemp(prefix="mdrl-analyze-")
    passed = failed = 0
    try:
        fx = make_runs(tmp)
        tests = [browser] if want_browser else [test_summary, test_sample_files, test_eos_and_order, test_rewards,
                                                test_errors, test_report]
        for t in tests:
            try:
                t(tmp, *fx)
                print(f"PASS {t.__name__}")
                passed += 1
            except Exception:
                print(f"FAIL {t.__name__}")
                traceback.print_exc()
                failed += 1
    finally:
        if failed == 0 or not os.environ.get("MDRL_KEEP_TMP"):
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept {tmp}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
