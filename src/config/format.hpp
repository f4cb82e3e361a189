// Text forms of option values: used for defaults in --help, the resolved-config table and the INI
// dump, so that a dumped config read back gives exactly the same values.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

namespace mdrl::config {

std::string format_value(bool v);
std::string format_value(int64_t v);
std::string format_value(double v);  // shortest text that reads back to the same double
inline std::string format_value(int v) { return format_value(static_cast<int64_t>(v)); }
inline std::string format_value(float v) { return format_value(static_cast<double>(v)); }
inline std::string format_value(const std::string& v) { return v; }
std::string format_value(const std::vector<std::string>& v);  // comma-separated
// "a|b|c", the type shown for an enum option.
std::string join_choices(const std::vector<std::string>& names);

template <class T>
constexpr const char* type_name() {
  if constexpr (std::is_same_v<T, bool>) return "bool";
  else if constexpr (std::is_integral_v<T>) return "int";
  else if constexpr (std::is_floating_point_v<T>) return "float";
  else if constexpr (std::is_same_v<T, std::vector<std::string>>) return "list";
  else return "string";
}

}  // namespace mdrl::config
