#include "dist/mpi_env.hpp"

#include <cstdlib>

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

  char name[MPI_MAX_PROCESSOR_NAME] = {0};
  int len = 0;
  MDRL_CHECK_MPI(MPI_Get_processor_name(name, &len));
  hostname_.assign(name, static_cast<size_t>(len));
}

MpiEnv::~MpiEnv() {
  node_ = Comm();
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
