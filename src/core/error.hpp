// Typed errors of mdrl (DESIGN.md "Conventions: Errors"). Library code throws these; only `main`
// catches them, prints them with the rank and exits (or calls MPI_Abort) with exit_code().
#pragma once

#include <stdexcept>
#include <string>

namespace mdrl::core {

// Base of every error mdrl reports to its user. what() is the full message; kind() a short label.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  virtual const char* kind() const noexcept { return "error"; }
  // Process exit status (README "Exit status"): 2 for anything the user must fix in what they gave
  // (command line, options, INI files, input files that are missing, unreadable or malformed:
  // models, tokenizers, data, checkpoints); 1 for failures while running (writing output, MPI,
  // HDF5, CUDA, NCCL, non-finite numbers, bugs).
  virtual int exit_code() const noexcept { return 1; }
};

#define MDRL_DECLARE_ERROR(Name, label, code)                           \
  class Name : public Error {                                           \
   public:                                                              \
    using Error::Error;                                                 \
    const char* kind() const noexcept override { return label; }        \
    int exit_code() const noexcept override { return code; }            \
  }

MDRL_DECLARE_ERROR(UsageError, "usage error", 2);            // command line: mode, arguments
MDRL_DECLARE_ERROR(ConfigError, "configuration error", 2);   // option values, INI files
MDRL_DECLARE_ERROR(InputError, "input error", 2);            // input files that are missing or unreadable
MDRL_DECLARE_ERROR(IoError, "I/O error", 1);                 // I/O failing while running (writing output, disk full)
MDRL_DECLARE_ERROR(FormatError, "format error", 2);          // input files with malformed content
MDRL_DECLARE_ERROR(MpiError, "MPI error", 1);
MDRL_DECLARE_ERROR(Hdf5Error, "HDF5 error", 1);
MDRL_DECLARE_ERROR(CudaError, "CUDA error", 1);
MDRL_DECLARE_ERROR(NcclError, "NCCL error", 1);
MDRL_DECLARE_ERROR(NotImplementedError, "not implemented", 2);
MDRL_DECLARE_ERROR(NumericError, "numeric error", 1);        // NaN/inf losses or gradients
MDRL_DECLARE_ERROR(MismatchError, "rank mismatch", 1);      // ranks disagree on what must be identical
MDRL_DECLARE_ERROR(InternalError, "internal error", 1);     // a broken invariant: a bug in mdrl

#undef MDRL_DECLARE_ERROR

// "file.cpp:42" with the directories stripped, for messages that point at a call site.
std::string source_location(const char* file, int line);

}  // namespace mdrl::core

// Throws ErrorType(message) unless cond holds. For validating input; never use assert for that.
#define MDRL_CHECK(cond, ErrorType, message) \
  do {                                       \
    if (!(cond)) throw ErrorType(message);   \
  } while (0)

// For broken internal invariants (bugs): names the condition and the call site.
#define MDRL_ASSERT(cond)                                                                     \
  do {                                                                                        \
    if (!(cond))                                                                              \
      throw ::mdrl::core::InternalError(std::string("invariant violated: ") + #cond + " at " + \
                                        ::mdrl::core::source_location(__FILE__, __LINE__));   \
  } while (0)
