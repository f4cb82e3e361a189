// Shared pieces of the libFuzzer harnesses (issue 17; tests/fuzz/README.md): the oracle (a parser
// of outside input may only fail with one of mdrl's user errors, exit status 2, whose message names
// the file; anything else - another exception, a crash, a leak, undefined behaviour - is a finding),
// a per-process scratch file for parsers that take a path, and splitting an input into parts.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace mdrl::fuzz {

// The input as text.
inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Splits at every NUL byte into at most `max_parts` parts (the last keeps the rest, NULs included).
inline std::vector<std::string> split_parts(std::string_view in, size_t max_parts) {
  std::vector<std::string> parts;
  while (parts.size() + 1 < max_parts) {
    const size_t nul = in.find('\0');
    if (nul == std::string_view::npos) break;
    parts.emplace_back(in.substr(0, nul));
    in.remove_prefix(nul + 1);
  }
  parts.emplace_back(in);
  return parts;
}

// A folder of this process under the temporary directory, removed at exit.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("mdrl_fuzz_" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(std::filesystem::temp_directory_path() / ("mdrl_fuzz_" + std::to_string(::getpid())), ec);
    });
    return d;
  }();
  return dir;
}

// Writes `bytes` to scratch_dir()/name and returns the path.
inline std::string write_scratch(const std::string& name, std::string_view bytes) {
  const auto path = scratch_dir() / name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) {
    std::fprintf(stderr, "fuzz harness: cannot write %s\n", path.c_str());
    std::abort();
  }
  return path.string();
}

[[noreturn]] inline void finding(const char* what, const char* message) {
  std::fprintf(stderr, "FUZZ FINDING: %s: %s\n", what, message);
  std::abort();
}

// Runs `parse`; an mdrl error with exit status 2 whose message contains `must_name` (the file or
// source name; empty = no check) is the expected answer to bad input, anything else aborts. With
// `io_errors_ok` (HDF5 files) an IoError or Hdf5Error, what reading a corrupt file reports, is
// accepted too.
template <class F>
void expect_clean(F&& parse, const std::string& must_name = {}, bool io_errors_ok = false) {
  try {
    parse();
  } catch (const core::Error& e) {
    if (std::getenv("MDRL_FUZZ_VERBOSE")) std::fprintf(stderr, "mdrl error (expected): %s\n", e.what());
    const bool io_error = dynamic_cast<const core::IoError*>(&e) != nullptr || dynamic_cast<const core::Hdf5Error*>(&e) != nullptr;
    if (e.exit_code() != 2 && !(io_errors_ok && io_error)) finding(e.kind(), e.what());
    if (!must_name.empty() && std::string_view(e.what()).find(must_name) == std::string_view::npos)
      finding("error message does not name the input", e.what());
  } catch (const std::exception& e) {
    finding("exception that is not an mdrl user error", e.what());
  } catch (...) {
    finding("unknown exception", "");
  }
}

}  // namespace mdrl::fuzz
