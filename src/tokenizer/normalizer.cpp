// NFC/NFD/NFKC/NFKD through utf8proc_map (spec model.md §5.2 step 2).
#include "tokenizer/normalizer.hpp"

#include <utf8proc.h>

#include <cstdlib>
#include <new>

#include "core/error.hpp"
#include "tokenizer/utf8.hpp"

namespace mdrl::tokenizer {
namespace {

bool is_ascii(std::string_view text) {
  for (const char c : text)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

int options_of(NormalizationForm form) {
  switch (form) {
    case NormalizationForm::NFC: return UTF8PROC_STABLE | UTF8PROC_COMPOSE;
    case NormalizationForm::NFD: return UTF8PROC_STABLE | UTF8PROC_DECOMPOSE;
    case NormalizationForm::NFKC: return UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT;
    case NormalizationForm::NFKD: return UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT;
  }
  return 0;
}

// Normalizes well-formed UTF-8 `text`, appending to `out`.
void map_valid(std::string_view text, int options, std::string& out) {
  if (text.empty()) return;
  utf8proc_uint8_t* dst = nullptr;
  const utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                                          static_cast<utf8proc_ssize_t>(text.size()), &dst,
                                          static_cast<utf8proc_option_t>(options));
  if (n < 0) {
    if (n == UTF8PROC_ERROR_NOMEM) throw std::bad_alloc();
    throw core::InternalError(std::string("utf8proc_map failed on well-formed text: ") + utf8proc_errmsg(n));
  }
  out.append(reinterpret_cast<const char*>(dst), static_cast<size_t>(n));
  std::free(dst);
}

void apply_form(std::string_view text, NormalizationForm form, std::string& out) {
  const int options = options_of(form);
  size_t i = 0;
  while (i < text.size()) {
    const size_t ok = utf8::valid_prefix(text.substr(i));
    map_valid(text.substr(i, ok), options, out);
    i += ok;
    // Copy the ill-formed bytes up to the next well-formed character.
    while (i < text.size() && utf8::decode_char(text, i).length == 0) out.push_back(text[i++]);
  }
}

}  // namespace

std::string_view Normalizer::apply(std::string_view text, std::string& buffer) const {
  if (steps_.empty() || is_ascii(text)) return text;
  std::string tmp;
  std::string_view current = text;
  for (const NormalizationForm form : steps_) {
    tmp.clear();
    apply_form(current, form, tmp);
    buffer.swap(tmp);
    current = buffer;
  }
  return current;
}

}  // namespace mdrl::tokenizer
