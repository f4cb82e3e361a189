// Small string helpers used for messages and parsing.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mdrl::core {

std::string_view trim(std::string_view s);
std::vector<std::string> split(std::string_view s, char sep, bool trim_items = true);
std::string join(const std::vector<std::string>& items, std::string_view sep);
// Optimal string alignment distance (Levenshtein with transpositions), for "did you mean" hints.
size_t edit_distance(std::string_view a, std::string_view b);
// The candidates closest to `word` (at most `max_results`), or none when nothing is close.
std::vector<std::string> closest_matches(std::string_view word, const std::vector<std::string>& candidates,
                                         size_t max_results = 3);

}  // namespace mdrl::core
