// `mdrl export` as a user runs it: an output folder that is, contains or lies inside an input
// (model.path, lora.adapter; symlinks resolved) is refused with exit status 2 and the input is left
// byte-identical; config.json's torch_dtype names the dtype written; a corrupted config.json is
// refused before loading, naming the key; an adapter applied to another base model warns.
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "test_support.hpp"

using namespace mdrl::test;
namespace fs = std::filesystem;

namespace {
bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every file under `root` (relative name -> bytes).
std::map<std::string, std::string> snapshot(const fs::path& root) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) files[fs::relative(e.path(), root).string()] = slurp(e.path());
  return files;
}

// A tiny f32 Hugging Face folder written by `mdrl export` itself.
fs::path export_tiny(const TempDir& dir, const std::string& name) {
  const auto out = dir.path() / name;
  const auto r = run_mdrl("export --model.preset=tiny --export.what=base --export.bf16=false --export.out=" + out.string());
  BOOST_REQUIRE_MESSAGE(r.status == 0, r.output);
  return out;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(export_cli)

BOOST_AUTO_TEST_CASE(config_json_names_the_dtype_written) {
  TempDir dir;
  const auto f32 = export_tiny(dir, "f32");
  BOOST_TEST(has(slurp(f32 / "config.json"), "\"torch_dtype\": \"float32\""), slurp(f32 / "config.json"));
  const auto r = run_mdrl("export --model.path=" + f32.string() + " --export.out=" + (dir.path() / "bf16").string());
  BOOST_REQUIRE_MESSAGE(r.status == 0, r.output);
  BOOST_TEST(has(slurp(dir.path() / "bf16" / "config.json"), "\"torch_dtype\": \"bfloat16\""));
}

BOOST_AUTO_TEST_CASE(output_overlapping_an_input_is_refused_and_the_input_kept) {
  TempDir dir;
  const auto src = export_tiny(dir, "hf");
  const auto before = snapshot(src);
  BOOST_REQUIRE(before.count("model.safetensors") && before.count("config.json"));
  fs::create_directory_symlink(src, dir.path() / "link");

  const std::string model = " --model.path=" + src.string();
  for (const std::string& out : {src.string(), src.string() + "/", (src / "sub").string(), dir.path().string(),
                                 (dir.path() / "link").string(), (dir.path() / "link" / "x").string()}) {
    const auto r = run_mdrl("export" + model + " --export.out=" + out);
    BOOST_TEST(r.status == 2, out << ": " << r.output);
    BOOST_TEST(has(r.output, "export.out = '" + out + "'"), r.output);
    BOOST_TEST(has(r.output, "model.path = '" + src.string() + "'"), r.output);
    BOOST_TEST(has(r.output, "would overwrite the input"), r.output);
  }
  // The input through a symlink, the output the real folder.
  const auto via_link = run_mdrl("export --model.path=" + (dir.path() / "link").string() + " --export.out=" + src.string());
  BOOST_TEST(via_link.status == 2, via_link.output);
  BOOST_TEST(!fs::exists(src / "sub"));
  BOOST_TEST(!fs::exists(src / "x"));
  BOOST_TEST((snapshot(src) == before));  // byte-identical, still f32

  // An adapter folder is an input too.
  const auto adapter = dir.path() / "adapter";
  const auto a = run_mdrl("export --model.preset=tiny --lora.rank=4 --export.what=adapter --export.out=" + adapter.string());
  BOOST_REQUIRE_MESSAGE(a.status == 0, a.output);
  const auto adapter_before = snapshot(adapter);
  const auto r = run_mdrl("export --model.preset=tiny --lora.adapter=" + adapter.string() +
                          " --export.what=adapter --export.out=" + adapter.string());
  BOOST_TEST(r.status == 2, r.output);
  BOOST_TEST(has(r.output, "lora.adapter"), r.output);
  BOOST_TEST((snapshot(adapter) == adapter_before));

  // A sibling whose name starts with the input's name is a different folder.
  const auto sibling = run_mdrl("export" + model + " --export.out=" + src.string() + "2");
  BOOST_TEST(sibling.status == 0, sibling.output);
}

BOOST_AUTO_TEST_CASE(corrupted_config_json_is_refused_naming_the_key) {
  TempDir dir;
  const auto src = export_tiny(dir, "hf");
  std::string cfg = slurp(src / "config.json");
  const std::string from = "\"n_layers\": 2,";
  BOOST_REQUIRE(has(cfg, from));
  cfg.replace(cfg.find(from), from.size(), "\"n_layers\": 1000000000000,");
  std::ofstream(src / "config.json") << cfg;
  const auto r = run_mdrl("export --model.path=" + src.string() + " --export.out=" + (dir.path() / "out").string());
  BOOST_TEST(r.status == 2, r.output);
  BOOST_TEST(has(r.output, (src / "config.json").string() + ": n_layers = 1000000000000 is above the limit"), r.output);
  BOOST_TEST(!fs::exists(dir.path() / "out"));
}

BOOST_AUTO_TEST_CASE(adapter_from_another_base_model_warns) {
  TempDir dir;
  const auto base = export_tiny(dir, "hf");
  const auto adapter = dir.path() / "adapter";
  const auto a = run_mdrl("export --model.preset=tiny --lora.rank=4 --export.what=adapter --export.out=" + adapter.string());
  BOOST_REQUIRE_MESSAGE(a.status == 0, a.output);
  BOOST_TEST(has(slurp(adapter / "adapter_config.json"), "\"base_model_name_or_path\": \"preset:tiny\""));

  const auto same = run_mdrl("export --model.preset=tiny --lora.adapter=" + adapter.string() +
                             " --export.out=" + (dir.path() / "m1").string());
  BOOST_TEST(same.status == 0, same.output);
  BOOST_TEST(!has(same.output, "records base_model_name_or_path"), same.output);

  const auto other = run_mdrl("export --model.path=" + base.string() + " --lora.adapter=" + adapter.string() +
                              " --export.out=" + (dir.path() / "m2").string());
  BOOST_TEST(other.status == 0, other.output);
  BOOST_TEST(has(other.output, "base_model_name_or_path = 'preset:tiny', but the model is '" + base.string() + "'"),
             other.output);
}

BOOST_AUTO_TEST_SUITE_END()
