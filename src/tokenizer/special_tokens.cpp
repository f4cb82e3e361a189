// Special tokens from tokenizer_config.json (spec model.md §4.1): bos_token, eos_token, pad_token
// and mask_token, each a string or an {"content": ...} object. Without the file or a field, the
// LLaDA names are used when the vocabulary has them: BOS <|startoftext|>, EOS <|endoftext|>, PAD =
// EOS, mask <|mdm_mask|> (LLaDA does not register it as mask_token). The chat-template tokens are
// looked up by their fixed LLaDA names.
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "tokenizer/tokenizer_impl.hpp"

namespace mdrl::tokenizer {
namespace {

using json = nlohmann::json;

struct Named {
  std::string text;
  bool from_config = false;
};

Named token_name(const json& config, const std::string& source, const char* key, const char* fallback) {
  if (!config.is_object() || !config.contains(key) || config[key].is_null()) return {fallback, false};
  const json& v = config[key];
  if (v.is_string()) return {v.get<std::string>(), true};
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return {v["content"].get<std::string>(), true};
  throw core::FormatError(source + ": " + key + " is " + v.dump() + "; expected a token string or {\"content\": ...}");
}

}  // namespace

void resolve_special_tokens(Tokenizer::Impl& impl, const Tokenizer& tok, std::string_view config_json,
                            const std::string& config_source) {
  json config;
  if (!config_json.empty()) {
    try {
      config = json::parse(config_json);
    } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e400
      throw core::FormatError(config_source + ": not valid JSON (" + e.what() + ")");
    }
    MDRL_CHECK(config.is_object(), core::FormatError, config_source + ": the top level must be a JSON object");
    impl.config_source = config_source;
  }
  SpecialTokens& s = impl.special;
  const auto resolve = [&](const char* key, const char* fallback, std::string& text, std::optional<TokenId>& id) {
    const Named n = token_name(config, config_source, key, fallback);
    text = n.text;
    id = tok.token_to_id(n.text);
    MDRL_CHECK(id || !n.from_config, core::FormatError,
               config_source + ": " + key + " is '" + n.text + "', which is not a token of " + impl.source);
    if (!id) text.clear();
  };
  resolve("bos_token", "<|startoftext|>", s.bos_text, s.bos);
  resolve("eos_token", "<|endoftext|>", s.eos_text, s.eos);
  resolve("pad_token", s.eos_text.c_str(), s.pad_text, s.pad);
  resolve("mask_token", "<|mdm_mask|>", s.mask_text, s.mask);
  s.eot = tok.token_to_id("<|eot_id|>");
  s.start_header = tok.token_to_id("<|start_header_id|>");
  s.end_header = tok.token_to_id("<|end_header_id|>");
}

}  // namespace mdrl::tokenizer
