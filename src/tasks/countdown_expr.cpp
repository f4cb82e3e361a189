// Recursive-descent evaluator of Python arithmetic expressions (see countdown_expr.hpp; spec
// algorithms.md §5, §7.2). Grammar, as in Python's:
//   expr   := term (('+' | '-') term)*
//   term   := factor (('*' | '/' | '//') factor)*
//   factor := ('+' | '-') factor | power
//   power  := atom ['**' factor]
//   atom   := NUMBER | '(' expr ')'
#include "tasks/countdown_expr.hpp"

#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <vector>

namespace mdrl::tasks::countdown {
namespace {

struct EvalError : std::exception {};

enum class Tok { Num, Plus, Minus, Star, Slash, DSlash, DStar, LParen, RParen, End };

struct Token {
  Tok kind;
  Value value;
};

constexpr __int128 kIntLimit = static_cast<__int128>(~static_cast<unsigned __int128>(0) >> 3);
constexpr int kMaxParenDepth = 200;  // Python's tokenizer limit ("too many nested parentheses")

std::vector<Token> tokenize(std::string_view s) {
  std::vector<Token> out;
  int depth = 0;
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == ' ' || c == '\t' || c == '\f') {
      ++i;
      continue;
    }
    if (c == '\n' || c == '\r') {
      // A line break outside brackets ends the expression: fine at the end, an error before more.
      if (depth == 0 && s.find_first_not_of(" \t\f\r\n", i) != std::string_view::npos) throw EvalError{};
      ++i;
      continue;
    }
    const bool digit = c >= '0' && c <= '9';
    if (digit || (c == '.' && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '9')) {
      const size_t start = i;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
      bool is_float = false;
      if (i < s.size() && s[i] == '.') {
        is_float = true;
        ++i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
      }
      const std::string text(s.substr(start, i - start));
      Token t{Tok::Num, {}};
      if (is_float) {
        t.value = Value{false, 0, std::strtod(text.c_str(), nullptr)};
      } else {
        // "0", "00" are valid; any other literal with a leading zero is a SyntaxError.
        if (text.size() > 1 && text[0] == '0' && text.find_first_not_of('0') != std::string::npos) throw EvalError{};
        __int128 v = 0;
        for (char d : text) {
          if (v > kIntLimit / 10) throw EvalError{};  // literals beyond 125 bits are unsupported
          v = v * 10 + (d - '0');
        }
        t.value = Value{true, v, 0};
      }
      out.push_back(t);
      continue;
    }
    Tok k;
    switch (c) {
      case '+':
        k = Tok::Plus;
        break;
      case '-':
        k = Tok::Minus;
        break;
      case '(':
        if (++depth > kMaxParenDepth) throw EvalError{};
        k = Tok::LParen;
        break;
      case ')':
        if (--depth < 0) throw EvalError{};
        k = Tok::RParen;
        break;
      case '*':
        k = i + 1 < s.size() && s[i + 1] == '*' ? Tok::DStar : Tok::Star;
        if (k == Tok::DStar) ++i;
        break;
      case '/':
        k = i + 1 < s.size() && s[i + 1] == '/' ? Tok::DSlash : Tok::Slash;
        if (k == Tok::DSlash) ++i;
        break;
      default:
        throw EvalError{};  // '.' alone ("..." is Ellipsis, not a number), other characters
    }
    ++i;
    out.push_back({k, {}});
  }
  out.push_back({Tok::End, {}});
  return out;
}

double to_float(const Value& v) {
  if (!v.is_int) return v.f;
  const double d = static_cast<double>(v.i);
  if (std::isinf(d)) throw EvalError{};  // OverflowError: int too large to convert to float
  return d;
}

bool checked(bool overflow) {
  if (overflow) throw EvalError{};
  return false;
}

Value int_value(__int128 v) {
  return Value{true, v, 0};
}
Value float_value(double v) {
  return Value{false, 0, v};
}

// Python's float floor division (CPython float_floor_div via float_divmod).
double float_floordiv(double vx, double wx) {
  if (wx == 0.0) throw EvalError{};
  double mod = std::fmod(vx, wx);
  double div = (vx - mod) / wx;
  if (mod != 0.0) {
    if ((wx < 0) != (mod < 0)) div -= 1.0;
  }
  double floordiv;
  if (div != 0.0) {
    floordiv = std::floor(div);
    if (div - floordiv > 0.5) floordiv += 1.0;
  } else {
    floordiv = std::copysign(0.0, vx / wx);
  }
  return floordiv;
}

