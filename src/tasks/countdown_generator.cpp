// Countdown problem generator (puzzle_generator.hpp): exact rational search over all ways of
// combining the numbers with + - * /, a target drawn among the reachable integers, one verified
// expression (checked with the reward itself) and a step-by-step completion.
#include <algorithm>
#include <map>
#include <numeric>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "tasks/puzzle_generator.hpp"
#include "tasks/rewards.hpp"

namespace mdrl::tasks {
namespace {

struct Rational {
  long long num = 0, den = 1;
};

Rational make(long long n, long long d) {
  if (d < 0) n = -n, d = -d;
  const long long g = std::gcd(n < 0 ? -n : n, d);
  return {n / (g == 0 ? 1 : g), d / (g == 0 ? 1 : g)};
}

std::string text(const Rational& r) {
  return r.den == 1 ? std::to_string(r.num) : std::to_string(r.num) + "/" + std::to_string(r.den);
}

struct Item {
  Rational value;
  std::string expr;   // parenthesised unless a plain number
  std::string steps;  // "a + b = c. " per combination
  bool leaf = true;
};

constexpr long long kLimit = 1LL << 40;  // intermediate numerators/denominators stay small

bool combine(const Item& a, const Item& b, char op, Item& out) {
  Rational v;
  const Rational x = a.value, y = b.value;
  switch (op) {
    case '+':
      v = make(x.num * y.den + y.num * x.den, x.den * y.den);
      break;
    case '-':
      v = make(x.num * y.den - y.num * x.den, x.den * y.den);
      break;
    case '*':
      v = make(x.num * y.num, x.den * y.den);
      break;
    default:
      if (y.num == 0) return false;
      v = make(x.num * y.den, x.den * y.num);
  }
  if (std::abs(v.num) > kLimit || v.den > kLimit) return false;
  out.value = v;
  out.expr = "(" + a.expr + " " + op + " " + b.expr + ")";
  out.steps = a.steps + b.steps + text(x) + " " + op + " " + text(y) + " = " + text(v) + ". ";
  out.leaf = false;
  return true;
}

// Every value reachable using all items exactly once, with one expression each (first found).
void search(std::vector<Item>& items, std::map<long long, Item>& found) {
  if (items.size() == 1) {
    if (items[0].value.den == 1) found.try_emplace(items[0].value.num, items[0]);
    return;
  }
  for (size_t i = 0; i < items.size(); ++i) {
    for (size_t j = 0; j < items.size(); ++j) {
      if (i == j) continue;
      for (char op : {'+', '-', '*', '/'}) {
        if ((op == '+' || op == '*') && j < i) continue;  // commutative: one order suffices
        Item c;
        if (!combine(items[i], items[j], op, c)) continue;
        std::vector<Item> rest;
        for (size_t k = 0; k < items.size(); ++k)
          if (k != i && k != j) rest.push_back(items[k]);
        rest.push_back(std::move(c));
        search(rest, found);
      }
    }
  }
}

std::string strip_outer(const std::string& e) {
  return e.size() >= 2 && e.front() == '(' && e.back() == ')' ? e.substr(1, e.size() - 2) : e;
}

}  // namespace

std::string countdown_key(std::vector<long long> numbers, long long target) {
  std::sort(numbers.begin(), numbers.end());
  std::string k;
  for (size_t i = 0; i < numbers.size(); ++i) k += (i ? "," : "") + std::to_string(numbers[i]);
  return k + "->" + std::to_string(target);
}

std::vector<Example> generate_countdown(const CountdownGenOptions& o) {
  MDRL_CHECK(o.numbers >= 2 && o.numbers <= 6, core::ConfigError,
             "Countdown numbers per problem = " + std::to_string(o.numbers) + "; use 2..6");
  MDRL_CHECK(
      o.min_number >= 0 && o.min_number <= o.max_number && o.max_number <= 100000 && o.min_target <= o.max_target,
      core::ConfigError, "Countdown number/target ranges are empty or too large");
  core::RngStream rng(o.seed, 0, core::RngPurpose::Puzzles);
  std::set<std::string> seen = o.exclude;
  std::vector<Example> out;
  int64_t attempts = 0;
  while (static_cast<int64_t>(out.size()) < o.count) {
    MDRL_CHECK(++attempts <= 1000 * o.count + 100000, core::ConfigError,
               "could not generate " + std::to_string(o.count) + " distinct Countdown problems; widen the ranges");
    std::vector<Item> items;
    std::vector<long long> nums;
    for (int i = 0; i < o.numbers; ++i) {
      const long long n = o.min_number + static_cast<long long>(
                                             rng.uniform_int(static_cast<uint64_t>(o.max_number - o.min_number) + 1));
      nums.push_back(n);
      items.push_back({{n, 1}, std::to_string(n), "", true});
    }
    std::map<long long, Item> found;
    search(items, found);
    std::vector<long long> targets;
    for (const auto& [t, item] : found)
      if (t >= o.min_target && t <= o.max_target && seen.count(countdown_key(nums, t)) == 0) targets.push_back(t);
    if (targets.empty()) continue;
    const long long target = targets[rng.uniform_int(targets.size())];
    const Item& sol = found.at(target);
    const std::string expr = strip_outer(sol.expr);
    Example ex;
    ex.numbers = nums;
    ex.target = target;
    ex.completion = "<reasoning>\n" + sol.steps + "So " + expr + " = " + std::to_string(target) +
                    ".\n</reasoning>\n<answer>\n" + expr + "\n</answer>";
    // Python's float arithmetic must agree with the exact search: the reward is the judge.
    if (countdown_reward(ex.completion, nums, target) != 1.0) continue;
    seen.insert(countdown_key(nums, target));
    out.push_back(std::move(ex));
  }
  return out;
}

}  // namespace mdrl::tasks
