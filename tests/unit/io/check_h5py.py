"""Reads the files io_write_samples wrote with h5py, as the src/io/README.md formats promise: each
trajectory segment on its own, the run's segments as one history through tools/mdrl_trajectories.py,
and the checkpoint.

Usage: check_h5py.py <dir>. Exits 77 (CTest: skipped) when h5py is not installed.
"""
import json
import os
import sys

try:
    import h5py
    import numpy as np
except ImportError:
    print("h5py/numpy not available; skipping")
    sys.exit(77)

d = sys.argv[1]
tdir = f"{d}/trajectories"
assert sorted(os.listdir(tdir)) == ["seg-00000000.h5", "seg-00000001.h5"], os.listdir(tdir)
for step in (0, 1):
    with h5py.File(f"{tdir}/seg-{step:08d}.h5", "r") as f:
        assert f.attrs["format"] == "mdrl-trajectories", f.attrs["format"]
        assert f.attrs["format_version"] == 2
        assert f.attrs["config_ini"] == "[run]\nseed = 42\n"
        assert list(f.attrs["reward_names"]) == ["correctness", "format"]
        assert f.attrs["completion_length"] == 4 and f.attrs["mask_token_id"] == 126336
        assert f.attrs["first_step"] == step and f.attrs["last_step"] == step
        assert json.loads(f.attrs["decoding_settings"][0]) == {"steps": 2}
        s = f["samples"]
        assert s["completion_ids"].shape == (2, 4) and s["completion_ids"].dtype == np.int32
        assert s["completion_ids"][0].tolist() == [1000 * step + j for j in range(4)]
        assert s["step_map"].dtype == np.int16 and s["step_map"][0].tolist() == [1, 0, 1, 0]
        assert s["step"][:].tolist() == [step, step]
        off, length = s["prompt_offset"][:], s["prompt_length"][:]
        prompts = s["prompt_ids"][:]
        assert prompts[off[0]:off[0] + length[0]].tolist() == [1 + 100 * step, 2 + 100 * step]  # padding dropped
        # The state after 1 decoding step of sample 0, rebuilt from the step map.
        mask = f.attrs["mask_token_id"]
        x1 = np.where(s["step_map"][0] < 1, s["completion_ids"][0], mask)
        assert x1.tolist() == [mask, 1000 * step + 1, mask, 1000 * step + 3]
        assert f["steps/step"][:].tolist() == [step] and f["steps/num_samples"][:].tolist() == [2]

# The two segments as one history (tools/mdrl_trajectories.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tools"))
import mdrl_trajectories as mt  # noqa: E402

h = mt.read_run(tdir)
assert h["samples/completion_ids"].shape == (4, 4)
assert h["samples/completion_ids"][2].tolist() == [1000, 1001, 1002, 1003]
assert h["samples/rewards"][1].tolist() == [0.0, 0.5]
assert h["samples/step"].tolist() == [0, 0, 1, 1]
assert mt.prompt(h, 0).tolist() == [1, 2] and mt.prompt(h, 3).tolist() == [103, 104, 105]
assert mt.state_after(h, 2, 1).tolist() == [126336, 1001, 126336, 1003]
assert h["steps/step"].tolist() == [0, 1] and h["steps/first_sample"].tolist() == [0, 2]
assert [json.loads(x) for x in h["steps/decoding"]] == [{"steps": 2}, {"steps": 2}]
# Clear errors for files that are not mdrl trajectories or come from a newer mdrl.
other = f"{d}/other.h5"
with h5py.File(other, "w") as f:
    f.attrs["format"] = "something-else"
try:
    mt.read_run(other)
    raise AssertionError("read a file of another format")
except mt.FormatError as e:
    assert other in str(e), e
with h5py.File(other, "w") as f:
    f.attrs["format"] = "mdrl-trajectories"
    f.attrs["format_version"] = 99
try:
    mt.read_run(other)
    raise AssertionError("read a newer format version")
except mt.FormatError as e:
    assert "99" in str(e), e

expected = json.load(open(f"{d}/expected.json"))
with h5py.File(f"{d}/checkpoints/step_9.h5", "r") as f:
    assert f.attrs["format"] == "mdrl-checkpoint" and f.attrs["step"] == 9
    w = f["model/params/w"]
    assert w.attrs["dtype"] == "bfloat16" and w.dtype == np.uint16
    w32 = (w[:].astype(np.uint32) << 16).view(np.float32)
    assert w32.tolist() == expected["params"]["w"], (w32, expected["params"]["w"])
    h = f["model/params/h"]
    assert h[:].view(np.float16).astype(np.float32).tolist() == expected["params"]["h"]
    assert f["optimizer/tensors/exp_avg/w"][:].tolist() == [1.0, 1.0, 1.0]
    assert f["optimizer/scalars"].attrs["lr"] == 1e-4
    assert f["ranks/rng_state"].shape == (1, 1, 4) and list(f["ranks"].attrs["rng_names"]) == ["sampling"]
    assert f["ranks/sampler_state"][0, 0].tolist() == [1, 96]
    # Each tensor carries the XXH64 of its raw bytes (checked against xxhash when it is installed).
    assert f.attrs["format_version"] == 2
    for name in ("model/params/w", "model/params/h", "optimizer/tensors/exp_avg/w"):
        assert isinstance(f[name].attrs["xxh64"], np.uint64), (name, type(f[name].attrs["xxh64"]))
    try:
        import xxhash
        for name in ("model/params/w", "model/params/h", "optimizer/tensors/exp_avg/w"):
            assert f[name].attrs["xxh64"] == xxhash.xxh64(f[name][:].tobytes()).intdigest(), name
    except ImportError:
        pass
    sig = json.loads(f["model"].attrs["signature"])
    assert sig[0] == ["w", "bfloat16", [3]], sig
print("h5py reads the trajectory and checkpoint files as documented")
