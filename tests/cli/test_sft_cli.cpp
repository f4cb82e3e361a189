// `mdrl sft` from the command line: what a user sees for bad data, a run directory that already
// has checkpoints, and a checkpoint that does not fit the model; each exits non-zero with a message
// naming the file or option, and leaves no run output behind.
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

#include "test_support.hpp"

using namespace mdrl::test;
namespace fs = std::filesystem;

namespace {
const std::string kTiny =
    " --model.preset=tiny --sft.max_length=64 --train.batch_size=2 --train.grad_accum=1 --train.eval_every=0"
    " --sft.eval_fraction=0 --log.level=warn";
}

BOOST_AUTO_TEST_CASE(bad_jsonl_rows_name_file_line_and_field) {
  TempDir dir;
  const auto data = dir.write("d.jsonl", "{\"prompt\": \"2+2?\", \"response\": \"4\"}\n{\"prompt\": \"3+3?\"}\n");
  const auto run = dir.path() / "run";
  const auto r = run_mdrl("sft --sft.data=" + data + " --run.dir=" + run.string() + " --train.max_steps=1" + kTiny);
  BOOST_TEST(r.status != 0);
  BOOST_TEST(r.output.find(data + ":2") != std::string::npos, r.output);
  BOOST_TEST(r.output.find("'response'") != std::string::npos, r.output);
  BOOST_TEST(!fs::exists(run / "checkpoints"));
  BOOST_TEST(!fs::exists(run / "metrics.jsonl"));

  const auto missing = run_mdrl("sft --sft.data=" + (dir.path() / "nope.jsonl").string() + " --run.dir=" + run.string() + kTiny);
  BOOST_TEST(missing.status != 0);
  BOOST_TEST(missing.output.find("nope.jsonl") != std::string::npos, missing.output);
}

BOOST_AUTO_TEST_CASE(skipped_rows_are_counted_and_training_goes_on) {
  TempDir dir;
  std::string rows;
  for (int i = 0; i < 8; ++i) rows += "{\"prompt\": \"q" + std::to_string(i) + "\", \"response\": \"answer " + std::to_string(i) + "\"}\n";
  rows += "{\"prompt\": \"empty\", \"response\": \"\"}\n";
  rows += "{\"prompt\": \"" + std::string(200, 'p') + "\", \"response\": \"x\"}\n";
  const auto data = dir.write("d.jsonl", rows);
  const auto run = dir.path() / "run";
  const auto r = run_mdrl("sft --sft.data=" + data + " --run.dir=" + run.string() + " --train.max_steps=2" + kTiny);
  BOOST_REQUIRE_MESSAGE(r.status == 0, r.output);
  BOOST_TEST(r.output.find("skipped 2") != std::string::npos, r.output);
  BOOST_TEST(fs::exists(run / "final" / "model.safetensors"));
}

BOOST_AUTO_TEST_CASE(existing_checkpoints_need_resume_and_a_matching_model) {
  TempDir dir;
  const auto run = dir.path() / "run";
  const std::string base = "sft --sft.task=sudoku --sft.prompt_style=bare --sft.response_style=answer --tasks.generated_count=50"
                           " --run.dir=" + run.string() + " --train.max_steps=2" + kTiny + " --sft.max_length=112";
  const auto first = run_mdrl(base);
  BOOST_REQUIRE_MESSAGE(first.status == 0, first.output);
  BOOST_REQUIRE(fs::exists(run / "checkpoints" / "step_2.h5"));

  const auto refuse = run_mdrl(base + " --train.resume=false");
  BOOST_TEST(refuse.status == 2);
  BOOST_TEST(refuse.output.find("train.resume") != std::string::npos, refuse.output);

  // LoRA training cannot continue a full fine-tuning checkpoint.
  const auto lora = run_mdrl(base + " --lora.rank=4 --train.max_steps=4");
  BOOST_TEST(lora.status != 0);
  BOOST_TEST(lora.output.find("step_2.h5") != std::string::npos, lora.output);
  // Nothing new was written.
  BOOST_TEST(!fs::exists(run / "checkpoints" / "step_4.h5"));
}

// Activation checkpointing recomputes each block in backward (LoRA dropout masks replayed from the
// same generator state): the training run must be bit-identical to one without it.
BOOST_AUTO_TEST_CASE(activation_checkpointing_gives_the_same_run) {
  TempDir dir;
  auto train = [&](const std::string& name, bool checkpointing) {
    const auto run = dir.path() / name;
    const auto r = run_mdrl("sft --sft.task=sudoku --sft.prompt_style=bare --sft.response_style=answer"
                            " --tasks.generated_count=100 --lora.rank=4 --lora.alpha=8 --train.lr=1e-2"
                            " --train.max_steps=4 --run.dir=" + run.string() + kTiny + " --sft.max_length=112" +
                            " --model.activation_checkpointing=" + (checkpointing ? "true" : "false"));
    BOOST_REQUIRE_MESSAGE(r.status == 0, r.output);
    std::ifstream in(run / "final" / "adapter_model.safetensors", std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  const auto plain = train("plain", false), recomputed = train("recomputed", true);
  BOOST_REQUIRE(!plain.empty());
  BOOST_TEST((plain == recomputed));
}

// sft.final_weights = best (HF's load_best_model_at_end): final/ holds the kept checkpoint with the
// lowest eval_loss. With a constant LR the first N steps do not depend on max_steps, so a run
// stopped at that step must export the same bytes.
BOOST_AUTO_TEST_CASE(final_weights_best_exports_the_lowest_eval_loss_checkpoint) {
  TempDir dir;
  auto train = [&](const std::string& name, int steps, const std::string& extra) {
    const auto run = dir.path() / name;
    const auto r = run_mdrl("sft --sft.task=sudoku --sft.prompt_style=bare --sft.response_style=answer"
                            " --tasks.generated_count=200 --train.lr=0.3 --train.schedule=constant --train.batch_size=4"
                            " --train.eval_every=2 --checkpoint.every=2 --checkpoint.keep_last=0 --sft.eval_fraction=0.1"
                            " --sft.eval_decode=0 --model.preset=tiny --sft.max_length=112 --log.level=info"
                            " --train.max_steps=" + std::to_string(steps) + " --run.dir=" + run.string() + " " + extra);
    BOOST_REQUIRE_MESSAGE(r.status == 0, r.output);
    std::ifstream in(run / "final" / "model.safetensors", std::ios::binary);
    return std::make_pair(r.output, std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
  };
  const auto [log, best] = train("best", 8, "--sft.final_weights=best");
  const auto at = log.find("final weights from step ");
  BOOST_REQUIRE_MESSAGE(at != std::string::npos, log);  // the high LR makes a middle step the best
  const int step = std::stoi(log.substr(at + 24));
  BOOST_TEST(step < 8);
  const auto [log2, last] = train("last", step, "--sft.final_weights=last");
  BOOST_REQUIRE(!best.empty());
  BOOST_TEST((best == last));
}
