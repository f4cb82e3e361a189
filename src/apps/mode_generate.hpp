// `mdrl generate`: decodes prompts with the configured model, tokenizer and [decode] settings and
// prints the completions; on a terminal it can show the unmasking live (issue 5).
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

// [generate] options of the mode itself.
struct GenerateConfig {
  enum class Form { Raw, Chat, Eval };
  std::string prompt_file;   // one prompt per line (besides or instead of the arguments)
  Form form = Form::Chat;    // how a prompt becomes tokens: as is, chat template, or eval prompt
  int64_t batch_size = 8;    // prompts decoded together (left-padded)
  bool live = true;          // show the unmasking step by step when stdout is a terminal (one rank)
  bool skip_special = true;  // drop special tokens from the printed text (the reference's decode)
  bool show_plan = false;    // print the decode plan before decoding
  std::string traces;        // folder for the decode traces (trajectory store format); empty = none

  void add_options(config::Options& opts);
  void validate() const;
};

int run_generate(const dist::MpiEnv& env, const std::vector<std::string>& args);

}  // namespace mdrl::apps
