// TrajectoryReader (for tools and tests): reads a trajectory file's attributes, its step index and
// blocks of samples, or a run's segment files as one history (steps ascending across files);
// TrajectorySample::state_after rebuilds intermediate decoding states from the step map (DESIGN.md
// data flow step 2).
#include <algorithm>
#include <filesystem>
#include <optional>
#include <utility>

#include "core/error.hpp"
#include "core/text.hpp"
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
  struct Part {
    h5::File file;
    int64_t first_sample = 0, num_samples = 0;  // its rows in the history
  };
  std::vector<Part> parts;
};

TrajectoryReader::TrajectoryReader(const std::string& path) : impl_(std::make_unique<Impl>()), path_(path) {
  std::error_code ec;
  const bool run = fs::is_directory(path, ec);
  files_ = run ? run_files(path) : std::vector<std::string>{path};
  MDRL_CHECK(!files_.empty(), core::IoError,
             path + " holds no trajectory files (seg-*.h5); is it a run's trajectories/ folder?");
  for (size_t p = 0; p < files_.size(); ++p) {
    const std::string& file = files_[p];
    Impl::Part part;
    part.file = h5::File::open(file, MPI_COMM_SELF, h5::Access::ReadOnly);
    const h5::File& f = part.file;
    const int64_t version = check_format(f, kTrajectoryFormat, kTrajectoryFormatVersion);
    const int64_t l = f.attr_int("completion_length");
    const bool logprob = f.attr_int("has_old_logprob") != 0;
    const auto rewards = f.attr_strings("reward_names");
    if (p == 0) {
      format_version_ = version;
      config_ini_ = f.attr_string("config_ini");
      git_commit_ = f.attr_string("git_commit");
      created_ = f.attr_string("created");
      world_size_ = f.attr_int("world_size");
      mask_token_id_ = f.attr_int("mask_token_id");
      completion_length_ = l;
      has_old_logprob_ = logprob;
      reward_names_ = rewards;
    }
    MDRL_CHECK(l == completion_length_ && logprob == has_old_logprob_ && rewards == reward_names_, core::FormatError,
               file + " holds completions of length " + std::to_string(l) + (logprob ? " with" : " without") +
                   " old log-probs and rewards " + core::join(rewards, ",") + ", " + files_.front() + " " +
                   std::to_string(completion_length_) + (has_old_logprob_ ? " with" : " without") + " and " +
                   core::join(reward_names_, ",") + ": read the files one by one");
    const auto table = f.attr_strings("decoding_settings");
    // num_steps counts the recorded steps; a file its writer did not close may have longer datasets.
    const int64_t n = f.attr_int("num_steps");
    for (const char* name : {"steps/step", "steps/first_sample", "steps/num_samples", "steps/decoding"})
      MDRL_CHECK(f.open_dataset(name).rows() >= n, core::FormatError,
                 file + ": /" + name + " is shorter than num_steps = " + std::to_string(n) + " (file damaged)");
    const auto step = f.open_dataset("steps/step").read_rows_vector<int64_t>(0, n);
    const auto first = f.open_dataset("steps/first_sample").read_rows_vector<int64_t>(0, n);
    const auto count = f.open_dataset("steps/num_samples").read_rows_vector<int64_t>(0, n);
    const auto decoding = f.open_dataset("steps/decoding").read_rows_vector<int32_t>(0, n);
    const int64_t rows = f.open_dataset("samples/step").rows();
    part.first_sample = num_samples_;
    for (size_t i = 0; i < step.size(); ++i) {
      // count <= rows - first, not first + count <= rows: a damaged count must not overflow.
      MDRL_CHECK(first[i] == part.num_samples && count[i] >= 0 && count[i] <= rows - first[i] && decoding[i] >= 0 &&
                     static_cast<size_t>(decoding[i]) < table.size(),
                 core::FormatError, file + ": step index row " + std::to_string(i) + " is inconsistent (file damaged)");
      MDRL_CHECK(steps_.empty() || step[i] > steps_.back().step, core::FormatError,
                 file + ": step " + std::to_string(step[i]) + " follows step " + std::to_string(steps_.back().step) +
                     (i == 0 && p > 0 ? " of " + files_[p - 1] + " (segments overlap: move the older one aside)"
                                      : " (file damaged)"));
      steps_.push_back({step[i], num_samples_ + first[i], count[i], table[static_cast<size_t>(decoding[i])]});
      part.num_samples += count[i];
    }
    // Every sample column holds the rows the step index refers to, in its documented row shape
    // (read() relies on it: a damaged shape must be an error here, not a read past a buffer).
    const auto check_shape = [&](const std::string& name, int64_t row_elements) {
      const auto shape = f.open_dataset("samples/" + name).shape();
      const bool ok = shape.size() == (row_elements < 0 ? 1u : 2u) && shape[0] >= part.num_samples &&
                      (row_elements < 0 || shape[1] == row_elements);
      std::string text;
      for (int64_t d : shape) text += (text.empty() ? "" : ", ") + std::to_string(d);
      MDRL_CHECK(ok, core::FormatError,
                 file + ": /samples/" + name + " has shape [" + text + "], expected [" + std::to_string(part.num_samples) +
                     " or more" + (row_elements < 0 ? "" : ", " + std::to_string(row_elements)) + "] (file damaged)");
    };
    for (const auto& c : traj::kSampleColumns)
      if (has_old_logprob_ || c.name != std::string("old_logprob")) check_shape(c.name, c.per_position ? l : -1);
    check_shape("rewards", static_cast<int64_t>(reward_names_.size()));
    check_shape("prompt_ids", -1);
    MDRL_CHECK(!__builtin_add_overflow(num_samples_, part.num_samples, &num_samples_), core::FormatError,
               file + ": the segments hold more than 2**63 samples (file damaged)");
    impl_->parts.push_back(std::move(part));
  }
}

