// TrajectoryReader (for tools and tests): reads a trajectory file's attributes, its step index and
// blocks of samples; TrajectorySample::state_after rebuilds intermediate decoding states from the
// step map (DESIGN.md data flow step 2).
#include <algorithm>
#include <filesystem>

#include "core/error.hpp"
#include "io/file_util.hpp"
#include "io/trajectory_layout.hpp"

namespace mdrl::io {

namespace fs = std::filesystem;

int64_t TrajectorySample::num_decoding_steps() const {
  int64_t n = 0;
  for (int16_t s : step_map) n = std::max<int64_t>(n, int64_t{s} + 1);
  return n;
}

std::vector<int32_t> TrajectorySample::state_after(int64_t steps_done, int32_t mask_id) const {
  std::vector<int32_t> x(completion_ids.size(), mask_id);
  for (size_t i = 0; i < x.size(); ++i)
    if (step_map[i] >= 0 && step_map[i] < steps_done) x[i] = completion_ids[i];
  return x;
}

struct TrajectoryReader::Impl {
  h5::File file;
};

TrajectoryReader::TrajectoryReader(const std::string& path) : impl_(std::make_unique<Impl>()), path_(path) {
  impl_->file = h5::File::open(path, MPI_COMM_SELF, h5::Access::ReadOnly);
  const h5::File& f = impl_->file;
  format_version_ = check_format(f, kTrajectoryFormat, kTrajectoryFormatVersion);
  config_ini_ = f.attr_string("config_ini");
  git_commit_ = f.attr_string("git_commit");
  created_ = f.attr_string("created");
  world_size_ = f.attr_int("world_size");
  mask_token_id_ = f.attr_int("mask_token_id");
  completion_length_ = f.attr_int("completion_length");
  has_old_logprob_ = f.attr_int("has_old_logprob") != 0;
  reward_names_ = f.attr_strings("reward_names");
  const auto table = f.attr_strings("decoding_settings");
  // num_steps counts the recorded steps; a file its writer did not close may have longer datasets.
  const int64_t n = f.attr_int("num_steps");
  for (const char* name : {"steps/step", "steps/first_sample", "steps/num_samples", "steps/decoding"})
    MDRL_CHECK(f.open_dataset(name).rows() >= n, core::FormatError,
               path + ": /" + name + " is shorter than num_steps = " + std::to_string(n) + " (file damaged)");
  const auto step = f.open_dataset("steps/step").read_rows_vector<int64_t>(0, n);
  const auto first = f.open_dataset("steps/first_sample").read_rows_vector<int64_t>(0, n);
  const auto count = f.open_dataset("steps/num_samples").read_rows_vector<int64_t>(0, n);
  const auto decoding = f.open_dataset("steps/decoding").read_rows_vector<int32_t>(0, n);
  const int64_t rows = f.open_dataset("samples/step").rows();
  for (size_t i = 0; i < step.size(); ++i) {
    MDRL_CHECK(first[i] == num_samples_ && count[i] >= 0 && first[i] + count[i] <= rows &&
                   decoding[i] >= 0 && static_cast<size_t>(decoding[i]) < table.size(),
               core::FormatError, path + ": step index row " + std::to_string(i) + " is inconsistent (file damaged)");
    steps_.push_back({step[i], first[i], count[i], table[static_cast<size_t>(decoding[i])]});
    num_samples_ += count[i];
  }
}

TrajectoryReader::~TrajectoryReader() = default;
TrajectoryReader::TrajectoryReader(TrajectoryReader&&) noexcept = default;

std::vector<TrajectorySample> TrajectoryReader::read(int64_t first, int64_t count) const {
  MDRL_CHECK(first >= 0 && count >= 0 && first + count <= num_samples_, core::IoError,
             path_ + ": samples [" + std::to_string(first) + ", " + std::to_string(first + count) +
                 ") requested; the file holds " + std::to_string(num_samples_));
  std::vector<TrajectorySample> out(static_cast<size_t>(count));
  if (count == 0) return out;
  const h5::File& f = impl_->file;
  const int64_t l = completion_length_;
  const auto col = [&](const char* name) { return f.open_dataset(std::string("samples/") + name); };
  const auto offset = col("prompt_offset").read_rows_vector<int64_t>(first, count);
  const auto length = col("prompt_length").read_rows_vector<int32_t>(first, count);
  const auto ids = col("completion_ids").read_rows_vector<int32_t>(first, count);
  const auto step_map = col("step_map").read_rows_vector<int16_t>(first, count);
  const auto conf = col("confidence").read_rows_vector<float>(first, count);
  const auto logp = has_old_logprob_ ? col("old_logprob").read_rows_vector<float>(first, count) : std::vector<float>{};
  const auto reward = col("reward").read_rows_vector<double>(first, count);
  const auto advantage = col("advantage").read_rows_vector<double>(first, count);
  const auto group = col("group_id").read_rows_vector<int64_t>(first, count);
  const auto rank = col("rank").read_rows_vector<int32_t>(first, count);
  const auto step = col("step").read_rows_vector<int64_t>(first, count);
  const auto rewards = col("rewards").read_rows_vector<double>(first, count);
  const size_t k = reward_names_.size();
  // The prompts of consecutive samples are consecutive: one read for the block.
  const int64_t t0 = offset.front(), t1 = offset.back() + length.back();
  const auto tokens = col("prompt_ids").read_rows_vector<int32_t>(t0, t1 - t0);
  for (size_t i = 0; i < out.size(); ++i) {
    TrajectorySample& s = out[i];
    s.index = first + static_cast<int64_t>(i);
    s.step = step[i];
    s.rank = rank[i];
    s.group_id = group[i];
    const auto p0 = tokens.begin() + (offset[i] - t0);
    s.prompt_ids.assign(p0, p0 + length[i]);
    const size_t a = i * static_cast<size_t>(l), b = a + static_cast<size_t>(l);
    s.completion_ids.assign(ids.begin() + a, ids.begin() + b);
    s.step_map.assign(step_map.begin() + a, step_map.begin() + b);
    s.confidence.assign(conf.begin() + a, conf.begin() + b);
    if (has_old_logprob_) s.old_logprob.assign(logp.begin() + a, logp.begin() + b);
    s.rewards.assign(rewards.begin() + i * k, rewards.begin() + (i + 1) * k);
    s.reward = reward[i];
    s.advantage = advantage[i];
  }
  return out;
}

std::vector<TrajectorySample> TrajectoryReader::step_samples(size_t step_index) const {
  MDRL_CHECK(step_index < steps_.size(), core::IoError,
             path_ + ": step index " + std::to_string(step_index) + " requested; the file holds " +
                 std::to_string(steps_.size()) + " steps");
  return read(steps_[step_index].first_sample, steps_[step_index].num_samples);
}

std::vector<std::string> TrajectoryReader::run_files(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (e.path().extension() != ".h5") continue;
    if (name == "trajectories.h5" || name.rfind("steps_", 0) == 0) files.push_back(e.path().string());
  }
  // Zero-padded names sort by first step; the one-file-per-run name holds step 0 onwards.
  std::sort(files.begin(), files.end(), [](const std::string& a, const std::string& b) {
    const bool ra = a.ends_with("trajectories.h5"), rb = b.ends_with("trajectories.h5");
    return ra != rb ? ra : a < b;
  });
  return files;
}

}  // namespace mdrl::io
