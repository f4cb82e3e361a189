// SFT data loading (sft_data.hpp).
#include "sft/sft_data.hpp"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "tokenizer/chat_template.hpp"
#include "tokenizer/tokenizer.hpp"

namespace mdrl::sft {

const char* const kSftSystemPrompt =
    "\nRespond in the following format:\n<reasoning>\nYour reasoning here\n</reasoning>\n<answer>\n...\n</answer>\n";

namespace {

struct Pair {
  std::string user, response;
  int64_t example = -1;
};

// The texts to tokenise for one pair: fixed mode encodes prompt and response separately (an exact
// boundary); quirk mode encodes the whole text and takes the prompt length from prompt + "\n".
struct Rendered {
  std::string first;   // fixed: prompt; quirks: the full text
  std::string second;  // fixed: response (+ eot); quirks: prompt + "\n"
};

Rendered render(const tokenizer::ChatTemplate& t, const Pair& p, bool quirks) {
  const std::string prompt = t.render_user(p.user, tokenizer::PromptForm::Chat);
  const std::string full = t.render({{"user", p.user}, {"assistant", p.response}});
  if (quirks) return {full, prompt + "\n"};
  // full = prompt + strip(response) + eot + the always-appended assistant header: keep the middle.
  const std::string trailing = t.start_header + "assistant" + t.end_header + "\n\n";
  MDRL_CHECK(full.compare(0, prompt.size(), prompt) == 0 && full.size() >= prompt.size() + trailing.size(),
             core::InternalError, "chat template: the rendered conversation does not start with the rendered prompt");
  return {prompt, full.substr(prompt.size(), full.size() - prompt.size() - trailing.size())};
}

// Applies the length rules to tokenised text; false = skipped (counted).
bool assemble(const std::vector<tokenizer::TokenId>& a, const std::vector<tokenizer::TokenId>& b, const SftConfig& cfg,
              bool empty_response, SftSequence& out, SftDataStats& st) {
  if (empty_response) {
    ++st.skipped_empty;
    return false;
  }
  // Quirks: `a` is the whole text and `b` only measures the prompt; otherwise prompt `a` + response `b`.
  std::vector<int32_t> ids(a.begin(), a.end());
  int64_t prompt_len = static_cast<int64_t>(a.size());
  if (cfg.template_quirks)
    prompt_len = std::min<int64_t>(static_cast<int64_t>(b.size()), prompt_len);
  else
    ids.insert(ids.end(), b.begin(), b.end());
  const int64_t max_prompt = cfg.max_prompt_length > 0 ? cfg.max_prompt_length : cfg.max_length - 1;
  if (prompt_len > max_prompt) {
    ++st.skipped_long_prompt;
    return false;
  }
  if (static_cast<int64_t>(ids.size()) > cfg.max_length) {
    if (cfg.too_long == TooLong::Skip) {
      ++st.skipped_too_long;
      return false;
    }
    ++st.truncated;
  }
  st.prompt_tokens += prompt_len;
  st.response_tokens += static_cast<int64_t>(ids.size()) - prompt_len;
  if (static_cast<int64_t>(ids.size()) > cfg.max_length) ids.resize(static_cast<size_t>(cfg.max_length));
  out.ids = std::move(ids);
  out.prompt_len = static_cast<int32_t>(prompt_len);
  return true;
}

const nlohmann::json& field(const nlohmann::json& row, const std::string& name, const std::string& where) {
  const auto it = row.find(name);
  MDRL_CHECK(it != row.end(), core::FormatError,
             where + ": no field '" + name + "' (set sft.prompt_field / sft.response_field to the file's field names)");
  return *it;
}

std::string string_field(const nlohmann::json& row, const std::string& name, const std::string& where) {
  const auto& v = field(row, name, where);
  MDRL_CHECK(v.is_string(), core::FormatError, where + ": field '" + name + "' is not a string");
  return v.get<std::string>();
}

std::vector<Pair> read_jsonl(const SftConfig& cfg) {
  std::ifstream in(cfg.data);
  MDRL_CHECK(in.good(), core::InputError, "sft.data: cannot read '" + cfg.data + "'; check the path");
  std::vector<Pair> out;
  std::string line;
  int64_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = cfg.data + ":" + std::to_string(n);
    nlohmann::json row;
    try {
      row = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw core::FormatError(where + ": not a JSON object (" + e.what() + ")");
    }
    MDRL_CHECK(row.is_object(), core::FormatError, where + ": not a JSON object");
    Pair p;
    if (cfg.format == DataFormat::Pairs) {
      p.user = string_field(row, cfg.prompt_field, where);
      p.response = string_field(row, cfg.response_field, where);
    } else {
      // s1K (spec §3): user = SFT system prompt + "\n\n" + question; assistant = reasoning + answer tags.
      const auto& traj = field(row, "thinking_trajectories", where);
      MDRL_CHECK(traj.is_array() && !traj.empty() && traj[0].is_string(), core::FormatError,
                 where + ": 'thinking_trajectories' must be a non-empty list of strings");
      p.user = std::string(kSftSystemPrompt) + "\n\n" + string_field(row, "question", where);
      p.response = "<reasoning>" + traj[0].get<std::string>() + "</reasoning>\n<answer>" +
                   string_field(row, "attempt", where) + "</answer>";
    }
    out.push_back(std::move(p));
  }
  MDRL_CHECK(!out.empty(), core::FormatError, "sft.data: '" + cfg.data + "' has no rows");
  return out;
}

// "<answer>...</answer>" of a reasoning-style target (the whole text when it has no answer tag).
std::string answer_part(const std::string& completion) {
  const size_t at = completion.rfind("<answer>");
  return at == std::string::npos ? completion : completion.substr(at);
}

bool blank(const std::string& s) { return s.find_first_not_of(" \t\r\n") == std::string::npos; }

}  // namespace

