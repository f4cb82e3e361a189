// libFuzzer harness: INI files (config/ini.hpp). Any text parses or fails with a ConfigError naming
// the file; every value read back through quote_ini_value (what resolved_ini() writes) is unchanged.
#include <cstdint>

#include "config/ini.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(mdrl::fuzz::as_text(data, size));
  std::vector<mdrl::config::IniEntry> entries;
  mdrl::fuzz::expect_clean([&] { entries = mdrl::config::parse_ini(text, "fuzz/input.ini"); }, "fuzz/input.ini");
  for (const auto& e : entries) {
    const std::string again = "[s]\nk = " + mdrl::config::quote_ini_value(e.value) + "\n";
    std::vector<mdrl::config::IniEntry> back;
    mdrl::fuzz::expect_clean([&] { back = mdrl::config::parse_ini(again, "fuzz/roundtrip.ini"); });
    if (back.size() != 1 || back[0].value != e.value)
      mdrl::fuzz::finding("quote_ini_value does not round-trip", e.value.c_str());
  }
  return 0;
}
