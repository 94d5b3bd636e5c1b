// hull-monitor's control socket (the requests are listed in monitor-control.h).
#include "monitor-control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

namespace hull {
namespace {

constexpr int kMaxClients = 32;
constexpr size_t kMaxRequest = 128;
constexpr size_t kMaxPending = 1 << 20;

enum class Kind { Reading, Waiter, Starter, Attached };

struct Client {
  int fd = -1;
  Kind kind = Kind::Reading;
  char request[kMaxRequest];
  size_t request_len = 0;
  bool stdin_wanted = false;
  bool stdin_once = false;
  bool input_closed = false;  // an attached client's end of input (it still gets output)
  // Output that did not fit in the socket yet (attached clients).
  char* pending = nullptr;
  size_t pending_len = 0;
};

int listener = -1;
char socket_path[sizeof(sockaddr_un::sun_path)];
Client clients[kMaxClients];
int stdin_fd = -1;
bool stdin_is_terminal = false;
bool stop_asked = false;
int running_pid = 0;

void Drop(Client& c) {
  if (c.fd >= 0) close(c.fd);
  free(c.pending);
  c = Client{};
}

// Writes what can be written now; keeps the rest (up to kMaxPending, else the client goes).
void Send(Client& c, const char* data, size_t n) {
  if (c.fd < 0) return;
  if (c.pending_len == 0) {
    while (n > 0) {
      ssize_t w = send(c.fd, data, n, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && errno == EAGAIN) break;
      if (w <= 0) {
        Drop(c);
        return;
      }
      data += w;
      n -= static_cast<size_t>(w);
    }
  }
  if (n == 0) return;
  if (c.pending_len + n > kMaxPending) {
    Drop(c);  // it does not keep up: disconnected, never blocking the monitor
    return;
  }
  auto* grown = static_cast<char*>(realloc(c.pending, c.pending_len + n));
  if (grown == nullptr) {
    Drop(c);
    return;
  }
  c.pending = grown;
  memcpy(c.pending + c.pending_len, data, n);
  c.pending_len += n;
}

void SendText(Client& c, const char* text) { Send(c, text, strlen(text)); }

void Flush(Client& c) {
  size_t done = 0;
  while (done < c.pending_len) {
    ssize_t w = send(c.fd, c.pending + done, c.pending_len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) break;
    if (w <= 0) {
      Drop(c);
      return;
    }
    done += static_cast<size_t>(w);
  }
  memmove(c.pending, c.pending + done, c.pending_len - done);
  c.pending_len -= done;
}

// Input of an attached client: to the container's stdin (what does not fit now is dropped: a
// container that does not read its stdin must not stop its monitor).
void Forward(Client& c) {
  char buf[4096];
  ssize_t n = read(c.fd, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    if (c.stdin_wanted && c.stdin_once && stdin_fd >= 0 && !stdin_is_terminal) {
      close(stdin_fd);  // its end of input is the container's
      stdin_fd = -1;
    }
    c.stdin_wanted = false;
    if (n < 0) {
      Drop(c);
      return;
    }
    c.input_closed = true;  // no more POLLIN for it; its hang-up still shows
    return;
  }
  if (!c.stdin_wanted || stdin_fd < 0) return;
  ssize_t off = 0;
  while (off < n) {
    ssize_t w = write(stdin_fd, buf + off, static_cast<size_t>(n - off));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    off += w;
  }
}

void Execute(Client& c) {
  char* line = c.request;
  if (strcmp(line, "wait") == 0) {
    c.kind = Kind::Waiter;
  } else if (strcmp(line, "started") == 0) {
    c.kind = Kind::Starter;
    if (running_pid > 0) {
      char text[32];
      snprintf(text, sizeof text, "running %d\n", running_pid);
      SendText(c, text);
    }
  } else if (strncmp(line, "attach", 6) == 0 && (line[6] == '\0' || line[6] == ' ')) {
    c.kind = Kind::Attached;
    c.stdin_wanted = strstr(line + 6, "stdin") != nullptr;
    c.stdin_once = strstr(line + 6, "once") != nullptr;
    SendText(c, "attached\n");
  } else if (strncmp(line, "resize ", 7) == 0) {
    unsigned rows = 0, cols = 0;
    if (sscanf(line + 7, "%u %u", &rows, &cols) == 2 && stdin_is_terminal && stdin_fd >= 0) {
      struct winsize ws;
      memset(&ws, 0, sizeof ws);
      ws.ws_row = static_cast<unsigned short>(rows);
      ws.ws_col = static_cast<unsigned short>(cols);
      ioctl(stdin_fd, TIOCSWINSZ, &ws);
    }
    SendText(c, "ok\n");
    shutdown(c.fd, SHUT_WR);
  } else if (strcmp(line, "stop") == 0) {
    stop_asked = true;
    SendText(c, "ok\n");
    shutdown(c.fd, SHUT_WR);
  } else {
    SendText(c, "error unknown request\n");
    Drop(c);
  }
}

void ReadRequest(Client& c) {
  ssize_t n = read(c.fd, c.request + c.request_len, kMaxRequest - 1 - c.request_len);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    Drop(c);
    return;
  }
  c.request_len += static_cast<size_t>(n);
  c.request[c.request_len] = '\0';
  char* nl = strchr(c.request, '\n');
  if (nl == nullptr) {
    if (c.request_len >= kMaxRequest - 1) Drop(c);  // a line that does not end
    return;
  }
  *nl = '\0';
  Execute(c);
}

}  // namespace

