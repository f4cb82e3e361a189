#include "config/options.hpp"

#include <algorithm>
#include <cctype>
#include <boost/program_options/parsers.hpp>
#include <boost/program_options/variables_map.hpp>
#include <sstream>

#include "config/ini.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/text.hpp"

namespace po = boost::program_options;

namespace mdrl::config {

using core::ConfigError;
using core::UsageError;

namespace {
constexpr const char* kCommandLine = "command line";
constexpr const char* kDefault = "default";

std::string section_of(const std::string& key) {
  const size_t dot = key.find('.');
  return dot == std::string::npos ? std::string() : key.substr(0, dot);
}

std::string strip_dashes(std::string s) {
  while (!s.empty() && s.front() == '-') s.erase(0, 1);
  return s;
}
}  // namespace

Section& Section::add_list(const std::string& name, std::vector<std::string>& field, const std::string& help) {
  OptionInfo info;
  info.type = "list";
  info.default_text = format_value(field);
  info.current = [&field] { return format_value(field); };
  const std::string key = name_ + "." + name;
  auto* semantic = po::value<std::string>()->default_value(info.default_text)->notifier([&field, key](const std::string& t) {
    field.clear();
    if (core::trim(t).empty()) return;
    for (auto& item : core::split(t, ',')) {
      if (item.empty()) throw ConfigError("option '" + key + "': empty item in list '" + t + "'");
      field.push_back(item);
    }
  });
  semantic->value_name("a,b,...");
  owner_->register_option(name_, name, std::move(info), semantic, help);
  return *this;
}

Options::Options(std::string mode) : mode_(std::move(mode)) {}
Options::~Options() = default;

po::options_description& Options::section_desc(const std::string& name) {
  for (auto& [n, d] : sections_)
    if (n == name) return *d;
  MDRL_ASSERT(false && "section not registered");
  return *sections_.front().second;
}

Section Options::section(const std::string& name, const std::string& title) {
  const bool exists = std::any_of(sections_.begin(), sections_.end(), [&](const auto& s) { return s.first == name; });
  if (!exists) sections_.emplace_back(name, std::make_unique<po::options_description>("[" + name + "] " + title, 100, 50));
  return Section(this, name);
}

void Options::register_option(const std::string& section, const std::string& name, OptionInfo info,
                              po::value_semantic* semantic, const std::string& help) {
  info.key = section + "." + name;
  for (const auto& i : infos_) MDRL_ASSERT(i.key != info.key);  // registered twice: a bug
  section_desc(section).add_options()(info.key.c_str(), semantic, help.c_str());
  infos_.push_back(std::move(info));
}

void Options::add_validator(std::function<void()> validate) { validators_.push_back(std::move(validate)); }
void Options::set_foreign_sections(std::set<std::string> sections) { foreign_sections_ = std::move(sections); }
void Options::set_foreign_keys(std::set<std::string> keys) { foreign_keys_ = std::move(keys); }

std::string Options::ignored_summary() const {
  if (ignored_.empty()) return {};
  std::vector<std::string> keys, files;
  for (const auto& [k, where] : ignored_) {
    if (keys.size() < 8) keys.push_back(k);
    const std::string file = where.substr(0, where.rfind(':'));
    if (std::find(files.begin(), files.end(), file) == files.end()) files.push_back(file);
  }
  std::string s = std::to_string(ignored_.size()) + " option(s) of other modes in " + core::join(files, ", ") +
                  " ignored by mode '" + mode_ + "': " + core::join(keys, ", ");
  if (ignored_.size() > keys.size()) s += ", ...";
  return s;
}
void Options::allow_positional(std::string name, bool many) {
  positional_allowed_ = true;
  positional_name_ = std::move(name);
  positional_many_ = many;
}

std::vector<std::string> Options::section_names() const {
  std::vector<std::string> out;
  for (const auto& [n, d] : sections_) out.push_back(n);
  return out;
}

std::string Options::origin(const std::string& key) const {
  auto it = origins_.find(key);
  return it == origins_.end() ? kDefault : it->second;
}

namespace {
po::options_description generic_options() {
  po::options_description g("General", 100, 50);
  g.add_options()("help,h", "show this help and exit")(
      "config,c", po::value<std::vector<std::string>>()->composing()->value_name("file.ini"),
      "read options from an INI file; repeatable, later files override earlier ones")(
      "print-config", "print the resolved configuration as INI text and exit");
  return g;
}
}  // namespace

CommandLine Options::parse(const std::vector<std::string>& args) {
  CommandLine cl;
  po::options_description all;
  all.add(generic_options());
  for (auto& [n, d] : sections_) all.add(*d);
  std::vector<std::string> keys;
  for (const auto& i : infos_) keys.push_back(i.key);

  auto unknown_key_message = [&](const std::string& key, const std::string& where) {
    std::string msg = where + ": unknown option '" + key + "' for mode '" + mode_ + "'";
    const auto close = core::closest_matches(key, keys);
    if (!close.empty()) msg += "; did you mean " + core::join(close, " or ") + "?";
    const std::string sec = section_of(key);
    std::vector<std::string> in_section;
    for (const auto& k : keys)
      if (section_of(k) == sec) in_section.push_back(k);
    if (!in_section.empty() && close.empty()) msg += "; options of [" + sec + "]: " + core::join(in_section, ", ");
    if (in_section.empty()) {
      const auto names = section_names();
      msg += "; sections of mode '" + mode_ + "': " + core::join(names, ", ");
    }
    return msg + " (see 'mdrl " + mode_ + " --help')";
  };

  // 1. Tokenise the command line. Prefix guessing is off: '--run.se' must not silently mean 'run.seed'.
  // Boost rejects '--key=' (empty value); pass it as '--key ""' so an empty list can be given.
  // A bare boolean flag means true and never takes the next argument as its value ('--x.flag 12'
  // leaves 12 as a positional argument), so '--key' becomes '--key=true'.
  std::vector<std::string> tokens;
  for (const auto& a : args) {
    const bool bool_flag = a.rfind("--", 0) == 0 && std::any_of(infos_.begin(), infos_.end(), [&](const OptionInfo& i) {
                             return i.type == "bool" && a == "--" + i.key;
                           });
    if (bool_flag) {
      tokens.push_back(a + "=true");
    } else if (a.size() > 3 && a.rfind("--", 0) == 0 && a.back() == '=' && a.find('=') == a.size() - 1) {
      tokens.push_back(a.substr(0, a.size() - 1));
      tokens.emplace_back();
    } else {
      tokens.push_back(a);
    }
  }
  po::parsed_options parsed(&all);
  try {
    const int style = po::command_line_style::unix_style & ~po::command_line_style::allow_guessing;
    parsed = po::command_line_parser(tokens).options(all).style(style).allow_unregistered().run();
  } catch (const po::error& e) {
    throw UsageError(std::string(kCommandLine) + ": " + e.what() + " (see 'mdrl " + mode_ + " --help')");
  }
  std::map<std::string, std::pair<std::string, std::string>> values;  // key -> (value, origin)
  std::vector<std::pair<std::string, std::string>> cli_values;
  for (const auto& opt : parsed.options) {
    if (opt.position_key >= 0) {  // positional argument
      cl.positional.insert(cl.positional.end(), opt.value.begin(), opt.value.end());
      continue;
    }
    if (opt.unregistered) {
      std::string key = strip_dashes(opt.original_tokens.empty() ? opt.string_key : opt.original_tokens.front());
      key = key.substr(0, key.find('='));
      throw UsageError(unknown_key_message(key, kCommandLine));
    }
    if (opt.string_key == "help") cl.help = true;
    else if (opt.string_key == "print-config") cl.print_config = true;
    else if (opt.string_key == "config") cl.config_files.insert(cl.config_files.end(), opt.value.begin(), opt.value.end());
    else {
      // Boolean flags given without a value arrive with an empty value list: the implicit 'true'.
      cli_values.emplace_back(opt.string_key, opt.value.empty() ? std::string("true") : opt.value.back());
    }
  }
  if (cl.help) return cl;
  if (!cl.positional.empty() && !positional_allowed_)
    throw UsageError(std::string(kCommandLine) + ": unexpected argument '" + cl.positional.front() + "'; mode '" +
                     mode_ + "' takes options only (--section.key=value, -c file.ini)");
  if (cl.positional.size() > 1 && !positional_many_)
    throw UsageError(std::string(kCommandLine) + ": mode '" + mode_ + "' takes one " + positional_name_ + ", got " +
                     std::to_string(cl.positional.size()));

  // 2. Files in order, then the command line: later sources override earlier ones.
  ignored_.clear();
  for (const auto& file : cl.config_files) {
    for (const auto& e : read_ini_file(file)) {
      if (std::find(keys.begin(), keys.end(), e.key) == keys.end()) {
        if (foreign_sections_.count(section_of(e.key)) || foreign_keys_.count(e.key)) {
          ignored_.emplace_back(e.key, e.origin());
          continue;
        }
        throw ConfigError(unknown_key_message(e.key, e.origin()));
      }
      values[e.key] = {e.value, e.origin()};
    }
  }
  for (const auto& [k, v] : cli_values) values[k] = {v, kCommandLine};

  // 3. Enum names are checked here, where the origin is known.
  for (const auto& info : infos_) {
    auto it = values.find(info.key);
    if (it == values.end() || info.choices.empty()) continue;
    const std::string& v = it->second.first;
    if (std::find(info.choices.begin(), info.choices.end(), v) == info.choices.end()) {
      std::string msg = it->second.second + ": invalid value '" + v + "' for option '" + info.key +
                        "'; valid values: " + core::join(info.choices, ", ");
      throw ConfigError(msg);
    }
  }

  // 4. Typed conversion through Boost.Program_options, then the modules' validators.
  origins_.clear();
  po::parsed_options merged(&all);
  for (const auto& [k, vo] : values) {
    merged.options.emplace_back(k, std::vector<std::string>{vo.first});
    origins_[k] = vo.second;
  }
  po::variables_map vm;
  try {
    po::store(merged, vm);
    po::notify(vm);
  } catch (const po::error_with_option_name& e) {
    const std::string key = strip_dashes(e.get_option_name());
    std::string type;
    for (const auto& i : infos_)
      if (i.key == key) type = i.type;
    auto it = values.find(key);
    const std::string where = it == values.end() ? std::string(kDefault) : it->second.second;
    const std::string value = it == values.end() ? std::string() : it->second.first;
    throw ConfigError(where + ": invalid value '" + value + "' for option '" + key + "' (expected " + type + ")");
  } catch (const ConfigError& e) {  // from a list notifier
    throw ConfigError(std::string("invalid option value: ") + e.what());
  }
  // Floating-point options are finite: 'inf' or 'nan' is never a meaningful setting.
  for (const auto& info : infos_) {
    auto it = values.find(info.key);
    if (info.type != "float" || it == values.end()) continue;
    std::string t(core::trim(it->second.first));
    for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (t.find("inf") != std::string::npos || t.find("nan") != std::string::npos)
      throw ConfigError(it->second.second + ": invalid value '" + it->second.first + "' for option '" + info.key +
                        "' (expected a finite number)");
  }
  // Validators name the option; prefix where its value came from (file:line or command line).
  try {
    for (const auto& validate : validators_) validate();
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    size_t best = std::string::npos;
    std::string where;
    for (const auto& [k, vo] : values) {
      const size_t at = msg.find(k);
      const bool whole = at != std::string::npos &&
                         (at + k.size() == msg.size() || !(std::isalnum(static_cast<unsigned char>(msg[at + k.size()])) ||
                                                           msg[at + k.size()] == '_'));
      if (whole && (best == std::string::npos || at < best)) {
        best = at;
        where = vo.second;
      }
    }
    if (where.empty() || msg.rfind(where, 0) == 0) throw;
    throw ConfigError(where + ": " + msg);
  }
  return cl;
}

std::string Options::help_text(const std::string& usage) const {
  std::ostringstream out;
  out << usage << "\n\n"
      << "Values: built-in defaults < -c files (in order) < --section.key=value on the command line.\n"
      << "In an INI file, option section.key is 'key = value' under '[section]'.\n\n"
      << generic_options() << "\n";
  for (const auto& [n, d] : sections_) out << *d << "\n";
  return out.str();
}

std::string Options::resolved_table() const { return table(false); }
std::string Options::changed_table() const { return table(true); }

std::string Options::table(bool changed_only) const {
  std::vector<const OptionInfo*> rows;
  for (const auto& i : infos_)
    if (!changed_only || i.current() != i.default_text) rows.push_back(&i);
  size_t wk = 6, wv = 5;
  for (const auto* ip : rows) {
    const auto& i = *ip;
    wk = std::max(wk, i.key.size());
    wv = std::max(wv, std::min<size_t>(i.current().size(), 60));
  }
  std::ostringstream out;
  auto row = [&](const std::string& k, const std::string& v, const std::string& o) {
    out << "  " << k << std::string(wk - k.size() + 2, ' ') << v << std::string(v.size() < wv ? wv - v.size() + 2 : 2, ' ')
        << o << "\n";
  };
  if (changed_only) {
    out << "configuration of mode '" << mode_ << "': " << rows.size() << " of " << infos_.size()
        << " options differ from the defaults" << (rows.empty() ? "" : ":") << " (all of them at log.level = debug)\n";
    if (rows.empty()) return out.str();
  } else {
    out << "configuration of mode '" << mode_ << "':\n";
  }
  row("option", "value", "source");
  row(std::string(wk, '-'), std::string(wv, '-'), "------");
  for (const auto* i : rows) row(i->key, i->current(), origin(i->key));
  return out.str();
}

std::string Options::resolved_ini() const {
  std::ostringstream out;
  out << "# mdrl " << mode_ << ": resolved configuration (read back with -c)\n";
  for (const auto& [sec, d] : sections_) {
    out << "\n[" << sec << "]\n";
    for (const auto& i : infos_)
      if (section_of(i.key) == sec) out << i.key.substr(sec.size() + 1) << " = " << quote_ini_value(i.current()) << "\n";
  }
  return out.str();
}

}  // namespace mdrl::config
