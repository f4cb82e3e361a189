#include "config/ini.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "core/text.hpp"

namespace mdrl::config {

using core::ConfigError;

namespace {

bool valid_name(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
  return true;
}

std::string parse_value(std::string_view raw, const std::string& where) {
  raw = core::trim(raw);
  if (!raw.empty() && raw.front() == '"') {
    std::string out;
    size_t i = 1;
    for (; i < raw.size() && raw[i] != '"'; ++i) {
      if (raw[i] == '\\' && i + 1 < raw.size() && (raw[i + 1] == '"' || raw[i + 1] == '\\')) ++i;
      out += raw[i];
    }
    if (i >= raw.size()) throw ConfigError(where + ": unterminated quoted value; close it with '\"'");
    std::string_view rest = core::trim(raw.substr(i + 1));
    if (!rest.empty() && rest.front() != '#' && rest.front() != ';')
      throw ConfigError(where + ": unexpected text '" + std::string(rest) + "' after the quoted value");
    return out;
  }
  // Unquoted: an inline comment starts at '#' or ';' preceded by whitespace.
  for (size_t i = 1; i < raw.size(); ++i) {
    if ((raw[i] == '#' || raw[i] == ';') && (raw[i - 1] == ' ' || raw[i - 1] == '\t')) {
      raw = core::trim(raw.substr(0, i));
      break;
    }
  }
  return std::string(raw);
}

}  // namespace

std::vector<IniEntry> parse_ini(const std::string& text, const std::string& file) {
  std::vector<IniEntry> entries;
  std::set<std::string> seen;
  std::string section;
  std::istringstream in(text);
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    const std::string where = file + ":" + std::to_string(line_no);
    std::string_view s = core::trim(line);
    if (line_no == 1 && s.substr(0, 3) == "\xEF\xBB\xBF") s = core::trim(s.substr(3));  // UTF-8 BOM
    if (s.empty() || s.front() == '#' || s.front() == ';') continue;
    if (s.front() == '[') {
      const size_t close = s.find(']');
      if (close == std::string_view::npos) throw ConfigError(where + ": section header without ']'");
      const std::string_view rest = core::trim(s.substr(close + 1));
      if (!rest.empty() && rest.front() != '#' && rest.front() != ';')
        throw ConfigError(where + ": unexpected text after section header");
      section = std::string(core::trim(s.substr(1, close - 1)));
      if (!valid_name(section)) throw ConfigError(where + ": invalid section name '[" + section + "]'");
      continue;
    }
    const size_t eq = s.find('=');
    if (eq == std::string_view::npos)
      throw ConfigError(where + ": expected 'key = value', '[section]' or a comment, got '" + std::string(s) + "'");
    const std::string name(core::trim(s.substr(0, eq)));
    if (!valid_name(name)) throw ConfigError(where + ": invalid key '" + name + "'");
    if (section.empty())
      throw ConfigError(where + ": key '" + name + "' is outside any section; put it under a [section] header");
    IniEntry e{section + "." + name, parse_value(s.substr(eq + 1), where), file, line_no};
    if (!seen.insert(e.key).second) throw ConfigError(where + ": key '" + e.key + "' is set twice in this file");
    entries.push_back(std::move(e));
  }
  return entries;
}

std::vector<IniEntry> read_ini_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw ConfigError("config file '" + path + "' is a directory; give an INI file to -c (e.g. " +
                      (std::filesystem::path(path) / "sft.ini").string() + ")");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("cannot read config file '" + path + "': " + std::strerror(errno) + "; check the -c path");
  std::ostringstream buf;
  buf << in.rdbuf();
  return parse_ini(buf.str(), path);
}

std::string quote_ini_value(const std::string& value) {
  bool needs = value.empty() || value != core::trim(value) || value.front() == '"';
  for (char c : value)
    if (c == '#' || c == ';' || c == '\n') needs = true;
  if (!needs) return value;
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace mdrl::config
