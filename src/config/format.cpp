#include "config/format.hpp"

#include <charconv>

#include "core/text.hpp"

namespace mdrl::config {

std::string format_value(bool v) { return v ? "true" : "false"; }
std::string format_value(int64_t v) { return std::to_string(v); }

std::string format_value(double v) {
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

std::string format_value(const std::vector<std::string>& v) { return core::join(v, ","); }

}  // namespace mdrl::config

namespace mdrl::config {
std::string join_choices(const std::vector<std::string>& names) { return core::join(names, "|"); }
}  // namespace mdrl::config
