// [tokenizer] options: the path of the tokenizer a mode loads, checked before any work starts.
#include "tokenizer/tokenizer_config.hpp"

#include <filesystem>

#include "config/options.hpp"
#include "core/error.hpp"

namespace mdrl::tokenizer {

void TokenizerConfig::add_options(config::Options& opts) {
  opts.section("tokenizer", "tokenizer")
      .add("path", path,
           "tokenizer.json, or a folder holding it (and tokenizer_config.json), e.g. a Hugging Face checkpoint "
           "folder; 'builtin:byte_level' is the embedded byte-level tokenizer (inputs/tokenizer/byte_level)");
  opts.add_validator([this] { validate(); });
}

void TokenizerConfig::validate() const {
  MDRL_CHECK(!path.empty(), core::ConfigError,
             "tokenizer.path is empty; give a tokenizer.json, a folder holding one, or " +
                 std::string(Tokenizer::kBuiltinByteLevel));
  if (path == Tokenizer::kBuiltinByteLevel) return;
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path p = path;
  MDRL_CHECK(fs::exists(p, ec), core::ConfigError,
             "tokenizer.path = '" + path + "' does not exist; give a tokenizer.json, a folder holding one, or " +
                 std::string(Tokenizer::kBuiltinByteLevel));
  MDRL_CHECK(!fs::is_directory(p, ec) || fs::is_regular_file(p / "tokenizer.json", ec), core::ConfigError,
             "tokenizer.path = '" + path + "' is a folder without tokenizer.json");
}

}  // namespace mdrl::tokenizer
