// Typed errors and the check macros for MPI, HDF5, CUDA and NCCL: real failing calls, messages that
// name the call, the rank and the source location.
#include <boost/test/unit_test.hpp>

#include "core/check_cuda.hpp"
#include "core/check_hdf5.hpp"
#include "core/check_mpi.hpp"
#include "core/error.hpp"

using namespace mdrl;

namespace {
template <class E, class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  BOOST_FAIL("expected exception was not thrown");
  return {};
}
bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
}  // namespace

BOOST_AUTO_TEST_SUITE(errors)

BOOST_AUTO_TEST_CASE(kinds_and_exit_codes) {
  BOOST_TEST(core::ConfigError("x").exit_code() == 2);
  BOOST_TEST(core::UsageError("x").exit_code() == 2);
  BOOST_TEST(core::IoError("x").exit_code() == 1);
  BOOST_TEST(std::string(core::ConfigError("x").kind()) == "configuration error");
  const core::Error& base = core::Hdf5Error("boom");
  BOOST_TEST(std::string(base.kind()) == "HDF5 error");
  BOOST_TEST(std::string(base.what()) == "boom");
}

BOOST_AUTO_TEST_CASE(check_and_assert) {
  BOOST_CHECK_NO_THROW(MDRL_CHECK(1 + 1 == 2, core::ConfigError, "unused"));
  const auto m = message_of<core::ConfigError>([] { MDRL_CHECK(false, core::ConfigError, "opt.x must be > 0"); });
  BOOST_TEST(m == "opt.x must be > 0");
  const int k = 3;
  const auto a = message_of<core::InternalError>([&] { MDRL_ASSERT(k == 4); });
  BOOST_TEST(contains(a, "k == 4"));
  BOOST_TEST(contains(a, "test_errors.cpp:"));
}

BOOST_AUTO_TEST_CASE(mpi_failure_names_call_rank_and_location) {
  int size = 0;
  MDRL_CHECK_MPI(MPI_Comm_size(MPI_COMM_WORLD, &size));
  int value = 0;
  // A root outside the communicator is an argument error in every MPI implementation.
  const auto m = message_of<core::MpiError>([&] { MDRL_CHECK_MPI(MPI_Bcast(&value, 1, MPI_INT, size + 7, MPI_COMM_WORLD)); });
  BOOST_TEST(contains(m, "MPI_Bcast(&value, 1, MPI_INT, size + 7, MPI_COMM_WORLD) failed on rank 0"));
  BOOST_TEST(contains(m, "MPI_ERR_ROOT"));
  BOOST_TEST(contains(m, "test_errors.cpp:"));
}

BOOST_AUTO_TEST_CASE(hdf5_failure_carries_context_and_stack) {
  core::silence_hdf5_error_printing();
  const hid_t plist = MDRL_CHECK_H5(H5Pcreate(H5P_FILE_ACCESS), "creating a property list");
  BOOST_TEST(plist >= 0);
  H5Pclose(plist);
  const auto m = message_of<core::Hdf5Error>([] {
    MDRL_CHECK_H5(H5Fopen("/nonexistent-dir/ckpt.h5", H5F_ACC_RDONLY, H5P_DEFAULT), "opening checkpoint /nonexistent-dir/ckpt.h5");
  });
  BOOST_TEST(contains(m, "opening checkpoint /nonexistent-dir/ckpt.h5: H5Fopen("));
  BOOST_TEST(contains(m, "\n  hdf5: "));  // at least one entry of HDF5's own error stack
  BOOST_TEST(contains(m, "test_errors.cpp:"));
}

#if MDRL_HAVE_CUDA
BOOST_AUTO_TEST_CASE(cuda_and_nccl_failures) {
  // cudaSetDevice(-1) fails with or without a GPU (invalid device, or no driver/device).
  const auto c = message_of<core::CudaError>([] { MDRL_CHECK_CUDA(cudaSetDevice(-1)); });
  BOOST_TEST(contains(c, "cudaSetDevice(-1) failed on rank 0: cudaError"));
  int count = 0;
  // A null communicator is rejected by NCCL's argument checks before any device work.
  const auto n = message_of<core::NcclError>([&] { MDRL_CHECK_NCCL(ncclCommCount(nullptr, &count)); });
  BOOST_TEST(contains(n, "ncclCommCount(nullptr, &count) failed on rank 0: invalid argument"));
}
#endif

BOOST_AUTO_TEST_SUITE_END()

