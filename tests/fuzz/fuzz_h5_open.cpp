// libFuzzer harness: opening and reading HDF5 trajectory segments (io::TrajectoryReader) and
// checkpoints (io::read_checkpoint_file) on MPI_COMM_SELF, as tools, `mdrl info` and a resume do.
// At start it writes valid files with the real writers (fuzz_h5_common.hpp). Input: one byte
// choosing the kind (modulo 6), then
//   0, 1: damage to a trajectory segment (0: two steps with old log-probs, 1: three without): the
//      file image with up to 32 byte patches (offset, 1-8 bytes) and optionally cut short; opened and
//      read whole;
//   2: the same damage to a checkpoint, read with the requirements it was written for (so a damaged
//      copy gets past the compatibility checks to its tensors and rank states);
//   3: bytes that decide a trajectory segment built through the h5 layer: consistent steps, samples
//      and prompts as the writer lays them out, with rare changes to any attribute, dataset, shape,
//      element type or value (extremes included); then read as in 0;
//   4: the same for a checkpoint: attributes, signature, scalars, tensor names, dtypes, shapes,
//      checksums, rank states;
//   5: a damaged segment (steps 5-6, or, with the next byte odd, step 1, which overlaps) as the
//      second file of a trajectories folder whose first segment (steps 0-1) is valid; the folder is
//      read as one history.
// HDF5's own metadata carries checksums (format 1.8 floor: superblock v2, object headers v2), so
// patches there give clean errors and the rest reach raw data (step index, prompt offsets, tensor
// bytes); kinds 3 and 4 reach the attributes and shapes. Patches never touch two structures that
// have no checksum and that libhdf5 1.10.8 trusts: the global heap collections (GCOL, where the
// variable-length string attributes live; a damaged object length makes H5HG_read copy past its
// buffer) and the version-1 B-tree nodes of chunked datasets (TREE; a damaged chunk key makes
// H5D__select_read copy past the chunk buffer). Both crash inside libhdf5 (tests/fuzz/README.md):
// library defects that mdrl's reader cannot guard against. A damaged file may give an IoError or
// Hdf5Error (exit 1, what a corrupt file read says) besides the user errors; every error names the
// file. Whatever the reader returns must keep its documented shapes. MDRL_FUZZ_H5_KEEP=DIR keeps
// the last original and damaged image there; MDRL_FUZZ_H5_OPEN=FILE reads one file and exits.
#include <fuzzer/FuzzedDataProvider.h>
#include <mpi.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <utility>
#include <vector>

#include "fuzz_h5_common.hpp"
#include "fuzz_support.hpp"
#include "io/hdf5.hpp"
#include "io/tensor_h5.hpp"
#include "io/trajectory_layout.hpp"

