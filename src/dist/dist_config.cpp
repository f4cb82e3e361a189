#include "dist/dist_config.hpp"

#include "config/options.hpp"
#include "core/error.hpp"

namespace mdrl::dist {

void DistConfig::add_options(config::Options& opts) {
  opts.section("dist", "process layout and devices")
      .add_enum("device", device, {{"auto", DeviceKind::Auto}, {"cpu", DeviceKind::Cpu}, {"cuda", DeviceKind::Cuda}},
                "device of each rank: auto = cuda:<local rank> when a GPU is visible, else cpu")
      .add("threads", threads,
           "LibTorch intra-op threads per rank; 0 = OMP_NUM_THREADS when set, else the rank's CPUs "
           "(affinity mask) divided among the ranks on the node that share them")
      .add("bucket_mb", bucket_mb, "size of the buckets that tensor all-reduces pack small tensors into, in MiB");
  opts.add_validator([this] { validate(); });
}

void DistConfig::validate() const {
  MDRL_CHECK(threads >= 0 && threads <= 4096, core::ConfigError,
             "dist.threads = " + std::to_string(threads) + " is out of range; use 0 (automatic) or 1..4096");
  MDRL_CHECK(bucket_mb >= 0.001 && bucket_mb <= 4096, core::ConfigError,
             "dist.bucket_mb = " + std::to_string(bucket_mb) + " is out of range; use 0.001..4096 (MiB)");
}

}  // namespace mdrl::dist
