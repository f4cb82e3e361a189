// Reading tokenizer.json and tokenizer_config.json (spec model.md §4.1, §5.1). Every malformed or
// unsupported field is reported with the file and the field's path, e.g.
//   "tokenizer.json: pre_tokenizer.pretokenizers[0].behavior is 'Foo'; expected one of ...".
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "core/text.hpp"
#include "tokenizer/builtin.hpp"
#include "tokenizer/tokenizer_impl.hpp"
#include "tokenizer/utf8.hpp"

namespace mdrl::tokenizer {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// Field access with messages that name the file and the field.
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}
  const std::string& file() const { return file_; }

  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw core::FormatError(file_ + ": " + field + " " + what);
  }

  json parse(std::string_view text) const {
    try {
      return json::parse(text);
    } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e400
      throw core::FormatError(file_ + ": not valid JSON (" + e.what() + ")");
    }
  }

  // obj[key], or nullptr when absent or null.
  const json* get(const json& obj, const std::string& path, const char* key) const {
    if (!obj.is_object()) fail(path, "must be a JSON object, not " + std::string(obj.type_name()));
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
  }
  const json& require(const json& obj, const std::string& path, const char* key) const {
    const json* v = get(obj, path, key);
    if (v == nullptr) fail(join(path, key), "is missing");
    return *v;
  }
  std::string string(const json& v, const std::string& path) const {
    if (!v.is_string()) fail(path, "must be a string, not " + std::string(v.type_name()));
    return v.get<std::string>();
  }
  std::string type_of(const json& obj, const std::string& path) const {
    return string(require(obj, path, "type"), join(path, "type"));
  }
  bool flag(const json& obj, const std::string& path, const char* key, bool fallback) const {
    const json* v = get(obj, path, key);
    if (v == nullptr) return fallback;
    if (!v->is_boolean()) fail(join(path, key), "must be true or false, not " + v->dump());
    return v->get<bool>();
  }
  // `token`, when given, is named in the message (for fields whose path does not name it).
  TokenId id(const json& v, const std::string& path, const std::string& token = {}) const {
    const std::string of = token.empty() ? "" : " (token " + json(token).dump() + ")";
    if (!v.is_number_integer() || v.get<int64_t>() < 0)
      fail(path, "must be a token id (an integer from 0 to " + std::to_string(kMaxTokenId) + "), not " + v.dump() + of);
    if (v.get<int64_t>() > kMaxTokenId)
      fail(path, "is " + v.dump() + of + ", above the largest token id mdrl accepts, " + std::to_string(kMaxTokenId) +
                     " (2^24 - 1; ids index dense tables); renumber the token below it");
    return static_cast<TokenId>(v.get<int64_t>());
  }
  static std::string join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }
  static std::string at(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

 private:
  std::string file_;
};

NormalizationForm form_of(const std::string& type) {
  if (type == "NFC") return NormalizationForm::NFC;
  if (type == "NFD") return NormalizationForm::NFD;
  if (type == "NFKC") return NormalizationForm::NFKC;
  return NormalizationForm::NFKD;
}

void read_normalizer(const Reader& r, const json& j, const std::string& path, std::vector<NormalizationForm>& out) {
  const std::string type = r.type_of(j, path);
  if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD") {
    out.push_back(form_of(type));
  } else if (type == "Sequence") {
    const json& list = r.require(j, path, "normalizers");
    if (!list.is_array()) r.fail(Reader::join(path, "normalizers"), "must be an array");
    for (size_t i = 0; i < list.size(); ++i) read_normalizer(r, list[i], Reader::at(Reader::join(path, "normalizers"), i), out);
  } else {
    r.fail(Reader::join(path, "type"), "is '" + type + "'; mdrl supports the normalizers NFC, NFD, NFKC, NFKD and "
                                       "Sequence of these (LLaDA uses NFC)");
  }
}

