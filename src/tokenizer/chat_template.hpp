// The LLaDA chat template (spec model.md §4.2) and the prompt forms built on it (spec
// algorithms.md §6.1-§6.2): for each message, <|start_header_id|>role<|end_header_id|>\n\n +
// strip(content) + <|eot_id|>, the first prefixed with BOS; then always the assistant header
// <|start_header_id|>assistant<|end_header_id|>\n\n. Evaluation prompts append "<reasoning>".
// Strings, not ids: prompts are rendered here and encoded by the Tokenizer, as the reference does.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mdrl::tokenizer {

class Tokenizer;

struct ChatMessage {
  std::string role;  // free text: user, system, assistant, ...
  std::string content;
};

enum class PromptForm {
  Raw,             // the messages' contents concatenated, no template (base models)
  Chat,            // the chat template (training prompts: no assistant prefill)
  ChatReasoning,   // the chat template + "<reasoning>" (evaluation prompts, spec algorithms.md §6.2)
};

struct ChatTemplate {
  std::string bos = "<|startoftext|>";
  std::string start_header = "<|start_header_id|>";
  std::string end_header = "<|end_header_id|>";
  std::string eot = "<|eot_id|>";

  // The template's strings, with BOS as the tokenizer names it. Throws core::FormatError naming
  // the token when the tokenizer lacks one (each must encode to exactly its added-token id).
  static ChatTemplate for_tokenizer(const Tokenizer& tokenizer);

  // The template applied to `messages` (add_generation_prompt is implied: the header is always added).
  std::string render(const std::vector<ChatMessage>& messages) const;
  std::string render(const std::vector<ChatMessage>& messages, PromptForm form) const;
  // One user message in the given form: what every task's prompt is.
  std::string render_user(std::string_view content, PromptForm form = PromptForm::Chat) const;

  // What the eval prompts append after the assistant header.
  static constexpr std::string_view kReasoningPrefix = "<reasoning>";
};

}  // namespace mdrl::tokenizer
