"""A full disk or a read-only run directory (issue 17): a clear error, the previous checkpoint intact.

`mpirun -np 2 mdrl sft` on the tiny preset (12 steps, a checkpoint every 2), against an
uninterrupted run on the ordinary disk (final weights as bytes):
1. run.dir on a 4 MiB tmpfs, keep_last = 2: two checkpoints fit, the third does not. The run ends
   with exit 1 when it comes to write step 6, with one message naming step_6.h5, the full file
   system, the intact step_4.h5 and what to do; no temporary is left, step_2/step_4 are there. After
   the tmpfs is grown (space freed), the same command resumes from step 4 and ends with the
   uninterrupted run's weights.
2. The disk fills up *while* step 6 is written, on one rank only (tests/regression/enospc_shim.c,
   LD_PRELOAD: that rank's writes to step_6.h5.tmp fail with ENOSPC after the free-space check has
   passed): every rank ends within 20 s, exit 1, with the same kind of message; no temporary left;
   the rerun resumes from step 4 and ends with the uninterrupted run's weights.
3. run.dir read-only (a tmpfs remounted ro; and a read-only bind mount of an ordinary directory)
   holding the step-4 checkpoint: exit 1 before any step, naming run.dir, "read-only" and the
   checkpoint the rerun resumes from; nothing in it changed. Remounted read-write, the same
   command resumes from step 4 and ends with the uninterrupted run's weights.
Needs root (mount); exit 77 (CTest skip) with the reason otherwise. The mounts are undone on exit.

Environment (CTest sets it): MDRL_EXE, MPIEXEC, MDRL_ENOSPC_SHIM (the shim library). Exit 0 = pass.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tiny_sft import copy_checkpoint, file_bytes, mdrl, ok, tree  # noqa: E402

ARGS = ["--train.batch_size=4", "--train.max_steps=12", "--checkpoint.every=2"]
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def sh(*cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stdout.strip()}")


def checkpoints(run):
    return sorted(os.listdir(os.path.join(run, "checkpoints")))


def resumes_to_reference(run, ref_weights, step, what):
    r = mdrl(2, run, *ARGS, "--checkpoint.keep_last=2")
    check(r.rc == 0 and f"checkpoints/step_{step}.h5 at step {step}" in r.out,
          f"{what}: the rerun resumes from step {step}")
    check(r.rc == 0 and file_bytes(os.path.join(run, "final", "model.safetensors")) == ref_weights,
          f"{what}: the rerun ends with the uninterrupted run's weights (bytes)")
    if r.rc != 0:
        print(r)


def main():
    if os.geteuid() != 0:
        print(f"SKIP: mounting a small tmpfs needs root (this is uid {os.geteuid()})")
        return 77
    shim = os.environ.get("MDRL_ENOSPC_SHIM", "")
    t0 = time.monotonic()
    mounts = []
    with tempfile.TemporaryDirectory(prefix="mdrl-disk-full-") as tmp:
        d = lambda name: os.path.join(tmp, name)  # noqa: E731

        def mount(*args, at):
            os.makedirs(at, exist_ok=True)
            sh("mount", *args, at)
            mounts.append(at)

        try:
            try:
                mount("-t", "tmpfs", "-o", "size=4m", "tmpfs", at=d("small"))
            except RuntimeError as e:
                print(f"SKIP: cannot mount a tmpfs: {e}")
                return 77
            ref = ok(mdrl(2, d("ref"), *ARGS, "--checkpoint.keep_last=0"), "the uninterrupted run")
            ref_weights = file_bytes(d("ref") + "/final/model.safetensors")

            # 1. Full disk.
            run = d("small") + "/run"
            r = mdrl(2, run, *ARGS, "--checkpoint.keep_last=2")
            print(f"     full disk: exit {r.rc} after {r.seconds:.1f} s")
            check(r.rc == 1, f"full disk: exit 1 (got {r.rc})")
            words = [f"cannot write checkpoint {run}/checkpoints/step_6.h5", "is on a full file system",
                     f"the previous checkpoint {run}/checkpoints/step_4.h5 is intact", "df -h",
                     "resumes from step 4", "(on every rank)"]
            missing = [w for w in words if w not in r.out]
            check(not missing, f"full disk: the message names the file, the reason and what to do (missing {missing})")
            check(checkpoints(run) == ["latest", "step_2.h5", "step_4.h5"],
                  f"full disk: step_2 and step_4 kept, no temporary ({checkpoints(run)})")
            if r.rc != 1 or missing:
                print(r)
            sh("mount", "-o", "remount,size=16m", d("small"))  # space freed
            resumes_to_reference(run, ref_weights, 4, "full disk")

            # 2. The disk fills while the checkpoint is written, on one rank.
            if not shim or not os.path.exists(shim):
                check(False, f"MDRL_ENOSPC_SHIM names the shim library (got '{shim}')")
            else:
                run = d("midwrite")
                env = {"LD_PRELOAD": shim, "MDRL_ENOSPC_RANK": "1", "MDRL_ENOSPC_NAME": "step_6.h5.tmp"}
                r = mdrl(2, run, *ARGS, "--checkpoint.keep_last=2", env=env,
                         mpi_args=["-x", "LD_PRELOAD", "-x", "MDRL_ENOSPC_RANK", "-x", "MDRL_ENOSPC_NAME"], timeout=120)
                print(f"     disk full mid-write on rank 1: exit {r.rc} after {r.seconds:.1f} s")
                check(r.rc == 1 and r.seconds < 20, f"mid-write: every rank ended, exit 1, within 20 s (exit {r.rc})")
                words = [f"cannot write checkpoint {run}/checkpoints/step_6.h5",
                         f"the previous checkpoint {run}/checkpoints/step_4.h5 is intact", "resumes from step 4",
                         "failed on rank 1"]
                missing = [w for w in words if w not in r.out]
                check(not missing, f"mid-write: the message names the file and the intact checkpoint (missing {missing})")
                check(checkpoints(run) == ["latest", "step_2.h5", "step_4.h5"],
                      f"mid-write: step_2 and step_4 kept, no temporary ({checkpoints(run)})")
                if r.rc != 1 or missing:
                    print(r)
                resumes_to_reference(run, ref_weights, 4, "mid-write")

            # 3. Read-only run directory: a tmpfs remounted read-only, and a read-only bind mount.
            mount("-t", "tmpfs", "-o", "size=16m", "tmpfs", at=d("ro"))
            copy_checkpoint(d("ref"), 4, d("ro") + "/run")
            os.makedirs(d("plain"))
            copy_checkpoint(d("ref"), 4, d("plain") + "/run")
            mount("--bind", d("plain"), at=d("robind"))
            sh("mount", "-o", "remount,bind,ro", d("robind"))
            sh("mount", "-o", "remount,ro", d("ro"))
            for name in ["ro", "robind"]:
                run = d(name) + "/run"
                before = tree(run)
                r = mdrl(2, run, *ARGS, "--checkpoint.keep_last=2")
                check(r.rc == 1, f"read-only ({name}): exit 1 (got {r.rc}, {r.seconds:.1f} s)")
                words = [f"run.dir {run} is not writable", "read-only", "remount it read-write",
                         f"resumes from {run}/checkpoints/step_4.h5", "(on every rank)"]
                missing = [w for w in words if w.lower() not in r.out.lower()]
                check(not missing, f"read-only ({name}): the message names run.dir and what to do (missing {missing})")
                check("step 1/12" not in r.out, f"read-only ({name}): refused before the first step")
                check(tree(run) == before, f"read-only ({name}): nothing in run.dir changed")
                if r.rc != 1 or missing:
                    print(r)
            sh("mount", "-o", "remount,rw", d("ro"))
            resumes_to_reference(d("ro") + "/run", ref_weights, 4, "read-only")
        finally:
            for m in reversed(mounts):
                subprocess.run(["umount", "-l", m], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(f"{'PASS' if not failures else 'FAIL'} in {time.monotonic() - t0:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
