#include "dist/mpi_env.hpp"

#include <chrono>
#include <cstdlib>
#include <map>
#include <thread>
#include <vector>

#include "core/check_hdf5.hpp"
#include "core/check_mpi.hpp"
#include "core/log.hpp"

namespace mdrl::dist {

Comm& Comm::operator=(Comm&& other) noexcept {
  if (this != &other) {
    reset();
    comm_ = other.comm_;
    other.comm_ = MPI_COMM_NULL;
  }
  return *this;
}

void Comm::reset() noexcept {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (comm_ != MPI_COMM_NULL && comm_ != MPI_COMM_WORLD && comm_ != MPI_COMM_SELF && !finalized) MPI_Comm_free(&comm_);
  comm_ = MPI_COMM_NULL;
}

int Comm::rank() const {
  int r = 0;
  MDRL_CHECK_MPI(MPI_Comm_rank(comm_, &r));
  return r;
}

int Comm::size() const {
  int s = 0;
  MDRL_CHECK_MPI(MPI_Comm_size(comm_, &s));
  return s;
}

MpiEnv::MpiEnv(int* argc, char*** argv) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &thread_level_) != MPI_SUCCESS)
      throw core::MpiError("MPI_Init_thread failed; is the MPI installation usable (try 'mpirun -np 1 hostname')?");
    owns_init_ = true;
  } else {
    MPI_Query_thread(&thread_level_);
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MDRL_CHECK_MPI(MPI_Comm_rank(MPI_COMM_WORLD, &rank_));
  MDRL_CHECK_MPI(MPI_Comm_size(MPI_COMM_WORLD, &size_));
  core::log::set_rank(rank_, size_);
  core::silence_hdf5_error_printing();

  MPI_Comm node = MPI_COMM_NULL;
  MDRL_CHECK_MPI(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node));
  node_ = Comm(node);
  MDRL_CHECK_MPI(MPI_Comm_set_errhandler(node, MPI_ERRORS_RETURN));
  local_rank_ = node_.rank();
  local_size_ = node_.size();

  // Node index: the leaders (local rank 0) number themselves in world-rank order, then tell their node.
  Comm leaders;
  MPI_Comm lc = MPI_COMM_NULL;
  MDRL_CHECK_MPI(MPI_Comm_split(MPI_COMM_WORLD, local_rank_ == 0 ? 0 : MPI_UNDEFINED, rank_, &lc));
  leaders = Comm(lc);
  if (local_rank_ == 0) {
    node_index_ = leaders.rank();
    node_count_ = leaders.size();
  }
  int pair[2] = {node_index_, node_count_};
  MDRL_CHECK_MPI(MPI_Bcast(pair, 2, MPI_INT, 0, node));
  node_index_ = pair[0];
  node_count_ = pair[1];

  MPI_Comm failure = MPI_COMM_NULL;
  MDRL_CHECK_MPI(MPI_Comm_dup(MPI_COMM_WORLD, &failure));
  failure_ = Comm(failure);
  MDRL_CHECK_MPI(MPI_Comm_set_errhandler(failure, MPI_ERRORS_RETURN));

  char name[MPI_MAX_PROCESSOR_NAME] = {0};
  int len = 0;
  MDRL_CHECK_MPI(MPI_Get_processor_name(name, &len));
  hostname_.assign(name, static_cast<size_t>(len));
}

MpiEnv::~MpiEnv() {
  node_ = Comm();
  failure_ = Comm();
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (owns_init_ && !finalized) MPI_Finalize();
}

std::string MpiEnv::library_version() const {
  char v[MPI_MAX_LIBRARY_VERSION_STRING] = {0};
  int len = 0;
  MPI_Get_library_version(v, &len);
  std::string s(v, static_cast<size_t>(len));
  const size_t comma = s.find(',');  // Open MPI appends package and release date
  if (comma != std::string::npos) s.resize(comma);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

int MpiEnv::report_failure(const std::string& message, int code, double grace_s) const {
  if (size_ == 1 || failure_.get() == MPI_COMM_NULL) {
    core::log::error() << message;
    return code;
  }
  // A non-blocking barrier on a communicator of its own: it completes only if every rank fails,
  // while a rank that is still working (or waiting in a collective of the mode) never joins it.
  const MPI_Comm comm = failure_.get();
  MPI_Request req = MPI_REQUEST_NULL;
  int done = 0;
  if (MPI_Ibarrier(comm, &req) == MPI_SUCCESS) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(grace_s);
    while (MPI_Test(&req, &done, MPI_STATUS_IGNORE) == MPI_SUCCESS && !done &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!done) {
    core::log::error() << message;
    abort(code);
  }
  // Every rank failed: gather the messages on rank 0, print each distinct one once.
  int len = static_cast<int>(message.size()), all_code = code;
  std::vector<int> lens(static_cast<size_t>(size_));
  if (MPI_Gather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, 0, comm) != MPI_SUCCESS ||
      MPI_Allreduce(&code, &all_code, 1, MPI_INT, MPI_MAX, comm) != MPI_SUCCESS) {
    core::log::error() << message;
    abort(code);
  }
  std::vector<int> offsets(static_cast<size_t>(size_), 0);
  for (size_t r = 1; r < lens.size(); ++r) offsets[r] = offsets[r - 1] + lens[r - 1];
  std::string joined(rank_ == 0 ? static_cast<size_t>(offsets.back() + lens.back()) : 0, '\0');
  MPI_Gatherv(message.data(), len, MPI_CHAR, joined.data(), lens.data(), offsets.data(), MPI_CHAR, 0, comm);
  if (rank_ == 0) {
    std::map<std::string, std::string> ranks_of;  // message -> "0,1,..."
    std::vector<std::string> order;
    for (int r = 0; r < size_; ++r) {
      std::string m = joined.substr(static_cast<size_t>(offsets[static_cast<size_t>(r)]),
                                    static_cast<size_t>(lens[static_cast<size_t>(r)]));
      auto [it, fresh] = ranks_of.try_emplace(m, std::to_string(r));
      if (fresh) order.push_back(m);
      else it->second += "," + std::to_string(r);
    }
    for (const auto& m : order)
      core::log::error() << m << (order.size() == 1 ? " (on every rank)" : " (on ranks " + ranks_of[m] + ")");
  }
  return all_code;
}

void MpiEnv::abort(int code) {
  std::fflush(stdout);
  std::fflush(stderr);
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

}  // namespace mdrl::dist
