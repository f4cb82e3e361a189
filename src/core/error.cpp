// Error helpers shared by the check macros.
#include "core/error.hpp"

#include <cstring>

namespace mdrl::core {

std::string source_location(const char* file, int line) {
  // Keep the path from "src/" (or the basename) so messages do not carry build-machine paths.
  const char* p = std::strstr(file, "src/");
  if (p == nullptr) {
    p = std::strrchr(file, '/');
    p = (p == nullptr) ? file : p + 1;
  }
  return std::string(p) + ":" + std::to_string(line);
}

}  // namespace mdrl::core
