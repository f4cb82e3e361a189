// libFuzzer harness: command-line options and -c INI files through config::Options (what every
// mode's parse does), with the sections of run, log, tokenizer and tasks plus one option of every
// kind. Input: INI text, NUL, then one argument per line. A bad file or argument is a ConfigError /
// UsageError; a resolved configuration written back with resolved_ini() reads back to itself.
#include <cstdint>
#include <memory>
#include <sstream>

#include "config/options.hpp"
#include "config/run_config.hpp"
#include "fuzz_support.hpp"
#include "tasks/task.hpp"
#include "tokenizer/tokenizer_config.hpp"

namespace {

enum class Colour { Red, Green, Blue };

struct Mode {
  mdrl::config::Options opts{"fuzz"};
  mdrl::config::RunConfig run;
  mdrl::config::LogConfig log;
  mdrl::tokenizer::TokenizerConfig tok;
  mdrl::tasks::TasksConfig tasks;
  int64_t count = 3;
  int n32 = 7;
  double rate = 0.5;
  float ratio = 0.25f;
  bool flag = false;
  std::string name = "x";
  Colour colour = Colour::Green;
  std::vector<std::string> list{"q", "v"};
  Mode() {
    run.add_options(opts);
    log.add_options(opts);
    tok.add_options(opts);
    tasks.add_options(opts);
    opts.section("extra", "Every kind of option")
        .add("count", count, "an int64")
        .add("n32", n32, "an int")
        .add("rate", rate, "a double")
        .add("ratio", ratio, "a float")
        .add("flag", flag, "a bool")
        .add("name", name, "a string")
        .add_enum("colour", colour, {{"red", Colour::Red}, {"green", Colour::Green}, {"blue", Colour::Blue}},
                  "an enum")
        .add_list("list", list, "a list");
    opts.set_foreign_sections({"sft"});
    opts.allow_positional("file", true);
  }
};

// Arguments that would make Options read a file of the harness's choosing (-c PATH) are dropped:
// the INI part is the file.
bool reads_a_file(const std::string& a) {
  if (a.rfind("--", 0) == 0) return a.rfind("--config", 0) == 0;
  return a.size() > 1 && a[0] == '-' && a.find('c') != std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parts = mdrl::fuzz::split_parts(mdrl::fuzz::as_text(data, size), 2);
  const std::string ini = mdrl::fuzz::write_scratch("options.ini", parts[0]);
  std::vector<std::string> args{"-c", ini};
  if (parts.size() > 1) {
    std::istringstream in(parts[1]);
    std::string a;
    while (std::getline(in, a))
      if (!reads_a_file(a)) args.push_back(a);
  }
  auto first = std::make_unique<Mode>();
  bool parsed = false;
  mdrl::config::CommandLine cl;
  mdrl::fuzz::expect_clean([&] {
    cl = first->opts.parse(args);
    parsed = true;
  });
  if (!parsed) return 0;
  if (cl.help) {
    (void)first->opts.help_text("mdrl fuzz [options]");
    return 0;
  }
  (void)first->opts.resolved_table();
  (void)first->opts.changed_table();
  const std::string resolved = first->opts.resolved_ini();
  // What --print-config and the HDF5 provenance store must read back to the same configuration.
  const std::string again = mdrl::fuzz::write_scratch("resolved.ini", resolved);
  auto second = std::make_unique<Mode>();
  std::string reread;
  try {
    second->opts.parse({"-c", again});
    reread = second->opts.resolved_ini();
  } catch (const std::exception& e) {
    mdrl::fuzz::finding("resolved_ini() does not read back", (std::string(e.what()) + "\n" + resolved).c_str());
  }
  if (reread != resolved) mdrl::fuzz::finding("resolved_ini() changes when read back", (resolved + "\n--\n" + reread).c_str());
  return 0;
}
