"""Inputs (trajectory stores, metrics.jsonl) and the numbers of every mdrl-analyze figure and table.

Definitions (the same as the C++ metrics where one exists, src/rl/grpo_loop.cpp):
- completion length of a sample: tokens up to and including the first EOS, L when it has none
  (rl::completion_mask); its mean over a step is metrics.jsonl's `completion_length`;
- EOS share of a step: the fraction of its samples whose completion length is below L (metrics.jsonl's
  `eos_share`; an EOS only at the last position does not count there);
- decoding steps D: max(step_map) + 1 over the samples looked at; a commit is a position with
  step_map = s >= 0 (it was unmasked at decoding step s, with token completion_ids and confidence);
- first quarter: decoding steps 0 .. ceil(D / 4) - 1; its EOS share is EOS commits / all commits there.
"""
import configparser
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import mdrl_trajectories as mt  # noqa: E402  (tools/, the one reader of the format)

FormatError = mt.FormatError

# EOS ids of the built-in model presets (src/model/llada_config.cpp preset()).
_PRESET_EOS = {"tiny": 257, "llada-100m": 257, "llada-8b": 126081, "llada-100m-v126k": 126081}
# Known mask id -> EOS id pairs (byte-level tokenizer of the small presets; LLaDA's vocabulary).
_MASK_EOS = {258: 257, 126336: 126081}

_COLUMNS = ("completion_ids", "step_map", "confidence", "reward", "rewards", "step")


class InputError(Exception):
    """A bad input or option: printed as `mdrl-analyze: error: ...`, exit status 2."""


def resolve_store(path):
    """A trajectory file, a folder of trajectory files, or a run folder holding trajectories/."""
    if os.path.isdir(path) and not mt.run_files(path):
        sub = os.path.join(path, "trajectories")
        if os.path.isdir(sub):
            return sub
        raise FormatError(f"{path} holds no trajectory files (seg-*.h5) and no trajectories/ folder; "
                          "give a run folder, its trajectories/ folder, an eval traces/<setup> folder or a .h5 file")
    return path


def default_label(path):
    p = os.path.abspath(path)
    if os.path.isdir(p):
        name = os.path.basename(p)
        return os.path.basename(os.path.dirname(p)) if name == "trajectories" else name
    return default_label(os.path.dirname(p)) + ":" + os.path.basename(p)


def parse_steps(text):
    """--steps A:B (inclusive training steps; either side may be empty) or A -> (lo, hi)."""
    if text is None:
        return None
    try:
        if ":" in text:
            lo, hi = text.split(":", 1)
            return (int(lo) if lo else None, int(hi) if hi else None)
        return (int(text), int(text))
    except ValueError:
        raise InputError(f"--steps {text!r}: use FIRST:LAST, FIRST:, :LAST or one step (training step numbers)")


def parse_eos_ids(text):
    if text is None:
        return None
    try:
        ids = [int(x) for x in str(text).split(",") if x.strip()]
    except ValueError:
        ids = []
    if not ids:
        raise InputError(f"--eos-id {text!r}: give a token id or a comma-separated list of ids")
    return ids


def _ini(text):
    cp = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        cp.read_string(text or "")
    except configparser.Error:
        return None
    return cp


def _ini_value(cp, section, key):
    if cp is None or not cp.has_option(section, key):
        return ""
    v = cp.get(section, key).strip()
    return v[1:-1] if len(v) >= 2 and v[0] == v[-1] == '"' else v


def eos_ids_of(attrs, path):
    """The EOS token id(s) of a file: its `eos_token_id` attribute when stored, else the model of its
    config_ini (model.path's config.json, or the model.preset), else the known mask id pairs."""
    if "eos_token_id" in attrs:
        return [int(x) for x in np.atleast_1d(attrs["eos_token_id"])], "file attribute eos_token_id"
    cp = _ini(str(attrs.get("config_ini", "")))
    model_path = _ini_value(cp, "model", "path")
    if model_path:
        cfg = os.path.join(model_path, "config.json")
        try:
            with open(cfg) as f:
                return [int(json.load(f)["eos_token_id"])], cfg
        except (OSError, ValueError, KeyError, TypeError):
            pass
    else:
        preset = _ini_value(cp, "model", "preset")
        if preset in _PRESET_EOS:
            return [_PRESET_EOS[preset]], f"model.preset = {preset}"
    mask = int(attrs.get("mask_token_id", -1))
    if mask in _MASK_EOS:
        return [_MASK_EOS[mask]], f"mask_token_id = {mask}"
    raise InputError(f"{path}: cannot tell the EOS token id (no eos_token_id attribute, model "
                     f"{model_path or '?'} not readable, mask_token_id {mask} unknown); pass --eos-id ID")


