#include "core/check_hdf5.hpp"

#include <vector>

#include "core/log.hpp"

namespace mdrl::core {

void silence_hdf5_error_printing() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

int64_t open_hdf5_files() {
  const ssize_t n = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_FILE);
  return n > 0 ? static_cast<int64_t>(n) : 0;
}

namespace detail {
namespace {
herr_t collect(unsigned n, const H5E_error2_t* err, void* data) {
  auto* lines = static_cast<std::vector<std::string>*>(data);
  std::string line = err->desc != nullptr ? err->desc : "";
  if (err->func_name != nullptr) line += std::string(" (in ") + err->func_name + ")";
  lines->push_back(line);
  return 0;
}
}  // namespace

void throw_hdf5_error(const std::string& context, const char* expr, const char* file, int line) {
  std::vector<std::string> lines;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, collect, &lines);
  H5Eclear2(H5E_DEFAULT);
  std::string msg = context + ": " + expr + " failed on rank " + std::to_string(log::rank()) + " (" +
                    source_location(file, line) + ")";
  // The innermost entries say what went wrong; the outer ones only repeat the API call chain.
  const size_t shown = std::min<size_t>(lines.size(), 3);
  for (size_t i = 0; i < shown; ++i) msg += "\n  hdf5: " + lines[i];
  throw Hdf5Error(msg);
}

}  // namespace detail
}  // namespace mdrl::core
