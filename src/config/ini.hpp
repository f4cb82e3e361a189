// INI files for mdrl configuration: `[section]` headers, `key = value` lines, `#` or `;` comments
// (whole lines, or after whitespace on a value line), values optionally in double quotes (then `#`,
// `;` and surrounding spaces are kept; \" and \\ escape). Each entry remembers its file and line so
// errors can point at them. Keys must sit inside a section; the full key is "section.key".
#pragma once

#include <string>
#include <vector>

namespace mdrl::config {

struct IniEntry {
  std::string key;    // "section.key"
  std::string value;  // unquoted
  std::string file;   // as given, for messages
  int line = 0;
  std::string origin() const { return file + ":" + std::to_string(line); }
};

// Parses INI text; `file` names it in messages. Throws core::ConfigError on malformed lines and on a
// key given twice in one file.
std::vector<IniEntry> parse_ini(const std::string& text, const std::string& file);
// Reads and parses a file; a missing or unreadable file is a core::ConfigError naming it.
std::vector<IniEntry> read_ini_file(const std::string& path);

// Quotes a value when writing it back would otherwise change it (spaces at the ends, comment
// characters, quotes, empty strings).
std::string quote_ini_value(const std::string& value);

}  // namespace mdrl::config
