// `mdrl tokenize`: a debugging mode for the tokenizer (issue 4). Encodes the text given on the
// command line (optionally through the chat template) and prints ids and pieces, or decodes ids.
#pragma once

#include <string>
#include <vector>

namespace mdrl::config {
class Options;
}
namespace mdrl::dist {
class MpiEnv;
}

namespace mdrl::apps {

// [tokenize] options of the mode itself.
struct TokenizeConfig {
  enum class Form { Raw, Chat, Eval };
  bool decode = false;        // the arguments are token ids: print their text
  bool skip_special = false;  // decoding drops special tokens
  Form form = Form::Raw;      // encode the text as is, as a chat prompt, or as an eval prompt

  void add_options(config::Options& opts);
};

int run_tokenize(const dist::MpiEnv& env, const std::vector<std::string>& args);

}  // namespace mdrl::apps