namespace {

namespace fs = std::filesystem;
namespace h5 = mdrl::io::h5;
using mdrl::fuzz::finding;

// ---- the oracle on what the readers return ----------------------------------------------------

void read_trajectories(const std::string& path) {
  const mdrl::io::TrajectoryReader r(path);
  const int64_t l = r.completion_length();
  const size_t k = r.reward_names().size();
  const auto check = [&](const std::vector<mdrl::io::TrajectorySample>& v, int64_t first, int64_t count) {
    if (static_cast<int64_t>(v.size()) != count) finding("read() returned another number of samples", path.c_str());
    for (size_t i = 0; i < v.size(); ++i) {
      const auto& s = v[i];
      if (s.index != first + static_cast<int64_t>(i)) finding("sample index differs from its row", path.c_str());
      if (static_cast<int64_t>(s.completion_ids.size()) != l || static_cast<int64_t>(s.step_map.size()) != l ||
          static_cast<int64_t>(s.confidence.size()) != l ||
          (r.has_old_logprob() ? static_cast<int64_t>(s.old_logprob.size()) != l : !s.old_logprob.empty()))
        finding("a sample's per-position vectors differ from completion_length", path.c_str());
      if (s.rewards.size() != k) finding("a sample's rewards differ from reward_names", path.c_str());
      const int64_t n = s.num_decoding_steps();
      for (int64_t d = 0; d <= std::min<int64_t>(n, 3); ++d) (void)s.state_after(d, 9);
    }
  };
  int64_t total = 0;
  for (size_t i = 0; i < r.steps().size(); ++i) {
    const auto& st = r.steps()[i];
    if (st.num_samples < 0 || st.first_sample != total) finding("step index does not tile the samples", path.c_str());
    total += st.num_samples;
    check(r.step_samples(i), st.first_sample, st.num_samples);
  }
  if (total != r.num_samples()) finding("steps' sample counts do not add up to num_samples()", path.c_str());
  if (r.num_samples() > 0) check(r.read(0, r.num_samples()), 0, r.num_samples());
}

void read_checkpoint(const std::string& path) {
  static const mdrl::io::ResumeRequirements req = mdrl::fuzz::h5seed::requirements();
  const auto s = mdrl::io::read_checkpoint_file(path, MPI_COMM_SELF, req);
  if (s.model_signature != req.model_signature) finding("checkpoint accepted with another signature", path.c_str());
  for (const auto& group : {&s.params, &s.optimizer_tensors})
    for (const auto& [name, t] : *group)
      if (!t.defined() || (t.numel() > 0 && t.data_ptr() == nullptr)) finding("undefined tensor read", name.c_str());
}

// ---- files built from the input through the h5 layer ------------------------------------------

// Builds files that are mostly what the writers write, with rare changes (each about 1 in 32), so
// inputs reach the deep checks (a consistent step index, then the samples) as well as the shallow ones.
class Builder {
 public:
  explicit Builder(FuzzedDataProvider& in) : in_(in) {}