class Decodings:
    """The samples of one input (a trajectory file or folder), optionally restricted to some training steps."""

    def __init__(self, path, label=None, steps=None, eos_ids=None):
        self.path = path
        self.store = resolve_store(path)
        self.label = label or default_label(path)
        try:
            h = mt.read_run(self.store, columns=_COLUMNS)
        except KeyError as e:
            raise FormatError(f"{self.store}: {e} is missing; it is not a complete mdrl {mt.FORMAT} file") from None
        self.files, self.attrs = h["files"], h["attrs"]
        self.L = int(self.attrs["completion_length"])
        self.mask_id = int(self.attrs.get("mask_token_id", -1))
        self.reward_names = [str(x) for x in self.attrs["reward_names"]]
        if eos_ids is not None:
            self.eos_ids, self.eos_source = list(eos_ids), "--eos-id"
        else:
            self.eos_ids, self.eos_source = eos_ids_of(self.attrs, self.files[0])
        st, first, num = h["steps/step"], h["steps/first_sample"], h["steps/num_samples"]
        keep = np.ones(len(st), dtype=bool)
        if steps is not None:
            lo, hi = steps
            if lo is not None:
                keep &= st >= lo
            if hi is not None:
                keep &= st <= hi
        rows = np.concatenate([np.arange(first[i], first[i] + num[i]) for i in np.nonzero(keep)[0]] or
                              [np.zeros(0, dtype=np.int64)]).astype(np.int64)
        self.step_values = st[keep]
        self.step_num = num[keep]
        self.step_first = (np.concatenate([[0], np.cumsum(self.step_num)[:-1]]) if len(self.step_num)
                           else np.zeros(0)).astype(np.int64)
        self.step_decoding = list(h["steps/decoding"][keep])
        s = lambda k: h["samples/" + k][rows]  # noqa: E731
        self.ids = s("completion_ids").astype(np.int64)
        self.step_map = s("step_map").astype(np.int64)
        self.confidence = s("confidence").astype(np.float64)
        self.reward = s("reward").astype(np.float64)
        self.rewards = s("rewards").astype(np.float64)
        if steps is not None and len(rows) == 0:
            raise InputError(f"{path}: no training step in --steps {steps[0]}:{steps[1]} "
                             f"(it holds steps {int(st.min()) if len(st) else '-'}..{int(st.max()) if len(st) else '-'})")

    @property
    def n(self):
        return int(self.ids.shape[0])

    def is_eos(self, ids=None):
        return np.isin(self.ids if ids is None else ids, self.eos_ids)

    def completion_lengths(self, ids=None):
        ids = self.ids if ids is None else ids
        e = np.isin(ids, self.eos_ids)
        return np.where(e.any(1), e.argmax(1) + 1, ids.shape[1]).astype(np.int64)


# ---- summary ---------------------------------------------------------------------------------------

def summary(dec):
    """One row per recorded training step (or eval chunk)."""
    out = []
    for i, step in enumerate(dec.step_values):
        a, n = int(dec.step_first[i]), int(dec.step_num[i])
        ids, smap = dec.ids[a:a + n], dec.step_map[a:a + n]
        r = dec.reward[a:a + n]
        lengths = dec.completion_lengths(ids)
        d = int(smap.max()) + 1 if smap.size and smap.max() >= 0 else 0
        per = (np.bincount(smap[smap >= 0], minlength=d)[:d] / n).tolist() if n else []
        row = {
            "step": int(step),
            "samples": n,
            "reward_mean": float(r.mean()) if n else None,
            "reward_std": float(r.std()) if n else None,
            "rewards": {name: float(dec.rewards[a:a + n, k].mean()) if n else None
                        for k, name in enumerate(dec.reward_names)},
            "completion_length": float(lengths.mean()) if n else None,
            "eos_share": float((lengths < dec.L).mean()) if n else None,
            "decoding_steps": d,
            "unmasked_per_step": per,
            "decoding": dec.step_decoding[i],
        }
        out.append(row)
    return out


def summary_doc(dec):
    return {"input": dec.path, "label": dec.label, "files": list(dec.files), "completion_length": dec.L,
            "eos_ids": dec.eos_ids, "eos_source": dec.eos_source, "reward_names": dec.reward_names,
            "steps": summary(dec)}


def compact_list(v, digits=2):
    if not v:
        return "-"
    if max(v) - min(v) < 1e-9:
        return f"{v[0]:.{digits}g}" + (f" x{len(v)}" if len(v) > 1 else "")
    return "/".join(f"{x:.{digits}g}" for x in v)


def summary_table(doc):
    head = ["step", "samples", "reward", "reward_std", "length", "eos_share", "dec_steps", "unmasked/step"]
    rows = []
    for r in doc["steps"]:
        f = lambda x, p=3: "-" if x is None else f"{x:.{p}f}"  # noqa: E731
        rows.append([str(r["step"]), str(r["samples"]), f(r["reward_mean"]), f(r["reward_std"]),
                     f(r["completion_length"], 2), f(r["eos_share"]), str(r["decoding_steps"]),
                     compact_list(r["unmasked_per_step"], 3)])
    return head, rows


# ---- EOS commits and decoding order ----------------------------------------------------------------

def decoding_steps(dec):
    m = int(dec.step_map.max()) if dec.step_map.size else -1
    return m + 1