std::string escape_literal(const std::string& s) {
  std::string out;
  for (const char c : s) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

SplitBehavior behavior_of(const Reader& r, const std::string& text, const std::string& path) {
  static const std::vector<std::pair<std::string, SplitBehavior>> kNames = {
      {"Removed", SplitBehavior::Removed},
      {"Isolated", SplitBehavior::Isolated},
      {"MergedWithPrevious", SplitBehavior::MergedWithPrevious},
      {"MergedWithNext", SplitBehavior::MergedWithNext},
      {"Contiguous", SplitBehavior::Contiguous}};
  for (const auto& [name, b] : kNames)
    if (text == name) return b;
  r.fail(path, "is '" + text + "'; expected one of Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous");
}

void read_pre_tokenizer(const Reader& r, const json& j, const std::string& path, std::vector<PreTokenizerStep>& out,
                        bool& byte_level) {
  const std::string type = r.type_of(j, path);
  if (type == "Sequence") {
    const json& list = r.require(j, path, "pretokenizers");
    if (!list.is_array()) r.fail(Reader::join(path, "pretokenizers"), "must be an array");
    for (size_t i = 0; i < list.size(); ++i)
      read_pre_tokenizer(r, list[i], Reader::at(Reader::join(path, "pretokenizers"), i), out, byte_level);
    return;
  }
  PreTokenizerStep step;
  if (type == "Split") {
    const std::string ppath = Reader::join(path, "pattern");
    const json& pattern = r.require(j, path, "pattern");
    std::string regex;
    if (const json* re = r.get(pattern, ppath, "Regex")) {
      regex = r.string(*re, Reader::join(ppath, "Regex"));
    } else if (const json* lit = r.get(pattern, ppath, "String")) {
      regex = escape_literal(r.string(*lit, Reader::join(ppath, "String")));
    } else {
      r.fail(ppath, "must be {\"Regex\": ...} or {\"String\": ...}");
    }
    step.kind = PreTokenizerStep::Kind::Split;
    step.regex = std::make_shared<const Regex>(regex, r.file() + ": " + ppath);
    step.behavior = behavior_of(r, r.string(r.require(j, path, "behavior"), Reader::join(path, "behavior")),
                                Reader::join(path, "behavior"));
    step.invert = r.flag(j, path, "invert", false);
  } else if (type == "ByteLevel") {
    step.kind = PreTokenizerStep::Kind::ByteLevel;
    step.add_prefix_space = r.flag(j, path, "add_prefix_space", true);
    if (r.flag(j, path, "use_regex", true))
      step.regex = std::make_shared<const Regex>(PreTokenizer::gpt2_pattern(), "ByteLevel pre-tokenizer");
    byte_level = true;
  } else {
    r.fail(Reader::join(path, "type"), "is '" + type + "'; mdrl supports the pre-tokenizers Split, ByteLevel and "
                                       "Sequence of these (byte-level BPE tokenizers such as LLaDA's)");
  }
  out.push_back(std::move(step));
}

bool has_byte_level_decoder(const Reader& r, const json& j, const std::string& path) {
  const std::string type = r.type_of(j, path);
  if (type == "ByteLevel") return true;
  if (type == "Sequence") {
    const json& list = r.require(j, path, "decoders");
    bool found = false;
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string p = Reader::at(Reader::join(path, "decoders"), i);
      if (!has_byte_level_decoder(r, list[i], p))
        r.fail(Reader::join(p, "type"), "is '" + r.type_of(list[i], p) + "'; mdrl supports the ByteLevel decoder only");
      found = true;
    }
    return found;
  }
  r.fail(Reader::join(path, "type"), "is '" + type + "'; mdrl supports the ByteLevel decoder only");
}

void read_post_processor(const Reader& r, const json& j, const std::string& path, const AddedVocabulary& added,
                         const BpeModel& model, PostProcessor& post) {
  const std::string type = r.type_of(j, path);
  if (type == "ByteLevel") return;  // offsets only
  if (type == "Sequence") {
    const json& list = r.require(j, path, "processors");
    for (size_t i = 0; i < list.size(); ++i)
      read_post_processor(r, list[i], Reader::at(Reader::join(path, "processors"), i), added, model, post);
    return;
  }
  if (type != "TemplateProcessing")
    r.fail(Reader::join(path, "type"), "is '" + type + "'; mdrl supports the post-processors TemplateProcessing, "
                                       "ByteLevel and Sequence of these");
  const std::string spath = Reader::join(path, "single");
  const json& single = r.require(j, path, "single");
  bool seen_sequence = false;
  for (size_t i = 0; i < single.size(); ++i) {
    const std::string ipath = Reader::at(spath, i);
    if (r.get(single[i], ipath, "Sequence") != nullptr) {
      seen_sequence = true;
      continue;
    }
    const json& tok = r.require(single[i], ipath, "SpecialToken");
    const std::string name = r.string(r.require(tok, Reader::join(ipath, "SpecialToken"), "id"),
                                      Reader::join(ipath, "SpecialToken.id"));
    // The ids come from the processor's own special_tokens table, else from the vocabulary.
    std::vector<TokenId> ids;
    const json* table = r.get(j, path, "special_tokens");
    if (table != nullptr && table->contains(name)) {
      const json& entry = (*table)[name];
      const std::string epath = Reader::join(path, "special_tokens." + name + ".ids");
      for (const auto& v : r.require(entry, Reader::join(path, "special_tokens." + name), "ids")) ids.push_back(r.id(v, epath));
    } else if (auto id = added.id_of(name)) {
      ids.push_back(*id);
    } else if (auto vid = model.id_of(name)) {
      ids.push_back(*vid);
    } else {
      r.fail(ipath, "names the token '" + name + "', which is neither in special_tokens nor in the vocabulary");
    }
    auto& dst = seen_sequence ? post.suffix : post.prefix;
    dst.insert(dst.end(), ids.begin(), ids.end());
  }
}

