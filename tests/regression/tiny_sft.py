"""Shared by test_resume_ranks.py and test_disk_full.py: short `mdrl sft` runs of the tiny preset
under mpirun (the settings of hard_kill_support.hpp's SFT mode), their logs, data order and weights.

Environment (CTest sets it): MDRL_EXE, MPIEXEC.
"""
import os
import re
import shutil
import subprocess
import time

import h5py
import numpy as np
from safetensors.numpy import load_file

SFT = ("sft --model.preset=tiny --sft.task=sudoku --sft.prompt_style=bare --sft.response_style=answer"
       " --tasks.generated_count=64 --sft.max_length=128 --sft.eval_fraction=0 --train.lr=3e-3"
       " --train.grad_accum=2 --train.eval_every=0 --lora.rank=0").split()


class Run:
    def __init__(self, rc, out, seconds):
        self.rc, self.out, self.seconds = rc, out, seconds

    def __repr__(self):
        return f"exit {self.rc} after {self.seconds:.1f} s:\n{self.out[-6000:]}"


def mdrl(np_, run_dir, *args, timeout=300, env=None, mpi_args=()):
    """`mpirun -np np_ mdrl sft ...` in run_dir; its exit status, output and wall time."""
    cmd = [os.environ["MPIEXEC"], "-np", str(np_), "--oversubscribe", "--bind-to", "none", *mpi_args,
           os.environ["MDRL_EXE"], *SFT, *args, f"--run.dir={run_dir}"]
    t0 = time.monotonic()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout,
                       env={**os.environ, **(env or {})})
    return Run(r.returncode, r.stdout, time.monotonic() - t0)


def ok(run, what):
    if run.rc != 0:
        raise AssertionError(f"{what} failed: {run}")
    return run


def data_order(out):
    """{(step, micro): [global sample indices]} from the `data step` debug lines (rank 0 logs the
    whole global micro-batch)."""
    order = {}
    for m in re.finditer(r"data step (\d+) micro (\d+) samples ([\d,]+)", out):
        order[(int(m.group(1)), int(m.group(2)))] = [int(x) for x in m.group(3).split(",")]
    return order


def final_weights(run_dir):
    return {k: v.astype(np.float64) for k, v in load_file(os.path.join(run_dir, "final", "model.safetensors")).items()}


def checkpoint_weights(path):
    """model/params of a checkpoint, named as final/model.safetensors names them."""
    out = {}
    with h5py.File(path, "r") as f:
        f["model/params"].visititems(
            lambda name, obj: out.__setitem__("model.transformer." + name, obj[()].astype(np.float64))
            if isinstance(obj, h5py.Dataset) else None)
    return out


def distance(a, b):
    assert sorted(a) == sorted(b), (sorted(a)[:3], sorted(b)[:3])
    return float(np.sqrt(sum(((a[k] - b[k]) ** 2).sum() for k in a)))


def copy_checkpoint(src_run, step, dst_run):
    """A run directory holding only src_run's checkpoint of `step` (as a job killed right after it)."""
    os.makedirs(os.path.join(dst_run, "checkpoints"))
    shutil.copy2(os.path.join(src_run, "checkpoints", f"step_{step}.h5"), os.path.join(dst_run, "checkpoints"))
    with open(os.path.join(dst_run, "checkpoints", "latest"), "w") as f:
        f.write(f"step_{step}.h5\n")


def file_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def tree(path):
    """{relative path: bytes} of every file under path."""
    out = {}
    for root, _, files in os.walk(path):
        for n in files:
            p = os.path.join(root, n)
            out[os.path.relpath(p, path)] = file_bytes(p)
    return out
