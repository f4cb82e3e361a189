// One checkpoint file (layout in src/io/README.md): writing it collectively with each tensor
// written by one rank, with its XXH64 checksum as an attribute, and reading it back after the
// compatibility checks of a resume, verifying every tensor against its checksum.
#include <ATen/ATen.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/check_mpi.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "io/checkpoint.hpp"
#include "io/file_util.hpp"
#include "io/hdf5.hpp"
#include "io/tensor_h5.hpp"

namespace mdrl::io {

namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string signature_json(const ModelSignature& sig) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& t : sig) j.push_back({t.name, t.dtype, t.shape});
  return j.dump();
}

ModelSignature parse_signature(const std::string& text, const std::string& where) {
  ModelSignature sig;
  try {
    for (const auto& e : nlohmann::json::parse(text))
      sig.push_back({e.at(0).get<std::string>(), e.at(1).get<std::string>(), e.at(2).get<std::vector<int64_t>>()});
  } catch (const nlohmann::json::exception& e) {
    throw core::FormatError(where + " is not a model signature (" + e.what() + ")");
  }
  return sig;
}

// Each tensor goes to the rank with the fewest bytes so far, largest tensors first (the same
// answer on every rank).
std::vector<int> assign_writers(const std::vector<const at::Tensor*>& tensors, int world) {
  std::vector<size_t> order(tensors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return tensors[a]->nbytes() > tensors[b]->nbytes(); });
  std::vector<int64_t> load(static_cast<size_t>(world), 0);
  std::vector<int> owner(tensors.size(), 0);
  for (size_t i : order) {
    const auto r = static_cast<size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    owner[i] = static_cast<int>(r);
    load[r] += static_cast<int64_t>(tensors[i]->nbytes());
  }
  return owner;
}

// Text of everything that must be identical on every rank (dataset shapes, attribute values).
std::string shared_text(const CheckpointState& s) {
  std::ostringstream o;
  o.precision(17);
  o << "step " << s.step << "\ntrainable " << trainable_name(s.trainable) << "\nbase " << s.base_checkpoint << " "
    << s.base_checksum << "\nparams " << signature_json(signature_of(s.params)) << "\noptimizer "
    << signature_json(signature_of(s.optimizer_tensors)) << "\nmodel " << signature_json(s.model_signature) << "\n";
  for (const auto& [k, v] : s.counters) o << "counter " << k << " " << v << "\n";
  for (const auto& [k, v] : s.optimizer_scalars) o << "optimizer " << k << " " << v << "\n";
  for (const auto& [k, v] : s.schedule_scalars) o << "schedule " << k << " " << v << "\n";
  for (const auto& [k, v] : s.rng) o << "rng " << k << "\n";
  for (const auto& [k, v] : s.samplers) o << "sampler " << k << "\n";
  return o.str();
}

template <class Map>
void write_scalars(const h5::Group& g, const Map& values) {
  for (const auto& [k, v] : values) g.set_attr(k, v);
}

// XXH64 (github.com/Cyan4973/xxHash, XXH64 in xxhash.h): 4 lanes over 32-byte stripes, then the tail.
constexpr uint64_t kP1 = 0x9E3779B185EBCA87ull, kP2 = 0xC2B2AE3D27D4EB4Full, kP3 = 0x165667B19E3779F9ull,
                   kP4 = 0x85EBCA77C2B2AE63ull, kP5 = 0x27D4EB2F165667C5ull;
inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
inline uint64_t read64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;  // the files and the machines are little-endian
}
inline uint64_t read32(const unsigned char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline uint64_t xxh_round(uint64_t acc, uint64_t input) { return rotl(acc + input * kP2, 31) * kP1; }
inline uint64_t xxh_merge(uint64_t acc, uint64_t v) { return (acc ^ xxh_round(0, v)) * kP1 + kP4; }

// The checksum of a tensor's bytes as stored (a contiguous CPU tensor; bf16/f16 as their words).
uint64_t bytes_checksum(const at::Tensor& contiguous_cpu) {
  return xxh64(contiguous_cpu.numel() > 0 ? contiguous_cpu.data_ptr() : nullptr, contiguous_cpu.nbytes());
}

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

void create_tensors(const h5::File& file, const std::string& group, const dist::NamedTensors& tensors,
                    std::vector<h5::Dataset>& out) {
  const h5::Group g = file.create_group(group);
  std::vector<std::string> names;
  for (const auto& [name, t] : tensors) {
    names.push_back(name);
    out.push_back(create_tensor_dataset(g, name, t.scalar_type(), t.sizes().vec()));
  }
  g.set_attr("names", names);
}

// A tensor that failed its check, and how.
struct Damage {
  std::string tensor;  // "model/params/<name>"
  std::string what;
};

// Reads a group's tensors and checks each against its checksum attribute (files of version 2 on
// carry one on every tensor); the first failure goes to `damage`, and reading goes on so every
// rank does the same HDF5 calls.
dist::NamedTensors read_tensors(const h5::File& file, const std::string& group, int64_t version,
                                std::optional<Damage>& damage) {
  const h5::Group g = file.open_group(group);
  dist::NamedTensors out;
  for (const auto& name : g.attr_strings("names")) {
    const h5::Dataset ds = g.open_dataset(name);
    at::Tensor t = read_tensor(ds);
    if (ds.has_attr(kChecksumAttr)) {
      const uint64_t stored = ds.attr_uint(kChecksumAttr), actual = bytes_checksum(storage_view(t));
      if (stored != actual && !damage)
        damage =
            Damage{group + "/" + name, "its data has checksum " + hex(actual) + " but was written with " + hex(stored)};
    } else if (version >= 2 && !damage) {
      damage = Damage{group + "/" + name, "it has no '" + std::string(kChecksumAttr) + "' checksum attribute"};
    }
    out.emplace_back(name, std::move(t));
  }
  return out;
}

}  // namespace

const char* trainable_name(Trainable t) { return t == Trainable::Lora ? "lora" : "full"; }

ModelSignature signature_of(const dist::NamedTensors& tensors) {
  ModelSignature sig;
  for (const auto& [name, t] : tensors) sig.push_back({name, dtype_name(t.scalar_type()), t.sizes().vec()});
  return sig;
}

uint64_t xxh64(const void* data, size_t size, uint64_t seed) {
  const auto* p = static_cast<const unsigned char*>(data);
  const unsigned char* const end = p + size;
  uint64_t h;
  if (size >= 32) {
    uint64_t v1 = seed + kP1 + kP2, v2 = seed + kP2, v3 = seed, v4 = seed - kP1;
    for (const unsigned char* limit = end - 32; p <= limit; p += 32) {
      v1 = xxh_round(v1, read64(p));
      v2 = xxh_round(v2, read64(p + 8));
      v3 = xxh_round(v3, read64(p + 16));
      v4 = xxh_round(v4, read64(p + 24));
    }
    h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
    h = xxh_merge(xxh_merge(xxh_merge(xxh_merge(h, v1), v2), v3), v4);
  } else {
    h = seed + kP5;
  }
  h += static_cast<uint64_t>(size);
  // Remaining counts, not p + 8 <= end: that forms pointers past the buffer, and null + 8 for
  // an empty tensor (data == nullptr, size 0) is undefined behaviour (found by fuzz_h5_open).
  for (; end - p >= 8; p += 8) h = rotl(h ^ xxh_round(0, read64(p)), 27) * kP1 + kP4;
  if (end - p >= 4) {
    h = rotl(h ^ (read32(p) * kP1), 23) * kP2 + kP3;
    p += 4;
  }
  for (; p < end; ++p) h = rotl(h ^ (*p * kP5), 11) * kP1;
  h ^= h >> 33;
  h *= kP2;
  h ^= h >> 29;
  h *= kP3;
  h ^= h >> 32;
  return h;
}

uint64_t weights_checksum(const dist::NamedTensors& tensors) {
  // FNV-1a over the signature text, then mixed with every tensor's exact checksum.
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      h ^= (v >> (8 * i)) & 0xffu;
      h *= 1099511628211ull;
    }
  };
  for (char c : signature_json(signature_of(tensors))) mix(static_cast<unsigned char>(c));
  for (const auto& [name, t] : tensors) mix(dist::tensor_checksum(t));
  return h;
}

namespace {

// Where ranks may fail apart (creating the file, each rank writing its own tensors, closing): the
// first failing rank's error becomes a CheckpointWriteError on every rank at this point, so no rank
// waits in a collective the others have left. `before_throw` runs on every rank first.
void agree_on_write(MPI_Comm comm, const std::string& failed, const std::function<void()>& before_throw = {}) {
  int rank = 0;
  MDRL_CHECK_MPI(MPI_Comm_rank(comm, &rank));
  int root = failed.empty() ? INT32_MAX : rank;
  MDRL_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &root, 1, MPI_INT, MPI_MIN, comm));
  if (root == INT32_MAX) return;
  const std::string what = bcast_string(comm, failed, root);
  if (before_throw) before_throw();
  throw CheckpointWriteError(what);
}

}  // namespace