std::vector<std::pair<std::string, std::string>> read_merges(const Reader& r, const json& merges) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!merges.is_array()) r.fail("model.merges", "must be an array");
  out.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    const json& m = merges[i];
    const std::string path = Reader::at("model.merges", i);
    if (m.is_string()) {
      // Older files: "a b". A leading "#version" line of merges.txt may have been carried over.
      const std::string s = m.get<std::string>();
      if (i == 0 && s.rfind("#version", 0) == 0) continue;
      const size_t sp = s.find(' ');
      if (sp == std::string::npos || sp == 0 || sp + 1 >= s.size() || s.find(' ', sp + 1) != std::string::npos)
        r.fail(path, "is " + json(s).dump() + "; a merge string must be two tokens separated by one space");
      out.emplace_back(s.substr(0, sp), s.substr(sp + 1));
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      out.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());  // tokenizers >= 0.20: ["a", "b"]
    } else {
      r.fail(path, "is " + m.dump() + "; expected \"a b\" or [\"a\", \"b\"]");
    }
  }
  return out;
}

// Refuses ids far beyond the number of tokens (kIdGapAllowance): the by-id tables would be mostly
// gaps, e.g. 10^8 entries for one stray id. Names the token with the largest id.
void check_id_range(const Reader& r, const std::vector<std::pair<std::string, TokenId>>& vocab,
                    const std::vector<AddedToken>& added) {
  int64_t top = -1;
  std::string field, what;
  for (const auto& [tok, id] : vocab) {
    if (id <= top) continue;
    top = id;
    field = "model.vocab[" + json(tok).dump() + "]";
  }
  for (size_t i = 0; i < added.size(); ++i) {
    if (added[i].id <= top) continue;
    top = added[i].id;
    field = Reader::at("added_tokens", i) + ".id";
    what = " (token " + json(added[i].content).dump() + ")";
  }
  // Tokens in both lists count twice, which only loosens the bound.
  const auto tokens = static_cast<int64_t>(vocab.size() + added.size());
  const int64_t bound = max_id_bound(tokens);
  if (top >= bound)
    r.fail(field, "is " + std::to_string(top) + what + ", but the file has only " + std::to_string(tokens) +
                      " tokens; mdrl's tables are indexed by id, so ids must stay below 2 x tokens + " +
                      std::to_string(kIdGapAllowance) + " = " + std::to_string(bound) +
                      "; renumber the tokens without large gaps");
}

BpeModel read_model(const Reader& r, const json& model, const std::vector<AddedToken>& added) {
  const json* type = r.get(model, "model", "type");
  if (type != nullptr && r.string(*type, "model.type") != "BPE")
    r.fail("model.type", "is '" + type->get<std::string>() + "'; mdrl reads byte-level BPE tokenizers only (\"BPE\")");
  const json& vocab = r.require(model, "model", "vocab");
  if (!vocab.is_object()) r.fail("model.vocab", "must be an object mapping token strings to ids");
  std::vector<std::pair<std::string, TokenId>> entries;
  entries.reserve(vocab.size());
  for (const auto& [tok, id] : vocab.items()) entries.emplace_back(tok, r.id(id, "model.vocab[" + json(tok).dump() + "]"));
  check_id_range(r, entries, added);
  const json* merges = r.get(model, "model", "merges");
  const auto pairs = merges ? read_merges(r, *merges) : std::vector<std::pair<std::string, std::string>>{};

  if (const json* d = r.get(model, "model", "dropout"); d != nullptr && !(d->is_number() && d->get<double>() == 0.0))
    r.fail("model.dropout", "is " + d->dump() + "; BPE dropout (a training-time randomisation) is not supported, use null");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (const json* v = r.get(model, "model", key); v != nullptr && !(v->is_string() && v->get<std::string>().empty()))
      r.fail(std::string("model.") + key, "is " + v->dump() + "; byte-level BPE tokenizers use null here");
  BpeModel::Options opt;
  if (const json* unk = r.get(model, "model", "unk_token")) opt.unk_token = r.string(*unk, "model.unk_token");
  opt.fuse_unk = r.flag(model, "model", "fuse_unk", false);
  opt.byte_fallback = r.flag(model, "model", "byte_fallback", false);
  opt.ignore_merges = r.flag(model, "model", "ignore_merges", false);
  return BpeModel(entries, pairs, opt, r.file());
}

