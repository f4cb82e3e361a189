// The SFT objective (spec algorithms.md §3) through real parts: the byte-level tokenizer and chat
// template, tiny LLaDA; and the data rules (boundaries, quirk mode, bad rows).
#include <torch/torch.h>

#include <boost/test/unit_test.hpp>
#include <fstream>

#include "core/error.hpp"
#include "model/llada.hpp"
#include "model/llada_config.hpp"
#include "sft/sft_data.hpp"
#include "sft/sft_objective.hpp"
#include "test_support.hpp"
#include "tokenizer/chat_template.hpp"
#include "tokenizer/tokenizer.hpp"

using namespace mdrl;

namespace {

const tokenizer::Tokenizer& tok() {
  static const auto t = tokenizer::Tokenizer::load("builtin:byte_level");
  return t;
}

std::vector<int32_t> ids_of(const std::string& text) {
  const auto v = tok().encode(text);
  return {v.begin(), v.end()};
}

}  // namespace

BOOST_AUTO_TEST_CASE(sequence_is_templated_prompt_then_response_and_eot) {
  sft::SftConfig cfg;
  sft::SftDataStats st;
  sft::SftSequence s;
  BOOST_REQUIRE(sft::make_sequence("  What is 2+2?\n", "\n<answer>4</answer> ", cfg, tok(), s, st));
  const auto t = tokenizer::ChatTemplate::for_tokenizer(tok());
  const auto prompt = ids_of(t.render_user("What is 2+2?", tokenizer::PromptForm::Chat));
  const auto response = ids_of("<answer>4</answer>" + t.eot);  // content stripped, as the template does
  BOOST_REQUIRE_EQUAL(s.prompt_len, static_cast<int32_t>(prompt.size()));
  BOOST_TEST(std::vector<int32_t>(s.ids.begin(), s.ids.begin() + s.prompt_len) == prompt);
  BOOST_TEST(std::vector<int32_t>(s.ids.begin() + s.prompt_len, s.ids.end()) == response);

  // Quirk Q20: the whole conversation, with the trailing assistant header trained as response.
  cfg.template_quirks = true;
  sft::SftSequence q;
  BOOST_REQUIRE(sft::make_sequence("What is 2+2?", "<answer>4</answer>", cfg, tok(), q, st));
  const auto full = ids_of(t.render({{"user", "What is 2+2?"}, {"assistant", "<answer>4</answer>"}}));
  BOOST_TEST(q.ids == full);
  BOOST_TEST(q.prompt_len == static_cast<int32_t>(ids_of(t.render_user("What is 2+2?", tokenizer::PromptForm::Chat) + "\n").size()));
  BOOST_TEST(q.ids.size() == s.ids.size() + ids_of(t.start_header + "assistant" + t.end_header + "\n\n").size());
}

BOOST_AUTO_TEST_CASE(bad_pairs_are_skipped_and_counted) {
  sft::SftConfig cfg;
  cfg.max_length = 64;
  cfg.max_prompt_length = 40;
  sft::SftDataStats st;
  sft::SftSequence s;
  BOOST_TEST(!sft::make_sequence("q", "  \n", cfg, tok(), s, st));
  BOOST_TEST(st.skipped_empty == 1);
  BOOST_TEST(!sft::make_sequence(std::string(60, 'x'), "r", cfg, tok(), s, st));
  BOOST_TEST(st.skipped_long_prompt == 1);
  // Over max_length: truncated by default (the reference), skipped with too_long = skip.
  BOOST_TEST(sft::make_sequence("q", std::string(100, 'y'), cfg, tok(), s, st));
  BOOST_TEST(st.truncated == 1);
  BOOST_TEST(s.ids.size() == 64u);
  cfg.too_long = sft::TooLong::Skip;
  BOOST_TEST(!sft::make_sequence("q", std::string(100, 'y'), cfg, tok(), s, st));
  BOOST_TEST(st.skipped_too_long == 1);
  BOOST_TEST(st.rows == 4);
}

BOOST_AUTO_TEST_CASE(jsonl_errors_name_file_line_and_field) {
  test::TempDir dir;
  const auto path = (dir.path() / "d.jsonl").string();
  std::ofstream(path) << R"({"prompt": "a", "response": "b"})" << "\n"
                      << R"({"prompt": "a", "answer": "b"})" << "\n";
  sft::SftConfig cfg;
  cfg.data = path;
  tasks::TasksConfig tc;
  BOOST_CHECK_EXCEPTION(sft::load_sft_data(cfg, tc, tok(), 1), core::FormatError, [&](const core::FormatError& e) {
    const std::string m = e.what();
    return m.find(path + ":2") != std::string::npos && m.find("'response'") != std::string::npos;
  });
  std::ofstream(path) << "{not json\n";
  BOOST_CHECK_EXCEPTION(sft::load_sft_data(cfg, tc, tok(), 1), core::FormatError, [&](const core::FormatError& e) {
    return std::string(e.what()).find(path + ":1") != std::string::npos;
  });
  cfg.data = (dir.path() / "missing.jsonl").string();
  BOOST_CHECK_THROW(sft::load_sft_data(cfg, tc, tok(), 1), core::InputError);
}

