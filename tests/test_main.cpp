// Shared Boost.Test entry point. MPI is initialised once per test process (MPI_Init_thread with
// MPI_ERRORS_RETURN, through dist::MpiEnv when the test links dist, or directly otherwise), because
// several modules' checks and the logger's rank come from it.
#define BOOST_TEST_MODULE mdrl
#include <boost/test/unit_test.hpp>

#include "test_support.hpp"

using MpiFixture = mdrl::test::MpiFixture;
BOOST_TEST_GLOBAL_FIXTURE(MpiFixture);