def first_quarter_steps(d):
    return max(1, math.ceil(d / 4)) if d > 0 else 0


def _per_step(smap, where, d, weights=None):
    return np.bincount(smap[where], weights=None if weights is None else weights[where], minlength=d)[:d]


def eos_stats(dec):
    d, L, n = decoding_steps(dec), dec.L, dec.n
    smap = dec.step_map
    committed = smap >= 0
    is_eos = dec.is_eos()
    eos, non = is_eos & committed, ~is_eos & committed
    cell = smap * L + np.arange(L)[None, :]  # (decoding step, position) of each commit
    nn = max(n, 1)
    heat = np.bincount(cell[eos], minlength=d * L)[:d * L].reshape(d, L) / nn
    n_eos, n_non = _per_step(smap, eos, d), _per_step(smap, non, d)
    with np.errstate(invalid="ignore", divide="ignore"):
        conf_eos = np.where(n_eos > 0, _per_step(smap, eos, d, dec.confidence) / n_eos, np.nan)
        conf_non = np.where(n_non > 0, _per_step(smap, non, d, dec.confidence) / n_non, np.nan)
    q = first_quarter_steps(d)
    n_q, e_q = int(n_eos[:q].sum() + n_non[:q].sum()), int(n_eos[:q].sum())
    n_all, e_all = int(n_eos.sum() + n_non.sum()), int(n_eos.sum())
    return {
        "label": dec.label, "input": dec.path, "eos_ids": dec.eos_ids, "eos_source": dec.eos_source,
        "samples": n, "completion_length": L, "decoding_steps": d, "first_quarter_steps": q,
        "commits_first_quarter": n_q, "eos_commits_first_quarter": e_q,
        "eos_share_first_quarter": e_q / n_q if n_q else None,
        "eos_share_all": e_all / n_all if n_all else None,
        "eos_mean_step_fraction": float((smap[eos] / (d - 1)).mean()) if e_all and d > 1 else (0.0 if e_all else None),
        "mean_completion_length": float(dec.completion_lengths().mean()) if n else None,
        "eos_per_step": n_eos / nn, "non_eos_per_step": n_non / nn,
        "eos_confidence": conf_eos, "non_eos_confidence": conf_non, "heat": heat,
    }


def order_stats(dec):
    d, L, n = decoding_steps(dec), dec.L, dec.n
    smap = dec.step_map
    committed = smap >= 0
    cell = smap * L + np.arange(L)[None, :]
    heat = np.bincount(cell[committed], minlength=d * L)[:d * L].reshape(d, L) / max(n, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_pos = (heat * np.arange(L)[None, :]).sum(1) / heat.sum(1)
    return {"label": dec.label, "input": dec.path, "samples": n, "completion_length": L, "decoding_steps": d,
            "heat": heat, "mean_position": mean_pos}


def eos_table(stats):
    head = ["input", "samples", "dec_steps", "q_steps", "eos_first_quarter", "eos_all", "eos_step_frac", "length"]
    f = lambda x, p=3: "-" if x is None else f"{x:.{p}f}"  # noqa: E731
    rows = [[s["label"], str(s["samples"]), str(s["decoding_steps"]), str(s["first_quarter_steps"]),
             f(s["eos_share_first_quarter"]), f(s["eos_share_all"]), f(s["eos_mean_step_fraction"]),
             f(s["mean_completion_length"], 2)] for s in stats]
    return head, rows


def eos_json(stats):
    return [jsonable({k: v for k, v in s.items() if k != "heat"}) for s in stats]


# ---- metrics.jsonl ---------------------------------------------------------------------------------

REWARD_COLUMNS = ("reward", "eval_accuracy", "eval_solved")


def metrics_path(path):
    if os.path.isdir(path):
        p = os.path.join(path, "metrics.jsonl")
        if not os.path.isfile(p):
            raise InputError(f"{path} holds no metrics.jsonl; give a run folder or its metrics.jsonl")
        return p
    if not os.path.isfile(path):
        raise InputError(f"{path}: no such file or folder")
    return path


def read_metrics(path):
    """The rows of a metrics.jsonl (a torn last line, left by a killed run, is dropped)."""
    rows = []
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read it as mdrl metrics.jsonl ({e})")
    while lines and not lines[-1].strip():
        lines.pop()
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict) or "step" not in row:
                raise ValueError("not an object with a \"step\"")
        except ValueError as e:
            if i == len(lines) - 1 and rows:
                print(f"mdrl-analyze: warning: {path}: torn last line {i + 1} dropped", file=sys.stderr)
                break
            raise InputError(f"{path}:{i + 1} is not an mdrl metrics.jsonl row ({e})")
        rows.append(row)
    return rows


def metric_series(rows, column):
    xs, ys = [], []
    for r in rows:
        v = r.get(column)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            xs.append(r["step"])
            ys.append(float(v))
    return np.array(xs), np.array(ys)


def jsonable(x):
    if isinstance(x, dict):
        return {k: jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return None if not math.isfinite(float(x)) else float(x)
    return x
