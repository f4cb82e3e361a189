// The embedded default's byte-level tokenizer (inputs/tokenizer/byte_level/, written by
// tools/make_byte_level_tokenizer.py), compiled into the library so that `builtin:byte_level`
// works from any working directory. Parsed by the same loader as any tokenizer.json.
#pragma once

#include <string_view>

namespace mdrl::tokenizer::builtin {

std::string_view byte_level_tokenizer_json();
std::string_view byte_level_tokenizer_config_json();

}  // namespace mdrl::tokenizer::builtin
