/* LD_PRELOAD shim for tests/regression/test_disk_full.py (built as mdrl_enospc_shim): a disk that fills up while a checkpoint
 * is being written, on one rank, after the free-space check before the write has passed (as when
 * another job fills the file system or a quota is reached). On the MPI rank MDRL_ENOSPC_RANK
 * (OMPI_COMM_WORLD_RANK), every write to a file whose path ends with MDRL_ENOSPC_NAME (e.g.
 * "step_6.h5.tmp") fails with ENOSPC, as a full file system's would; all other writes go through.
 * Unset variables: nothing fails. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static int failing_fd(int fd) {
  const char* name = getenv("MDRL_ENOSPC_NAME");
  const char* want = getenv("MDRL_ENOSPC_RANK");
  const char* rank = getenv("OMPI_COMM_WORLD_RANK");
  if (name == NULL || *name == '\0' || want == NULL || rank == NULL || strcmp(want, rank) != 0) return 0;
  char link[64], path[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = readlink(link, path, sizeof path - 1);
  if (n <= 0) return 0;
  path[n] = '\0';
  const size_t len = strlen(name);
  return (size_t)n >= len && strcmp(path + n - len, name) == 0;
}

#define NEXT(fn) ((__typeof__(&fn))dlsym(RTLD_NEXT, #fn))
#define FAIL_IF_FULL(fd)   \
  do {                     \
    if (failing_fd(fd)) {  \
      errno = ENOSPC;      \
      return -1;           \
    }                      \
  } while (0)

ssize_t write(int fd, const void* buf, size_t count) {
  FAIL_IF_FULL(fd);
  return NEXT(write)(fd, buf, count);
}
ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) {
  FAIL_IF_FULL(fd);
  return NEXT(pwrite)(fd, buf, count, offset);
}
ssize_t pwrite64(int fd, const void* buf, size_t count, off_t offset) {
  FAIL_IF_FULL(fd);
  return NEXT(pwrite64)(fd, buf, count, offset);
}
ssize_t writev(int fd, const struct iovec* iov, int iovcnt) {
  FAIL_IF_FULL(fd);
  return NEXT(writev)(fd, iov, iovcnt);
}
ssize_t pwritev(int fd, const struct iovec* iov, int iovcnt, off_t offset) {
  FAIL_IF_FULL(fd);
  return NEXT(pwritev)(fd, iov, iovcnt, offset);
}
ssize_t pwritev64(int fd, const struct iovec* iov, int iovcnt, off_t offset) {
  FAIL_IF_FULL(fd);
  return NEXT(pwritev64)(fd, iov, iovcnt, offset);
}
