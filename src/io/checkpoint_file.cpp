// One checkpoint file (layout in src/io/README.md): writing it collectively with each tensor
// written by one rank, and reading it back after the compatibility checks of a resume.
#include <ATen/ATen.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.hpp"
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

dist::NamedTensors read_tensors(const h5::File& file, const std::string& group) {
  const h5::Group g = file.open_group(group);
  dist::NamedTensors out;
  for (const auto& name : g.attr_strings("names")) out.emplace_back(name, read_tensor(g.open_dataset(name)));
  return out;
}

}  // namespace

const char* trainable_name(Trainable t) { return t == Trainable::Lora ? "lora" : "full"; }

ModelSignature signature_of(const dist::NamedTensors& tensors) {
  ModelSignature sig;
  for (const auto& [name, t] : tensors) sig.push_back({name, dtype_name(t.scalar_type()), t.sizes().vec()});
  return sig;
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

void write_checkpoint_file(const std::string& path, MPI_Comm comm, const CheckpointState& s) {
  // Shapes and attribute values must agree, or the collective creates would corrupt the file.
  dist::verify_same_text(comm, shared_text(s), "checkpoint contents (tensor names and shapes, scalars, stream names)");
  h5::File file = h5::File::create(path, comm);
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
    const auto owner = assign_writers(tensors, world);
    for (size_t i = 0; i < tensors.size(); ++i)
      if (owner[i] == rank) write_tensor(ds[i], *tensors[i], h5::Transfer::Independent);

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
  file.close();
}

CheckpointState read_checkpoint_file(const std::string& path, MPI_Comm comm, const ResumeRequirements& req) {
  h5::File file = h5::File::open(path, comm, h5::Access::ReadOnly);
  check_format(file, kCheckpointFormat, kCheckpointFormatVersion);
  const std::string advice = "; resume with the settings it was written with (its configuration is the root attribute "
                             "config_ini: h5dump -a config_ini " + path + "), or start a new run directory";
  const int64_t world = file.attr_int("world_size");
  MDRL_CHECK(world == file.size(), core::FormatError,
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
  s.params = read_tensors(file, "model/params");
  s.optimizer_tensors = read_tensors(file, "optimizer/tensors");
  const h5::Group ranks = file.open_group("ranks");
  const auto rng_names = ranks.attr_strings("rng_names");
  if (!rng_names.empty()) {
    const auto v = ranks.open_dataset("rng_state").read_rows_vector<uint64_t>(file.rank(), 1);
    MDRL_CHECK(v.size() == 4 * rng_names.size(), core::FormatError, path + ":/ranks/rng_state has the wrong shape");
    for (size_t i = 0; i < rng_names.size(); ++i)
      s.rng.emplace_back(rng_names[i], core::RngStream::State{v[4 * i], v[4 * i + 1], v[4 * i + 2],
                                                              static_cast<uint32_t>(v[4 * i + 3])});
  }
  const auto sampler_names = ranks.attr_strings("sampler_names");
  if (!sampler_names.empty()) {
    const auto v = ranks.open_dataset("sampler_state").read_rows_vector<int64_t>(file.rank(), 1);
    MDRL_CHECK(v.size() == 2 * sampler_names.size(), core::FormatError,
               path + ":/ranks/sampler_state has the wrong shape");
    for (size_t i = 0; i < sampler_names.size(); ++i)
      s.samplers.emplace_back(sampler_names[i], dist::ShardedSampler::State{v[2 * i], v[2 * i + 1]});
  }
  return s;
}

}  // namespace mdrl::io
