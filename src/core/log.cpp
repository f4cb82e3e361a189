#include "core/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace mdrl::core::log {
namespace {
std::atomic<int> g_rank{0};
std::atomic<int> g_world{1};
std::atomic<Level> g_level{Level::Info};
std::mutex g_mutex;  // one whole line at a time, from any thread
Sink g_sink;
}  // namespace

const char* level_name(Level level) {
  switch (level) {
    case Level::Debug: return "debug";
    case Level::Info: return "info";
    case Level::Warn: return "warn";
    case Level::Error: return "error";
  }
  return "?";
}

void set_rank(int rank, int world_size) {
  g_rank = rank;
  g_world = world_size;
}
int rank() { return g_rank; }
int world_size() { return g_world; }
void set_level(Level level) { g_level = level; }
Level level() { return g_level; }

void set_sink(Sink sink) {
  std::lock_guard lock(g_mutex);
  g_sink = std::move(sink);
}

bool enabled(Level lvl) {
  if (lvl < g_level.load()) return false;
  return lvl >= Level::Warn || g_rank.load() == 0;
}

void write(Level lvl, std::string_view message) {
  if (!enabled(lvl)) return;
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  localtime_r(&t, &tm);
  char stamp[16];
  std::strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
  static constexpr char kLetter[] = {'D', 'I', 'W', 'E'};
  std::string line = std::string("[") + stamp + " " + kLetter[static_cast<int>(lvl)];
  if (lvl >= Level::Warn) line += " r" + std::to_string(g_rank.load());
  line += "] ";
  line += message;
  std::lock_guard lock(g_mutex);
  if (g_sink) {
    g_sink(lvl, line);
    return;
  }
  line += '\n';
  std::FILE* out = lvl >= Level::Warn ? stderr : stdout;
  std::fwrite(line.data(), 1, line.size(), out);
  std::fflush(out);
}

}  // namespace mdrl::core::log
