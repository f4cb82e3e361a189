// The LLaDA model on CPU: shapes, logits at positions, bidirectionality, the key-padding mask,
// f32 vs bf16, reproducible init, HF checkpoint round trip, LoRA (fresh, disabled, merged, PEFT
// round trip) and activation checkpointing; config.json checked against the weights before
// anything is allocated; adapters applied to another base model.
#include <torch/torch.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/log.hpp"
#include "model/hf_checkpoint.hpp"
#include "model/llada.hpp"
#include "model/model_config.hpp"
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
nlohmann::json read_json(const std::filesystem::path& p) { return nlohmann::json::parse(std::ifstream(p)); }
void write_json(const std::filesystem::path& p, const nlohmann::json& j) { std::ofstream(p) << j.dump(2); }
bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Loads `folder` expecting an error of exit status 2 whose message holds every one of `parts`.
void expect_refused(const std::string& folder, const std::vector<std::string>& parts) {
  try {
    model::load_hf_checkpoint(folder, torch::kCPU, torch::kFloat);
    BOOST_ERROR("loaded without error; expected: " + parts.front());
  } catch (const core::Error& e) {
    BOOST_TEST(e.exit_code() == 2, e.kind() << ": " << e.what());
    for (const auto& p : parts) BOOST_TEST(has(e.what(), p), "'" << p << "' not in: " << e.what());
  }
}

// Captures warning lines while alive.
struct WarningCapture {
  std::string text;
  WarningCapture() {
    core::log::set_sink([this](core::log::Level level, std::string_view line) {
      if (level == core::log::Level::Warn) text += std::string(line) + "\n";
    });
  }
  ~WarningCapture() { core::log::set_sink(nullptr); }
};
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

