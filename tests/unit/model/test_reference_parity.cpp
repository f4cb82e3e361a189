// Parity with an implementation no one here wrote: Hugging Face transformers' Llama with the causal
// mask off (tools/llada_reference.py) on the same tiny checkpoint gives the same logits as our
// LLaDA forward. Skips (with a message) when the Python side lacks transformers.
#include <torch/torch.h>

#include <boost/test/unit_test.hpp>

#include "io/safetensors.hpp"
#include "model/hf_checkpoint.hpp"
#include "model/llada.hpp"
#include "test_support.hpp"

using namespace mdrl;

BOOST_AUTO_TEST_CASE(logits_match_transformers_llama_without_causal_mask) {
  test::TempDir dir;
  auto cfg = model::preset("tiny");
  model::LladaModel m(cfg, 31);
  m->eval();
  model::export_hf_checkpoint(*m, (dir.path() / "ckpt").string(), torch::kFloat);
  torch::manual_seed(2);
  const auto ids = torch::randint(0, 256, {2, 12}, torch::kLong);
  io::write_safetensors((dir.path() / "ids.safetensors").string(), {{"ids", ids}});

  const auto r = test::run_command(test::env_or_throw("MDRL_PYTHON") + " " + test::env_or_throw("MDRL_SOURCE_DIR") +
                                   "/tools/llada_reference.py " + (dir.path() / "ckpt").string() + " " +
                                   (dir.path() / "ids.safetensors").string() + " " +
                                   (dir.path() / "logits.safetensors").string());
  if (r.status == 77) {
    BOOST_TEST_MESSAGE("skipped: " << r.output);
    return;
  }
  BOOST_REQUIRE_MESSAGE(r.status == 0, r.output);
  io::SafetensorsFile out((dir.path() / "logits.safetensors").string());
  const auto ref = out.tensor("logits");
  torch::NoGradGuard g;
  const auto ours = m->forward(ids);
  BOOST_REQUIRE(ours.sizes() == ref.sizes());
  const double diff = (ours - ref).abs().max().item<double>();
  BOOST_TEST_MESSAGE("max |logits_mdrl - logits_transformers| = " << diff);
  BOOST_TEST(diff < 1e-4);
}
