"""The PNG figures of mdrl-analyze (matplotlib, Agg backend: no display needed)."""
import math
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

EOS_COLOR, NON_COLOR = "#c0392b", "#7f8c8d"
DPI = 110


def _grid(n, panel=(5.6, 3.9), max_cols=3):
    cols = min(max(n, 1), max_cols)
    rows = math.ceil(max(n, 1) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(panel[0] * cols, panel[1] * rows + 0.6), squeeze=False)
    flat = axes.ravel()
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def _save(fig, path, title):
    fig.suptitle(title, fontsize=13, fontweight="bold")
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def _pct(x):
    return "-" if x is None else f"{100 * x:.1f}%"


def _empty(ax, text):
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.4")


def _eos_cmap():
    """magma_r without its palest end, zero cells white: every nonzero cell stands out."""
    from matplotlib.colors import ListedColormap
    cmap = ListedColormap(plt.get_cmap("magma_r")(np.linspace(0.18, 1.0, 256)))
    cmap.set_bad("white")
    return cmap


def _heat(ax, fig, heat, vmax, cmap, label, zero_white=False):
    d, L = heat.shape
    if zero_white:
        heat = np.ma.masked_where(heat <= 0, heat)
    im = ax.imshow(heat, aspect="auto", origin="lower", cmap=cmap, vmin=0, vmax=vmax, interpolation="nearest",
                   extent=(-0.5, L - 0.5, -0.5, d - 0.5))
    ax.set_xlabel("completion position")
    ax.set_ylabel("decoding step")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    cb = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03)
    cb.set_label(label, fontsize=8)
    return im


def eos_heatmap(stats, path, max_cols=3):
    """(a) where and when EOS tokens are committed: step x position, share of samples."""
    fig, axes = _grid(len(stats), max_cols=max_cols)
    vmax = max([float(s["heat"].max()) for s in stats if s["heat"].size] + [0.0]) or 1.0
    for ax, s in zip(axes, stats):
        ax.set_title(f"{s['label']}\nEOS share of first-quarter commits: {_pct(s['eos_share_first_quarter'])}",
                     fontsize=10)
        if s["decoding_steps"] == 0:
            _empty(ax, "no commits")
            continue
        _heat(ax, fig, s["heat"], vmax, _eos_cmap(), "share of samples committing EOS (white: none)", zero_white=True)
        q = s["first_quarter_steps"]
        ax.axhline(q - 0.5, color="#2980b9", lw=1, ls="--")
        ax.text(-0.3, q - 0.5, "first quarter below", color="#2980b9", fontsize=7, va="bottom", ha="left")
        if not s["heat"].any():
            _empty(ax, "no EOS committed")
    return _save(fig, path, "EOS commits: decoding step x position")


def eos_counts(stats, path, max_cols=3):
    """(b) EOS vs non-EOS tokens committed per decoding step (per sample)."""
    fig, axes = _grid(len(stats), max_cols=max_cols)
    for ax, s in zip(axes, stats):
        ax.set_title(s["label"], fontsize=10)
        d = s["decoding_steps"]
        if d == 0:
            _empty(ax, "no commits")
            continue
        x = np.arange(d)
        ax.bar(x, s["non_eos_per_step"], color=NON_COLOR, label="non-EOS")
        ax.bar(x, s["eos_per_step"], bottom=s["non_eos_per_step"], color=EOS_COLOR, label="EOS")
        ax.set_xlabel("decoding step")
        ax.set_ylabel("tokens committed per sample")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        top = float((s["non_eos_per_step"] + s["eos_per_step"]).max())
        ax.set_ylim(0, top * 1.25 if top > 0 else 1)
        ax.legend(fontsize=8, loc="upper center", ncol=2)
    return _save(fig, path, "EOS vs non-EOS tokens committed per decoding step")


def eos_confidence(stats, path, max_cols=3):
    """(c) mean confidence of EOS vs non-EOS commits per decoding step."""
    fig, axes = _grid(len(stats), max_cols=max_cols)
    for ax, s in zip(axes, stats):
        ax.set_title(s["label"], fontsize=10)
        d = s["decoding_steps"]
        if d == 0:
            _empty(ax, "no commits")
            continue
        x = np.arange(d)
        ax.plot(x, s["non_eos_confidence"], "o--", color=NON_COLOR, label="non-EOS", ms=4)
        ax.plot(x, s["eos_confidence"], "s-", color=EOS_COLOR, label="EOS", ms=4)
        ax.set_xlabel("decoding step")
        ax.set_ylabel("mean confidence when committed\n(the recorded ranking score)", fontsize=9)
        ax.set_ylim(0, 1.05)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize=8, loc="best")
        if np.all(np.isnan(s["eos_confidence"])):
            _empty(ax, "no EOS committed")
    return _save(fig, path, "Confidence of EOS vs non-EOS commits (as recorded: EOSER-scaled for EOS under EOSER)")


