// The LLaDA model on CPU: shapes, logits at positions, bidirectionality, the key-padding mask,
// f32 vs bf16, reproducible init, HF checkpoint round trip, LoRA (fresh, disabled, merged, PEFT
// round trip) and activation checkpointing.
#include <torch/torch.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>

#include "core/error.hpp"
#include "model/hf_checkpoint.hpp"
#include "model/llada.hpp"
#include "model/peft.hpp"
#include "test_support.hpp"

using namespace mdrl;
using model::LladaModel;

namespace {
torch::Tensor random_ids(int64_t B, int64_t T, int64_t seed = 1) {
  torch::manual_seed(seed);
  return torch::randint(0, 256, {B, T}, torch::kLong);
}
double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat) - b.to(torch::kFloat)).abs().max().item<double>();
}
LladaModel tiny(uint64_t seed = 7) {
  LladaModel m(model::preset("tiny"), seed);
  m->eval();
  return m;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(llada)

BOOST_AUTO_TEST_CASE(config_presets_and_validation) {
  const auto c = model::preset("llada-8b");
  BOOST_TEST(c.num_parameters() == 8015581184LL);  // spec model.md §1 derived size
  BOOST_TEST(model::preset("llada-100m").num_parameters() > 90000000LL);
  BOOST_CHECK_THROW(model::preset("huge"), core::ConfigError);
  auto bad = c;
  bad.n_heads = 30;
  try {
    bad.validate("cfg.json");
    BOOST_FAIL("no error");
  } catch (const core::ConfigError& e) {
    BOOST_TEST(std::string(e.what()).find("cfg.json: d_model = 4096 is not divisible by n_heads = 30") != std::string::npos);
  }
  bad = c;
  bad.mask_token_id = bad.pad_token_id;
  BOOST_CHECK_THROW(bad.validate("x"), core::ConfigError);
}

BOOST_AUTO_TEST_CASE(shapes_and_logits_at_positions) {
  auto m = tiny();
  torch::NoGradGuard g;
  const auto ids = random_ids(3, 10);
  const auto logits = m->forward(ids);
  BOOST_TEST(logits.sizes().vec() == std::vector<int64_t>({3, 10, 264}));
  const auto pos = torch::tensor({{0, 9}, {3, 3}, {5, 1}}, torch::kLong);
  const auto at = m->logits(m->hidden(ids), pos);
  BOOST_TEST(at.sizes().vec() == std::vector<int64_t>({3, 2, 264}));
  for (int64_t b = 0; b < 3; ++b)
    for (int64_t p = 0; p < 2; ++p)
      BOOST_TEST(max_diff(at[b][p], logits[b][pos[b][p].item<int64_t>()]) < 1e-6);
}

BOOST_AUTO_TEST_CASE(init_is_reproducible_from_the_seed) {
  auto a = tiny(3), b = tiny(3), c = tiny(4);
  const auto pa = a->parameters(), pb = b->parameters(), pc = c->parameters();
  bool any_differs = false;
  for (size_t i = 0; i < pa.size(); ++i) {
    BOOST_REQUIRE(torch::equal(pa[i], pb[i]));
    any_differs |= !torch::equal(pa[i], pc[i]);
  }
  BOOST_TEST(any_differs);
  // Truncated at 3 sigma, sigma = 1/sqrt(64) for wte.
  BOOST_TEST(a->wte->weight.abs().max().item<double>() <= 3.0 / 8.0 + 1e-6);
}

BOOST_AUTO_TEST_CASE(attention_is_bidirectional) {
  auto m = tiny();
  torch::NoGradGuard g;
  auto ids = random_ids(1, 12);
  const auto before = m->forward(ids);
  ids[0][11] = (ids[0][11].item<int64_t>() + 1) % 256;  // change the LAST token
  const auto after = m->forward(ids);
  BOOST_TEST(max_diff(before[0][0], after[0][0]) > 1e-4);  // the FIRST position sees it
}

BOOST_AUTO_TEST_CASE(padding_mask_isolates_padded_keys) {
  auto m = tiny();
  torch::NoGradGuard g;
  const auto ids = random_ids(1, 9);
  const auto alone = m->forward(ids);
  const int64_t P = 4;
  for (int64_t pad_value : {257, 42}) {  // whatever the padding holds
    auto padded = torch::cat({torch::full({1, P}, pad_value, torch::kLong), ids}, 1);
    auto mask = torch::cat({torch::zeros({1, P}, torch::kLong), torch::ones({1, 9}, torch::kLong)}, 1);
    const auto out = m->forward(padded, mask).narrow(1, P, 9);
    // RoPE is relative: the shift by P positions only changes rounding.
    BOOST_TEST(max_diff(out, alone) < 1e-4);
  }
  // Without the mask the padding is attended and the outputs change.
  auto padded = torch::cat({torch::full({1, P}, 42, torch::kLong), ids}, 1);
  BOOST_TEST(max_diff(m->forward(padded).narrow(1, P, 9), alone) > 1e-3);
}

BOOST_AUTO_TEST_CASE(f32_and_bf16_agree) {
  auto m = tiny();
  torch::NoGradGuard g;
  const auto ids = random_ids(2, 16);
  const auto p32 = torch::softmax(m->forward(ids), -1);
  m->to(torch::kBFloat16);
  const auto p16 = torch::softmax(m->forward(ids).to(torch::kFloat), -1);
  // Stated tolerance: probabilities within 0.02, argmax agreeing on >= 90% of positions.
  BOOST_TEST(max_diff(p32, p16) < 0.02);
  const double agree = (p32.argmax(-1) == p16.argmax(-1)).to(torch::kFloat).mean().item<double>();
  BOOST_TEST(agree >= 0.9);
}

BOOST_AUTO_TEST_CASE(hf_checkpoint_round_trip) {
  test::TempDir dir;
  auto m = tiny(11);
  const auto folder = (dir.path() / "ckpt").string();
  model::export_hf_checkpoint(*m, folder, torch::kFloat, 20000);  // small shards: an index + several files
  BOOST_TEST(std::filesystem::exists(std::filesystem::path(folder) / "model.safetensors.index.json"));
  BOOST_TEST(std::filesystem::exists(std::filesystem::path(folder) / "config.json"));
  auto loaded = model::load_hf_checkpoint(folder, torch::kCPU, torch::kFloat);
  loaded->eval();
  torch::NoGradGuard g;
  const auto ids = random_ids(2, 8);
  BOOST_TEST(torch::equal(loaded->forward(ids), m->forward(ids)));
  // A model of another shape refuses the weights, naming the tensor.
  auto cfg = model::preset("tiny");
  cfg.n_layers = 3;
  LladaModel wrong(cfg, 0);
  try {
    model::load_hf_weights(*wrong, folder);
    BOOST_FAIL("no error");
  } catch (const core::FormatError& e) {
    BOOST_TEST(std::string(e.what()).find("model.transformer.blocks.2.attn_norm.weight' is missing") != std::string::npos,
               e.what());
  }
}

BOOST_AUTO_TEST_CASE(lora_fresh_disabled_merged_and_peft) {
  test::TempDir dir;
  auto base = tiny(5);
  torch::NoGradGuard g;
  const auto ids = random_ids(2, 10);
  const auto ref = base->forward(ids);

  auto m = tiny(5);
  model::LoraSettings l;
  l.rank = 4, l.alpha = 8, l.dropout = 0.0, l.targets = {"q_proj", "k_proj", "v_proj", "up_proj"};
  m->add_lora(l, 1);
  BOOST_TEST(torch::equal(m->forward(ids), ref));  // B = 0: output unchanged
  BOOST_TEST(m->trainable_parameters().size() == 2u * 4u * 2u);  // A and B, 4 targets, 2 layers
  for (auto& p : m->trainable_parameters()) p.normal_(0, 0.1);  // a "trained" adapter
  const auto tuned = m->forward(ids);
  BOOST_TEST(max_diff(tuned, ref) > 1e-3);
  {
    model::AdaptersDisabled off(*m);
    BOOST_TEST(torch::equal(m->forward(ids), ref));  // reference policy = base weights
  }
  BOOST_TEST(torch::equal(m->forward(ids), tuned));

  const auto folder = (dir.path() / "adapter").string();
  model::save_peft_adapter(*m, folder, "GSAI-ML/LLaDA-8B-Instruct");
  auto reloaded = tiny(5);
  model::load_peft_adapter(*reloaded, folder);
  BOOST_TEST(torch::equal(reloaded->forward(ids), tuned));
  BOOST_TEST(reloaded->lora().targets.size() == 4u);

  m->merge_lora();
  BOOST_TEST(!m->has_lora());
  BOOST_TEST(max_diff(m->forward(ids), tuned) < 1e-5);  // merged = unmerged
}

BOOST_AUTO_TEST_CASE(peft_names_match_the_reference_layout) {
  BOOST_TEST(model::peft_name("blocks.3.q_proj.lora_A") ==
             "base_model.model.model.transformer.blocks.3.q_proj.lora_A.weight");
  BOOST_TEST(model::hf_name("ln_f.weight") == "model.transformer.ln_f.weight");
}

BOOST_AUTO_TEST_CASE(activation_checkpointing_gives_the_same_gradients) {
  const auto ids = random_ids(2, 12);
  const auto target = random_ids(2, 12, 9);
  for (bool with_lora : {false, true}) {
    std::vector<std::vector<torch::Tensor>> grads;
    for (bool ckpt : {false, true}) {
      auto m = tiny(21);
      if (with_lora) {
        model::LoraSettings l;
        l.rank = 4, l.alpha = 8, l.dropout = 0.3;  // dropout on: the recomputation must replay its masks
        m->add_lora(l, 2);
        torch::manual_seed(77);  // the same "trained" adapter in both runs
        for (auto& p : m->trainable_parameters()) p.data().normal_(0, 0.1);
      }
      m->seed_dropout(1234);
      m->train();
      m->set_activation_checkpointing(ckpt);
      const auto logits = m->forward(ids);
      torch::nn::functional::cross_entropy(logits.reshape({-1, logits.size(-1)}), target.reshape({-1})).backward();
      std::vector<torch::Tensor> gs;
      for (const auto& p : m->trainable_parameters()) gs.push_back(p.grad().clone());
      grads.push_back(gs);
    }
    BOOST_REQUIRE_EQUAL(grads[0].size(), grads[1].size());
    BOOST_REQUIRE(!grads[0].empty());
    for (size_t i = 0; i < grads[0].size(); ++i) BOOST_TEST(max_diff(grads[0][i], grads[1][i]) < 1e-6);
  }
}

BOOST_AUTO_TEST_SUITE_END()
