// Rank-aware logging (DESIGN.md "Conventions: Logging"): info and debug lines are printed by rank 0
// only; warnings and errors by every rank, prefixed with [rN]. Usage:
//   log::info() << "step " << step << " loss " << loss;
// The line is written, whole and flushed, when the temporary goes out of scope.
#pragma once

#include <functional>
#include <sstream>
#include <string>
#include <string_view>

namespace mdrl::core::log {

enum class Level { Debug = 0, Info = 1, Warn = 2, Error = 3 };

const char* level_name(Level level);

// Set once by dist::MpiEnv after MPI_Init; before that, every process believes it is rank 0 of 1.
void set_rank(int rank, int world_size);
int rank();
int world_size();

void set_level(Level level);
Level level();

// Where formatted lines go: by default stdout (debug/info) and stderr (warn/error). Tests and tools
// may capture lines; pass nullptr to restore the default.
using Sink = std::function<void(Level, std::string_view line)>;
void set_sink(Sink sink);

// Whether this process prints messages of this level at all (level threshold and rank rule).
bool enabled(Level level);
void write(Level level, std::string_view message);

class Line {
 public:
  explicit Line(Level level) : level_(level), on_(enabled(level)) {}
  Line(const Line&) = delete;
  Line& operator=(const Line&) = delete;
  ~Line() {
    if (on_) write(level_, stream_.str());
  }
  template <class T>
  Line& operator<<(const T& value) {
    if (on_) stream_ << value;
    return *this;
  }

 private:
  Level level_;
  bool on_;
  std::ostringstream stream_;
};

inline Line debug() { return Line(Level::Debug); }
inline Line info() { return Line(Level::Info); }
inline Line warn() { return Line(Level::Warn); }
inline Line error() { return Line(Level::Error); }

}  // namespace mdrl::core::log
