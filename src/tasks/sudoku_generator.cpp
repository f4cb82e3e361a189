// 4x4 Sudoku generator with unique solutions and a step-by-step completion (puzzle_generator.hpp).
#include <algorithm>
#include <array>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "tasks/puzzle_generator.hpp"

namespace mdrl::tasks {
namespace {

int box_of(int i) {
  return (i / 8) * 2 + (i % 4) / 2;
}

// Digits 1-4 that may go in cell i of g, as a bit mask (bit d set = d allowed).
int candidates(const std::string& g, int i) {
  int used = 0;
  for (int j = 0; j < 16; ++j) {
    if (g[j] == '0' || j == i) continue;
    if (j / 4 == i / 4 || j % 4 == i % 4 || box_of(j) == box_of(i)) used |= 1 << (g[j] - '0');
  }
  return 0b11110 & ~used;
}

void solve(std::string& g, int& found, int limit, std::string* first) {
  const auto pos = g.find('0');
  if (pos == std::string::npos) {
    if (found++ == 0 && first != nullptr) *first = g;
    return;
  }
  const int c = candidates(g, static_cast<int>(pos));
  for (int d = 1; d <= 4 && found < limit; ++d) {
    if (!(c & (1 << d))) continue;
    g[pos] = static_cast<char>('0' + d);
    solve(g, found, limit, first);
    g[pos] = '0';
  }
}

std::vector<std::string> all_grids() {
  std::vector<std::string> grids;
  std::string g(16, '0');
  // Enumerate by filling cells in order; 288 grids.
  auto rec = [&](auto&& self, int i) -> void {
    if (i == 16) {
      grids.push_back(g);
      return;
    }
    const int c = candidates(g, i);
    for (int d = 1; d <= 4; ++d) {
      if (!(c & (1 << d))) continue;
      g[i] = static_cast<char>('0' + d);
      self(self, i + 1);
      g[i] = '0';
    }
  };
  rec(rec, 0);
  return grids;
}

std::string cell_name(int i) {
  return "row " + std::to_string(i / 4 + 1) + ", column " + std::to_string(i % 4 + 1);
}

// Fills the puzzle by naked and hidden singles, one sentence per cell.
std::string sudoku_completion(const std::string& puzzle, const std::string& solution) {
  std::string g = puzzle, steps;
  while (g.find('0') != std::string::npos) {
    bool progressed = false;
    for (int i = 0; i < 16 && !progressed; ++i) {
      if (g[i] != '0') continue;
      const int c = candidates(g, i);
      if (__builtin_popcount(static_cast<unsigned>(c)) == 1) {
        const char d = static_cast<char>('0' + __builtin_ctz(static_cast<unsigned>(c)));
        steps += "In " + cell_name(i) + ", the row, column and box already hold every digit but " + d + ", so it is " +
                 d + ".\n";
        g[i] = d;
        progressed = true;
      }
    }
    for (int i = 0; i < 16 && !progressed; ++i) {
      if (g[i] != '0') continue;
      const char d = solution[i];
      // Hidden single: no other empty cell of the row can take d.
      bool only = true;
      for (int j = (i / 4) * 4; j < (i / 4) * 4 + 4; ++j)
        if (j != i && g[j] == '0' && (candidates(g, j) & (1 << (d - '0')))) only = false;
      if (only) {
        steps += std::string("In row ") + std::to_string(i / 4 + 1) + ", only " + cell_name(i) + " can take " + d +
                 ", so it is " + d + ".\n";
        g[i] = d;
        progressed = true;
      }
    }
    if (!progressed) {  // not reached for 4x4 puzzles with a unique solution in practice
      const auto i = static_cast<int>(g.find('0'));
      steps += "Checking the remaining options, " + cell_name(i) + " must be " + solution[i] + ".\n";
      g[i] = solution[i];
    }
  }
  return "<reasoning>\n" + steps + "The completed grid is " + solution + ".\n</reasoning>\n<answer>\n" + solution +
         "\n</answer>";
}

}  // namespace

int count_sudoku_solutions(std::string_view puzzle, int limit) {
  std::string g(puzzle);
  int found = 0;
  solve(g, found, limit, nullptr);
  return found;
}

bool is_valid_sudoku_solution(std::string_view grid) {
  if (grid.size() != 16 || grid.find_first_not_of("1234") != std::string_view::npos) return false;
  std::string g(grid);
  for (int i = 0; i < 16; ++i)
    if (!(candidates(g, i) & (1 << (g[i] - '0')))) return false;
  return true;
}

std::vector<Example> generate_sudoku(const SudokuGenOptions& opts) {
  MDRL_CHECK(
      opts.empty_cells >= 1 && opts.empty_cells <= 12, core::ConfigError,
      "Sudoku empty cells = " + std::to_string(opts.empty_cells) + "; use 1..12 (unique 4x4 puzzles need >= 4 givens)");
  static const std::vector<std::string> grids = all_grids();
  core::RngStream rng(opts.seed, 0, core::RngPurpose::Puzzles);
  std::set<std::string> seen = opts.exclude;
  std::vector<Example> out;
  int64_t attempts = 0;
  const int64_t max_attempts = 1000 * opts.count + 100000;
  while (static_cast<int64_t>(out.size()) < opts.count) {
    MDRL_CHECK(++attempts <= max_attempts, core::ConfigError,
               "could not generate " + std::to_string(opts.count) + " distinct Sudoku puzzles with " +
                   std::to_string(opts.empty_cells) + " empty cells; ask for fewer");
    const std::string& solution = grids[rng.uniform_int(grids.size())];
    std::array<int, 16> order{};
    for (int i = 0; i < 16; ++i) order[i] = i;
    for (int i = 15; i > 0; --i) std::swap(order[i], order[rng.uniform_int(static_cast<uint64_t>(i) + 1)]);
    std::string puzzle = solution;
    for (int k = 0; k < opts.empty_cells; ++k) puzzle[order[k]] = '0';
    if (seen.count(puzzle) != 0 || count_sudoku_solutions(puzzle) != 1) continue;
    seen.insert(puzzle);
    Example ex;
    ex.question = puzzle;
    ex.solution = solution;
    ex.completion = sudoku_completion(puzzle, solution);
    out.push_back(std::move(ex));
  }
  return out;
}

}  // namespace mdrl::tasks
