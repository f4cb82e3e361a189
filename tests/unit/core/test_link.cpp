// Link-time hazards of the torch wheel that would otherwise crash at run time.
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <string>

#include <dlfcn.h>

#include <filesystem>

// The torch wheel exports a private copy of std::filesystem from libtorch.so; every executable that
// links LibTorch must resolve std::filesystem to the system libstdc++ (cmake/MdrlDependencies.cmake).

BOOST_AUTO_TEST_CASE(std_filesystem_comes_from_libstdcxx) {
  using RemoveAll = std::uintmax_t (*)(const std::filesystem::path&, std::error_code&);
  const auto fn = static_cast<RemoveAll>(&std::filesystem::remove_all);
  Dl_info info{};
  BOOST_REQUIRE(dladdr(reinterpret_cast<void*>(fn), &info) != 0);
  BOOST_TEST(std::string(info.dli_fname).find("libstdc++") != std::string::npos, info.dli_fname);
  const auto dir = std::filesystem::temp_directory_path() / "mdrl-fs-check";
  std::filesystem::create_directories(dir / "a" / "b");
  std::error_code ec;
  BOOST_TEST(std::filesystem::remove_all(dir, ec) == 3u);
}