  bool rare() { return in_.ConsumeIntegralInRange<int>(0, 31) == 31; }  // an exhausted input gives 0: usual
  // An extreme, an arbitrary or a nearby value.
  int64_t odd_number(int64_t lo, int64_t hi) {
    switch (in_.ConsumeIntegralInRange<int>(0, 3)) {
      case 0: return in_.PickValueInArray<int64_t>({std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min(),
                                                    std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min(),
                                                    int64_t{1} << 40, -1, 32767, -32768});
      case 1: return in_.ConsumeIntegral<int64_t>();
      default: return in_.ConsumeIntegralInRange<int64_t>(lo, hi);
    }
  }
  int64_t maybe(int64_t usual, int64_t lo, int64_t hi) { return rare() ? odd_number(lo, hi) : usual; }
  // An attribute: usually `usual`, rarely another number, a string, a list, a double, or missing.
  void int_attr(const h5::Object& o, const std::string& name, int64_t usual, int64_t lo, int64_t hi) {
    if (!rare()) return o.set_attr(name, usual);
    switch (in_.ConsumeIntegralInRange<int>(0, 5)) {
      case 0: return;
      case 1: o.set_attr(name, in_.ConsumeRandomLengthString(8)); return;
      case 2: o.set_attr(name, std::vector<int64_t>{odd_number(lo, hi), odd_number(lo, hi)}); return;
      case 3: o.set_attr(name, in_.ConsumeFloatingPoint<double>()); return;
      case 4: o.set_attr(name, static_cast<uint64_t>(in_.ConsumeIntegral<uint64_t>())); return;
      default: o.set_attr(name, odd_number(lo, hi));
    }
  }
  void string_attr(const h5::Object& o, const std::string& name, const std::string& usual) {
    if (!rare()) return o.set_attr(name, usual);
    switch (in_.ConsumeIntegralInRange<int>(0, 3)) {
      case 0: return;
      case 1: o.set_attr(name, int64_t{7}); return;
      case 2: o.set_attr(name, std::vector<std::string>{usual, usual}); return;
      default: o.set_attr(name, in_.ConsumeRandomLengthString(32));
    }
  }
  std::vector<std::string> strings(size_t max, const std::vector<std::string>& pool) {
    std::vector<std::string> v(in_.ConsumeIntegralInRange<size_t>(0, max));
    for (size_t i = 0; i < v.size(); ++i)
      v[i] = !rare() && !pool.empty() ? pool[i % pool.size()] : in_.ConsumeRandomLengthString(12);
    return v;
  }
  void strings_attr(const h5::Object& o, const std::string& name, const std::vector<std::string>& usual) {
    if (!rare()) return o.set_attr(name, usual);
    switch (in_.ConsumeIntegralInRange<int>(0, 2)) {
      case 0: return;
      case 1: o.set_attr(name, std::string("x")); return;
      default: o.set_attr(name, strings(3, {}));
    }
  }
  h5::Type type(h5::Type usual) {
    if (!rare()) return usual;
    return in_.PickValueInArray({h5::Type::I8, h5::Type::U8, h5::Type::I16, h5::Type::U16, h5::Type::I32,
                                 h5::Type::U32, h5::Type::I64, h5::Type::U64, h5::Type::F32, h5::Type::F64});
  }
  int64_t dim(int64_t usual) { return rare() ? in_.ConsumeIntegralInRange<int64_t>(0, 6) : usual; }
  // A dataset of `shape` (scalar when empty) holding usual(i) for element i, each rarely changed;
  // rarely missing (returns false).
  template <class Usual>
  bool dataset(const h5::Group& g, const std::string& name, h5::Type t, const std::vector<int64_t>& shape,
               Usual&& usual, std::vector<uint8_t>* bytes_out = nullptr) {
    if (rare()) return false;
    h5::DatasetLayout layout;
    if (!shape.empty() && in_.ConsumeBool()) {
      layout.extendible = true;
      layout.chunk = shape;
      layout.chunk[0] = in_.ConsumeIntegralInRange<int64_t>(1, 4);
    }
    const h5::Dataset d = g.create_dataset(name, t, shape, layout);
    int64_t n = 1;
    for (int64_t s : shape) n *= s;
    std::vector<uint8_t> bytes(static_cast<size_t>(n) * h5::type_size(t));
    for (int64_t i = 0; i < n; ++i) {
      uint8_t* p = bytes.data() + static_cast<size_t>(i) * h5::type_size(t);
      const int64_t v = maybe(usual(i), -3, 12);
      switch (t) {
        case h5::Type::F32: { const float x = static_cast<float>(v) + in_.ConsumeProbability<float>(); std::memcpy(p, &x, 4); break; }
        case h5::Type::F64: { const double x = static_cast<double>(v) + in_.ConsumeProbability<double>(); std::memcpy(p, &x, 8); break; }
        default: std::memcpy(p, &v, h5::type_size(t));  // little-endian: the low bytes
      }
    }
    if (n > 0) d.write_all(t, bytes.data(), h5::Transfer::Independent);
    if (bytes_out) *bytes_out = std::move(bytes);
    return true;
  }

