// [tokenizer] options: which tokenizer a mode loads.
#pragma once

#include <string>

#include "tokenizer/tokenizer.hpp"

namespace mdrl::config {
class Options;
}

namespace mdrl::tokenizer {

struct TokenizerConfig {
  // A tokenizer.json, a folder holding one (a Hugging Face checkpoint folder; tokenizer_config.json
  // beside it is read too), or the embedded default's byte-level tokenizer.
  std::string path = Tokenizer::kBuiltinByteLevel;

  void add_options(config::Options& opts);
  void validate() const;
  Tokenizer load() const { return Tokenizer::load(path); }
};

}  // namespace mdrl::tokenizer
