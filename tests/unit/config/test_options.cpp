// Options: registration by sections, precedence defaults < files in order < command line, origins,
// unknown keys with file/line and suggestions, enums by name, typed conversion errors, validators,
// and the resolved INI dump reading back to identical values.
#include <boost/test/unit_test.hpp>

#include "config/options.hpp"
#include "core/error.hpp"
#include "test_support.hpp"

using namespace mdrl;

namespace {
enum class Sched { Linear, Ass };

struct TestConfig {
  int64_t steps = 64;
  double lr = 1e-5;
  bool eoser = false;
  std::string name = "default name";
  Sched sched = Sched::Linear;
  std::vector<std::string> targets = {"q", "k", "v"};

  void add_options(config::Options& o) {
    o.section("t", "test section")
        .add("steps", steps, "number of steps")
        .add("lr", lr, "learning rate")
        .add("eoser", eoser, "EOS early rejection")
        .add("name", name, "a name")
        .add_enum("schedule", sched, {{"linear", Sched::Linear}, {"ass", Sched::Ass}}, "schedule")
        .add_list("targets", targets, "LoRA targets");
    o.add_validator([this] {
      MDRL_CHECK(steps > 0, core::ConfigError, "t.steps = " + std::to_string(steps) + " must be positive");
    });
  }
};

struct Fixture {
  test::TempDir dir;
  TestConfig cfg;
  config::Options opts{"testmode"};
  Fixture() { cfg.add_options(opts); }
};

template <class E>
std::string error_of(Fixture& f, const std::vector<std::string>& args) {
  try {
    f.opts.parse(args);
  } catch (const E& e) {
    return e.what();
  }
  return "no error";
}
bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
}  // namespace

BOOST_AUTO_TEST_SUITE(options)

BOOST_FIXTURE_TEST_CASE(defaults_survive_an_empty_command_line, Fixture) {
  opts.parse({});
  BOOST_TEST(cfg.steps == 64);
  BOOST_TEST(cfg.lr == 1e-5);
  BOOST_TEST(cfg.name == "default name");
  BOOST_TEST(opts.origin("t.steps") == "default");
}

BOOST_FIXTURE_TEST_CASE(precedence_defaults_files_in_order_command_line, Fixture) {
  const auto a = dir.write("a.ini", "[t]\nsteps = 10\nlr = 0.5\nname = from a\n");
  const auto b = dir.write("b.ini", "[t]\nsteps = 20\nschedule = ass\n");
  const auto cl = opts.parse({"-c", a, "--config=" + b, "--t.steps=30", "--t.eoser"});
  BOOST_TEST(cl.config_files.size() == 2u);
  BOOST_TEST(cfg.steps == 30);             // command line beats both files
  BOOST_TEST(cfg.lr == 0.5);               // only in a
  BOOST_TEST(cfg.name == "from a");
  BOOST_TEST((cfg.sched == Sched::Ass));   // b, later file
  BOOST_TEST(cfg.eoser);                   // bare flag = true
  BOOST_TEST(cfg.targets.size() == 3u);    // default
  BOOST_TEST(opts.origin("t.steps") == "command line");
  BOOST_TEST(opts.origin("t.lr") == a + ":3");
  BOOST_TEST(opts.origin("t.schedule") == b + ":3");
  BOOST_TEST(opts.origin("t.targets") == "default");
}

BOOST_FIXTURE_TEST_CASE(later_file_overrides_earlier, Fixture) {
  const auto a = dir.write("a.ini", "[t]\nsteps = 10\n");
  const auto b = dir.write("b.ini", "[t]\nsteps = 20\n");
  opts.parse({"-c", b, "-c", a});
  BOOST_TEST(cfg.steps == 10);
}

BOOST_FIXTURE_TEST_CASE(unknown_key_in_file_names_file_line_and_suggests, Fixture) {
  const auto a = dir.write("typo.ini", "[t]\nsteps = 1\nstesp = 2\n");
  const auto m = error_of<core::ConfigError>(*this, {"-c", a});
  BOOST_TEST(has(m, a + ":3: unknown option 't.stesp' for mode 'testmode'"), m);
  BOOST_TEST(has(m, "did you mean t.steps?"), m);
}

