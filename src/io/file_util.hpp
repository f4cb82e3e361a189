// Small helpers shared by the io writers: agreeing on values across ranks (attributes of a
// parallel HDF5 file must be identical on every rank), durable renames (fsync of the file and its
// directory, so a crash never leaves a renamed but empty checkpoint), timestamps, and the
// provenance attributes every mdrl HDF5 file carries (DESIGN.md "The executable").
#pragma once

#include <mpi.h>

#include <cstdint>
#include <string>

#include "io/hdf5.hpp"

namespace mdrl::io {

// Rank `root`'s value on every rank of comm. Collective.
std::string bcast_string(MPI_Comm comm, const std::string& value, int root = 0);
int64_t bcast_int(MPI_Comm comm, int64_t value, int root = 0);

// "2026-05-09T07:35:25Z"
std::string utc_timestamp();

// Flushes a file's (or a directory's) data to the disk; throws core::IoError naming it.
void fsync_path(const std::string& path);
// Writes `text` to `path` through `path.tmp`, fsync and rename: readers see the old or the new
// content, never a part. Throws core::IoError naming the file.
void write_text_atomically(const std::string& path, const std::string& text);

// Root attributes of every mdrl HDF5 file: format, format_version, config_ini, git_commit,
// mdrl_version, world_size, created (rank 0's clock). Collective over the file's communicator.
void write_provenance(const h5::File& file, const std::string& format, int64_t format_version,
                      const std::string& config_ini);
// Checks `format` and `format_version` of a file written by write_provenance; throws
// core::FormatError naming the file when it is another kind of file or a newer version.
int64_t check_format(const h5::File& file, const std::string& format, int64_t max_version);

}  // namespace mdrl::io