BOOST_AUTO_TEST_CASE(generated_sudoku_split_is_deterministic_and_disjoint) {
  sft::SftConfig cfg;
  cfg.task = "sudoku";
  cfg.prompt_style = sft::PromptStyle::Bare;
  cfg.response_style = sft::ResponseStyle::Answer;
  cfg.max_length = 128;
  cfg.eval_fraction = 0.1;
  tasks::TasksConfig tc;
  tc.generated_count = 200;
  const auto a = sft::load_sft_data(cfg, tc, tok(), 5), b = sft::load_sft_data(cfg, tc, tok(), 5);
  BOOST_TEST(a.train.size() == 180u);
  BOOST_TEST(a.eval.size() == 20u);
  BOOST_REQUIRE(a.task != nullptr);
  for (size_t i = 0; i < a.train.size(); ++i) BOOST_TEST(a.train[i].ids == b.train[i].ids);
  std::set<int64_t> train_examples;
  for (const auto& s : a.train) train_examples.insert(s.example);
  for (const auto& s : a.eval) BOOST_TEST(train_examples.count(s.example) == 0u);
  // The response is the answer part, ending with the template's end of turn.
  const auto& s = a.train[0];
  const auto& ex = a.examples[static_cast<size_t>(s.example)];
  const std::string resp = tok().decode(std::vector<tokenizer::TokenId>(s.ids.begin() + s.prompt_len, s.ids.end()));
  BOOST_TEST(resp == "<answer>\n" + ex.solution + "\n</answer><|eot_id|>");
}

BOOST_AUTO_TEST_CASE(forward_process_masks_only_responses_at_rate_t) {
  std::vector<sft::SftSequence> seqs(64);
  for (auto& s : seqs) {
    s.ids.assign(100, 7);
    s.prompt_len = 30;
  }
  std::vector<const sft::SftSequence*> ptrs;
  for (const auto& s : seqs) ptrs.push_back(&s);
  const auto batch = sft::collate(ptrs, /*pad_id=*/257, /*pad_to=*/128);
  BOOST_TEST(batch.ids.size(1) == 128);
  BOOST_TEST(batch.ids[0][110].item<int64_t>() == 257);
  BOOST_TEST(batch.prompt_tokens == 64 * 30);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(11);
  const auto n = sft::forward_process(batch, 258, 1e-3, gen);
  // No prompt position is masked; masked positions carry the mask id; padding can be masked.
  BOOST_TEST(n.targets.narrow(1, 0, 30).any().item<bool>() == false);
  BOOST_TEST(torch::equal(n.noisy.masked_select(n.targets), torch::full({n.targets.sum().item<int64_t>()}, 258, torch::kLong)));
  BOOST_TEST(n.targets.narrow(1, 100, 28).any().item<bool>());
  // Per row, the masked share of the 98 response positions is close to t'.
  const auto rate = n.targets.narrow(1, 30, 98).to(torch::kFloat).mean(1);
  BOOST_TEST((rate - n.t_prime).abs().mean().item<double>() < 0.06);
  // Fixed t: t' = (1 - eps) t + eps exactly.
  const auto f = sft::forward_process(batch, 258, 1e-3, gen, std::vector<double>(64, 0.5));
  BOOST_TEST(std::abs(f.t_prime[0].item<double>() - (0.999 * 0.5 + 1e-3)) < 1e-7);
}

BOOST_AUTO_TEST_CASE(loss_equals_the_reference_formula) {
  model::LladaModel m(model::preset("tiny"), 3);
  std::vector<sft::SftSequence> seqs(3);
  for (int i = 0; i < 3; ++i) {
    seqs[i].ids = ids_of("prompt " + std::to_string(i) + " and the answer " + std::string(static_cast<size_t>(i + 1), 'z'));
    seqs[i].prompt_len = 7;
  }
  std::vector<const sft::SftSequence*> ptrs{&seqs[0], &seqs[1], &seqs[2]};
  const auto batch = sft::collate(ptrs, 257, 40);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(5);
  const auto n = sft::forward_process(batch, 258, 1e-3, gen);
  const auto l = sft::sft_loss(*m, batch, n, sft::LossNorm::Reference, torch::kCPU);
  // The reference: CE over every position with label -100 where not masked, over the full logits.
  const auto logits = m->forward(n.noisy);  // [3, 40, V]
  const auto labels = batch.ids.masked_fill(n.targets.logical_not(), -100);
  const auto ce = torch::nn::functional::cross_entropy(
      logits.reshape({-1, logits.size(-1)}), labels.reshape({-1}),
      torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone).ignore_index(-100));
  const auto per_row = ce.reshape({3, 40}).sum(1) / n.t_prime;
  const double expected = per_row.sum().item<double>() / static_cast<double>(3 * 40 - batch.prompt_tokens);
  BOOST_TEST(std::abs(l.loss.item<double>() - expected) < 1e-5 * expected);
  BOOST_TEST(l.masked == n.targets.sum().item<int64_t>());
  BOOST_TEST(std::abs(l.unscaled() - ce.sum().item<double>() / static_cast<double>(l.masked)) < 1e-5);
  const auto lm = sft::sft_loss(*m, batch, n, sft::LossNorm::MaskedTokens, torch::kCPU);
  BOOST_TEST(std::abs(lm.loss.item<double>() - per_row.sum().item<double>() / static_cast<double>(l.masked)) < 1e-5 * expected * 10);
  // It is differentiable and reaches the embeddings.
  l.loss.backward();
  BOOST_TEST(m->wte->weight.grad().abs().sum().item<double>() > 0);
}
