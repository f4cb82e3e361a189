// Training data the reference does not ship (spec algorithms.md §6.1: its Sudoku training CSV is
// missing and Countdown trains on a public 3-number set): 4x4 Sudoku puzzles with a unique
// solution and Countdown problems with a reachable target, each with a verified solution and a
// reasoning-style completion usable for SFT. Deterministic from the seed (core::RngStream, purpose
// Puzzles); rows whose key is in `exclude` (e.g. the shipped test sets) are never produced.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tasks/task.hpp"

namespace mdrl::tasks {

struct SudokuGenOptions {
  int64_t count = 1000;
  int empty_cells = 8;  // 1..12 (a 4x4 puzzle with a unique solution has at least 4 givens)
  uint64_t seed = 42;
  std::set<std::string> exclude;  // puzzles (16-digit strings) never to produce
};

struct CountdownGenOptions {
  int64_t count = 1000;
  int numbers = 3;  // 2..6
  int min_number = 1, max_number = 100;
  int min_target = 1, max_target = 100;
  uint64_t seed = 42;
  std::set<std::string> exclude;  // countdown_key()s never to produce
};

// Solutions of a 4x4 puzzle ('0' = empty), counted up to `limit`.
int count_sudoku_solutions(std::string_view puzzle, int limit = 2);
bool is_valid_sudoku_solution(std::string_view grid);

// "a,b,c->t" with the numbers sorted: a problem's identity regardless of number order.
std::string countdown_key(std::vector<long long> numbers, long long target);

// Examples with question = puzzle, solution, completion (Sudoku); numbers, target, completion (Countdown).
std::vector<Example> generate_sudoku(const SudokuGenOptions& opts);
std::vector<Example> generate_countdown(const CountdownGenOptions& opts);

}  // namespace mdrl::tasks