 private:
  FuzzedDataProvider& in_;
};

// A segment as TrajectoryWriter writes it: S steps of c_s samples, prompts of len_j tokens stored
// back to back; then rare changes to any attribute, dataset, shape, type or value.
void build_trajectory(FuzzedDataProvider& in, const std::string& path) {
  h5::File f = h5::File::create(path, MPI_COMM_SELF);
  Builder b(in);
  const int64_t steps = in.ConsumeIntegralInRange<int64_t>(0, 4), l = in.ConsumeIntegralInRange<int64_t>(0, 4);
  const bool logprob = in.ConsumeBool();
  std::vector<int64_t> count(static_cast<size_t>(steps)), first(count.size()), step(count.size());
  int64_t rows = 0;
  for (size_t i = 0; i < count.size(); ++i) {
    step[i] = (i ? step[i - 1] : 0) + in.ConsumeIntegralInRange<int64_t>(1, 2);
    first[i] = rows;
    count[i] = in.ConsumeIntegralInRange<int64_t>(0, 3);
    rows += count[i];
  }
  std::vector<int64_t> length(static_cast<size_t>(rows)), offset(length.size());
  int64_t tokens = 0;
  for (size_t j = 0; j < length.size(); ++j) {
    offset[j] = tokens;
    length[j] = in.ConsumeIntegralInRange<int64_t>(0, 3);
    tokens += length[j];
  }
  const std::vector<std::string> rewards = b.strings(2, {"correctness", "format"});
  const std::vector<std::string> table = {R"({"steps":4})", "{}"};
  const auto k = static_cast<int64_t>(rewards.size());
  b.string_attr(f, "format", mdrl::io::kTrajectoryFormat);
  b.int_attr(f, "format_version", mdrl::io::kTrajectoryFormatVersion, 0, 3);
  b.string_attr(f, "config_ini", "[run]\nseed = 1\n");
  b.string_attr(f, "git_commit", "abc");
  b.string_attr(f, "created", "2024-01-01");
  b.int_attr(f, "world_size", 1, 0, 3);
  b.int_attr(f, "mask_token_id", 9, -1, 20);
  b.int_attr(f, "completion_length", l, -2, 6);
  b.int_attr(f, "has_old_logprob", logprob, -1, 2);
  b.strings_attr(f, "reward_names", rewards);
  b.strings_attr(f, "decoding_settings", table);
  b.int_attr(f, "num_steps", steps, -2, 8);
  b.int_attr(f, "num_samples", rows, -1, 10);
  b.int_attr(f, "num_prompt_tokens", tokens, -1, 10);
  b.int_attr(f, "first_step", steps ? step.front() : 0, -1, 10);
  b.int_attr(f, "last_step", steps ? step.back() : 0, -1, 10);
  b.int_attr(f, "steps_per_file", 0, -1, 10);
  b.int_attr(f, "compression", 0, -1, 10);
  const auto none = [](int64_t) { return int64_t{0}; };
  b.dataset(f, "steps/step", b.type(h5::Type::I64), {b.dim(steps)}, [&](int64_t i) { return i < steps ? step[static_cast<size_t>(i)] : 0; });
  b.dataset(f, "steps/first_sample", b.type(h5::Type::I64), {b.dim(steps)}, [&](int64_t i) { return i < steps ? first[static_cast<size_t>(i)] : 0; });
  b.dataset(f, "steps/num_samples", b.type(h5::Type::I64), {b.dim(steps)}, [&](int64_t i) { return i < steps ? count[static_cast<size_t>(i)] : 0; });
  b.dataset(f, "steps/decoding", b.type(h5::Type::I32), {b.dim(steps)}, [](int64_t i) { return i % 2; });
  for (const auto& c : mdrl::io::traj::kSampleColumns) {
    const std::string name = c.name;
    if (name == "old_logprob" && !logprob && !b.rare()) continue;
    std::vector<int64_t> shape{b.dim(rows)};
    if (c.per_position) shape.push_back(b.dim(l));
    if (b.rare()) shape.pop_back();
    const int64_t n = shape.empty() ? 1 : shape[0];
    const auto usual = [&](int64_t i) -> int64_t {
      const int64_t r = shape.size() > 1 && shape[1] > 0 ? i / shape[1] : i;
      if (name == "prompt_offset") return r < rows && r < n ? offset[static_cast<size_t>(r)] : 0;
      if (name == "prompt_length") return r < rows && r < n ? length[static_cast<size_t>(r)] : 0;
      if (name == "step_map") return i % 3;
      if (name == "rank") return 0;
      if (name == "step") {
        for (size_t s = 0; s < count.size(); ++s)
          if (r >= first[s] && r < first[s] + count[s]) return step[s];
        return 0;
      }
      return i;
    };
    b.dataset(f, "samples/" + name, b.type(c.type), shape, usual);
  }
  b.dataset(f, "samples/rewards", b.type(h5::Type::F64), {b.dim(rows), b.dim(k)}, none);
  b.dataset(f, "samples/prompt_ids", b.type(h5::Type::I32), {b.dim(tokens)}, [](int64_t i) { return i; });
  f.close();
}

// A checkpoint as write_checkpoint_file writes the seed state (fuzz_h5_common.hpp), then rare
// changes: attributes, the signature, tensor names, dtypes, shapes, types, checksums, rank states.
void build_checkpoint(FuzzedDataProvider& in, const std::string& path) {
  static const mdrl::io::CheckpointState good = mdrl::fuzz::h5seed::checkpoint_state();
  h5::File f = h5::File::create(path, MPI_COMM_SELF);
  Builder b(in);
  b.string_attr(f, "format", mdrl::io::kCheckpointFormat);
  b.int_attr(f, "format_version", mdrl::io::kCheckpointFormatVersion, 0, 3);
  b.int_attr(f, "world_size", 1, 0, 3);
  b.string_attr(f, "trainable", "full");
  b.int_attr(f, "step", good.step, -1, 5);
  b.int_attr(f, "base_checksum", 0, 0, 5);
  b.string_attr(f, "base_checkpoint", "");
  b.string_attr(f, "config_ini", good.config_ini);
  std::string sig = R"([["w","float32",[2,3]],["b","bfloat16",[3]]])";
  if (b.rare()) sig = in.ConsumeRandomLengthString(64);
  if (!b.rare()) b.string_attr(f.create_group("model"), "signature", sig);
  const auto scalars = [&](const char* group, const auto& values) {
    if (b.rare()) return;
    const h5::Group grp = f.create_group(group);
    for (const auto& [name, v] : values) b.int_attr(grp, name, static_cast<int64_t>(v), -1, 9);
    if (b.rare()) b.int_attr(grp, in.ConsumeRandomLengthString(6) + "_", 1, -1, 9);
  };
  scalars("counters", good.counters);
  scalars("optimizer/scalars", good.optimizer_scalars);
  scalars("schedule", good.schedule_scalars);
  const std::vector<std::string> dtypes = {"float32", "bfloat16", "float16", "float64", "int64", "int32",
                                           "int8",    "uint8",    "bool",    "complex64", "x"};
  for (const auto& [group, tensors] : {std::pair{"model/params", &good.params}, std::pair{"optimizer/tensors", &good.optimizer_tensors}}) {
    if (b.rare()) continue;
    const h5::Group g = f.exists(group) ? f.open_group(group) : f.create_group(group);
    std::vector<std::string> names;
    for (const auto& [n, t] : *tensors) names.push_back(n);
    if (b.rare()) names = b.strings(3, {"w", "b", "exp_avg/w"});
    b.strings_attr(g, "names", names);
    for (size_t i = 0; i < names.size(); ++i) {
      const std::string& name = names[i];
      if (name.empty() || name == "." || g.exists(name)) continue;
      const at::Tensor* t = i < tensors->size() ? &(*tensors)[i].second : nullptr;
      std::string dtype = t ? mdrl::io::dtype_name(t->scalar_type()) : "float32";
      if (b.rare()) dtype = dtypes[in.ConsumeIntegralInRange<size_t>(0, dtypes.size() - 1)];
      h5::Type type = h5::Type::F32;
      try {
        type = mdrl::io::storage_type(mdrl::io::dtype_from_name(dtype, name));
      } catch (const mdrl::core::Error&) {
      }
      std::vector<int64_t> shape = t ? t->sizes().vec() : std::vector<int64_t>{2};
      if (b.rare()) {
        shape.resize(in.ConsumeIntegralInRange<size_t>(0, 3));
        for (auto& d : shape) d = in.ConsumeIntegralInRange<int64_t>(0, 4);
      }
      std::vector<uint8_t> bytes;
      if (!b.dataset(g, name, b.type(type), shape, [](int64_t e) { return e % 4; }, &bytes)) continue;
      const h5::Dataset d = g.open_dataset(name);
      b.string_attr(d, "dtype", dtype);
      if (!b.rare()) d.set_attr(mdrl::io::kChecksumAttr, mdrl::io::xxh64(bytes.data(), bytes.size()));
      else if (in.ConsumeBool()) d.set_attr(mdrl::io::kChecksumAttr, in.ConsumeIntegral<uint64_t>());
    }
  }
  if (!b.rare()) {
    const h5::Group ranks = f.create_group("ranks");
    std::vector<std::string> rng, samplers;
    for (const auto& [n, st] : good.rng) rng.push_back(n);
    for (const auto& [n, st] : good.samplers) samplers.push_back(n);
    b.strings_attr(ranks, "rng_names", rng);
    b.strings_attr(ranks, "sampler_names", samplers);
    b.dataset(ranks, "rng_state", b.type(h5::Type::U64), {b.dim(1), b.dim(4 * static_cast<int64_t>(rng.size()))},
              [](int64_t e) { return e + 1; });
    b.dataset(ranks, "sampler_state", b.type(h5::Type::I64), {b.dim(1), b.dim(2 * static_cast<int64_t>(samplers.size()))},
              [](int64_t e) { return e; });
  }
  f.close();
}

// A valid file, as bytes, and the byte ranges no patch may touch: its global heap collections and
// its chunk B-tree nodes (libhdf5 defects, see the top of this file).
struct Image {
  std::string bytes;
  std::vector<std::pair<size_t, size_t>> heaps;  // [begin, end)
};

Image load_image(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  Image im;
  im.bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (im.bytes.empty()) finding("cannot read a valid file the harness wrote", path.c_str());
  // A collection: "GCOL", version, 3 reserved bytes, its size (8 bytes, little-endian) from its start.
  for (size_t at = im.bytes.find("GCOL"); at != std::string::npos; at = im.bytes.find("GCOL", at + 1)) {
    uint64_t n = 0;
    if (at + 16 <= im.bytes.size()) std::memcpy(&n, im.bytes.data() + at + 8, 8);
    im.heaps.emplace_back(at, at + std::max<uint64_t>(n, 16));
  }
  // A version-1 B-tree node (the chunk index of a dataset in format 1.8): "TREE", then 2K = 64
  // entries of a chunk key (4 + 4 + 8 * (rank + 1) bytes, rank <= 2 here) and a child address.
  for (size_t at = im.bytes.find("TREE"); at != std::string::npos; at = im.bytes.find("TREE", at + 1))
    im.heaps.emplace_back(at, at + 24 + 65 * 32 + 64 * 8);
  return im;
}

std::vector<Image> g_images;  // kinds 0, 1, 2; 3: the second segment, 4: the overlapping one

// The image with the damage the input describes.
std::string damaged(const Image& im, FuzzedDataProvider& in) {
  std::string b = im.bytes;
  const int patches = in.ConsumeIntegralInRange<int>(0, 32);
  for (int i = 0; i < patches && in.remaining_bytes() > 0; ++i) {
    const size_t at = in.ConsumeIntegralInRange<size_t>(0, b.size() - 1);
    const std::string bytes = in.ConsumeBytesAsString(in.ConsumeIntegralInRange<size_t>(1, 8));
    for (size_t j = 0; j < bytes.size() && at + j < b.size(); ++j) {
      const size_t k = at + j;
      const bool in_heap = std::any_of(im.heaps.begin(), im.heaps.end(),
                                       [&](const auto& h) { return k >= h.first && k < h.second; });
      if (!in_heap) b[k] = bytes[j];
    }
  }
  if (in.ConsumeIntegralInRange<int>(0, 7) == 7) b.resize(in.ConsumeIntegralInRange<size_t>(0, b.size()));
  // MDRL_FUZZ_H5_KEEP=DIR: keep the original and the damaged file there (to see what an input does).
  if (const char* keep = std::getenv("MDRL_FUZZ_H5_KEEP")) {
    std::ofstream(fs::path(keep) / "original.h5", std::ios::binary) << im.bytes;
    std::ofstream(fs::path(keep) / "damaged.h5", std::ios::binary) << b;
  }
  return b;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Open MPI's handlers of SIGABRT/SIGSEGV/SIGBUS/SIGFPE would print a trace and exit before
  // libFuzzer's handler saves the input: leave the signals to libFuzzer.
  setenv("OMPI_MCA_opal_signal", "", 1);
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  namespace s = mdrl::fuzz::h5seed;
  const fs::path dir = mdrl::fuzz::scratch_dir() / "valid";
  const auto segment = [&](const char* sub, int64_t first, int64_t steps, bool logprob) {
    return s::compact_copy(s::write_segment((dir / sub).string(), first, steps, logprob), (dir / sub).string() + ".h5");
  };
  g_images.push_back(load_image(segment("a", 1, 2, true)));
  g_images.push_back(load_image(segment("b", 1, 3, false)));
  const std::string ckpt = (dir / "step_3.h5").string();
  mdrl::io::write_checkpoint_file(ckpt, MPI_COMM_SELF, s::checkpoint_state());
  g_images.push_back(load_image(ckpt));
  g_images.push_back(load_image(segment("c", 5, 2, true)));
  g_images.push_back(load_image(segment("d", 1, 1, true)));
  // Every valid file reads (else the oracle below would be wrong).
  read_trajectories((dir / "a.h5").string());
  read_checkpoint(ckpt);
  // MDRL_FUZZ_H5_OPEN=FILE: read that file as a checkpoint (a name starting with "checkpoint" or
  // "step_") or a trajectory segment, under the oracle, and stop (known_libhdf5/README.md).
  if (const char* file = std::getenv("MDRL_FUZZ_H5_OPEN")) {
    const std::string name = fs::path(file).filename().string();
    const bool ckpt_file = name.rfind("checkpoint", 0) == 0 || name.rfind("step_", 0) == 0;
    mdrl::fuzz::expect_clean([&] { ckpt_file ? read_checkpoint(file) : read_trajectories(file); }, file, true);
    std::fprintf(stderr, "%s: read, or refused with an mdrl error\n", file);
    std::exit(0);
  }
  // Kind 5's folder: a valid first segment (steps 0-1).
  fs::create_directories(mdrl::fuzz::scratch_dir() / "run");
  s::write_segment((mdrl::fuzz::scratch_dir() / "run").string(), 0, 2, true);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int kind = data[0] % 6;
  FuzzedDataProvider in(data + 1, size - 1);
  switch (kind) {
    case 0:
    case 1: {
      const std::string path = mdrl::fuzz::write_scratch("seg-00000001.h5", damaged(g_images[kind], in));
      mdrl::fuzz::expect_clean([&] { read_trajectories(path); }, path, true);
      break;
    }
    case 2: {
      const std::string path = mdrl::fuzz::write_scratch("step_3.h5", damaged(g_images[2], in));
      mdrl::fuzz::expect_clean([&] { read_checkpoint(path); }, path, true);
      break;
    }
    case 3:
    case 4: {
      const std::string path = (mdrl::fuzz::scratch_dir() / (kind == 3 ? "built-seg.h5" : "built-step.h5")).string();
      try {
        if (kind == 3) build_trajectory(in, path);
        else build_checkpoint(in, path);
      } catch (const mdrl::core::Error& e) {
        if (std::getenv("MDRL_FUZZ_VERBOSE")) std::fprintf(stderr, "not built: %s\n", e.what());
        return 0;  // the h5 layer refused something the builder asked for: not a reader input
      }
      mdrl::fuzz::expect_clean([&] { kind == 3 ? read_trajectories(path) : read_checkpoint(path); }, path, true);
      break;
    }
    default: {
      const auto dir = mdrl::fuzz::scratch_dir() / "run";
      const bool overlap = in.ConsumeBool();
      std::error_code ec;
      fs::remove(dir / "seg-00000001.h5", ec);
      fs::remove(dir / "seg-00000005.h5", ec);
      mdrl::fuzz::write_scratch(overlap ? "run/seg-00000001.h5" : "run/seg-00000005.h5",
                                damaged(g_images[overlap ? 4 : 3], in));
      mdrl::fuzz::expect_clean([&] { read_trajectories(dir.string()); }, dir.string(), true);
    }
  }
  return 0;
}
