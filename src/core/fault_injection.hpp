// Fault injection for the dead-rank tests (issue 17, "a dead rank ends the job"): the environment
// variable MDRL_FAULT makes one rank fail at a chosen point, so tests can show that every rank of
// the job ends quickly, with a non-zero exit, and that no checkpoint is damaged.
//
//   MDRL_FAULT=rank:<r>,step:<n>,kind:<k>    fail at the n-th training step boundary of this process
//   MDRL_FAULT=rank:<r>,batch:<n>,kind:<k>   fail before the n-th decoded batch of this process
//
// n counts from 1 within this process (a resumed run counts again from 1). <k> is `throw` (a
// std::runtime_error, which main reports), `abort` (std::abort, SIGABRT) or `kill` (SIGKILL to
// itself). Unset or empty: nothing happens, at the cost of one counter increment per call.
// A malformed value is a core::ConfigError naming MDRL_FAULT.
#pragma once

#include <string>

namespace mdrl::core::fault {

enum class Point { Step, Batch };
enum class Kind { Throw, Abort, Kill };

struct Plan {
  int rank = -1;   // -1: no fault
  Point point = Point::Step;
  long count = 0;  // 1-based
  Kind kind = Kind::Throw;
};

// Parses an MDRL_FAULT value ("" = no fault); throws core::ConfigError for malformed text.
Plan parse(const std::string& text);

// Counts one pass through `point` and fails as MDRL_FAULT asks when this is the chosen rank and
// pass. Before failing it prints one line to stderr with the wall-clock time (for the tests'
// time-to-exit figure). `rank` is this process's world rank.
void at(Point point, int rank);

}  // namespace mdrl::core::fault
