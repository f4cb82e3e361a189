// JSONL and CSV readers (see data_files.hpp; spec algorithms.md §6).
#include "tasks/data_files.hpp"

#include <fstream>
#include <sstream>

#include "core/error.hpp"

namespace mdrl::tasks {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  MDRL_CHECK(in.good(), core::InputError, "cannot open data file '" + path + "'; check the tasks.* path options");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string where(const std::string& path, int64_t line) {
  return path + ":" + std::to_string(line) + ": ";
}

}  // namespace

std::vector<JsonlRow> read_jsonl(const std::string& path) {
  const std::string text = slurp(path);
  std::vector<JsonlRow> rows;
  int64_t line_no = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    ++line_no;
    const std::string_view line(text.data() + start, end - start);
    start = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    JsonlRow row;
    row.line = line_no;
    try {
      row.value = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for a number like 1e400
      throw core::FormatError(where(path, line_no) + "not a JSON value (" + e.what() +
                              "); each line of a .jsonl file must be one JSON object");
    }
    MDRL_CHECK(row.value.is_object(), core::FormatError,
               where(path, line_no) + "expected a JSON object, found " + row.value.type_name());
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string json_string(const JsonlRow& row, const char* field, const std::string& path) {
  const auto it = row.value.find(field);
  MDRL_CHECK(it != row.value.end(), core::FormatError, where(path, row.line) + "missing field \"" + field + "\"");
  MDRL_CHECK(it->is_string(), core::FormatError,
             where(path, row.line) + "field \"" + field + "\" must be a string, found " + it->type_name());
  return it->get<std::string>();
}

CsvTable read_csv(const std::string& path) {
  const std::string text = slurp(path);
  std::vector<std::vector<std::string>> records;
  std::vector<int64_t> starts;
  std::vector<std::string> record;
  std::string field;
  bool quoted = false, field_started = false;
  int64_t line = 1, record_line = 1;
  auto end_field = [&] {
    record.push_back(std::move(field));
    field.clear();
    field_started = false;
  };
  auto end_record = [&] {
    end_field();
    if (!(record.size() == 1 && record[0].empty())) {  // blank lines are skipped
      records.push_back(std::move(record));
      starts.push_back(record_line);
    }
    record.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"') {
      MDRL_CHECK(!field_started, core::FormatError,
                 where(path, line) + "a quote inside an unquoted field; quote the whole field and double inner quotes");
      quoted = field_started = true;
    } else if (c == ',') {
      end_field();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      end_record();
      record_line = ++line;
    } else {
      field += c;
      field_started = true;
    }
  }
  MDRL_CHECK(!quoted, core::FormatError, where(path, record_line) + "a quoted field is never closed");
  if (!field.empty() || !record.empty()) end_record();
  MDRL_CHECK(!records.empty(), core::FormatError, path + ": empty CSV file; expected a header line");
  CsvTable t;
  t.header = std::move(records[0]);
  for (size_t r = 1; r < records.size(); ++r) {
    MDRL_CHECK(records[r].size() == t.header.size(), core::FormatError,
               where(path, starts[r]) + std::to_string(records[r].size()) + " fields, but the header has " +
                   std::to_string(t.header.size()));
    t.rows.push_back(std::move(records[r]));
    t.lines.push_back(starts[r]);
  }
  return t;
}

size_t CsvTable::column(const std::string& name, const std::string& path) const {
  for (size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return i;
  throw core::FormatError(path + ":1: no column '" + name + "' in the CSV header");
}

}  // namespace mdrl::tasks
