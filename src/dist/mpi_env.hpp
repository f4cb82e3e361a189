// The MPI environment (RAII) and the process layout: world rank and size, the node-local
// communicator from MPI_Comm_split_type(MPI_COMM_TYPE_SHARED), local rank, node count, host name.
// MpiEnv sets MPI_ERRORS_RETURN on the world so failed calls become exceptions (core/check_mpi.hpp)
// and tells the logger this process's rank.
#pragma once

#include <mpi.h>

#include <string>

namespace mdrl::dist {

// Owns an MPI communicator and frees it on destruction (never MPI_COMM_WORLD / MPI_COMM_SELF).
class Comm {
 public:
  Comm() = default;
  explicit Comm(MPI_Comm comm) : comm_(comm) {}
  Comm(Comm&& other) noexcept : comm_(other.comm_) { other.comm_ = MPI_COMM_NULL; }
  Comm& operator=(Comm&& other) noexcept;
  Comm(const Comm&) = delete;
  Comm& operator=(const Comm&) = delete;
  ~Comm() { reset(); }

  MPI_Comm get() const { return comm_; }
  int rank() const;
  int size() const;

 private:
  void reset() noexcept;
  MPI_Comm comm_ = MPI_COMM_NULL;
};

class MpiEnv {
 public:
  // Initialises MPI (MPI_THREAD_FUNNELED: only the main thread calls MPI) unless it already is.
  MpiEnv(int* argc, char*** argv);
  ~MpiEnv();
  MpiEnv(const MpiEnv&) = delete;
  MpiEnv& operator=(const MpiEnv&) = delete;

  MPI_Comm world() const { return MPI_COMM_WORLD; }
  MPI_Comm node() const { return node_.get(); }  // the ranks sharing this rank's node
  int rank() const { return rank_; }
  int size() const { return size_; }
  int local_rank() const { return local_rank_; }
  int local_size() const { return local_size_; }
  int node_count() const { return node_count_; }
  int node_index() const { return node_index_; }  // 0 .. node_count-1, ordered by the nodes' lowest world rank
  const std::string& hostname() const { return hostname_; }
  int thread_level() const { return thread_level_; }
  std::string library_version() const;

  // Ends every rank with `code` (use when ranks may disagree; otherwise return from main).
  [[noreturn]] static void abort(int code);

  // An error ended this rank (`message` is its one-line report). When every rank fails within
  // `grace_s` (the same bad input seen by all ranks), rank 0 prints each distinct message once,
  // naming the ranks, and every rank returns the highest exit code for main to return: no MPI_Abort
  // banner, no N copies. Otherwise this rank prints its message and aborts the job with `code`.
  int report_failure(const std::string& message, int code, double grace_s = 5.0) const;

 private:
  bool owns_init_ = false;
  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1, node_count_ = 1, node_index_ = 0;
  int thread_level_ = 0;
  std::string hostname_;
  Comm node_;
  Comm failure_;  // a duplicate of the world used only by report_failure (never mixed with a mode's traffic)
};

}  // namespace mdrl::dist