BOOST_FIXTURE_TEST_CASE(unknown_section_lists_sections, Fixture) {
  const auto a = dir.write("sec.ini", "[nosuch]\nx = 1\n");
  const auto m = error_of<core::ConfigError>(*this, {"-c", a});
  BOOST_TEST(has(m, "unknown option 'nosuch.x'"), m);
  BOOST_TEST(has(m, "sections of mode 'testmode': t"), m);
}

BOOST_FIXTURE_TEST_CASE(foreign_sections_are_skipped, Fixture) {
  opts.set_foreign_sections({"rl"});
  const auto a = dir.write("base.ini", "[rl]\nbeta = 0.04\n[t]\nsteps = 5\n");
  opts.parse({"-c", a});
  BOOST_TEST(cfg.steps == 5);
}

BOOST_FIXTURE_TEST_CASE(foreign_keys_are_skipped_and_summarised, Fixture) {
  opts.set_foreign_keys({"t.walltime", "t.other"});
  const auto a = dir.write("mode.ini", "[t]\nwalltime = 1:00:00\nother = 1\nsteps = 7\n");
  opts.parse({"-c", a});
  BOOST_TEST(cfg.steps == 7);
  BOOST_TEST(opts.ignored().size() == 2u);
  const auto line = opts.ignored_summary();
  BOOST_TEST(has(line, "2 option(s) of other modes in " + a + " ignored by mode 'testmode': t.walltime, t.other"), line);
  // A key no mode knows stays an error, and so does a foreign key on the command line.
  const auto b = dir.write("typo.ini", "[t]\nwalltme = 1\n");
  BOOST_TEST(has(error_of<core::ConfigError>(*this, {"-c", b}), "unknown option 't.walltme'"));
  BOOST_TEST(has(error_of<core::UsageError>(*this, {"--t.walltime=5"}), "unknown option 't.walltime'"));
}

BOOST_FIXTURE_TEST_CASE(non_finite_floats_refused_with_origin, Fixture) {
  const auto a = dir.write("lr.ini", "[t]\nlr = inf\n");
  const auto m = error_of<core::ConfigError>(*this, {"-c", a});
  BOOST_TEST(has(m, a + ":2: invalid value 'inf' for option 't.lr' (expected a finite number)"), m);
  BOOST_TEST(has(error_of<core::ConfigError>(*this, {"--t.lr=NaN"}), "command line: invalid value 'NaN'"));
  BOOST_TEST(has(error_of<core::ConfigError>(*this, {"--t.lr=-Infinity"}), "expected a finite number"));
}

BOOST_FIXTURE_TEST_CASE(validator_errors_name_the_origin, Fixture) {
  const auto a = dir.write("steps.ini", "[t]\n\nsteps = -3\n");
  const auto m = error_of<core::ConfigError>(*this, {"-c", a});
  BOOST_TEST(has(m, a + ":3: t.steps = -3 must be positive"), m);
}

BOOST_FIXTURE_TEST_CASE(directory_as_config_file_refused, Fixture) {
  const auto m = error_of<core::ConfigError>(*this, {"-c", dir.path().string()});
  BOOST_TEST(has(m, "is a directory"), m);
}

BOOST_FIXTURE_TEST_CASE(changed_table_lists_only_what_differs, Fixture) {
  opts.parse({"--t.steps=9"});
  const auto t = opts.changed_table();
  BOOST_TEST(has(t, "1 of 6 options differ from the defaults"), t);
  BOOST_TEST(has(t, "t.steps"), t);
  BOOST_TEST(!has(t, "t.lr"), t);
  BOOST_TEST(has(opts.resolved_table(), "t.lr"));
}

BOOST_FIXTURE_TEST_CASE(unknown_command_line_option, Fixture) {
  const auto m = error_of<core::UsageError>(*this, {"--t.step=3"});
  BOOST_TEST(has(m, "command line: unknown option 't.step'"), m);
  BOOST_TEST(has(m, "did you mean t.steps?"), m);
  const auto n = error_of<core::UsageError>(*this, {"--nonsense=1"});
  BOOST_TEST(has(n, "unknown option 'nonsense'"), n);
}

BOOST_FIXTURE_TEST_CASE(no_prefix_guessing, Fixture) {
  // Boost would otherwise accept '--t.ste' as an abbreviation of '--t.steps'.
  BOOST_TEST(has(error_of<core::UsageError>(*this, {"--t.ste=3"}), "unknown option 't.ste'"));
}

