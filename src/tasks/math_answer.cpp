// MATH answer helpers (spec algorithms.md §5 "Math string utilities"); Python string operations
// replayed step by step, in the order of the reference, including where it raises.
#include "tasks/math_answer.hpp"

#include "tasks/py_text.hpp"
#include "tokenizer/utf8.hpp"

namespace mdrl::tasks::math {
namespace {

// The first character of s (as Python's s[0]) and the rest; MathError (IndexError) when empty.
std::pair<std::string, std::string> first_char(std::string_view s) {
  if (s.empty()) throw MathError("string index out of range");
  const auto c = tokenizer::utf8::decode_char(s, 0);
  const size_t n = c.length == 0 ? 1 : c.length;
  return {std::string(s.substr(0, n)), std::string(s.substr(n))};
}

std::string remove_right_units(const std::string& s) {
  if (py::contains(s, "\\text{ ")) {
    const auto parts = py::split(s, "\\text{ ");
    if (parts.size() != 2) throw MathError("AssertionError in remove_right_units");
    return parts[0];
  }
  return s;
}

std::string fix_sqrt(const std::string& s) {
  if (!py::contains(s, "\\sqrt")) return s;
  const auto parts = py::split(s, "\\sqrt");
  std::string out = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) {
    const auto [a, rest] = first_char(parts[i]);
    out += a != "{" ? "\\sqrt{" + a + "}" + rest : "\\sqrt" + parts[i];
  }
  return out;
}

std::string fix_fracs(const std::string& s) {
  const auto parts = py::split(s, "\\frac");
  std::string out = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) {
    out += "\\frac";
    const auto [a, rest] = first_char(parts[i]);
    if (a == "{") {
      out += parts[i];
      continue;
    }
    if (py::len(parts[i]) < 2) return s;  // the reference returns its input on this assert
    const auto [b, post] = first_char(rest);
    out += b != "{" ? "{" + a + "}{" + b + "}" + post : "{" + a + "}" + b + post;
  }
  return out;
}

std::string fix_a_slash_b(const std::string& s) {
  const auto parts = py::split(s, "/");
  if (parts.size() != 2) return s;
  // int() raises ValueError on a non-integer side, which the reference does not catch.
  if (!py::parses_as_int(parts[0]) || !py::parses_as_int(parts[1])) throw MathError("ValueError in fix_a_slash_b");
  // The assert string == "{a}/{b}" holds exactly when both sides are in canonical form.
  if (!py::is_canonical_int(parts[0]) || !py::is_canonical_int(parts[1])) return s;
  return "\\frac{" + parts[0] + "}{" + parts[1] + "}";
}

}  // namespace

std::optional<std::string> last_boxed_only_string(std::string_view s) {
  if (py::contains(s, "\\boxed ")) return "\\boxed " + py::split_first(py::split_last(s, "\\boxed "), "$");
  size_t idx = s.rfind("\\boxed");
  if (idx == std::string_view::npos) {
    idx = s.rfind("\\fbox");
    if (idx == std::string_view::npos) return std::string(s);
  }
  int open = 0;
  for (size_t i = idx; i < s.size(); ++i) {
    if (s[i] == '{') ++open;
    if (s[i] == '}' && --open == 0) return std::string(s.substr(idx, i + 1 - idx));
  }
  return std::nullopt;
}

std::string remove_boxed(const std::optional<std::string>& s) {
  if (!s) throw MathError("TypeError: argument of type 'NoneType' is not iterable");
  const std::string_view v = *s;
  if (py::contains(v, "\\boxed ")) {
    if (!v.starts_with("\\boxed ")) throw MathError("AssertionError in remove_boxed");
    return std::string(v.substr(7));
  }
  if (v.starts_with("\\boxed{") && v.ends_with("}")) return std::string(v.substr(7, v.size() - 8));
  return *s;
}

std::optional<std::string> boxed_answer(std::string_view s) {
  try {
    return remove_boxed(last_boxed_only_string(s));
  } catch (const MathError&) {
    return std::nullopt;
  }
}

std::string strip_string(std::string_view in) {
  std::string s = py::replace(in, "\n", "");
  s = py::replace(s, "\\!", "");
  s = py::replace(s, "\\\\", "\\");
  s = py::replace(s, "tfrac", "frac");
  s = py::replace(s, "dfrac", "frac");
  s = py::replace(s, "\\left", "");
  s = py::replace(s, "\\right", "");
  s = py::replace(s, "^{\\circ}", "");
  s = py::replace(s, "^\\circ", "");
  s = py::replace(s, "\\$", "");
  s = remove_right_units(s);
  s = py::replace(s, "\\%", "");
  s = py::replace(s, " .", " 0.");
  s = py::replace(s, "{.", "{0.");
  if (s.empty()) return s;
  if (s[0] == '.') s = "0" + s;
  const auto eq = py::split(s, "=");
  if (eq.size() == 2 && py::len(eq[0]) <= 2) s = eq[1];
  s = fix_sqrt(s);
  s = py::replace(s, " ", "");
  s = fix_fracs(s);
  if (s == "0.5") s = "\\frac{1}{2}";
  return fix_a_slash_b(s);
}

bool is_equiv(const std::optional<std::string>& a, const std::optional<std::string>& b) {
  if (!a && !b) return true;
  if (!a || !b) return false;
  try {
    return strip_string(*a) == strip_string(*b);
  } catch (const MathError&) {
    return *a == *b;
  }
}

}  // namespace mdrl::tasks::math
