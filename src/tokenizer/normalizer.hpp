// Unicode normalizers of tokenizer.json (spec model.md §5.1 `normalizer`, §5.2 step 2): NFC (what
// LLaDA uses), NFD, NFKC, NFKD, and Sequence of these, on utf8proc. Applied to the text between
// added tokens only. Ill-formed UTF-8 (possible through the byte-level API; Hugging Face only sees
// valid text) passes through unchanged between normalized runs.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mdrl::tokenizer {

enum class NormalizationForm { NFC, NFD, NFKC, NFKD };

class Normalizer {
 public:
  Normalizer() = default;  // the identity ("normalizer": null)
  explicit Normalizer(std::vector<NormalizationForm> steps) : steps_(std::move(steps)) {}

  bool identity() const { return steps_.empty(); }
  // The normalized text: `text` itself when nothing changes (pure ASCII is left as is by every
  // form), else a view of `buffer`.
  std::string_view apply(std::string_view text, std::string& buffer) const;

 private:
  std::vector<NormalizationForm> steps_;
};

}  // namespace mdrl::tokenizer
