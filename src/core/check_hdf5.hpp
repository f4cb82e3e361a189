// MDRL_CHECK_H5(expr, context): HDF5 C calls return a negative value on failure. The macro returns
// the call's value on success and otherwise throws Hdf5Error with the context (say which file and
// object), the call, and the innermost messages of HDF5's error stack.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <string>

#include "core/error.hpp"

namespace mdrl::core::detail {
[[noreturn]] void throw_hdf5_error(const std::string& context, const char* expr, const char* file, int line);

template <class T>
T check_h5(T value, const std::string& context, const char* expr, const char* file, int line) {
  if (value < 0) throw_hdf5_error(context, expr, file, line);
  return value;
}
}  // namespace mdrl::core::detail

namespace mdrl::core {
// Turns off HDF5's automatic printing of error stacks (mdrl reports them in exceptions instead).
void silence_hdf5_error_printing();
// HDF5 files this process still has open. After an error, a parallel one (left open while
// unwinding: its close is collective) would be closed inside MPI_Finalize, where ranks that
// stopped at different places wait for each other forever; main ends the job instead.
int64_t open_hdf5_files();
}

#define MDRL_CHECK_H5(expr, context) ::mdrl::core::detail::check_h5((expr), (context), #expr, __FILE__, __LINE__)
