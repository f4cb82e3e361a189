// Boost.Test entry point for tests that are not MPI processes (they start `mdrl` or `mpirun` as
// child processes, which must not inherit a singleton MPI environment).
#define BOOST_TEST_MODULE mdrl
#include <boost/test/unit_test.hpp>
