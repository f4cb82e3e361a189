"""Resume on another number of ranks (issue 17): a requeued SFT job that got fewer or more nodes.

Rule (train::check_resume_world): allowed when ranks x train.batch_size (the global micro-batch)
equals the checkpoint's, train.grad_accum unchanged; the run then continues the same global data
order from the same sample. Not bit-exact: each rank's masking noise and the reductions differ.

Checks, on the tiny preset (12 steps, checkpoint at step 6; a rerun from a copy of the step-6
checkpoint is a job killed right after it):
- 2 ranks x 4 -> 1 rank x 8: the resumed run says so (a warning naming both layouts), logs
  "resumed ... at step 6", and the global samples of every micro-batch of steps 7-12 (the
  `data step` debug lines) equal the uninterrupted 2-rank run's; its final weights are close to
  that run's: distance < 0.5 x the distance the uninterrupted run moved from step 6 to step 12
  (measured 0.20 on the tiny model; the masking noise differs per rank, so they cannot be equal), and
  it moved as far (0.7..1.3 x), so the 6 steps were trained;
- 1 rank x 8 -> 2 ranks x 4 (the new rank has no saved streams): the same data-order check;
- 2 ranks x 4 -> 2 ranks x 4: byte-identical final weights (the same-world resume stays bit-exact);
- refused with exit 2 and nothing written: 1 rank x 4 (names train.batch_size and says
  "set train.batch_size = 8"), 3 ranks x 4 (8 sequences do not divide among 3 ranks).

Environment (CTest sets it): MDRL_EXE, MPIEXEC. Exit 0 = pass.
"""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tiny_sft import (copy_checkpoint, checkpoint_weights, data_order, distance, file_bytes, final_weights,  # noqa: E402
                      mdrl, ok, tree)

LONG = ["--train.max_steps=12", "--checkpoint.every=6", "--checkpoint.keep_last=0", "--log.level=debug"]
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def later_order(out, after):
    return {k: v for k, v in data_order(out).items() if k[0] > after}


def main():
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mdrl-resume-ranks-") as tmp:
        d = lambda name: os.path.join(tmp, name)  # noqa: E731
        ref2 = ok(mdrl(2, d("ref2"), "--train.batch_size=4", *LONG), "the uninterrupted 2-rank run")
        order2 = later_order(ref2.out, 6)
        check(len(order2) == 12 and all(len(v) == 8 for v in order2.values()),
              f"the 2-rank run logs 12 micro-batches of 8 global samples after step 6 (got {len(order2)})")

        # 2 ranks -> 1 rank, batch doubled.
        copy_checkpoint(d("ref2"), 6, d("to1"))
        r = ok(mdrl(1, d("to1"), "--train.batch_size=8", *LONG), "the resume on 1 rank x 8")
        check("on 1 rank x train.batch_size 8" in r.out and "written by 2 ranks x train.batch_size 4" in r.out
              and "not bit-for-bit" in r.out, "the 1-rank resume warns that it continues another layout, not bit-exact")
        check("at step 6" in r.out, "the 1-rank resume resumed at step 6")
        check(later_order(r.out, 6) == order2, "2 -> 1 rank: steps 7-12 take the same global samples in the same order")
        ref_w, res_w = final_weights(d("ref2")), final_weights(d("to1"))
        ck_w = checkpoint_weights(d("ref2") + "/checkpoints/step_6.h5")
        moved, off, res_moved = distance(ref_w, ck_w), distance(res_w, ref_w), distance(res_w, ck_w)
        print(f"     weights: uninterrupted run moved {moved:.4f} from step 6; resumed run ends {off:.4f} from it "
              f"({off / moved:.2f} of that) and moved {res_moved:.4f}")
        check(off < 0.5 * moved, "2 -> 1 rank: final weights within 0.5 x the step 6..12 update of the 2-rank run's")
        check(0.7 * moved < res_moved < 1.3 * moved, "2 -> 1 rank: the resumed run trained as far from step 6")

        # 1 rank -> 2 ranks, batch halved.
        ref1 = ok(mdrl(1, d("ref1"), "--train.batch_size=8", *LONG), "the uninterrupted 1-rank run")
        order1 = later_order(ref1.out, 6)
        check(order1 == order2, "1 rank x 8 and 2 ranks x 4 take the same global samples (one data order)")
        copy_checkpoint(d("ref1"), 6, d("to2"))
        r = ok(mdrl(2, d("to2"), "--train.batch_size=4", *LONG), "the resume on 2 ranks x 4")
        check("at step 6" in r.out and later_order(r.out, 6) == order1,
              "1 -> 2 ranks: resumed at step 6 with the same global samples in the same order")
        off = distance(final_weights(d("to2")), final_weights(d("ref1")))
        moved = distance(final_weights(d("ref1")), checkpoint_weights(d("ref1") + "/checkpoints/step_6.h5"))
        print(f"     weights: 1 -> 2 ranks ends {off:.4f} from the 1-rank run, which moved {moved:.4f}")
        check(off < 0.5 * moved, "1 -> 2 ranks: final weights within 0.5 x the step 6..12 update of the 1-rank run's")

        # Same world: still bit-exact.
        copy_checkpoint(d("ref2"), 6, d("same"))
        ok(mdrl(2, d("same"), "--train.batch_size=4", *LONG), "the resume on 2 ranks x 4")
        check(file_bytes(d("same") + "/final/model.safetensors") == file_bytes(d("ref2") + "/final/model.safetensors"),
              "2 -> 2 ranks: final weights byte-identical to the uninterrupted run")

        # Refusals: exit 2, the options named, nothing written.
        for np_, batch, words in [(1, 4, ["train.batch_size", "set train.batch_size = 8 for 1 rank",
                                          "2 ranks x train.batch_size 4 = 8"]),
                                  (3, 4, ["train.batch_size", "8 sequences do not divide among 3 ranks",
                                          "run on 1, 2, 4, 8 ranks"])]:
            name = f"refuse{np_}"
            copy_checkpoint(d("ref2"), 6, d(name))
            before = tree(d(name))
            r = mdrl(np_, d(name), f"--train.batch_size={batch}", *LONG)
            check(r.rc == 2, f"{np_} rank(s) x {batch}: exit 2 (got {r.rc})")
            missing = [w for w in words if w not in r.out]
            check(not missing, f"{np_} rank(s) x {batch}: the message says {words} (missing {missing})")
            check(tree(d(name)) == before, f"{np_} rank(s) x {batch}: the run directory is unchanged")
            if missing or r.rc != 2:
                print(r)
    print(f"{'PASS' if not failures else 'FAIL'} in {time.monotonic() - t0:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
