// relay(): copies one fd into another on a thread of its own until EOF, an error, or stop().
//
// A container never holds the caller's stdio (src/runtime/stdio.ts): hull gives it pipes and
// relays them to and from its own fds. Node's streams can do that, but a net.Socket per pipe (and
// process.stdout's) costs milliseconds of set-up on every `hull run`, and a libuv worker must not be
// held for a container's lifetime (design.md, boundary rule 4). So each relay is a plain thread:
//
//   thread:  poll(from | stop) -> read(from) -> write(to), waiting in poll(to | stop) on EAGAIN
//            ... until read gives 0 (EOF), a read or write fails, or stop is signalled;
//            then it closes the fds it owns and calls `done(error | null, bytes)` on the JS thread.
//
// The caller's own fd may be blocking or not (its file status flags are shared with the caller's
// shell, so they are never changed here): EAGAIN waits in poll, so both work.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>

#include "errors.h"
#include "sys.h"

namespace hull {

namespace {

constexpr size_t kChunk = 64 * 1024;

struct RelayState {
  int from = -1;
  int to = -1;
  bool close_from = false;
  bool close_to = false;
  int stop_fd = -1;  // an eventfd; written by stop()
  std::mutex mutex;  // guards stop_fd against stop() racing the thread's end
  bool finished = false;
  uint64_t bytes = 0;
  int err = 0;
  const char* op = "";
  Napi::ThreadSafeFunction done;
};

// Waits until `fd` is ready for `events` or stop is signalled: true when ready.
bool WaitFor(RelayState& r, int fd, short events) {
  for (;;) {
    struct pollfd p[2] = {{fd, events, 0}, {r.stop_fd, POLLIN, 0}};
    int n = poll(p, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      r.err = errno;
      r.op = "poll";
      return false;
    }
    if (p[1].revents != 0) return false;  // stopped
    if (p[0].revents & POLLNVAL) {
      r.err = EBADF;
      r.op = "poll";
      return false;
    }
    return true;  // ready, or POLLHUP/POLLERR: the read or write says which
  }
}

// Writes all of buf; false on stop or an error (recorded).
bool WriteAll(RelayState& r, const char* buf, size_t len) {
  size_t off = 0;
  while (off < len) {
    ssize_t n = write(r.to, buf + off, len - off);
    if (n >= 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (!WaitFor(r, r.to, POLLOUT)) return false;
      continue;
    }
    r.err = errno;
    r.op = "write";
    return false;
  }
  r.bytes += len;
  return true;
}

void Run(std::shared_ptr<RelayState> r) {
  auto buf = std::make_unique<char[]>(kChunk);
  for (;;) {
    if (!WaitFor(*r, r->from, POLLIN)) break;
    ssize_t n = read(r->from, buf.get(), kChunk);
    if (n == 0) break;  // EOF
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      // EIO: a terminal hung up; the relay ends as at EOF, without an error.
      if (errno != EIO) {
        r->err = errno;
        r->op = "read";
      }
      break;
    }
    if (!WriteAll(*r, buf.get(), static_cast<size_t>(n))) break;
  }
  if (r->close_from) close(r->from);
  if (r->close_to) close(r->to);
  {
    std::lock_guard<std::mutex> lock(r->mutex);
    r->finished = true;
    close(r->stop_fd);
    r->stop_fd = -1;
  }
  r->done.BlockingCall([r](Napi::Env env, Napi::Function callback) {
    if (env == nullptr || callback.IsEmpty()) return;  // the process is exiting: no one to tell
    Napi::HandleScope scope(env);
    Napi::Value error = env.Null();
    // EPIPE: the reader went away (a closed pipe, a container that exited): not an error to report.
    if (r->err != 0 && r->err != EPIPE)
      error = SysError(env, r->op, "fd " + std::to_string(r->op[0] == 'w' ? r->to : r->from), r->err).Value();
    try {
      callback.Call({error, Napi::Number::New(env, static_cast<double>(r->bytes))});
    } catch (const Napi::Error&) {
      // Only while the environment is torn down (an unref'd relay stopped at exit): nothing is waiting.
    }
  });
  r->done.Release();
}

}  // namespace

// relay(from, to, { closeFrom, closeTo, keepAlive }, done): starts the thread; returns stop().
Napi::Value Relay(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto r = std::make_shared<RelayState>();
  r->from = info[0].As<Napi::Number>().Int32Value();
  r->to = info[1].As<Napi::Number>().Int32Value();
  Napi::Object opts = info[2].As<Napi::Object>();
  r->close_from = opts.Get("closeFrom").ToBoolean().Value();
  r->close_to = opts.Get("closeTo").ToBoolean().Value();
  bool keep_alive = opts.Get("keepAlive").ToBoolean().Value();
  r->stop_fd = eventfd(0, EFD_CLOEXEC);
  if (r->stop_fd < 0) throw SysError(env, "eventfd", "relay", errno);
  r->done = Napi::ThreadSafeFunction::New(env, info[3].As<Napi::Function>(), "hull:relay", 0, 1);
  if (!keep_alive) r->done.Unref(env);
  try {
    std::thread(Run, r).detach();
  } catch (const std::system_error& e) {
    close(r->stop_fd);
    r->done.Release();
    throw SysError(env, "pthread_create", "relay", e.code().value());
  }
  return Napi::Function::New(
      env,
      [r](const Napi::CallbackInfo&) {
        std::lock_guard<std::mutex> lock(r->mutex);
        if (r->finished) return;
        uint64_t one = 1;
        if (write(r->stop_fd, &one, sizeof one) < 0) {
          // an eventfd write fails only on overflow, which a single stop cannot cause
        }
      },
      "stop");
}

}  // namespace hull