void write_checkpoint_file(const std::string& path, MPI_Comm comm, const CheckpointState& s) {
  // Shapes and attribute values must agree, or the collective creates would corrupt the file.
  dist::verify_same_text(comm, shared_text(s), "checkpoint contents (tensor names and shapes, scalars, stream names)");
  std::optional<h5::File> created;
  std::string failed;
  try {
    created.emplace(h5::File::create(path, comm));
  } catch (const core::Error& e) {
    failed = e.what();
  }
  // (Should the file have opened on some ranks only, they leave it open: closing is collective.)
  agree_on_write(comm, failed);
  h5::File& file = *created;
  const int world = file.size(), rank = file.rank();
  {
    write_provenance(file, kCheckpointFormat, kCheckpointFormatVersion, s.config_ini);
    file.set_attr("step", s.step);
    file.set_attr("trainable", trainable_name(s.trainable));
    file.set_attr("base_checkpoint", s.base_checkpoint);
    file.set_attr("base_checksum", s.base_checksum);
    file.create_group("model").set_attr("signature", signature_json(s.model_signature));
    write_scalars(file.create_group("counters"), s.counters);
    write_scalars(file.create_group("optimizer/scalars"), s.optimizer_scalars);
    write_scalars(file.create_group("schedule"), s.schedule_scalars);

    std::vector<h5::Dataset> ds;
    std::vector<const at::Tensor*> tensors;
    create_tensors(file, "model/params", s.params, ds);
    create_tensors(file, "optimizer/tensors", s.optimizer_tensors, ds);
    for (const auto* list : {&s.params, &s.optimizer_tensors})
      for (const auto& [name, t] : *list) tensors.push_back(&t);
    // The writer of each tensor checksums the bytes it writes; the attributes are collective, so
    // the sums are shared first (the other ranks contribute 0 to the bitwise or).
    const auto owner = assign_writers(tensors, world);
    std::vector<uint64_t> sums(tensors.size(), 0);
    for (size_t i = 0; i < tensors.size() && failed.empty(); ++i) {
      if (owner[i] != rank) continue;
      const at::Tensor c = tensors[i]->detach().to(at::kCPU).contiguous();  // one copy for both
      sums[i] = bytes_checksum(storage_view(c));
      try {
        write_tensor(ds[i], c, h5::Transfer::Independent);
      } catch (const core::Error& e) {  // disk full, quota, I/O error: this rank stops writing
        failed = e.what();
      }
    }
    // Every rank stops here with the same error. The partial file is left open, not closed: after
    // a failed write HDF5's collective close can take different paths on different ranks and wait
    // forever, so the job ends without it (main aborts when files are left open) and the
    // temporary is deleted by CheckpointManager::save.
    agree_on_write(comm, failed, [&] { ds.clear(); });
    if (!sums.empty())
      MDRL_CHECK_MPI(
          MPI_Allreduce(MPI_IN_PLACE, sums.data(), static_cast<int>(sums.size()), MPI_UINT64_T, MPI_BOR, comm));
    for (size_t i = 0; i < tensors.size(); ++i) ds[i].set_attr(kChecksumAttr, sums[i]);

    // Per-rank rows: [W, streams, 4] (seed, stream, counter, used) and [W, samplers, 2] (epoch, cursor).
    const h5::Group ranks = file.create_group("ranks");
    std::vector<std::string> names;
    std::vector<uint64_t> rng;
    for (const auto& [name, st] : s.rng) {
      names.push_back(name);
      rng.insert(rng.end(), {st.seed, st.stream, st.counter, uint64_t{st.used}});
    }
    ranks.set_attr("rng_names", names);
    if (!s.rng.empty()) {
      auto d = ranks.create_dataset("rng_state", h5::Type::U64, {world, static_cast<int64_t>(s.rng.size()), 4});
      d.write_rows(rank, 1, h5::Type::U64, rng.data(), h5::Transfer::Collective);
    }
    names.clear();
    std::vector<int64_t> cursors;
    for (const auto& [name, st] : s.samplers) {
      names.push_back(name);
      cursors.insert(cursors.end(), {st.epoch, st.cursor});
    }
    ranks.set_attr("sampler_names", names);
    if (!s.samplers.empty()) {
      auto d = ranks.create_dataset("sampler_state", h5::Type::I64, {world, static_cast<int64_t>(s.samplers.size()), 2});
      d.write_rows(rank, 1, h5::Type::I64, cursors.data(), h5::Transfer::Collective);
    }
  }
  try {
    file.close();  // flushes the metadata: the last write that can find the disk full
  } catch (const core::Error& e) {
    failed = e.what();
  }
  agree_on_write(comm, failed);
}

