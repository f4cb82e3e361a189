#include "apps/dispatch.hpp"

#include <cctype>
#include <iostream>

#include "apps/mode_setup.hpp"
#include "config/run_config.hpp"
#include "core/build_info.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/text.hpp"
#include "dist/dist_config.hpp"
#include "dist/mpi_env.hpp"

namespace mdrl::apps {
namespace {

std::string top_usage() {
  std::string s = core::version_line() +
                  " - masked diffusion language models: SFT, GRPO-family RL, EOSER/ASS decoding\n\n"
                  "usage: mdrl <mode> [-c file.ini ...] [--section.key=value ...]\n"
                  "       mdrl <mode> --help      options of a mode, with defaults\n"
                  "       mdrl --version\n\nmodes:\n";
  for (const auto& m : modes()) {
    std::string name = m.name;
    s += "  " + name + std::string(16 - name.size(), ' ') + m.summary;
    if (m.issue != nullptr) s += std::string(" (not in this build yet: ") + m.issue + ")";
    s += "\n";
  }
  return s + "\nRun as one SPMD job: mpirun -np N mdrl <mode> ..., or srun under Slurm.\n";
}

// A mode that is registered (its options parse and validate) but not built yet.
int run_pending(const dist::MpiEnv& env, const ModeInfo& mode, const std::vector<std::string>& args) {
  config::RunConfig run;
  config::LogConfig log;
  dist::DistConfig dist;
  config::Options opts(mode.name);
  run.add_options(opts);
  log.add_options(opts);
  dist.add_options(opts);
  std::string summary = mode.summary;
  summary[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(summary[0])));
  setup_mode(env, opts, args, std::string("usage: mdrl ") + mode.name + " [-c file.ini ...] [--section.key=value ...]\n\n" +
                                  summary + ". Not in this build yet: only the shared sections exist.",
             log);
  throw core::NotImplementedError(std::string("mode '") + mode.name + "' is not in this build yet (" + mode.issue +
                                  "); its configuration was read and is valid");
}

}  // namespace

int dispatch(const dist::MpiEnv& env, const std::vector<std::string>& args) {
  // argv is identical on every rank, so every rank takes the same branch here.
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    if (env.rank() == 0) std::cout << top_usage() << std::flush;
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    if (env.rank() == 0) std::cout << core::version_line() << "\n";
    return 0;
  }
  const std::string& name = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  for (const auto& m : modes()) {
    if (name != m.name) continue;
    if (m.run != nullptr) return m.run(env, name, rest);
    try {
      return run_pending(env, m, rest);
    } catch (const core::NotImplementedError& e) {
      if (env.rank() == 0) core::log::error() << e.kind() << ": " << e.what();
      throw CollectiveExit{e.exit_code()};
    }
  }
  std::vector<std::string> names;
  for (const auto& m : modes()) names.push_back(m.name);
  std::string msg = "unknown mode '" + name + "'";
  const auto close = core::closest_matches(name, names);
  if (!close.empty()) msg += "; did you mean " + core::join(close, " or ") + "?";
  msg += " Valid modes: " + core::join(names, ", ") + " (see 'mdrl --help')";
  if (env.rank() == 0) core::log::error() << core::UsageError(msg).kind() << ": " << msg;
  throw CollectiveExit{2};
}

}  // namespace mdrl::apps
