"""Reads an mdrl run's rollout trajectory store (src/io/README.md "Trajectory store") with h5py.

A run writes one segment file per checkpoint interval, <run.dir>/trajectories/seg-<first step>.h5
(format version 2; version 1 wrote trajectories.h5 or steps_<first>.h5, read alike). read_run()
joins a run's segments into one history in step order, as io::TrajectoryReader(dir) does in C++:

    import mdrl_trajectories as mt
    h = mt.read_run("runs/x/trajectories")
    h["samples/completion_ids"]          # [N, L] int32, every segment's rows in step order
    h["steps/step"], h["steps/decoding"] # [S] int64, [S] str (the decoding settings of each step)
    mt.state_after(h, 0, 2)              # sample 0 after 2 decoding steps (masked elsewhere)

Command line: `python3 tools/mdrl_trajectories.py <trajectories dir> [--dump]` prints a summary
(or every column as hex, for comparing two runs' histories byte for byte).
"""
import glob
import os
import re
import sys

import h5py
import numpy as np

FORMAT = "mdrl-trajectories"
FORMAT_VERSION = 2  # the newest version this reader knows

# Root attributes that must agree between the segments of one history.
_SHARED = ("completion_length", "has_old_logprob", "reward_names")


class FormatError(Exception):
    """Not an mdrl trajectory file, a newer format version, or segments that do not fit together."""


def run_files(directory):
    """The trajectory files of a trajectories/ folder, ordered by first step (no .tmp or .corrupt)."""
    found = []
    for path in glob.glob(os.path.join(directory, "*.h5")):
        name = os.path.basename(path)
        if name == "trajectories.h5":
            found.append((-1, path))
            continue
        m = re.fullmatch(r"(?:seg-|steps_)(\d+)\.h5", name)
        if m:
            found.append((int(m.group(1)), path))
    return [p for _, p in sorted(found)]


def check_format(f, path):
    fmt = f.attrs.get("format")
    if fmt != FORMAT:
        raise FormatError(f"{path} is not an mdrl {FORMAT} file (its root attribute 'format' is {fmt!r})")
    if "format_version" not in f.attrs:
        raise FormatError(f"{path} has no root attribute 'format_version'; it is not a complete mdrl {FORMAT} file")
    version = int(f.attrs["format_version"])
    if not 1 <= version <= FORMAT_VERSION:
        raise FormatError(f"{path} has {FORMAT} format version {version}; this reader knows versions "
                          f"1..{FORMAT_VERSION} (written by a newer mdrl? use its tools/mdrl_trajectories.py)")
    return version


def history_files(path):
    """The files of one history: [path] for a file, run_files(path) for a folder. A path that does not
    exist, or a folder without trajectory files, is a FormatError naming it."""
    if os.path.isdir(path):
        files = run_files(path)
        if not files:
            raise FormatError(f"{path} holds no trajectory files (seg-*.h5); is it a run's trajectories/ folder?")
        return files
    if not os.path.exists(path):
        raise FormatError(f"{path}: no such file or folder")
    return [path]


def open_file(path):
    """h5py.File(path, "r"), with a FormatError naming the file when it is not HDF5 (or unreadable)."""
    try:
        return h5py.File(path, "r")
    except OSError as e:
        raise FormatError(f"{path} is not an mdrl {FORMAT} file: it does not open as HDF5 ({e})") from None


def read_run(path, columns=None):
    """One file, or a directory's segments as one history: a dict of numpy arrays ("samples/<col>",
    "steps/<col>", with prompt offsets and first samples counted over the whole history, and
    "steps/decoding" as the settings text of each step) plus "attrs" (the first file's root
    attributes) and "files". `columns`: the sample columns to read (default all)."""
    return read_files(history_files(path), columns)


def read_files(files, columns=None):
    """read_run() of a list of files, in the given order (each file's steps follow the previous file's)."""
    cols, steps, attrs = {}, {"step": [], "first_sample": [], "num_samples": [], "decoding": []}, None
    rows = tokens = 0
    for path_i in files:
        with open_file(path_i) as f:
            check_format(f, path_i)
            a = dict(f.attrs)
            if attrs is None:
                attrs = a
            for k in _SHARED:
                if not np.array_equal(np.asarray(a[k]), np.asarray(attrs[k])):
                    raise FormatError(f"{path_i}: {k} differs from {files[0]}'s; read the files one by one")
            n_steps, n = int(a["num_steps"]), int(a["num_samples"])
            st = f["steps/step"][:n_steps]
            if steps["step"] and len(st) and st[0] <= steps["step"][-1][-1]:
                raise FormatError(f"{path_i}: step {st[0]} does not follow the steps before it (segments overlap)")
            table = list(a["decoding_settings"])
            steps["step"].append(st)
            steps["first_sample"].append(f["steps/first_sample"][:n_steps] + rows)
            steps["num_samples"].append(f["steps/num_samples"][:n_steps])
            steps["decoding"].extend(str(table[i]) for i in f["steps/decoding"][:n_steps])
            t = int(a["num_prompt_tokens"])
            for name, d in f["samples"].items():
                if columns is not None and name not in columns:
                    continue
                v = d[:t] if name == "prompt_ids" else d[:n]
                if name == "prompt_offset":
                    v = v + tokens
                cols.setdefault(name, []).append(v)
            rows += n
            tokens += t
    out = {"samples/" + k: np.concatenate(v) for k, v in cols.items()}
    for k, v in steps.items():
        out["steps/" + k] = np.array(v, dtype=object) if k == "decoding" else np.concatenate(v)
    out["attrs"], out["files"] = attrs, files
    return out


def prompt(h, i):
    """The prompt tokens of sample i (padding is not stored)."""
    off, n = h["samples/prompt_offset"][i], h["samples/prompt_length"][i]
    return h["samples/prompt_ids"][off:off + n]


def state_after(h, i, steps_done):
    """Sample i's completion after `steps_done` decoding steps: unmasked positions keep their token."""
    ids, smap = h["samples/completion_ids"][i], h["samples/step_map"][i]
    return np.where((smap >= 0) & (smap < steps_done), ids, h["attrs"]["mask_token_id"])


def dump(h):
    """Every column as text, in name order: equal for two runs with the same history."""
    lines = []
    for k in sorted(k for k in h if k.startswith(("samples/", "steps/"))):
        v = h[k]
        body = "|".join(v) if v.dtype == object else np.ascontiguousarray(v).tobytes().hex()
        lines.append(f"{k} {v.shape} {body}")
    return "\n".join(lines)


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    try:
        h = read_run(argv[1])
    except (FormatError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if "--dump" in argv[2:]:
        print(dump(h))
        return 0
    st = h["steps/step"]
    print(f"{len(h['files'])} file(s), {len(st)} step(s)"
          + (f" {st[0]}..{st[-1]}" if len(st) else "") + f", {len(h['samples/step'])} sample(s), "
          f"completion length {h['attrs']['completion_length']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