CheckpointState read_checkpoint_file(const std::string& path, MPI_Comm comm, const ResumeRequirements& req) {
  h5::File file = h5::File::open(path, comm, h5::Access::ReadOnly);
  const int64_t version = check_format(file, kCheckpointFormat, kCheckpointFormatVersion);
  const std::string advice = "; resume with the settings it was written with (its configuration is the root attribute "
                             "config_ini: h5dump -a config_ini " + path + "), or start a new run directory";
  const int64_t world = file.attr_int("world_size");
  MDRL_CHECK(world == file.size() || (req.other_world_size && world >= 1), core::FormatError,
             "checkpoint " + path + " was written by " + std::to_string(world) + " ranks, this run has " +
                 std::to_string(file.size()) + ": per-rank random streams and data cursors cannot be mapped" + advice);
  const std::string trainable = file.attr_string("trainable");
  MDRL_CHECK(trainable == trainable_name(req.trainable), core::FormatError,
             "checkpoint " + path + " holds " + trainable + " training state, this run trains " +
                 trainable_name(req.trainable) + advice);
  const auto sig = parse_signature(file.open_group("model").attr_string("signature"), path + ":/model signature");
  for (size_t i = 0; i < std::max(sig.size(), req.model_signature.size()); ++i) {
    if (i < sig.size() && i < req.model_signature.size() && sig[i] == req.model_signature[i]) continue;
    auto describe = [](const ModelSignature& v, size_t j) {
      return j < v.size() ? "'" + v[j].name + "' " + v[j].dtype + " " + shape_text(v[j].shape) : std::string("nothing");
    };
    throw core::FormatError("checkpoint " + path + " does not fit this run's model: parameter " + std::to_string(i) +
                            " is " + describe(sig, i) + " in the checkpoint and " +
                            describe(req.model_signature, i) + " in this run" + advice);
  }
  CheckpointState s;
  s.base_checksum = file.attr_uint("base_checksum");
  s.base_checkpoint = file.attr_string("base_checkpoint");
  MDRL_CHECK(req.trainable != Trainable::Lora || !req.base_checksum || *req.base_checksum == s.base_checksum,
             core::FormatError,
             "checkpoint " + path + " holds LoRA weights trained on other base weights (" + s.base_checkpoint +
                 ", checksum " + std::to_string(s.base_checksum) + "; the loaded base has checksum " +
                 std::to_string(req.base_checksum.value_or(0)) + "); load the same base checkpoint" + advice);
  s.step = file.attr_int("step");
  s.trainable = req.trainable;
  s.model_signature = sig;
  s.config_ini = file.attr_string("config_ini");
  for (const auto& k : file.open_group("counters").attr_names()) s.counters[k] = file.open_group("counters").attr_int(k);
  const h5::Group opt = file.open_group("optimizer/scalars"), sched = file.open_group("schedule");
  for (const auto& k : opt.attr_names()) s.optimizer_scalars[k] = opt.attr_double(k);
  for (const auto& k : sched.attr_names()) s.schedule_scalars[k] = sched.attr_double(k);
  std::optional<Damage> damage;
  s.params = read_tensors(file, "model/params", version, damage);
  s.optimizer_tensors = read_tensors(file, "optimizer/tensors", version, damage);
  if (version < 2)
    core::log::debug() << "checkpoint " << path << " has format version " << version
                       << " (written before tensor checksums): its tensors are not verified";
  s.world_size = world;
  const h5::Group ranks = file.open_group("ranks");
  const auto rng_names = ranks.attr_strings("rng_names");
  if (world == file.size()) {
    if (!rng_names.empty()) {
      const auto v = ranks.open_dataset("rng_state").read_rows_vector<uint64_t>(file.rank(), 1);
      MDRL_CHECK(v.size() == 4 * rng_names.size(), core::FormatError, path + ":/ranks/rng_state has the wrong shape");
      for (size_t i = 0; i < rng_names.size(); ++i)
        s.rng.emplace_back(rng_names[i], core::RngStream::State{v[4 * i], v[4 * i + 1], v[4 * i + 2],
                                                                static_cast<uint32_t>(v[4 * i + 3])});
    }
  } else if (!rng_names.empty()) {
    // Another world size (req.other_world_size): every saved rank's rows, mapped as the header says.
    const size_t n = rng_names.size();
    const auto v = ranks.open_dataset("rng_state").read_rows_vector<uint64_t>(0, world);
    MDRL_CHECK(v.size() == 4 * n * static_cast<size_t>(world), core::FormatError,
               path + ":/ranks/rng_state has the wrong shape");
    const auto at = [&](int64_t r, size_t i, size_t k) { return v[(static_cast<size_t>(r) * n + i) * 4 + k]; };
    for (size_t i = 0; i < n; ++i) {
      if (file.rank() < world) {
        s.rng.emplace_back(rng_names[i], core::RngStream::State{at(file.rank(), i, 0), at(file.rank(), i, 1),
                                                                at(file.rank(), i, 2),
                                                                static_cast<uint32_t>(at(file.rank(), i, 3))});
        continue;
      }
      // A rank the writing run did not have: its own stream (the purpose of rank 0's, this rank),
      // from the block after the furthest any saved rank had used.
      uint64_t furthest = 0;
      for (int64_t r = 0; r < world; ++r) furthest = std::max(furthest, at(r, i, 2));
      const uint64_t purpose_bits = at(0, i, 1) & ~uint64_t{0xffffffff};
      s.rng.emplace_back(rng_names[i], core::RngStream::State{at(0, i, 0),
                                                              purpose_bits | static_cast<uint32_t>(file.rank()),
                                                              furthest + 1, 4});
    }
  }
  const auto sampler_names = ranks.attr_strings("sampler_names");
  if (!sampler_names.empty()) {
    const size_t n = sampler_names.size();
    const int64_t first = world == file.size() ? file.rank() : 0, rows = world == file.size() ? 1 : world;
    const auto v = ranks.open_dataset("sampler_state").read_rows_vector<int64_t>(first, rows);
    MDRL_CHECK(v.size() == 2 * n * static_cast<size_t>(rows), core::FormatError,
               path + ":/ranks/sampler_state has the wrong shape");
    for (size_t i = 0; i < n; ++i) {
      // On another world size only global cursors (the same on every saved rank) carry over.
      for (int64_t r = 1; r < rows; ++r)
        MDRL_CHECK(v[(static_cast<size_t>(r) * n + i) * 2] == v[i * 2] &&
                       v[(static_cast<size_t>(r) * n + i) * 2 + 1] == v[i * 2 + 1],
                   core::FormatError,
                   "checkpoint " + path + " was written by " + std::to_string(world) + " ranks whose data cursors '" +
                       sampler_names[i] + "' differ, so it cannot continue on " + std::to_string(file.size()) +
                       " ranks; resume it on " + std::to_string(world) + " ranks, or start a new run directory");
      s.samplers.emplace_back(sampler_names[i], dist::ShardedSampler::State{v[2 * i], v[2 * i + 1]});
    }
  }
  // Every rank read the same bytes; agree anyway (the lowest rank that saw damage reports it), so
  // that all ranks throw or none does.
  int root = damage ? file.rank() : INT32_MAX;
  MDRL_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &root, 1, MPI_INT, MPI_MIN, comm));
  if (root != INT32_MAX) {
    const std::string tensor = bcast_string(comm, damage ? damage->tensor : std::string(), root);
    const std::string what = bcast_string(comm, damage ? damage->what : std::string(), root);
    const std::string reason = "tensor '" + tensor + "' fails its checksum (" + what + ")";
    throw CheckpointDamagedError(
        "checkpoint " + path + " is damaged: " + reason +
            ", so the file changed after it was written (disk, file system or copy error). Delete it (or move it "
            "away) to resume from the previous checkpoint, or set checkpoint.fallback = true to have the run do "
            "that (it keeps the file as " + path + ".corrupt)",
        reason);
  }
  s.loaded_from = path;
  return s;
}

}  // namespace mdrl::io
