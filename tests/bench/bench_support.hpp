// Helpers shared by the process-launching benchmarks (bench_sft, bench_rl): shell quoting,
// environment settings, medians, and the machine's load so a noisy run can be told apart.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace mdrl::bench {

inline std::string quote(const std::string& s) {
  std::string q = "'";
  for (const char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

inline std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

inline std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, sep);)
    if (!item.empty()) out.push_back(item);
  return out;
}

// A per-preset setting from the environment: "12" for every preset, or "tiny=60,llada-100m=8".
inline int64_t per_preset(const char* name, const std::string& preset, int64_t fallback) {
  const std::string v = env_or(name, "");
  if (v.empty()) return fallback;
  if (v.find('=') == std::string::npos) return std::stoll(v);
  for (const auto& item : split(v, ',')) {
    const auto eq = item.find('=');
    if (eq != std::string::npos && item.substr(0, eq) == preset) return std::stoll(item.substr(eq + 1));
  }
  return fallback;
}

inline double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 == 1 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

inline std::string tail(const std::string& s, size_t n) { return s.size() <= n ? s : s.substr(s.size() - n); }

inline std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

inline std::string loadavg() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

// Share of all CPUs busy (other processes) over `seconds` of idling, from /proc/stat; -1 if unreadable.
inline double cpu_busy(double seconds) {
  const auto sample = [] {
    std::ifstream in("/proc/stat");
    std::string cpu;
    in >> cpu;
    std::vector<double> v;
    for (double x; v.size() < 8 && in >> x;) v.push_back(x);
    double total = 0;
    for (const double x : v) total += x;
    return std::pair<double, double>{v.size() >= 5 ? v[3] + v[4] : 0.0, total};  // idle + iowait, all
  };
  const auto [idle0, total0] = sample();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const auto [idle1, total1] = sample();
  return total1 > total0 ? 1.0 - (idle1 - idle0) / (total1 - total0) : -1.0;
}

}  // namespace mdrl::bench