Value int_pow(__int128 base, __int128 exp) {
  __int128 result = 1;
  while (exp > 0) {
    if (exp & 1) checked(__builtin_mul_overflow(result, base, &result));
    exp >>= 1;
    if (exp > 0) checked(__builtin_mul_overflow(base, base, &base));
  }
  return int_value(result);
}

Value binary(Tok op, const Value& a, const Value& b) {
  const bool ints = a.is_int && b.is_int;
  __int128 r = 0;
  switch (op) {
    case Tok::Plus:
      if (ints) return checked(__builtin_add_overflow(a.i, b.i, &r)), int_value(r);
      return float_value(to_float(a) + to_float(b));
    case Tok::Minus:
      if (ints) return checked(__builtin_sub_overflow(a.i, b.i, &r)), int_value(r);
      return float_value(to_float(a) - to_float(b));
    case Tok::Star:
      if (ints) return checked(__builtin_mul_overflow(a.i, b.i, &r)), int_value(r);
      return float_value(to_float(a) * to_float(b));
    case Tok::Slash: {
      const double d = to_float(b);
      if (d == 0.0) throw EvalError{};
      return float_value(to_float(a) / d);
    }
    case Tok::DSlash:
      if (ints) {
        if (b.i == 0) throw EvalError{};
        __int128 q = a.i / b.i;
        if ((a.i % b.i != 0) && ((a.i < 0) != (b.i < 0))) --q;
        return int_value(q);
      }
      return float_value(float_floordiv(to_float(a), to_float(b)));
    case Tok::DStar: {
      if (ints && b.i >= 0) return int_pow(a.i, b.i);
      const double x = to_float(a), y = to_float(b);
      if (x == 0.0 && y < 0) throw EvalError{};                                // ZeroDivisionError
      if (x < 0 && std::floor(y) != y && std::isfinite(y)) throw EvalError{};  // complex result
      const double p = std::pow(x, y);
      if (std::isinf(p) && std::isfinite(x) && std::isfinite(y)) throw EvalError{};  // OverflowError
      return float_value(p);
    }
    default:
      throw EvalError{};
  }
}

class Parser {
 public:
  explicit Parser(std::vector<Token> toks) : toks_(std::move(toks)) {}
  Value parse() {
    Value v = expr();
    if (peek() != Tok::End) throw EvalError{};
    return v;
  }

 private:
  Tok peek() const { return toks_[pos_].kind; }
  Value expr() {
    Value v = term();
    while (peek() == Tok::Plus || peek() == Tok::Minus) {
      const Tok op = toks_[pos_++].kind;
      v = binary(op, v, term());
    }
    return v;
  }
  Value term() {
    Value v = factor();
    while (peek() == Tok::Star || peek() == Tok::Slash || peek() == Tok::DSlash) {
      const Tok op = toks_[pos_++].kind;
      v = binary(op, v, factor());
    }
    return v;
  }
  Value factor() {
    if (peek() == Tok::Plus || peek() == Tok::Minus) {
      const Tok op = toks_[pos_++].kind;
      if (++depth_ > 1000) throw EvalError{};  // bounded recursion on "----...1"
      Value v = factor();
      --depth_;
      if (op == Tok::Plus) return v;
      if (v.is_int) {
        __int128 r = 0;
        checked(__builtin_sub_overflow(static_cast<__int128>(0), v.i, &r));
        return int_value(r);
      }
      return float_value(-v.f);
    }
    return power();
  }
  Value power() {
    Value base = atom();
    if (peek() == Tok::DStar) {
      ++pos_;
      return binary(Tok::DStar, base, factor());
    }
    return base;
  }
  Value atom() {
    const Token& t = toks_[pos_];
    if (t.kind == Tok::Num) {
      ++pos_;
      return t.value;
    }
    if (t.kind == Tok::LParen) {
      ++pos_;
      Value v = expr();  // "()" (an empty tuple) fails here, as any arithmetic on it does in Python
      if (peek() != Tok::RParen) throw EvalError{};
      ++pos_;
      return v;
    }
    throw EvalError{};
  }

  std::vector<Token> toks_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

std::optional<Value> evaluate(std::string_view expr) {
  try {
    return Parser(tokenize(expr)).parse();
  } catch (const EvalError&) {
    return std::nullopt;
  }
}

bool close_to(const Value& v, long long target) {
  if (v.is_int) {
    // |v - target| < 1e-5 for integers means equality (comparing, not subtracting: v - target
    // overflows __int128 for v near -2**127).
    return v.i == static_cast<__int128>(target);
  }
  return std::fabs(v.f - static_cast<double>(target)) < 1e-5;
}

}  // namespace mdrl::tasks::countdown
