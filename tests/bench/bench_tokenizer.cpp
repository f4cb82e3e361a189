// Encode throughput of the tokenizer (issue 4 "Benchmark"): the GSM8K train questions, encoded
// one text at a time on one thread, cold (fresh tokenizer, empty cache) and warm (best of several
// passes), plus a batch encode on N threads. Prints one JSON object. tools/bench_tokenizer.py runs
// this and the Hugging Face `tokenizers` library on the same file and reports the ratio.
//
//   bench_tokenizer [tokenizer.json|folder|builtin:byte_level] [questions.jsonl] [threads]
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "tokenizer/tokenizer.hpp"

using namespace mdrl::tokenizer;
using Clock = std::chrono::steady_clock;

namespace {

std::string source_dir() {
  const char* s = std::getenv("MDRL_SOURCE_DIR");
  return s != nullptr ? s : ".";
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

}  // namespace

int main(int argc, char** argv) {
  const std::string tok_path = argc > 1 ? argv[1] : source_dir() + "/tests/data/tokenizer/tokenizer.json";
  const std::string data = argc > 2 ? argv[2] : source_dir() + "/../shared/data/gsm8k/train.jsonl";
  const int threads = argc > 3 ? std::atoi(argv[3]) : 2;
  nlohmann::json out = {{"bench", "tokenizer_encode"}, {"tokenizer", tok_path}, {"file", data}};
  if (!std::filesystem::exists(data)) {
    out["skipped"] = "data file not found";
    std::cout << out.dump() << std::endl;
    return 0;
  }
  std::vector<std::string> texts;
  size_t bytes = 0;
  {
    std::ifstream in(data);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      texts.push_back(nlohmann::json::parse(line).at("question").get<std::string>());
      bytes += texts.back().size();
    }
  }
  const double mb = static_cast<double>(bytes) / 1e6;

  auto t0 = Clock::now();
  const Tokenizer tok = Tokenizer::load(tok_path);
  const double load_s = seconds_since(t0);

  // Cold: the first pass fills the per-pre-token cache.
  t0 = Clock::now();
  uint64_t fnv = 1469598103934665603ull, tokens = 0;
  for (const auto& t : texts) {
    for (const TokenId id : tok.encode(t)) {
      fnv = (fnv ^ static_cast<uint64_t>(id)) * 1099511628211ull;
      ++tokens;
    }
  }
  const double cold_s = seconds_since(t0);

  double warm_s = 1e30;
  for (int rep = 0; rep < 5; ++rep) {
    t0 = Clock::now();
    size_t n = 0;
    for (const auto& t : texts) n += tok.encode(t).size();
    warm_s = std::min(warm_s, seconds_since(t0));
    if (n != tokens) throw std::runtime_error("token count changed between passes");
  }

  double batch_s = 1e30;
  for (int rep = 0; rep < 3; ++rep) {
    t0 = Clock::now();
    const auto ids = tok.encode_batch(texts, threads);
    batch_s = std::min(batch_s, seconds_since(t0));
  }

  out["summary"] = tok.summary();
  out["texts"] = texts.size();
  out["bytes"] = bytes;
  out["tokens"] = tokens;
  out["ids_fnv1a"] = std::to_string(fnv);
  out["load_s"] = load_s;
  out["cold_mb_s"] = mb / cold_s;
  out["warm_mb_s"] = mb / warm_s;
  out["batch_threads"] = threads;
  out["batch_mb_s"] = mb / batch_s;
  std::cout << out.dump() << std::endl;
  return 0;
}
