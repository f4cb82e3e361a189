// `mdrl tokenize`: prints, for the text given as arguments, the token ids and one line per token
// (id, token string as tokenizer.json has it, and the text it stands for), or with
// --tokenize.decode the text of the ids given as arguments. Runs on rank 0 only.
#include "apps/mode_tokenize.hpp"

#include <iomanip>
#include <iostream>
#include <sstream>

#include "apps/mode_setup.hpp"
#include "config/options.hpp"
#include "config/run_config.hpp"
#include "core/error.hpp"
#include "core/text.hpp"
#include "dist/mpi_env.hpp"
#include "tokenizer/chat_template.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/tokenizer_config.hpp"
#include "tokenizer/utf8.hpp"

namespace mdrl::apps {
namespace {

using tokenizer::TokenId;

std::vector<TokenId> parse_ids(const std::vector<std::string>& args) {
  std::vector<TokenId> ids;
  for (const auto& arg : args) {
    std::string text = arg;
    for (char& c : text)
      if (c == ',' || c == '[' || c == ']') c = ' ';
    std::istringstream in(text);
    std::string word;
    while (in >> word) {
      size_t used = 0;
      long long v = -1;
      try {
        v = std::stoll(word, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      MDRL_CHECK(used == word.size() && v >= 0 && v <= INT32_MAX, core::UsageError,
                 "'" + word + "' is not a token id; with --tokenize.decode give ids such as 25752 1931 or 25752,1931");
      ids.push_back(static_cast<TokenId>(v));
    }
  }
  return ids;
}

// `s` padded with spaces to `width` characters (code points, so that "Ġx" lines up with "ab").
std::string pad(const std::string& s, size_t width) {
  size_t chars = 0;
  for (const char c : s) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return chars >= width ? s + " " : s + std::string(width - chars, ' ');
}

std::string encode_report(const tokenizer::Tokenizer& tok, const std::string& text) {
  const auto ids = tok.encode(text);
  std::ostringstream out;
  out << "text: \"" << tokenizer::utf8::escape(text) << "\" (" << text.size() << " bytes) -> " << ids.size()
      << " tokens\nids: [";
  for (size_t i = 0; i < ids.size(); ++i) out << (i ? ", " : "") << ids[i];
  out << "]\n" << std::setw(8) << "id" << "  " << pad("token", 24) << "text\n";
  for (const TokenId id : ids) {
    const std::string piece = tok.id_to_token(id).value_or("?");
    const std::string bytes = tok.decode_bytes(std::vector<TokenId>{id});
    out << std::setw(8) << id << "  " << pad(tokenizer::utf8::escape(piece), 24) << "\"" << tokenizer::utf8::escape(bytes) << "\"" << (tok.is_special(id) ? "  (special)" : "") << "\n";
  }
  return out.str();
}

}  // namespace

void TokenizeConfig::add_options(config::Options& opts) {
  opts.section("tokenize", "tokenize mode")
      .add("decode", decode, "the arguments are token ids (spaces or commas between them): print their text; write "
           "--tokenize.decode=true before the ids")
      .add("skip_special", skip_special, "when decoding, drop special tokens (skip_special_tokens)")
      .add_enum("form", form, {{"raw", Form::Raw}, {"chat", Form::Chat}, {"eval", Form::Eval}},
                "encode the text as is (raw), as one user message through the LLaDA chat template (chat), or as an "
                "evaluation prompt: the template plus <reasoning> (eval)");
}

int run_tokenize(const dist::MpiEnv& env, const std::vector<std::string>& args) {
  config::LogConfig log;
  tokenizer::TokenizerConfig tcfg;
  TokenizeConfig mcfg;
  config::Options opts("tokenize");
  log.add_options(opts);
  tcfg.add_options(opts);
  mcfg.add_options(opts);
  opts.allow_positional("text", /*many=*/true);
  const auto cl = setup_mode(env, opts, args,
                             "usage: mdrl tokenize [options] TEXT...\n"
                             "       mdrl tokenize --tokenize.decode=true [options] ID...\n\n"
                             "Encodes TEXT (the arguments joined by spaces) and prints the ids and one line per token,\n"
                             "or prints the text of the token ids given. For looking at what a tokenizer does.",
                             log, /*table_at_debug=*/true);
  if (env.rank() != 0) return 0;
  MDRL_CHECK(!cl.positional.empty(), core::UsageError,
             "mdrl tokenize needs the text (or, with --tokenize.decode, the ids) as arguments; see mdrl tokenize --help");
  const auto tok = tcfg.load();
  if (mcfg.decode) {
    const auto ids = parse_ids(cl.positional);
    // Decoding drops ids without a token (spec §5.4, for generated ids); given by hand, such an id
    // is a mistake, often ids of another tokenizer.
    for (const TokenId id : ids)
      MDRL_CHECK(tok.id_to_token(id).has_value(), core::UsageError,
                 "token id " + std::to_string(id) + " is not in the vocabulary of " + tok.source() + ", which has " +
                     std::to_string(tok.vocab_size()) + " ids (0 to " + std::to_string(tok.vocab_size() - 1) +
                     "); give ids of this tokenizer (mdrl tokenize TEXT prints them) or choose the tokenizer with "
                     "--tokenizer.path");
    std::cout << tok.decode(ids, mcfg.skip_special) << std::endl;
    return 0;
  }
  std::string text = core::join(cl.positional, " ");
  if (mcfg.form != TokenizeConfig::Form::Raw) {
    const auto tmpl = tokenizer::ChatTemplate::for_tokenizer(tok);
    text = tmpl.render_user(text, mcfg.form == TokenizeConfig::Form::Chat ? tokenizer::PromptForm::Chat
                                                                          : tokenizer::PromptForm::ChatReasoning);
  }
  std::cout << "tokenizer: " << tok.summary() << "\n" << encode_report(tok, text) << std::flush;
  return 0;
}

}  // namespace mdrl::apps
