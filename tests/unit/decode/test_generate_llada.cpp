// End to end with a tiny random LLaDA and the byte-level tokenizer: chat-template prompts of
// different lengths, left-padded in one batch, decode exactly as each prompt alone (attention
// mask on); every position is unmasked once; EOSER + ASS and semi-AR both complete.
#include <torch/torch.h>

#include <boost/test/unit_test.hpp>

#include "decode/decode_plan.hpp"
#include "decode/generate.hpp"
#include "model/llada.hpp"
#include "tokenizer/chat_template.hpp"
#include "tokenizer/tokenizer.hpp"

using namespace mdrl;
using namespace mdrl::decode;

namespace {
std::vector<std::vector<int64_t>> encode_prompts(const std::vector<std::string>& texts) {
  const auto tok = tokenizer::Tokenizer::load(tokenizer::Tokenizer::kBuiltinByteLevel);
  const auto tmpl = tokenizer::ChatTemplate::for_tokenizer(tok);
  std::vector<std::vector<int64_t>> out;
  for (const auto& t : texts) {
    const auto ids = tok.encode(tmpl.render_user(t));
    out.emplace_back(ids.begin(), ids.end());
  }
  return out;
}
LladaDenoiser tiny_denoiser() {
  model::LladaModel m(model::preset("tiny"), 13);
  m->eval();
  return LladaDenoiser(m);
}
}  // namespace

BOOST_AUTO_TEST_SUITE(generate_llada)

BOOST_AUTO_TEST_CASE(padded_batch_decodes_like_each_prompt_alone) {
  auto den = tiny_denoiser();
  const auto prompts = encode_prompts({"What is 2 + 3?", "Hi", "Solve the puzzle 1 2 3 4"});
  for (const auto schedule : {Schedule::SemiAr, Schedule::Ass}) {
    DecodeConfig cfg;
    cfg.gen_length = 32, cfg.schedule = schedule, cfg.block_length = 8, cfg.steps = schedule == Schedule::Ass ? 5 : 16;
    cfg.eoser = schedule == Schedule::Ass, cfg.block_num = 2;
    const auto plan = make_plan(cfg);
    core::RngStream stream(42, 0, core::RngPurpose::Sampling);
    auto gen = sampling_generator(stream, torch::kCPU);
    const auto batch = generate(den, left_pad(prompts, den.pad_id()), cfg, plan, gen);
    BOOST_TEST(batch.forwards == plan.num_steps());
    BOOST_TEST(batch.completion.ne(den.mask_id()).all().item<bool>());
    BOOST_TEST(batch.trace.step_map.ge(0).all().item<bool>());
    for (size_t b = 0; b < prompts.size(); ++b) {
      const auto alone = generate(den, left_pad({prompts[b]}, den.pad_id()), cfg, plan, gen);
      BOOST_TEST(torch::equal(alone.completion[0], batch.completion[static_cast<int64_t>(b)]));
      BOOST_TEST(torch::equal(alone.trace.step_map[0], batch.trace.step_map[static_cast<int64_t>(b)]));
    }
  }
}

BOOST_AUTO_TEST_CASE(sampled_decoding_is_reproducible_and_text_decodes) {
  auto den = tiny_denoiser();
  const auto prompts = encode_prompts({"Tell me a story", "Count to five"});
  DecodeConfig cfg;
  cfg.gen_length = 16, cfg.steps = 8, cfg.block_length = 16, cfg.temperature = 1.0, cfg.remasking = Remasking::Random;
  const auto plan = make_plan(cfg);
  auto run = [&] {
    core::RngStream stream(7, 0, core::RngPurpose::Sampling);
    auto gen = sampling_generator(stream, torch::kCPU);
    return generate(den, left_pad(prompts, den.pad_id()), cfg, plan, gen).completion.clone();
  };
  const auto a = run(), b = run();
  BOOST_TEST(torch::equal(a, b));
  const auto tok = tokenizer::Tokenizer::load(tokenizer::Tokenizer::kBuiltinByteLevel);
  std::vector<tokenizer::TokenId> ids;
  for (int64_t j = 0; j < a.size(1); ++j) ids.push_back(static_cast<tokenizer::TokenId>(a[0][j].item<int64_t>()));
  (void)tok.decode(ids, true);  // any ids the model emits are decodable
  BOOST_TEST(a.lt(den.vocab_size()).all().item<bool>());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(completion_ids_stop_at_the_first_eos_of_the_set) {
  const auto c = torch::tensor({5, 6, 257, 7, 8, 9, 261, 257, 1, 2, 3, 4}, torch::kLong).reshape({3, 4});
  const auto one = decode::completion_ids(c, {257});
  // Rows: [5 6 EOS 7], [8 9 EOT EOS], [1 2 3 4] (no EOS: the whole row).
  BOOST_TEST((one[0] == std::vector<int32_t>{5, 6}));
  BOOST_TEST((one[1] == std::vector<int32_t>{8, 9, 261}));
  BOOST_TEST((one[2] == std::vector<int32_t>{1, 2, 3, 4}));
  const auto two = decode::completion_ids(c, {257, 261});
  BOOST_TEST((two[1] == std::vector<int32_t>{8, 9}));
}