// token_logprobs = log_softmax of the full logits at the chosen positions, gradients included.
BOOST_AUTO_TEST_CASE(token_logprobs_match_full_log_softmax) {
  auto m = tiny();
  const auto ids = random_ids(2, 8);
  const auto tokens = random_ids(2, 8, 2);
  const auto flat = torch::tensor({0, 5, 7, 9, 15}, torch::kLong);  // rows 0 and 1 of B*T = 16
  const auto lp = model::token_logprobs(*m, m->hidden(ids), flat, tokens);
  BOOST_TEST(lp.sizes().vec() == std::vector<int64_t>({5}));
  const auto full = torch::log_softmax(m->forward(ids).to(torch::kFloat), -1).reshape({16, -1});
  const auto want = full.index_select(0, flat).gather(1, tokens.reshape({-1}).index_select(0, flat).unsqueeze(1)).squeeze(1);
  BOOST_TEST(max_diff(lp, want) < 1e-6);
  // The same gradient on the weights.
  const auto g1 = torch::autograd::grad({lp.sum()}, {m->ff_out->weight, m->wte->weight});
  const auto g2 = torch::autograd::grad({want.sum()}, {m->ff_out->weight, m->wte->weight});
  for (size_t i = 0; i < g1.size(); ++i) BOOST_TEST(max_diff(g1[i], g2[i]) < 1e-5);
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
  // torch_dtype names the dtype actually written (it said bfloat16 for f32 weights).
  BOOST_TEST(read_json(std::filesystem::path(folder) / "config.json")["torch_dtype"] == "float32");
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

// The row window (decoder window, RL completion): the last block's query side on the window only
// gives the full forward's rows there, with and without padding, and the same gradients (also
// through activation checkpointing) as the full forward's loss on those rows.
BOOST_AUTO_TEST_CASE(row_window_equals_the_full_forward_on_its_rows) {
  auto m = tiny(31);
  const auto ids = random_ids(3, 17);
  auto mask = torch::ones({3, 17}, torch::kBool);
  mask[2].narrow(0, 0, 5).fill_(false);
  for (const bool padded : {false, true}) {
    const auto am = padded ? mask : torch::Tensor();
    const auto full = m->hidden(ids, am);
    for (const auto [lo, len] : {std::pair<int64_t, int64_t>{0, 17}, {6, 11}, {16, 1}, {0, 3}}) {
      const auto w = m->hidden(ids, am, model::RowWindow{lo, len});
      BOOST_TEST(w.sizes() == torch::IntArrayRef({3, len, 64}));
      BOOST_TEST(max_diff(w, full.narrow(1, lo, len)) < 1e-5, "window " << lo << "+" << len);
    }
  }
  BOOST_CHECK_THROW(m->hidden(ids, {}, model::RowWindow{10, 8}), core::InternalError);
  const auto target = random_ids(3, 5, 4);
  std::vector<std::vector<torch::Tensor>> grads;
  for (const int run : {0, 1, 2}) {  // full then narrow; window; window + checkpointing
    auto mt = tiny(31);
    mt->train();
    mt->set_activation_checkpointing(run == 2);
    const auto h = run == 0 ? mt->hidden(ids, mask).narrow(1, 12, 5) : mt->hidden(ids, mask, model::RowWindow{12, 5});
    const auto logits = mt->logits(h);
    torch::nn::functional::cross_entropy(logits.reshape({-1, logits.size(-1)}), target.reshape({-1})).backward();
    std::vector<torch::Tensor> gs;
    for (const auto& p : mt->trainable_parameters()) gs.push_back(p.grad().clone());
    grads.push_back(gs);
  }
  for (size_t i = 0; i < grads[0].size(); ++i) {
    BOOST_TEST(max_diff(grads[0][i], grads[1][i]) < 1e-5, "parameter " << i);
    BOOST_TEST(max_diff(grads[1][i], grads[2][i]) < 1e-6, "parameter " << i);
  }
}

BOOST_AUTO_TEST_CASE(config_json_torch_dtype_follows_the_weights) {
  test::TempDir dir;
  auto m = tiny(2);
  model::export_hf_checkpoint(*m, (dir.path() / "bf16").string(), torch::kBFloat16);
  model::export_hf_checkpoint(*m, (dir.path() / "f32").string(), torch::kFloat);
  BOOST_TEST(read_json(dir.path() / "bf16" / "config.json")["torch_dtype"] == "bfloat16");
  BOOST_TEST(read_json(dir.path() / "f32" / "config.json")["torch_dtype"] == "float32");
  BOOST_TEST(model::load_hf_checkpoint((dir.path() / "bf16").string(), torch::kCPU, torch::kFloat)->config().d_model == 64);
}

// A corrupted config.json is refused before the model is allocated (n_layers = 1e12 used to grow
// until the kernel killed the process; mlp_hidden_size = 1e9 printed a LibTorch allocation trace),
// naming the key, its value, the file and, where the weights disagree, the tensor.
BOOST_AUTO_TEST_CASE(config_json_is_checked_against_bounds_and_weights_before_allocating) {
  test::TempDir dir;
  const auto good = dir.path() / "good";
  model::export_hf_checkpoint(*tiny(3), good.string(), torch::kFloat);
  const auto original = read_json(good / "config.json");
  int n = 0;
  auto corrupt = [&](const std::string& key, const nlohmann::json& value) {
    const auto folder = dir.path() / ("bad" + std::to_string(n++));
    std::filesystem::copy(good, folder);
    auto j = original;
    j[key] = value;
    write_json(folder / "config.json", j);
    return folder;
  };
  auto cfg_of = [](const std::filesystem::path& f) { return (f / "config.json").string(); };
  {
    const auto f = corrupt("n_layers", 1000000000000LL);
    expect_refused(f.string(), {cfg_of(f), "n_layers = 1000000000000", "above the limit"});
  }
  {
    const auto f = corrupt("mlp_hidden_size", 1e9);  // a float in JSON
    expect_refused(f.string(), {cfg_of(f), "mlp_hidden_size = 1000000000", "above the limit"});
  }
  {
    const auto f = corrupt("mlp_hidden_size", 1000000000);
    expect_refused(f.string(), {cfg_of(f), "mlp_hidden_size = 1000000000"});
  }
  {
    const auto f = corrupt("d_model", 128);
    expect_refused(f.string(), {cfg_of(f), "d_model = 128", "model.transformer.wte.weight", "[264, 64]", "[264, 128]"});
  }
  {
    const auto f = corrupt("mlp_hidden_size", 192);
    expect_refused(f.string(), {cfg_of(f), "mlp_hidden_size = 192", "model.transformer.blocks.0.ff_proj.weight",
                                "[176, 64]"});
  }
  {
    const auto f = corrupt("n_kv_heads", 2);
    expect_refused(f.string(), {cfg_of(f), "n_kv_heads = 2", "k_proj.weight"});
  }
  {
    const auto f = corrupt("embedding_size", 300);
    expect_refused(f.string(), {cfg_of(f), "embedding_size = 300", "wte.weight"});
  }
  for (int64_t layers : {1, 3}) {
    const auto f = corrupt("n_layers", layers);
    expect_refused(f.string(), {cfg_of(f), "n_layers = " + std::to_string(layers), "hold 2 block(s)"});
  }
  {
    const auto f = corrupt("n_heads", 4.5);
    expect_refused(f.string(), {cfg_of(f), "\"n_heads\" = 4.5 is not an integer"});
  }
  {
    const auto f = corrupt("d_model", "64");
    expect_refused(f.string(), {cfg_of(f), "\"d_model\" = \"64\" is not an integer"});
  }
  {
    const auto f = corrupt("rope_theta", "big");
    expect_refused(f.string(), {cfg_of(f), "\"rope_theta\" = \"big\" is not a number"});
  }
  {
    const auto f = corrupt("vocab_size", -5);
    expect_refused(f.string(), {cfg_of(f), "vocab_size = -5 must be positive"});
  }
  // An integral float is an integer: the unchanged model loads with d_model = 64.0.
  const auto f = corrupt("d_model", 64.0);
  BOOST_TEST(model::load_hf_checkpoint(f.string(), torch::kCPU, torch::kFloat)->config().d_model == 64);
}

BOOST_AUTO_TEST_CASE(adapter_base_names_are_compared) {
  test::TempDir dir;
  const auto a = dir.path() / "a", b = dir.path() / "b";
  std::filesystem::create_directories(a);
  std::filesystem::create_directories(b / "final");
  std::filesystem::create_directories(a / "final");
  std::filesystem::create_directory_symlink(a, dir.path() / "link");
  BOOST_TEST(model::adapter_base_mismatch("", a.string()).empty());  // unknown: nothing to say
  BOOST_TEST(model::adapter_base_mismatch(a.string(), "").empty());
  BOOST_TEST(model::adapter_base_mismatch("preset:tiny", "preset:tiny").empty());
  BOOST_TEST(model::adapter_base_mismatch(a.string(), (dir.path() / "link").string() + "/").empty());  // symlink, slash
  BOOST_TEST(model::adapter_base_mismatch("GSAI-ML/LLaDA-8B-Instruct", "/models/LLaDA-8B-Instruct/").empty());
  BOOST_TEST(!model::adapter_base_mismatch("GSAI-ML/LLaDA-8B-Base", "/models/LLaDA-8B-Instruct").empty());
  BOOST_TEST(!model::adapter_base_mismatch("preset:tiny", "preset:llada-100m").empty());
  BOOST_TEST(!model::adapter_base_mismatch("preset:tiny", a.string()).empty());
  // Two existing folders must be the same folder: every SFT run's weights are called "final".
  const auto m = model::adapter_base_mismatch((a / "final").string(), (b / "final").string());
  BOOST_TEST(has(m, (a / "final").string()), m);
  BOOST_TEST(has(m, (b / "final").string()), m);
}

// model.merge_adapter (the reference's adapter_path + merge_and_unload): the SFT adapter merged
// into the base at load; fresh [lora] adapters go on top and disabling them gives the merged model.
BOOST_AUTO_TEST_CASE(merge_adapter_then_fresh_lora) {
  test::TempDir dir;
  torch::NoGradGuard g;
  const auto ids = random_ids(2, 10);
  model::ModelConfig mc;
  mc.preset = "tiny";
  mc.seed = 5;
  model::LoraConfig none;
  auto sft = model::build_model(mc, none, torch::kCPU, 0);
  model::LoraSettings l;
  l.rank = 4, l.alpha = 8, l.dropout = 0.0, l.targets = {"q_proj", "v_proj"};
  sft->add_lora(l, 1);
  for (auto& p : sft->trainable_parameters()) p.normal_(0, 0.1);
  sft->eval();
  const auto tuned = sft->forward(ids);
  const auto folder = (dir.path() / "sft_adapter").string();
  model::save_peft_adapter(*sft, folder, "preset:tiny");

  mc.merge_adapter = folder;
  auto merged = model::build_model(mc, none, torch::kCPU, 0);
  merged->eval();
  BOOST_TEST(!merged->has_lora());
  BOOST_TEST(max_diff(merged->forward(ids), tuned) < 1e-5);
  BOOST_TEST(merged->trainable_parameters().size() == merged->parameters().size());  // full fine-tuning

  model::LoraConfig fresh;
  fresh.settings = l;
  fresh.settings.rank = 2;
  auto rl = model::build_model(mc, fresh, torch::kCPU, 0);
  rl->eval();
  BOOST_TEST(rl->has_lora());
  BOOST_TEST(rl->lora().rank == 2);
  BOOST_TEST(max_diff(rl->forward(ids), tuned) < 1e-5);  // fresh B = 0
  {
    model::AdaptersDisabled off(*rl);
    BOOST_TEST(max_diff(rl->forward(ids), tuned) < 1e-5);  // the reference: the merged SFT model
  }
}

BOOST_AUTO_TEST_CASE(adapter_on_another_base_warns_and_misfit_shapes_name_both) {
  test::TempDir dir;
  auto m = tiny(5);
  model::LoraSettings l;
  l.rank = 4, l.alpha = 8, l.dropout = 0.0, l.targets = {"q_proj", "v_proj"};
  m->add_lora(l, 1);
  const auto folder = (dir.path() / "adapter").string();
  model::save_peft_adapter(*m, folder, "preset:tiny");
  {
    WarningCapture w;
    auto same = tiny(5);
    model::load_peft_adapter(*same, folder, "preset:tiny");
    BOOST_TEST(w.text.empty(), w.text);
  }
  {
    WarningCapture w;
    auto other = tiny(6);
    model::load_peft_adapter(*other, folder, "/models/LLaDA-8B-Instruct");
    BOOST_TEST(other->has_lora());
    BOOST_TEST(has(w.text, "'preset:tiny'"), w.text);
    BOOST_TEST(has(w.text, "'/models/LLaDA-8B-Instruct'"), w.text);
    BOOST_TEST(has(w.text, folder), w.text);
  }
  // Shapes that do not fit: an error naming the tensor and both models, and no adapter added.
  auto cfg = model::preset("tiny");
  cfg.d_model = 32;
  LladaModel narrow(cfg, 0);
  try {
    model::load_peft_adapter(*narrow, folder, "/models/narrow");
    BOOST_FAIL("no error");
  } catch (const core::FormatError& e) {
    BOOST_TEST(has(e.what(), "blocks.0.q_proj.lora_A.weight' has shape [4, 64], the model needs [4, 32]"), e.what());
    BOOST_TEST(has(e.what(), "trained on 'preset:tiny'; the model is '/models/narrow'"), e.what());
  }
  BOOST_TEST(!narrow->has_lora());
  cfg = model::preset("tiny");
  cfg.n_layers = 3;
  LladaModel deeper(cfg, 0);
  try {
    model::load_peft_adapter(*deeper, folder, "preset:deeper");
    BOOST_FAIL("no error");
  } catch (const core::FormatError& e) {
    BOOST_TEST(has(e.what(), "blocks.2.q_proj.lora_A.weight' is missing"), e.what());
    BOOST_TEST(has(e.what(), "preset:tiny"), e.what());
  }
}

BOOST_AUTO_TEST_SUITE_END()
