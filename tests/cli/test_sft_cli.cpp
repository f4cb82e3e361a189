// `mdrl sft` from the command line: what a user sees for bad data, a run directory that already
// has checkpoints, a checkpoint that does not fit the model, and a resume with changed run settings
// or a length already behind the checkpoint; each exits non-zero with a message naming the file or
// option, and leaves no run output behind.
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

// A resume must continue the same run: a changed run-determining option is refused with both values
// named unless train.resume_override lists it; a train.max_steps behind the checkpoint is refused
// instead of being reported finished; free options (cadences, logging, the run's length) may change.
BOOST_AUTO_TEST_CASE(resume_refuses_changed_settings_unless_overridden) {
  TempDir dir;
  const auto run = dir.path() / "run";
  const std::string base = "sft --sft.task=sudoku --sft.prompt_style=bare --sft.response_style=answer --tasks.generated_count=50"
                           " --run.dir=" + run.string() + " --train.max_steps=2" + kTiny + " --sft.max_length=112";
  const auto first = run_mdrl(base);
  BOOST_REQUIRE_MESSAGE(first.status == 0, first.output);
  BOOST_REQUIRE(fs::exists(run / "checkpoints" / "step_2.h5"));
  auto metric_rows = [&] {
    std::ifstream in(run / "metrics.jsonl");
    int n = 0;
    for (std::string line; std::getline(in, line);) n += !line.empty();
    return n;
  };

  const auto changed = run_mdrl(base + " --train.max_steps=4 --train.batch_size=1 --train.lr=0.001");
  BOOST_TEST(changed.status == 2, changed.output);
  BOOST_TEST(changed.output.find("step_2.h5") != std::string::npos, changed.output);
  BOOST_TEST(changed.output.find("train.batch_size = 2 in the checkpoint, 1 now") != std::string::npos, changed.output);
  BOOST_TEST(changed.output.find("train.lr = 1e-05 in the checkpoint, 0.001 now") != std::string::npos, changed.output);
  BOOST_TEST(changed.output.find("train.resume_override = train.lr,train.batch_size") != std::string::npos,
             changed.output);
  BOOST_TEST(!fs::exists(run / "checkpoints" / "step_4.h5"));

  const auto typo = run_mdrl(base + " --train.max_steps=4 --train.resume_override=train.batchsize");
  BOOST_TEST(typo.status == 2, typo.output);
  BOOST_TEST(typo.output.find("'train.batchsize'") != std::string::npos, typo.output);

  const auto shorter = run_mdrl(base + " --train.max_steps=1");
  BOOST_TEST(shorter.status == 2, shorter.output);
  BOOST_TEST(shorter.output.find("is at step 2, train.max_steps = 1: nothing to do") != std::string::npos,
             shorter.output);
  BOOST_TEST(metric_rows() == 2);

  // Listed options may change; so may free ones (cadence, logging, length) without listing.
  const auto overridden = run_mdrl(base + " --train.max_steps=4 --train.batch_size=1 --train.resume_override=train.batch_size"
                                          " --checkpoint.every=1 --train.log_every=2 --log.level=info");
  BOOST_REQUIRE_MESSAGE(overridden.status == 0, overridden.output);
  BOOST_TEST(overridden.output.find("resumed from") != std::string::npos, overridden.output);
  BOOST_TEST(overridden.output.find("train.batch_size = 2 in the checkpoint, 1 now (accepted") != std::string::npos,
             overridden.output);
  BOOST_TEST(fs::exists(run / "checkpoints" / "step_4.h5"));
  BOOST_TEST(metric_rows() == 4);
}