std::vector<AddedToken> read_added_tokens(const Reader& r, const json& root) {
  std::vector<AddedToken> out;
  const json* list = r.get(root, "", "added_tokens");
  if (list == nullptr) return out;
  if (!list->is_array()) r.fail("added_tokens", "must be an array");
  for (size_t i = 0; i < list->size(); ++i) {
    const json& e = (*list)[i];
    const std::string path = Reader::at("added_tokens", i);
    AddedToken t;
    t.content = r.string(r.require(e, path, "content"), Reader::join(path, "content"));
    t.id = r.id(r.require(e, path, "id"), Reader::join(path, "id"), t.content);
    if (t.content.empty()) r.fail(Reader::join(path, "content"), "is empty");
    t.special = r.flag(e, path, "special", false);
    t.normalized = r.flag(e, path, "normalized", !t.special);
    t.lstrip = r.flag(e, path, "lstrip", false);
    t.rstrip = r.flag(e, path, "rstrip", false);
    if (r.flag(e, path, "single_word", false))
      r.fail(Reader::join(path, "single_word"), "is true for " + json(t.content).dump() + "; not supported");
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace

// Defined in special_tokens.cpp.
void resolve_special_tokens(Tokenizer::Impl& impl, const Tokenizer& tok, std::string_view config_json,
                            const std::string& config_source);

Tokenizer Tokenizer::from_json(std::string_view tokenizer_json, const std::string& source, std::string_view config_json,
                               const std::string& config_source) {
  const Reader r(source);
  const json root = r.parse(tokenizer_json);
  if (!root.is_object()) r.fail("the top level", "must be a JSON object");
  auto impl = std::make_shared<Impl>();
  impl->source = source;
  const json& model = r.require(root, "", "model");
  auto added = read_added_tokens(r, root);
  impl->model = read_model(r, model, added);
  impl->added = AddedVocabulary(std::move(added));

  std::vector<NormalizationForm> forms;
  if (const json* n = r.get(root, "", "normalizer")) read_normalizer(r, *n, "normalizer", forms);
  impl->normalizer = Normalizer(forms);

  std::vector<PreTokenizerStep> steps;
  bool byte_level = false;
  if (const json* p = r.get(root, "", "pre_tokenizer")) read_pre_tokenizer(r, *p, "pre_tokenizer", steps, byte_level);
  if (!byte_level)
    r.fail("pre_tokenizer", "has no ByteLevel step; mdrl reads byte-level BPE tokenizers, whose vocabulary is written "
                            "in the ByteLevel alphabet");
  const bool has_regex = std::any_of(steps.begin(), steps.end(), [](const auto& s) { return s.regex != nullptr; });
  const bool jit = std::all_of(steps.begin(), steps.end(), [](const auto& s) { return !s.regex || s.regex->jit(); });
  impl->pre_tokenizer = PreTokenizer(std::move(steps));

  const json* decoder = r.get(root, "", "decoder");
  if (decoder == nullptr) r.fail("decoder", "is missing or null; byte-level BPE tokenizers need the ByteLevel decoder");
  has_byte_level_decoder(r, *decoder, "decoder");
  if (const json* p = r.get(root, "", "post_processor"))
    read_post_processor(r, *p, "post_processor", impl->added, impl->model, impl->post);

  impl->finish_loading();
  std::ostringstream d;
  d << "byte-level BPE, " << impl->model.size() << " vocabulary tokens, " << impl->model.merge_count() << " merges, "
    << impl->added.tokens().size() << " added tokens, normalizer " << (forms.empty() ? "none" : "Unicode")
    << ", regex " << (!has_regex ? "none" : jit ? "PCRE2 JIT" : "PCRE2 interpreted");
  impl->description = d.str();
  Tokenizer tok(impl);
  resolve_special_tokens(*impl, tok, config_json, config_source);
  return tok;
}

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  MDRL_CHECK(in.good(), core::InputError, "cannot open " + p.string() + " for reading");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

Tokenizer Tokenizer::load(const std::string& path) {
  if (path == kBuiltinByteLevel)
    return from_json(builtin::byte_level_tokenizer_json(), std::string(kBuiltinByteLevel) + " tokenizer.json",
                     builtin::byte_level_tokenizer_config_json(),
                     std::string(kBuiltinByteLevel) + " tokenizer_config.json");
  fs::path file = path;
  std::error_code ec;
  if (fs::is_directory(file, ec)) file /= "tokenizer.json";
  MDRL_CHECK(fs::is_regular_file(file, ec), core::InputError,
             "tokenizer file " + file.string() + " does not exist; give a tokenizer.json file or a folder holding one "
                                                 "(tokenizer.path), or '" + std::string(kBuiltinByteLevel) + "'");
  const fs::path config = file.parent_path() / "tokenizer_config.json";
  const bool has_config = fs::is_regular_file(config, ec);
  return from_json(read_file(file), file.string(), has_config ? read_file(config) : std::string(),
                   has_config ? config.string() : std::string());
}

}  // namespace mdrl::tokenizer
