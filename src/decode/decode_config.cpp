// [decode] options (spec algorithms.md §1, §4.2, §8.2). Defaults are d1's evaluation setting
// (L 256, semi-AR blocks of 32, 128 steps, greedy low-confidence remasking); the EOSER/ASS
// setting of the paper is schedule = ass, steps = log2 L, eoser = true.
#include "decode/decode_config.hpp"

#include "config/options.hpp"
#include "core/error.hpp"
#include "decode/decode_plan.hpp"

namespace mdrl::decode {

const char* schedule_name(Schedule s) {
  switch (s) {
    case Schedule::SemiAr: return "semi_ar";
    case Schedule::Diffusion: return "diffusion";
    case Schedule::Ass: return "ass";
  }
  return "?";
}

void DecodeConfig::add_options(config::Options& opts) {
  const std::vector<std::pair<std::string, Precision>> precisions = {{"f32", Precision::F32}, {"f64", Precision::F64}};
  opts.section("decode", "diffusion decoding (spec §1)")
      .add("gen_length", gen_length, "completion length L in tokens")
      .add("steps", steps, "decoding steps (forward passes); semi_ar splits them over the blocks as "
                           "max(1, steps / blocks) per block; ass needs steps = floor(log2 gen_length)")
      .add_enum("schedule", schedule,
                {{"semi_ar", Schedule::SemiAr}, {"diffusion", Schedule::Diffusion}, {"ass", Schedule::Ass}},
                "semi_ar: blocks of block_length left to right, linear counts; diffusion: one block of gen_length; "
                "ass: ascending step sizes 1, 2, 4, ... over block_num blocks")
      .add("block_length", block_length, "semi_ar window length; must divide gen_length (ignored by diffusion, ass)")
      .add("block_num", block_num, "ass: number of blocks, 1 to steps")
      .add_enum("remasking", remasking, {{"low_confidence", Remasking::LowConfidence}, {"random", Remasking::Random}},
                "which masked positions are unmasked first: highest model confidence, or uniformly random")
      .add("temperature", temperature, "Gumbel-max sampling temperature; 0 = greedy argmax")
      .add("cfg_scale", cfg_scale, "classifier-free guidance scale s (logits = u + (s + 1)(c - u)); 0 = off")
      .add("eoser", eoser, "EOS early rejection: scale EOS candidates' confidence by gamma(step)")
      .add("gamma_min", gamma_min, "EOSER gamma at the first step (the reference's values: 0.01 eval/train.yaml, "
                                   "0.4 config default)")
      .add("gamma_max", gamma_max, "EOSER gamma limit at the last step")
      .add_enum("gamma_schedule", gamma_schedule,
                {{"auto", GammaSchedule::Auto}, {"linear", GammaSchedule::Linear}, {"power", GammaSchedule::Power}},
                "EOSER gamma: linear in the step index, or power-of-two (2^(i+1)-1)/2^steps; auto = power for ass, "
                "linear otherwise")
      .add_enum("gamma_index", gamma_index, {{"global", GammaIndex::Global}, {"within_block", GammaIndex::WithinBlock}},
                "step index of the linear gamma: global over all forwards, or within the block with total = steps "
                "(the reference's eval eoser_generate, where gamma never reaches gamma_max with several blocks)")
      .add_list("eos_ids", eos_ids, "token ids that EOSER treats as EOS (comma-separated); empty = the model's "
                                    "eos_token_id (the reference's single id)")
      .add("sample_mask_token", sample_mask_token, "let sampling pick the mask id (the reference; such positions "
                                                   "stay masked); false excludes it from sampling")
      .add("attention_mask", attention_mask, "mask left padding out of attention; false = the reference, where "
                                             "pads are attended and results depend on batch composition")
      .add_enum("noise_precision", noise_precision, precisions, "precision of the Gumbel noise")
      .add_enum("f64_sampler", f64_sampler, {{"inverse_cdf", F64Sampler::InverseCdf}, {"gumbel", F64Sampler::Gumbel}},
                "how noise_precision = f64 samples softmax(l / T): inverse_cdf = one f64 uniform per position "
                "against the cumulative f64 softmax; gumbel = the reference's f64 Gumbel noise on every logit "
                "(the same distribution, other draws, several times slower at large vocabularies)")
      .add_enum("confidence_precision", confidence_precision, precisions, "precision of the softmax confidence")
      .add("eos_stats", eos_stats, "record how many EOS tokens each step unmasks (trace.eos_counts)");
  opts.add_validator([this] { validate(); });
}

void DecodeConfig::validate() const {
  MDRL_CHECK(temperature >= 0, core::ConfigError,
             "decode.temperature = " + std::to_string(temperature) + "; use 0 (greedy) or a positive value");
  MDRL_CHECK(cfg_scale >= 0, core::ConfigError,
             "decode.cfg_scale = " + std::to_string(cfg_scale) + "; use 0 (off) or a positive scale");
  MDRL_CHECK(gamma_min >= 0 && gamma_min <= gamma_max, core::ConfigError,
             "decode.gamma_min = " + std::to_string(gamma_min) + ", decode.gamma_max = " + std::to_string(gamma_max) +
                 "; need 0 <= gamma_min <= gamma_max");
  (void)eos_set(0);
  (void)make_plan(*this);
}

GammaSchedule DecodeConfig::resolved_gamma_schedule() const {
  if (gamma_schedule != GammaSchedule::Auto) return gamma_schedule;
  return schedule == Schedule::Ass ? GammaSchedule::Power : GammaSchedule::Linear;
}

std::vector<int64_t> DecodeConfig::eos_set(int64_t model_eos) const {
  if (eos_ids.empty()) return {model_eos};
  std::vector<int64_t> out;
  for (const auto& text : eos_ids) {
    size_t used = 0;
    long long v = -1;
    try {
      v = std::stoll(text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    MDRL_CHECK(used == text.size() && v >= 0, core::ConfigError,
               "decode.eos_ids: '" + text + "' is not a token id; give non-negative integers such as 126081,126348");
    out.push_back(v);
  }
  return out;
}

}  // namespace mdrl::decode
