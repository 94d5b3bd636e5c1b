// Passing one file descriptor over a unix socket (SCM_RIGHTS), with a one-byte payload (or the
// caller's: a console socket's receiver reads the pty's name).
// Header-only and allocation-free, so the child (async-signal-safe code) can use it too.
#pragma once

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

namespace hull {

struct FdMessage {
  char byte = 'T';
  struct iovec iov;
  struct msghdr msg;
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;  // last: cmsghdr ends in a flexible array member

  FdMessage() {
    memset(&control, 0, sizeof control);
    memset(&msg, 0, sizeof msg);
    iov.iov_base = &byte;
    iov.iov_len = 1;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
  }
};

// Returns 0, or an errno value. `data` (len bytes) replaces the one-byte payload when given.
inline int SendFd(int sock, int fd, const char* data = nullptr, size_t len = 0) {
  FdMessage m;
  if (data != nullptr && len > 0) {
    m.iov.iov_base = const_cast<char*>(data);
    m.iov.iov_len = len;
  }
  struct cmsghdr* cmsg = CMSG_FIRSTHDR(&m.msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
  return sendmsg(sock, &m.msg, MSG_NOSIGNAL) < 0 ? errno : 0;
}

// Returns the received fd (close-on-exec), or -errno; -EPIPE at end of stream, -EPROTO without an fd.
inline int ReceiveFd(int sock, int flags) {
  FdMessage m;
  ssize_t n = recvmsg(sock, &m.msg, flags | MSG_CMSG_CLOEXEC);
  if (n < 0) return -errno;
  if (n == 0) return -EPIPE;
  struct cmsghdr* cmsg = CMSG_FIRSTHDR(&m.msg);
  if (cmsg == nullptr || cmsg->cmsg_type != SCM_RIGHTS) return -EPROTO;
  int fd;
  memcpy(&fd, CMSG_DATA(cmsg), sizeof fd);
  return fd;
}

}  // namespace hull
