// Valid HDF5 files for the fuzz_h5_open harness (issue 17), made when it starts, so they follow the
// current formats: small trajectory segments written by the real TrajectoryWriter and a small
// checkpoint written by write_checkpoint_file, both on MPI_COMM_SELF, and the resume requirements
// that the checkpoint meets (so a damaged copy gets past the compatibility checks to its tensors and
// rank states). A segment's fixed chunk sizes (64 Ki prompt tokens, 1024 rows) make even a two-step
// file ~390 KB of mostly zeros, so the harness damages a compact copy (compact_copy): the same
// groups, attributes, types and layout class (chunked, extendible, format 1.8 floor), with chunks of
// the data's size (~54 KB); the reader cannot tell it from the original.
#pragma once

#include <ATen/ATen.h>
#include <hdf5.h>
#include <mpi.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "io/checkpoint.hpp"
#include "io/trajectory_store.hpp"

namespace mdrl::fuzz::h5seed {

inline constexpr int64_t kPrompt = 3, kCompletion = 4, kPerStep = 2;

// Writes steps [first_step, first_step + steps) of kPerStep samples each to the trajectories folder
// `dir` and finishes the segment: dir/seg-<first_step>.h5. Returns that path.
inline std::string write_segment(const std::string& dir, int64_t first_step, int64_t steps, bool logprob) {
  io::TrajectoryMeta meta;
  meta.config_ini = "[run]\nseed = 1\n";
  meta.reward_names = {"correctness"};
  meta.mask_token_id = 9;
  io::TrajectoryConfig cfg;
  cfg.flush_every = 8;
  io::TrajectoryWriter w(MPI_COMM_SELF, dir, meta, cfg);
  for (int64_t s = first_step; s < first_step + steps; ++s) {
    io::TrajectoryBatch b;
    b.step = s;
    b.decoding = s % 2 ? R"({"steps":4})" : R"({"steps":2})";
    const auto i = at::arange(kPerStep, at::kLong).unsqueeze(1);
    const auto jp = at::arange(kPrompt, at::kLong).unsqueeze(0);
    const auto jl = at::arange(kCompletion, at::kLong).unsqueeze(0);
    b.prompt_ids = 100 * s + 10 * i + jp;
    b.prompt_mask = jp >= i;  // sample 1 has one padding token
    b.completion_ids = 1000 * s + 10 * i + jl;
    b.step_map = ((jl + i) % 3).to(at::kInt);
    b.confidence = (0.5 + 0.1 * jl + 0.01 * i).to(at::kFloat);
    b.rewards = (i % 2).to(at::kFloat);
    b.reward = b.rewards.squeeze(1);
    b.advantage = b.reward - 0.5;
    b.group_id = i.squeeze(1) + 10 * s;
    if (logprob) b.old_logprob = (-0.1 * jl - i).to(at::kFloat);
    w.append(b);
  }
  w.close();
  return w.path_for_step(first_step);
}

inline io::CheckpointState checkpoint_state() {
  io::CheckpointState s;
  s.step = 3;
  s.trainable = io::Trainable::Full;
  s.params = {{"w", at::arange(6, at::kFloat).reshape({2, 3})}, {"b", at::ones({3}, at::kBFloat16)}};
  s.model_signature = io::signature_of(s.params);
  for (const auto& [name, p] : s.params) s.optimizer_tensors.emplace_back("exp_avg/" + name, at::zeros(p.sizes()));
  s.optimizer_scalars = {{"lr", 1e-3}, {"step", 3}};
  s.schedule_scalars = {{"last_lr", 5e-4}};
  s.counters = {{"epoch", 1}, {"samples_seen", 12}};
  core::RngStream r(7, 0, core::RngPurpose::Sampling);
  r.next_u32();
  s.rng.emplace_back(core::rng_purpose_name(core::RngPurpose::Sampling), r.state());
  s.samplers.emplace_back("train", dist::ShardedSampler::State{1, 12});
  s.config_ini = "[run]\nseed = 7\n";
  return s;
}

inline hid_t check(hid_t id, const char* what) {
  if (id < 0) throw std::runtime_error(std::string("HDF5: ") + what);
  return id;
}

// Copies every attribute of `src` to `dst` (same file type and dataspace, vlen strings included).
inline void copy_attrs(hid_t src, hid_t dst) {
  H5O_info_t info;
  check(H5Oget_info2(src, &info, H5O_INFO_NUM_ATTRS), "H5Oget_info");
  for (hsize_t i = 0; i < info.num_attrs; ++i) {
    const hid_t a = check(H5Aopen_by_idx(src, ".", H5_INDEX_NAME, H5_ITER_INC, i, H5P_DEFAULT, H5P_DEFAULT),
                          "H5Aopen_by_idx");
    char name[256];
    H5Aget_name(a, sizeof name, name);
    const hid_t type = check(H5Aget_type(a), "H5Aget_type"), space = check(H5Aget_space(a), "H5Aget_space");
    const hssize_t n = H5Sget_simple_extent_npoints(space);
    std::vector<unsigned char> buf(static_cast<size_t>(std::max<hssize_t>(n, 1)) * H5Tget_size(type));
    check(H5Aread(a, type, buf.data()), "H5Aread");
    const hid_t b = check(H5Acreate2(dst, name, type, space, H5P_DEFAULT, H5P_DEFAULT), "H5Acreate2");
    check(H5Awrite(b, type, buf.data()), "H5Awrite");
    if (H5Tdetect_class(type, H5T_VLEN) > 0 || H5Tis_variable_str(type) > 0) H5Dvlen_reclaim(type, space, H5P_DEFAULT, buf.data());
    H5Aclose(b);
    H5Sclose(space);
    H5Tclose(type);
    H5Aclose(a);
  }
}

inline herr_t copy_link_or_throw(hid_t src_group, const char* name, void* dst_group_ptr);
// H5Literate's callback: no exception may cross HDF5's C frames.
inline herr_t copy_link(hid_t src_group, const char* name, const H5L_info_t*, void* dst_group_ptr) {
  try {
    return copy_link_or_throw(src_group, name, dst_group_ptr);
  } catch (const std::exception&) {
    return -1;
  }
}

inline herr_t copy_link_or_throw(hid_t src_group, const char* name, void* dst_group_ptr) {
  const hid_t dst_group = *static_cast<hid_t*>(dst_group_ptr);
  H5O_info_t info;
  check(H5Oget_info_by_name2(src_group, name, &info, H5O_INFO_BASIC, H5P_DEFAULT), "H5Oget_info_by_name");
  if (info.type == H5O_TYPE_GROUP) {
    const hid_t s = check(H5Gopen2(src_group, name, H5P_DEFAULT), "H5Gopen2");
    hid_t d = check(H5Gcreate2(dst_group, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "H5Gcreate2");
    copy_attrs(s, d);
    check(H5Literate(s, H5_INDEX_NAME, H5_ITER_INC, nullptr, copy_link, &d), "H5Literate");
    H5Gclose(d);
    H5Gclose(s);
    return 0;
  }
  const hid_t s = check(H5Dopen2(src_group, name, H5P_DEFAULT), "H5Dopen2");
  const hid_t type = check(H5Dget_type(s), "H5Dget_type"), space = check(H5Dget_space(s), "H5Dget_space");
  const hid_t src_dcpl = check(H5Dget_create_plist(s), "H5Dget_create_plist");
  const hid_t dcpl = check(H5Pcreate(H5P_DATASET_CREATE), "H5Pcreate");
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(static_cast<size_t>(std::max(rank, 1)), 1), maxdims = dims;
  hid_t dspace = space;
  if (H5Pget_layout(src_dcpl) == H5D_CHUNKED && rank > 0) {
    H5Sget_simple_extent_dims(space, dims.data(), maxdims.data());
    std::vector<hsize_t> chunk = dims;
    for (auto& c : chunk) c = std::max<hsize_t>(c, 1);
    check(H5Pset_chunk(dcpl, rank, chunk.data()), "H5Pset_chunk");
    dspace = check(H5Screate_simple(rank, dims.data(), maxdims.data()), "H5Screate_simple");
  }
  const hid_t d = check(H5Dcreate2(dst_group, name, type, dspace, H5P_DEFAULT, dcpl, H5P_DEFAULT), "H5Dcreate2");
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  if (n > 0) {
    std::vector<unsigned char> buf(static_cast<size_t>(n) * H5Tget_size(type));
    check(H5Dread(s, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()), "H5Dread");
    check(H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()), "H5Dwrite");
  }
  copy_attrs(s, d);
  if (dspace != space) H5Sclose(dspace);
  H5Dclose(d);
  H5Pclose(dcpl);
  H5Pclose(src_dcpl);
  H5Sclose(space);
  H5Tclose(type);
  H5Dclose(s);
  return 0;
}

// `src` repacked into `dst` with chunks of the data's size, in mdrl's file format (1.8 floor).
inline std::string compact_copy(const std::string& src, const std::string& dst) {
  const hid_t fapl = check(H5Pcreate(H5P_FILE_ACCESS), "H5Pcreate");
  check(H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST), "H5Pset_libver_bounds");
  const hid_t in = check(H5Fopen(src.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), "H5Fopen");
  const hid_t out = check(H5Fcreate(dst.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl), "H5Fcreate");
  hid_t in_root = check(H5Gopen2(in, "/", H5P_DEFAULT), "H5Gopen2"), out_root = check(H5Gopen2(out, "/", H5P_DEFAULT), "H5Gopen2");
  copy_attrs(in_root, out_root);
  check(H5Literate(in_root, H5_INDEX_NAME, H5_ITER_INC, nullptr, copy_link, &out_root), "H5Literate");
  H5Gclose(out_root);
  H5Gclose(in_root);
  H5Fclose(out);
  H5Fclose(in);
  H5Pclose(fapl);
  return dst;
}

inline io::ResumeRequirements requirements() {
  io::ResumeRequirements r;
  r.model_signature = checkpoint_state().model_signature;
  r.trainable = io::Trainable::Full;
  return r;
}

}  // namespace mdrl::fuzz::h5seed