def eos_share(stats, path):
    """The quoted figure: EOS share of the first quarter's commits, and of all commits, per input."""
    n = len(stats)
    fig, ax = plt.subplots(figsize=(max(8.0, 1.6 * n + 2), 4.2))
    x = np.arange(n)
    q = [100 * (s["eos_share_first_quarter"] or 0) for s in stats]
    a = [100 * (s["eos_share_all"] or 0) for s in stats]
    b1 = ax.bar(x - 0.2, q, 0.4, color=EOS_COLOR, label="first quarter of the decoding steps")
    b2 = ax.bar(x + 0.2, a, 0.4, color=NON_COLOR, label="all steps")
    for bars in (b1, b2):
        for r in bars:
            ax.annotate(f"{r.get_height():.1f}", (r.get_x() + r.get_width() / 2, r.get_height()), ha="center",
                        va="bottom", fontsize=8)
    ax.set_xticks(x)
    ax.set_xticklabels([s["label"] for s in stats], rotation=20 if n > 2 else 0, ha="right" if n > 2 else "center",
                       fontsize=8)
    ax.set_ylabel("EOS share of committed tokens (%)")
    ax.set_ylim(0, max(q + a + [1]) * 1.2)
    ax.legend(fontsize=8)
    return _save(fig, path, "EOS share of committed tokens")


def write_eos(stats, out, prefix="", max_cols=3):
    return [eos_share(stats, os.path.join(out, prefix + "eos_share.png")),
            eos_heatmap(stats, os.path.join(out, prefix + "eos_heatmap.png"), max_cols),
            eos_counts(stats, os.path.join(out, prefix + "eos_counts.png"), max_cols),
            eos_confidence(stats, os.path.join(out, prefix + "eos_confidence.png"), max_cols)]


def order(stats, path, max_cols=3):
    """Decoding order: share of samples unmasking each position at each step, and the mean position."""
    fig, axes = _grid(len(stats), max_cols=max_cols)
    for ax, s in zip(axes, stats):
        ax.set_title(f"{s['label']} ({s['samples']} samples)", fontsize=10)
        if s["decoding_steps"] == 0:
            _empty(ax, "no commits")
            continue
        _heat(ax, fig, s["heat"], float(s["heat"].max()) or 1.0, "viridis", "share of samples unmasking it")
        ax.plot(s["mean_position"], np.arange(s["decoding_steps"]), "w.-", lw=1, ms=4, label="mean position")
        ax.legend(fontsize=7, loc="upper right", framealpha=0.6)
    return _save(fig, path, "Decoding order: where each step unmasks")


def rewards(runs, path, columns):
    """Reward and accuracy curves of several metrics.jsonl, overlaid. runs: [(label, rows)]."""
    from .data import metric_series
    present = [c for c in columns if any(len(metric_series(rows, c)[0]) for _, rows in runs)]
    fig, axes = _grid(max(len(present), 1), panel=(5.6, 3.8))
    if not present:
        _empty(axes[0], "no reward or accuracy column in these files")
    for ax, c in zip(axes, present):
        for label, rows in runs:
            xs, ys = metric_series(rows, c)
            if len(xs):
                ax.plot(xs, ys, "o-" if len(xs) < 30 else "-", ms=3, label=label)
        ax.set_title(c, fontsize=10)
        ax.set_xlabel("training step")
        ax.set_ylabel(c)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    _save(fig, path, "Reward and accuracy (metrics.jsonl)")
    return present


def summary(docs, path):
    """Per training step: reward (mean +- std), completion length and EOS share, per input."""
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.2), squeeze=False)
    ax_r, ax_l, ax_e = axes[0]
    for doc in docs:
        st = doc["steps"]
        x = np.array([r["step"] for r in st])
        m = np.array([np.nan if r["reward_mean"] is None else r["reward_mean"] for r in st])
        sd = np.array([np.nan if r["reward_std"] is None else r["reward_std"] for r in st])
        (line,) = ax_r.plot(x, m, "o-", ms=3, label=doc["label"])
        ax_r.fill_between(x, m - sd, m + sd, color=line.get_color(), alpha=0.15)
        ax_l.plot(x, [r["completion_length"] for r in st], "o-", ms=3, label=doc["label"])
        ax_e.plot(x, [r["eos_share"] for r in st], "o-", ms=3, label=doc["label"])
    ax_r.set_title("reward (mean, band: std)", fontsize=10)
    ax_l.set_title("completion length (tokens up to the first EOS)", fontsize=10)
    ax_l.axhline(docs[0]["completion_length"], color="0.6", lw=0.8, ls=":", label=f"L = {docs[0]['completion_length']}")
    ax_e.set_title("EOS share (samples that end before L)", fontsize=10)
    ax_e.set_ylim(-0.05, 1.05)
    for ax, y in ((ax_r, "reward"), (ax_l, "tokens"), (ax_e, "share of samples")):
        ax.set_xlabel("training step")
        ax.set_ylabel(y)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return _save(fig, path, "Rollouts per training step")
