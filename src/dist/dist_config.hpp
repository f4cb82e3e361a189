// [dist] options: which device each rank uses and how many CPU threads LibTorch may use.
#pragma once

#include <cstdint>

namespace mdrl::config {
class Options;
}

namespace mdrl::dist {

enum class DeviceKind { Auto, Cpu, Cuda };

struct DistConfig {
  DeviceKind device = DeviceKind::Auto;  // auto: cuda:<local_rank> when CUDA is usable, else cpu
  int64_t threads = 0;                   // LibTorch intra-op threads per rank; 0 = automatic
  double bucket_mb = 25.0;               // gradient all-reduce bucket size (PyTorch DDP's default)

  void add_options(config::Options& opts);
  void validate() const;
  int64_t bucket_bytes() const { return static_cast<int64_t>(bucket_mb * 1024.0 * 1024.0); }
};

}  // namespace mdrl::dist
