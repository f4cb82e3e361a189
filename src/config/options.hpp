// Configuration of one mdrl mode (DESIGN.md "The executable"): each module's `XConfig` registers
// its section of options here with `add_options`, and checks itself in `validate`. Values come from,
// in rising precedence: the built-in defaults, `-c file.ini` files in the order given, and
// `--section.key=value` on the command line. Unknown keys are errors that name the file and line
// (or the command line) and suggest close matches. Enums are given by name.
//
// Boost.Program_options describes the options (help text, command-line tokenising, typed
// conversion); INI files are read by config/ini.hpp so every value keeps its origin.
#pragma once

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/value_semantic.hpp>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "config/format.hpp"

namespace mdrl::config {

class Options;

// Facts about one registered option, for help, tables, INI dumps and error messages.
struct OptionInfo {
  std::string key;                    // "section.name"
  std::string type;                   // int, float, bool, string, list, or "a|b|c" for enums
  std::vector<std::string> choices;   // enum names; empty otherwise
  std::string default_text;
  std::function<std::string()> current;  // text of the field's current value
};

// Registers options of one section; returned by Options::section().
class Section {
 public:
  // A scalar option (bool, integers, floating point, std::string) bound to `field`, whose current
  // value is the default.
  template <class T>
  Section& add(const std::string& name, T& field, const std::string& help);

  // An enum option given by name; `names` lists every valid value.
  template <class E>
  Section& add_enum(const std::string& name, E& field, std::vector<std::pair<std::string, E>> names,
                    const std::string& help);

  // A comma-separated list of strings ("q,k,v"); an empty value is the empty list.
  Section& add_list(const std::string& name, std::vector<std::string>& field, const std::string& help);

 private:
  friend class Options;
  Section(Options* owner, std::string name) : owner_(owner), name_(std::move(name)) {}
  Options* owner_;
  std::string name_;
};

// What the command line said besides option values.
struct CommandLine {
  std::vector<std::string> config_files;  // -c, in order
  std::vector<std::string> positional;    // arguments that are not options
  bool help = false;                      // -h / --help
  bool print_config = false;              // --print-config: print the resolved INI and exit
};

class Options {
 public:
  // `mode` names the mode in messages and in the INI header.
  explicit Options(std::string mode);
  ~Options();
  Options(const Options&) = delete;
  Options& operator=(const Options&) = delete;

  // Opens (or reopens) a section; `title` is shown in --help. Several modules may add to one section.
  Section section(const std::string& name, const std::string& title);
  // Runs after all values are in place; throw core::ConfigError naming the option on bad values.
  void add_validator(std::function<void()> validate);
  // Sections that other modes use: their keys in an INI file are skipped with a warning instead of
  // being unknown (so one base file can serve several modes). Unknown sections stay errors.
  void set_foreign_sections(std::set<std::string> sections);
  // Keys other modes register in sections this mode shares (run.walltime in generate): skipped
  // like foreign sections, so one mode's --print-config reads back in another.
  void set_foreign_keys(std::set<std::string> keys);
  // The INI keys skipped by the last parse() as other modes' options, each with its origin.
  const std::vector<std::pair<std::string, std::string>>& ignored() const { return ignored_; }
  // One line for the log naming what ignored() holds (empty when nothing was skipped).
  std::string ignored_summary() const;
  // How many positional arguments the mode accepts and what they are (for --help and errors).
  void allow_positional(std::string name, bool many);

  // Parses the arguments after the mode name, reads the -c files, applies precedence, converts
  // and validates. Throws core::ConfigError / core::UsageError. With --help set in the result, no
  // values were read and nothing was validated.
  CommandLine parse(const std::vector<std::string>& args);

  std::string help_text(const std::string& usage) const;
  // Table of every option: key, value, and where the value came from (default, file:line, command line).
  std::string resolved_table() const;
  // The same table restricted to options whose value differs from the built-in default.
  std::string changed_table() const;
  // INI text of every option's value, readable back with -c (provenance in HDF5 files, --print-config).
  std::string resolved_ini() const;
  // Where the value of `key` came from after parse(): "default", "file.ini:3" or "command line".
  std::string origin(const std::string& key) const;
  const std::vector<OptionInfo>& options() const { return infos_; }
  std::vector<std::string> section_names() const;

 private:
  friend class Section;
  boost::program_options::options_description& section_desc(const std::string& name);
  void register_option(const std::string& section, const std::string& name, OptionInfo info,
                       boost::program_options::value_semantic* semantic, const std::string& help);

  std::string mode_;
  std::vector<std::pair<std::string, std::unique_ptr<boost::program_options::options_description>>> sections_;
  std::vector<OptionInfo> infos_;
  std::map<std::string, std::string> origins_;
  std::vector<std::function<void()>> validators_;
  std::set<std::string> foreign_sections_;
  std::set<std::string> foreign_keys_;
  std::vector<std::pair<std::string, std::string>> ignored_;
  std::string table(bool changed_only) const;
  std::string positional_name_;
  bool positional_many_ = false;
  bool positional_allowed_ = false;
};

// ---- templates -----------------------------------------------------------------------------------

template <class T>
Section& Section::add(const std::string& name, T& field, const std::string& help) {
  static_assert(!std::is_unsigned_v<T> || std::is_same_v<T, bool>,
                "unsigned options read '-1' as a huge number; use a signed type and validate the range");
  OptionInfo info;
  info.type = type_name<T>();
  info.default_text = format_value(field);
  info.current = [&field] { return format_value(field); };
  auto* semantic = boost::program_options::value<T>(&field)->default_value(field, info.default_text);
  semantic->value_name(info.type);
  if constexpr (std::is_same_v<T, bool>) semantic->implicit_value(true, "true");
  owner_->register_option(name_, name, std::move(info), semantic, help);
  return *this;
}

template <class E>
Section& Section::add_enum(const std::string& name, E& field, std::vector<std::pair<std::string, E>> names,
                           const std::string& help) {
  OptionInfo info;
  std::string def;
  for (const auto& [n, v] : names) {
    info.choices.push_back(n);
    if (v == field) def = n;
  }
  info.type = join_choices(info.choices);
  info.default_text = def;
  auto table = std::make_shared<std::vector<std::pair<std::string, E>>>(std::move(names));
  info.current = [&field, table] {
    for (const auto& [n, v] : *table)
      if (v == field) return n;
    return std::string("?");
  };
  // Names were checked against `choices` before notify, so the lookup always succeeds.
  auto* semantic = boost::program_options::value<std::string>()->default_value(def)->notifier(
      [&field, table](const std::string& text) {
        for (const auto& [n, v] : *table)
          if (n == text) field = v;
      });
  semantic->value_name(info.type);
  owner_->register_option(name_, name, std::move(info), semantic, help);
  return *this;
}

}  // namespace mdrl::config
