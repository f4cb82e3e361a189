// Readers for the local data files of the tasks (spec algorithms.md §6): JSON Lines and CSV with
// RFC 4180 quoting. Errors name the file and line and say what is wrong.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace mdrl::tasks {

struct JsonlRow {
  nlohmann::json value;
  int64_t line = 0;  // 1-based line number in the file
};

// Every non-blank line as one JSON object. Throws core::InputError (unreadable) or
// core::FormatError ("file:line: ...").
std::vector<JsonlRow> read_jsonl(const std::string& path);

struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;  // each with header.size() fields
  std::vector<int64_t> lines;                  // 1-based line where each row starts
  // Index of the column `name`; throws core::FormatError naming `path` when absent.
  size_t column(const std::string& name, const std::string& path) const;
};

// A CSV file with a header line; quoted fields may hold commas, doubled quotes and newlines.
CsvTable read_csv(const std::string& path);

// A string field of a JSONL row, or a FormatError naming file:line and the field.
std::string json_string(const JsonlRow& row, const char* field, const std::string& path);

}  // namespace mdrl::tasks
