// A whole buffer to an fd: write(2) until done, through EINTR; false on any other error.
// Header-only and allocation-free (the static executables and the child can use it).
#pragma once

#include <errno.h>
#include <stddef.h>
#include <unistd.h>

namespace hull {

inline bool WriteAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace hull
