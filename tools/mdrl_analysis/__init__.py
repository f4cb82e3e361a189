"""Offline analysis of mdrl trajectory files (tools/mdrl-analyze): per-step summaries, the EOS-trap
figures, decoding order, reward curves and an HTML report. Reading goes through
tools/mdrl_trajectories.py (the one h5py reader of the format, src/io/README.md)."""
