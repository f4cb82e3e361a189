// LLaDA chat template (spec model.md §4.2): content is stripped as Jinja's `trim` does (Python
// str.strip(), Unicode whitespace), so the leading "\n" of the reference's system prompts vanishes
// (spec algorithms.md §6.1).
#include "tokenizer/chat_template.hpp"

#include "core/error.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/utf8.hpp"

namespace mdrl::tokenizer {

ChatTemplate ChatTemplate::for_tokenizer(const Tokenizer& tokenizer) {
  ChatTemplate t;
  if (!tokenizer.special().bos_text.empty()) t.bos = tokenizer.special().bos_text;
  for (const std::string* s : {&t.bos, &t.start_header, &t.end_header, &t.eot}) {
    const auto id = tokenizer.token_to_id(*s);
    MDRL_CHECK(id.has_value() && tokenizer.encode(*s) == std::vector<TokenId>{*id}, core::FormatError,
               tokenizer.source() + " has no added token '" + *s +
                   "', which the LLaDA chat template needs; use a LLaDA tokenizer or the prompt form 'raw'");
  }
  return t;
}

std::string ChatTemplate::render(const std::vector<ChatMessage>& messages) const {
  std::string out;
  for (size_t k = 0; k < messages.size(); ++k) {
    if (k == 0) out += bos;
    out += start_header;
    out += messages[k].role;
    out += end_header;
    out += "\n\n";
    out += utf8::strip_python(messages[k].content);
    out += eot;
  }
  // The reference template appends the assistant header whatever add_generation_prompt says.
  out += start_header;
  out += "assistant";
  out += end_header;
  out += "\n\n";
  return out;
}

std::string ChatTemplate::render(const std::vector<ChatMessage>& messages, PromptForm form) const {
  switch (form) {
    case PromptForm::Raw: {
      std::string out;
      for (const auto& m : messages) out += m.content;
      return out;
    }
    case PromptForm::Chat: return render(messages);
    case PromptForm::ChatReasoning: return render(messages) + std::string(kReasoningPrefix);
  }
  return {};
}

std::string ChatTemplate::render_user(std::string_view content, PromptForm form) const {
  return render({ChatMessage{"user", std::string(content)}}, form);
}

}  // namespace mdrl::tokenizer