std::string SftDataStats::describe() const {
  return std::to_string(rows) + " rows; skipped " + std::to_string(skipped_empty) + " with an empty response, " +
         std::to_string(skipped_long_prompt) + " with a prompt over the limit, " + std::to_string(skipped_too_long) +
         " over sft.max_length; truncated " + std::to_string(truncated) + "; " + std::to_string(prompt_tokens) +
         " prompt and " + std::to_string(response_tokens) + " response tokens";
}

bool make_sequence(const std::string& user, const std::string& response, const SftConfig& cfg,
                   const tokenizer::Tokenizer& tok, SftSequence& out, SftDataStats& stats) {
  const auto t = tokenizer::ChatTemplate::for_tokenizer(tok);
  const auto r = render(t, {user, response, -1}, cfg.template_quirks);
  ++stats.rows;
  return assemble(tok.encode(r.first), tok.encode(r.second), cfg, blank(response), out, stats);
}

SftDataset load_sft_data(const SftConfig& cfg, const tasks::TasksConfig& tasks_cfg, const tokenizer::Tokenizer& tok,
                         uint64_t run_seed, int threads) {
  SftDataset ds;
  std::vector<Pair> pairs;
  if (!cfg.data.empty()) {
    pairs = read_jsonl(cfg);
    ds.source = cfg.data;
  } else {
    ds.task = &tasks::find_task(cfg.task, "sft.task");
    ds.examples = tasks::training_examples(*ds.task, tasks_cfg, run_seed);
    ds.source = "task " + cfg.task + " (" + std::to_string(ds.examples.size()) + " examples)";
    for (size_t i = 0; i < ds.examples.size(); ++i) {
      const auto& ex = ds.examples[i];
      MDRL_CHECK(!ex.completion.empty() || ex.line == 0, core::ConfigError,
                 "sft.task = " + cfg.task + ": its training data has no target completions (line " +
                     std::to_string(ex.line) + "); give SFT pairs as a JSONL file in sft.data");
      Pair p;
      p.user = cfg.prompt_style == PromptStyle::Task ? ds.task->train_content(ex) : ds.task->eval_question(ex);
      p.response = cfg.response_style == ResponseStyle::Reasoning ? ex.completion : answer_part(ex.completion);
      p.example = static_cast<int64_t>(i);
      pairs.push_back(std::move(p));
    }
  }
  const auto tmpl = tokenizer::ChatTemplate::for_tokenizer(tok);
  std::vector<std::string> first, second;
  first.reserve(pairs.size());
  second.reserve(pairs.size());
  for (const auto& p : pairs) {
    auto r = render(tmpl, p, cfg.template_quirks);
    first.push_back(std::move(r.first));
    second.push_back(std::move(r.second));
  }
  const auto a = tok.encode_batch(first, threads), b = tok.encode_batch(second, threads);
  std::vector<SftSequence> all;
  for (size_t i = 0; i < pairs.size(); ++i) {
    ++ds.stats.rows;
    SftSequence s;
    if (!assemble(a[i], b[i], cfg, blank(pairs[i].response), s, ds.stats)) continue;
    s.example = pairs[i].example;
    all.push_back(std::move(s));
  }
  MDRL_CHECK(!all.empty(), core::FormatError,
             "no usable SFT example in " + ds.source + " (" + ds.stats.describe() + "); check sft.max_length and the data");
  // Shuffle once with the run seed (its own block of the data-order stream), hold out the first part.
  core::RngStream rng(run_seed, 0, core::RngPurpose::DataOrder, core::rng_block::kHeldOutSplit);
  core::shuffle(all, rng);
  size_t n_eval = static_cast<size_t>(static_cast<double>(all.size()) * cfg.eval_fraction);
  if (cfg.eval_fraction > 0 && n_eval == 0 && all.size() > 1) n_eval = 1;
  ds.eval.assign(std::make_move_iterator(all.begin()), std::make_move_iterator(all.begin() + static_cast<long>(n_eval)));
  ds.train.assign(std::make_move_iterator(all.begin() + static_cast<long>(n_eval)), std::make_move_iterator(all.end()));
  MDRL_CHECK(!ds.train.empty(), core::ConfigError,
             "sft.eval_fraction = " + std::to_string(cfg.eval_fraction) + " leaves no training example");
  return ds;
}

}  // namespace mdrl::sft
