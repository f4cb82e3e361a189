// mdrl: one SPMD executable. `main` owns the MPI environment and is the only place that catches
// mdrl's errors: it prints them with the rank and ends every rank, so no rank hangs.
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "apps/dispatch.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "dist/mpi_env.hpp"

int main(int argc, char** argv) {
  using namespace mdrl;
  std::optional<dist::MpiEnv> env;
  int code = 1;
  try {
    env.emplace(&argc, &argv);
    std::vector<std::string> args(argv + 1, argv + argc);
    return apps::dispatch(*env, args);
  } catch (const apps::CollectiveExit& e) {
    // Every rank knows the outcome (reported once already): a clean exit, no MPI_Abort.
    return e.code;
  } catch (const core::Error& e) {
    core::log::error() << e.kind() << ": " << e.what();
    code = e.exit_code();
  } catch (const std::exception& e) {
    core::log::error() << "unexpected error: " << e.what();
    code = 1;
  }
  // One rank failed on its own: end all of them now instead of leaving the others in a collective.
  if (env && env->size() > 1) dist::MpiEnv::abort(code);
  return code;
}