TrajectoryReader::~TrajectoryReader() = default;
TrajectoryReader::TrajectoryReader(TrajectoryReader&&) noexcept = default;

std::vector<TrajectorySample> TrajectoryReader::read(int64_t first, int64_t count) const {
  MDRL_CHECK(first >= 0 && count >= 0 && first + count <= num_samples_, core::IoError,
             path_ + ": samples [" + std::to_string(first) + ", " + std::to_string(first + count) +
                 ") requested; it holds " + std::to_string(num_samples_));
  std::vector<TrajectorySample> out;
  out.reserve(static_cast<size_t>(count));
  for (const auto& part : impl_->parts) {
    const int64_t lo = std::max(first, part.first_sample);
    const int64_t hi = std::min(first + count, part.first_sample + part.num_samples);
    if (lo >= hi) continue;
    const h5::File& f = part.file;
    const int64_t at = lo - part.first_sample, n = hi - lo, l = completion_length_;
    const auto col = [&](const char* name) { return f.open_dataset(std::string("samples/") + name); };
    const auto offset = col("prompt_offset").read_rows_vector<int64_t>(at, n);
    const auto length = col("prompt_length").read_rows_vector<int32_t>(at, n);
    const auto ids = col("completion_ids").read_rows_vector<int32_t>(at, n);
    const auto step_map = col("step_map").read_rows_vector<int16_t>(at, n);
    const auto conf = col("confidence").read_rows_vector<float>(at, n);
    const auto logp = has_old_logprob_ ? col("old_logprob").read_rows_vector<float>(at, n) : std::vector<float>{};
    const auto reward = col("reward").read_rows_vector<double>(at, n);
    const auto advantage = col("advantage").read_rows_vector<double>(at, n);
    const auto group = col("group_id").read_rows_vector<int64_t>(at, n);
    const auto rank = col("rank").read_rows_vector<int32_t>(at, n);
    const auto step = col("step").read_rows_vector<int64_t>(at, n);
    const auto rewards = col("rewards").read_rows_vector<double>(at, n);
    const size_t k = reward_names_.size();
    // The prompts of consecutive samples are consecutive: one read for the block (checked, so a
    // damaged offset or length is an error, not a read past the block).
    for (size_t i = 0; i < offset.size(); ++i) {
      int64_t end = 0;
      MDRL_CHECK(offset[i] >= 0 && length[i] >= 0 && !__builtin_add_overflow(offset[i], int64_t{length[i]}, &end) &&
                     (i + 1 == offset.size() || offset[i + 1] == end),
                 core::FormatError,
                 f.path() + ": the prompt of sample " + std::to_string(lo + static_cast<int64_t>(i)) + " (offset " +
                     std::to_string(offset[i]) + ", length " + std::to_string(length[i]) +
                     ") does not follow the previous one (file damaged)");
    }
    const int64_t t0 = offset.front(), t1 = offset.back() + length.back();
    const auto tokens = col("prompt_ids").read_rows_vector<int32_t>(t0, t1 - t0);
    for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
      TrajectorySample& s = out.emplace_back();
      s.index = lo + static_cast<int64_t>(i);
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
  // (first step, name): seg-<first>.h5 and steps_<first>.h5 by the number in their names, the
  // version-1 one-file-per-run name from step 0 on.
  std::vector<std::pair<int64_t, std::string>> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (e.path().extension() != ".h5") continue;
    const auto number = [&](size_t at) -> std::optional<int64_t> {
      const std::string digits = name.substr(at, name.size() - 3 - at);
      if (digits.empty() || digits.size() > 18 || digits.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
      return std::stoll(digits);
    };
    std::optional<int64_t> first;
    if (name == "trajectories.h5") first = INT64_MIN;
    else if (name.rfind("seg-", 0) == 0) first = number(4);
    else if (name.rfind("steps_", 0) == 0) first = number(6);
    if (first) files.emplace_back(*first, e.path().string());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> out;
  for (auto& f : files) out.push_back(std::move(f.second));
  return out;
}

}  // namespace mdrl::io
