// Device and thread placement of one rank (the two-rank case is in tests/mpi/test_mpi_env.cpp).
#include <ATen/Parallel.h>
#include <torch/cuda.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>

#include "core/error.hpp"
#include "dist/device.hpp"
#include "dist/mpi_env.hpp"

using namespace mdrl;

BOOST_AUTO_TEST_SUITE(device)

BOOST_AUTO_TEST_CASE(thread_arithmetic) {
  BOOST_TEST(dist::auto_thread_count(16, 4) == 4);
  BOOST_TEST(dist::auto_thread_count(2, 2) == 1);
  BOOST_TEST(dist::auto_thread_count(2, 8) == 1);  // never zero
  BOOST_TEST(dist::auto_thread_count(8, 1) == 8);  // bound rank keeps its own cores
  BOOST_TEST(dist::format_cpu_list({0, 1, 2, 3, 8, 10, 11}) == "0-3,8,10-11");
  BOOST_TEST(dist::format_cpu_list({}) == "");
}

BOOST_AUTO_TEST_CASE(single_rank_placement) {
  unsetenv("OMP_NUM_THREADS");
  dist::MpiEnv env(nullptr, nullptr);
  dist::DistConfig cfg;
  cfg.device = dist::DeviceKind::Cpu;
  const auto p = dist::place_rank(env, cfg);
  BOOST_TEST(p.device == "cpu");
  BOOST_TEST(p.sharing_ranks == 1);
  BOOST_TEST(p.affinity_cpus >= 1);
  BOOST_TEST(p.threads == p.affinity_cpus);
  BOOST_TEST(at::get_num_threads() == p.threads);

  cfg.threads = 3;
  BOOST_TEST(dist::place_rank(env, cfg).threads == 3);
  BOOST_TEST(at::get_num_threads() == 3);

  cfg.threads = 0;
  setenv("OMP_NUM_THREADS", "2", 1);
  const auto q = dist::place_rank(env, cfg);
  unsetenv("OMP_NUM_THREADS");
  BOOST_TEST(q.threads == 2);
  BOOST_TEST(q.threads_reason == "OMP_NUM_THREADS");
}

BOOST_AUTO_TEST_CASE(cuda_requested_without_gpu_is_a_config_error) {
  if (torch::cuda::is_available()) return;  // the GPU case is covered by the gpu-labelled checks
  dist::MpiEnv env(nullptr, nullptr);
  dist::DistConfig cfg;
  cfg.device = dist::DeviceKind::Cuda;
  try {
    dist::place_rank(env, cfg);
    BOOST_FAIL("no error");
  } catch (const core::ConfigError& e) {
    BOOST_TEST(std::string(e.what()).find("dist.device = cuda, but no CUDA device is visible") != std::string::npos);
  }
  cfg.device = dist::DeviceKind::Auto;
  BOOST_TEST(dist::place_rank(env, cfg).device == "cpu");
}

BOOST_AUTO_TEST_SUITE_END()