BOOST_FIXTURE_TEST_CASE(enum_values_by_name, Fixture) {
  const auto m = error_of<core::ConfigError>(*this, {"--t.schedule=1"});
  BOOST_TEST(has(m, "command line: invalid value '1' for option 't.schedule'; valid values: linear, ass"), m);
}

BOOST_FIXTURE_TEST_CASE(typed_conversion_errors_name_origin, Fixture) {
  const auto a = dir.write("bad.ini", "[t]\n\nsteps = ten\n");
  const auto m = error_of<core::ConfigError>(*this, {"-c", a});
  BOOST_TEST(has(m, a + ":3: invalid value 'ten' for option 't.steps' (expected int)"), m);
  Fixture g;
  BOOST_TEST(has(error_of<core::ConfigError>(g, {"--t.eoser=maybe"}), "expected bool"));
}

BOOST_FIXTURE_TEST_CASE(validators_run, Fixture) {
  BOOST_TEST(has(error_of<core::ConfigError>(*this, {"--t.steps=0"}), "t.steps = 0 must be positive"));
}

BOOST_FIXTURE_TEST_CASE(lists, Fixture) {
  opts.parse({"--t.targets=q, k,v ,up"});
  BOOST_TEST((cfg.targets == std::vector<std::string>{"q", "k", "v", "up"}));
  Fixture g;
  g.opts.parse({"--t.targets="});
  BOOST_TEST(g.cfg.targets.empty());
  Fixture h;
  BOOST_TEST(has(error_of<core::ConfigError>(h, {"--t.targets=q,,v"}), "empty item"));
}

BOOST_FIXTURE_TEST_CASE(positional_arguments_rejected_unless_allowed, Fixture) {
  BOOST_TEST(has(error_of<core::UsageError>(*this, {"stray"}), "unexpected argument 'stray'"));
  Fixture g;
  g.opts.allow_positional("prompt", true);
  const auto cl = g.opts.parse({"hello", "--t.steps=2", "world"});
  BOOST_TEST((cl.positional == std::vector<std::string>{"hello", "world"}));
}

BOOST_FIXTURE_TEST_CASE(bare_bool_flag_does_not_take_the_next_argument, Fixture) {
  opts.allow_positional("ids", true);
  const auto cl = opts.parse({"--t.eoser", "12"});
  BOOST_TEST(cfg.eoser);
  BOOST_TEST((cl.positional == std::vector<std::string>{"12"}));
  Fixture g;
  g.opts.parse({"--t.eoser=false"});
  BOOST_TEST(!g.cfg.eoser);
}

BOOST_FIXTURE_TEST_CASE(help_and_print_config_flags, Fixture) {
  BOOST_TEST(opts.parse({"--help", "--t.steps=0"}).help);  // help skips validation
  const std::string h = opts.help_text("usage: x");
  BOOST_TEST(has(h, "--t.schedule"));
  BOOST_TEST(has(h, "linear|ass"));
  BOOST_TEST(has(h, "(=1e-05)"));
  Fixture g;
  BOOST_TEST(g.opts.parse({"--print-config"}).print_config);
}

BOOST_FIXTURE_TEST_CASE(resolved_ini_reads_back_identically, Fixture) {
  opts.parse({"--t.lr=0.1", "--t.name= spaced # name", "--t.schedule=ass", "--t.targets=q,up", "--t.steps=7"});
  const std::string ini = opts.resolved_ini();
  const std::string table = opts.resolved_table();
  BOOST_TEST(has(table, "command line"));
  const auto path = dir.write("resolved.ini", ini);
  Fixture g;
  g.opts.parse({"-c", path});
  BOOST_TEST(g.cfg.lr == 0.1);
  BOOST_TEST(g.cfg.name == " spaced # name");
  BOOST_TEST((g.cfg.sched == Sched::Ass));
  BOOST_TEST((g.cfg.targets == std::vector<std::string>{"q", "up"}));
  BOOST_TEST(g.cfg.steps == 7);
  BOOST_TEST(g.opts.resolved_ini() == ini);
}

BOOST_AUTO_TEST_SUITE_END()
