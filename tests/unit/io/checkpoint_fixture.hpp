// Checkpoint states with values that depend on the step and the rank (parameters, AdamW moments,
// scalars, RNG streams part-way through a block, sampler cursors), and a bit-exact comparison.
// Shared by the unit and mpirun tests.
#pragma once

#include <hdf5.h>
#include <torch/torch.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <string>

#include "core/rng.hpp"
#include "io/checkpoint.hpp"
#include "io/tensor_h5.hpp"

namespace mdrl::test {

inline io::CheckpointState make_checkpoint_state(int64_t step, int rank, io::Trainable trainable = io::Trainable::Full) {
  io::CheckpointState s;
  s.step = step;
  s.trainable = trainable;
  torch::manual_seed(static_cast<uint64_t>(step));  // identical on every rank: replicated weights
  const dist::NamedTensors lora = {{"layers.0.lora_A", torch::randn({4, 16})}, {"layers.0.lora_B", torch::randn({8, 4})}};
  const dist::NamedTensors base = {{"layers.0.weight", torch::randn({8, 16}).to(torch::kBFloat16)},
                                   {"norm.weight", torch::randn({16}).to(torch::kBFloat16)}};
  if (trainable == io::Trainable::Lora) {
    s.params = lora;
    s.model_signature = io::signature_of(lora);
    for (const auto& e : io::signature_of(base)) s.model_signature.push_back(e);
    s.base_checkpoint = "/models/LLaDA-8B-Instruct";
    s.base_checksum = io::weights_checksum(base);
  } else {
    s.params = base;
    s.model_signature = io::signature_of(base);
  }
  for (const auto& [name, p] : s.params) {
    s.optimizer_tensors.emplace_back("exp_avg/" + name, torch::randn(p.sizes()));
    s.optimizer_tensors.emplace_back("exp_avg_sq/" + name, torch::rand(p.sizes()) * 1e-6);
  }
  s.optimizer_scalars = {{"lr", 1e-5 / 3}, {"beta1", 0.9}, {"beta2", 0.99}, {"eps", 1e-8}, {"weight_decay", 0.1}};
  s.schedule_scalars = {{"last_lr", 1e-5 / 7 * static_cast<double>(step)}, {"warmup_steps", 10}};
  s.counters = {{"epoch", 2}, {"samples_seen", 96 * step}, {"optimizer_steps", step}};
  for (auto purpose : {core::RngPurpose::Sampling, core::RngPurpose::Masking}) {
    core::RngStream r(42, rank, purpose);
    for (int64_t i = 0; i < step + rank + 1; ++i) r.next_u32();  // part-way through a block
    s.rng.emplace_back(core::rng_purpose_name(purpose), r.state());
  }
  s.samplers.emplace_back("train", dist::ShardedSampler::State{1, 96 * step + rank});
  s.config_ini = "[run]\nseed = 42\ndir = runs/x\n";
  return s;
}

inline io::ResumeRequirements requirements(const io::CheckpointState& s) {
  io::ResumeRequirements r;
  r.model_signature = s.model_signature;
  r.trainable = s.trainable;
  if (s.trainable == io::Trainable::Lora) r.base_checksum = s.base_checksum;
  return r;
}

// The tensor's bits as integers, so NaN payloads and -0.0 compare exactly.
inline torch::Tensor bits(const torch::Tensor& t) {
  const auto s = io::storage_view(t);
  if (s.scalar_type() == torch::kFloat) return s.view(torch::kInt);
  if (s.scalar_type() == torch::kDouble) return s.view(torch::kLong);
  return s;
}

inline void check_same_tensors(const dist::NamedTensors& a, const dist::NamedTensors& b) {
  BOOST_REQUIRE_EQUAL(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    BOOST_TEST(a[i].first == b[i].first);
    BOOST_TEST((a[i].second.scalar_type() == b[i].second.scalar_type()));
    BOOST_TEST(a[i].second.sizes().vec() == b[i].second.sizes().vec());
    BOOST_TEST(torch::equal(bits(a[i].second), bits(b[i].second)), a[i].first);
  }
}

inline void check_same_state(const io::CheckpointState& a, const io::CheckpointState& b) {
  BOOST_TEST(a.step == b.step);
  BOOST_TEST((a.trainable == b.trainable));
  BOOST_TEST((a.counters == b.counters));
  BOOST_TEST((a.optimizer_scalars == b.optimizer_scalars));
  BOOST_TEST((a.schedule_scalars == b.schedule_scalars));
  BOOST_TEST((a.model_signature == b.model_signature));
  BOOST_TEST(a.base_checkpoint == b.base_checkpoint);
  BOOST_TEST(a.base_checksum == b.base_checksum);
  BOOST_TEST(a.config_ini == b.config_ini);
  check_same_tensors(a.params, b.params);
  check_same_tensors(a.optimizer_tensors, b.optimizer_tensors);
  BOOST_REQUIRE_EQUAL(a.rng.size(), b.rng.size());
  for (size_t i = 0; i < a.rng.size(); ++i) {
    BOOST_TEST(a.rng[i].first == b.rng[i].first);
    BOOST_TEST((a.rng[i].second == b.rng[i].second));
  }
  BOOST_REQUIRE_EQUAL(a.samplers.size(), b.samplers.size());
  for (size_t i = 0; i < a.samplers.size(); ++i) {
    BOOST_TEST(a.samplers[i].first == b.samplers[i].first);
    BOOST_TEST((a.samplers[i].second == b.samplers[i].second));
  }
}

// Flips one bit of byte `at` of a contiguous dataset's raw data in the file (found with
// H5Dget_offset), as a disk or copy error would; HDF5 itself does not notice.
inline void flip_byte_in_dataset(const std::string& file, const std::string& dataset, int64_t at) {
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  BOOST_REQUIRE(f >= 0);
  const hid_t d = H5Dopen2(f, dataset.c_str(), H5P_DEFAULT);
  BOOST_REQUIRE(d >= 0);
  const haddr_t offset = H5Dget_offset(d);
  H5Dclose(d);
  H5Fclose(f);
  BOOST_REQUIRE(offset != HADDR_UNDEF);
  std::fstream io(file, std::ios::in | std::ios::out | std::ios::binary);
  io.seekg(static_cast<std::streamoff>(offset) + at);
  char c = 0;
  io.get(c);
  io.seekp(static_cast<std::streamoff>(offset) + at);
  io.put(static_cast<char>(c ^ 0x10));
  BOOST_REQUIRE(io.good());
}

}  // namespace mdrl::test
