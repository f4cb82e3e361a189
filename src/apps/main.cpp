// mdrl: one SPMD executable. `main` owns the MPI environment and is the only place that catches
// mdrl's errors: it prints them with the rank and ends every rank, so no rank hangs.
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "apps/dispatch.hpp"
#include "core/check_hdf5.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "dist/mpi_env.hpp"

int main(int argc, char** argv) {
  using namespace mdrl;
  std::optional<dist::MpiEnv> env;
  int code = 1;
  std::string message;
  try {
    env.emplace(&argc, &argv);
    std::vector<std::string> args(argv + 1, argv + argc);
    return apps::dispatch(*env, args);
  } catch (const apps::CollectiveExit& e) {
    // Every rank knows the outcome (reported once already): a clean exit, no MPI_Abort.
    return e.code;
  } catch (const core::Error& e) {
    message = std::string(e.kind()) + ": " + e.what();
    code = e.exit_code();
  } catch (const std::exception& e) {
    message = std::string("unexpected error: ") + e.what();
    code = 1;
  }
  // The same error on every rank (bad data all ranks read) is printed once and ends the job
  // cleanly; an error on some ranks only ends all of them at once (MPI_Abort), so none hangs in a
  // collective.
  if (env) {
    const int rc = env->report_failure(message, code);
    // Every rank failed (else report_failure aborted): an HDF5 file still open here would be
    // closed collectively inside MPI_Finalize by ranks that stopped at different places, which
    // never ends; end the job at once instead.
    if (env->size() > 1 && core::open_hdf5_files() > 0) dist::MpiEnv::abort(rc);
    return rc;
  }
  core::log::error() << message;
  return code;
}