bool ControlInit(int fd, const char* path) {
  int accepting = 0;
  socklen_t len = sizeof accepting;
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) < 0) return false;
  if (!accepting) {
    errno = EINVAL;
    return false;
  }
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) return false;
  listener = fd;
  snprintf(socket_path, sizeof socket_path, "%s", path);
  return true;
}

int ControlPollFds(struct pollfd* out, int cap) {
  int n = 0;
  if (listener >= 0 && n < cap) out[n++] = {listener, POLLIN, 0};
  for (Client& c : clients) {
    if (c.fd < 0 || n >= cap) continue;
    short events = c.input_closed ? 0 : POLLIN;
    if (c.pending_len > 0) events |= POLLOUT;
    out[n++] = {c.fd, events, 0};
  }
  return n;
}

void ControlHandle(const struct pollfd* fds, int n) {
  for (int i = 0; i < n; i++) {
    if (fds[i].revents == 0) continue;
    if (fds[i].fd == listener) {
      for (;;) {
        int fd = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) break;
        Client* slot = nullptr;
        for (Client& c : clients) {
          if (c.fd < 0) {
            slot = &c;
            break;
          }
        }
        if (slot == nullptr) {
          close(fd);  // too many at once
          continue;
        }
        slot->fd = fd;
      }
      continue;
    }
    for (Client& c : clients) {
      if (c.fd != fds[i].fd) continue;
      if (fds[i].revents & POLLOUT) Flush(c);
      if (c.fd < 0) break;
      if (c.input_closed) {
        if (fds[i].revents & (POLLHUP | POLLERR)) Drop(c);
      } else if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
        if (c.kind == Kind::Reading)
          ReadRequest(c);
        else if (c.kind == Kind::Attached)
          Forward(c);
        else {
          // A waiter sends nothing more: its end of file means it has gone.
          char b;
          ssize_t r = read(c.fd, &b, 1);
          if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) Drop(c);
        }
      }
      break;
    }
  }
}

void ControlOutput(int stream, const char* data, size_t n) {
  for (Client& c : clients) {
    if (c.fd < 0 || c.kind != Kind::Attached || n == 0) continue;
    if (stdin_is_terminal) {
      Send(c, data, n);
      continue;
    }
    unsigned char header[8] = {static_cast<unsigned char>(stream),
                               0,
                               0,
                               0,
                               static_cast<unsigned char>(n >> 24),
                               static_cast<unsigned char>(n >> 16),
                               static_cast<unsigned char>(n >> 8),
                               static_cast<unsigned char>(n)};
    Send(c, reinterpret_cast<char*>(header), sizeof header);
    Send(c, data, n);
  }
}

void ControlSetStdin(int fd, bool terminal) {
  if (stdin_fd >= 0 && !stdin_is_terminal) close(stdin_fd);
  stdin_fd = fd;
  stdin_is_terminal = terminal;
}

void ControlStarted(int pid) {
  running_pid = pid;
  char text[32];
  snprintf(text, sizeof text, pid > 0 ? "running %d\n" : "failed\n", pid);
  for (Client& c : clients) {
    if (c.fd >= 0 && c.kind == Kind::Starter) SendText(c, text);
  }
}

void ControlExited(int code, bool final) {
  running_pid = 0;
  char text[48];
  snprintf(text, sizeof text, "exit %d %s\n", code, final ? "final" : "restarting");
  for (Client& c : clients) {
    if (c.fd >= 0 && (c.kind == Kind::Waiter || c.kind == Kind::Starter)) SendText(c, text);
  }
}

bool ControlHasAttached() {
  for (const Client& c : clients) {
    if (c.fd >= 0 && c.kind == Kind::Attached) return true;
  }
  return false;
}

bool ControlStopAsked() {
  bool asked = stop_asked;
  stop_asked = false;
  return asked;
}

void ControlClose() {
  for (Client& c : clients) {
    if (c.fd < 0) continue;
    if (c.pending_len > 0) {
      // A last blocking try for what is still owed (the exit line, the last output).
      int flags = fcntl(c.fd, F_GETFL);
      fcntl(c.fd, F_SETFL, flags & ~O_NONBLOCK);
      size_t done = 0;
      while (done < c.pending_len) {
        ssize_t w = send(c.fd, c.pending + done, c.pending_len - done, MSG_NOSIGNAL);
        if (w <= 0) break;
        done += static_cast<size_t>(w);
      }
    }
    Drop(c);
  }
  if (listener >= 0) {
    close(listener);
    listener = -1;
    unlink(socket_path);
  }
}

}  // namespace hull
