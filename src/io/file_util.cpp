// Rank agreement, durable renames, timestamps and provenance attributes (file_util.hpp).
#include "io/file_util.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "core/build_info.hpp"
#include "core/check_mpi.hpp"
#include "core/error.hpp"

namespace mdrl::io {

std::string bcast_string(MPI_Comm comm, const std::string& value, int root) {
  int rank = 0;
  MDRL_CHECK_MPI(MPI_Comm_rank(comm, &rank));
  int64_t n = static_cast<int64_t>(value.size());
  MDRL_CHECK_MPI(MPI_Bcast(&n, 1, MPI_INT64_T, root, comm));
  std::string out = rank == root ? value : std::string(static_cast<size_t>(n), '\0');
  if (n > 0) MDRL_CHECK_MPI(MPI_Bcast(out.data(), static_cast<int>(n), MPI_CHAR, root, comm));
  return out;
}

int64_t bcast_int(MPI_Comm comm, int64_t value, int root) {
  MDRL_CHECK_MPI(MPI_Bcast(&value, 1, MPI_INT64_T, root, comm));
  return value;
}

std::string utc_timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void fsync_path(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  MDRL_CHECK(fd >= 0, core::IoError, "cannot open " + path + " to flush it to disk: " + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  // Some file systems refuse fsync on directories (EINVAL); the rename is still atomic there.
  MDRL_CHECK(rc == 0 || err == EINVAL, core::IoError, "cannot flush " + path + " to disk: " + std::strerror(err));
}

void write_text_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    MDRL_CHECK(out.good(), core::IoError, "cannot write " + tmp + " (check the directory exists and is writable)");
    out << text;
    out.flush();
    MDRL_CHECK(out.good(), core::IoError, "writing " + tmp + " failed (disk full?)");
  }
  fsync_path(tmp);
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  MDRL_CHECK(!ec, core::IoError, "cannot rename " + tmp + " to " + path + ": " + ec.message());
  const auto dir = std::filesystem::path(path).parent_path();
  fsync_path(dir.empty() ? "." : dir.string());
}

void write_provenance(const h5::File& file, const std::string& format, int64_t format_version,
                      const std::string& config_ini) {
  const auto& b = core::build_info();
  // Attribute values must be identical on every rank: take rank 0's text.
  const std::string created = bcast_string(file.comm(), utc_timestamp());
  const std::string ini = bcast_string(file.comm(), config_ini);
  file.set_attr("format", format);
  file.set_attr("format_version", format_version);
  file.set_attr("config_ini", ini);
  file.set_attr("git_commit", b.git_commit + (b.git_dirty ? "-dirty" : ""));
  file.set_attr("mdrl_version", b.version);
  file.set_attr("world_size", static_cast<int64_t>(file.size()));
  file.set_attr("created", created);
}

int64_t check_format(const h5::File& file, const std::string& format, int64_t max_version) {
  MDRL_CHECK(file.has_attr("format") && file.attr_string("format") == format, core::FormatError,
             file.path() + " is not an mdrl " + format + " file (its root attribute 'format' is " +
                 (file.has_attr("format") ? "'" + file.attr_string("format") + "'" : std::string("missing")) + ")");
  const int64_t v = file.attr_int("format_version");
  MDRL_CHECK(v >= 1 && v <= max_version, core::FormatError,
             file.path() + " has " + format + " format version " + std::to_string(v) + "; this mdrl reads versions 1.." +
                 std::to_string(max_version) + " (written by a newer mdrl? use that version)");
  return v;
}

}  // namespace mdrl::io
