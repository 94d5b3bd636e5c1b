// The addon's side of launching (native/launch.h has the launcher and draws the protocol): the
// plan arrives in its one wire format (native/plan-codec.h), the child is cloned by Launch(), and
// each step of the protocol — go, continue after the create hooks, start — is one call that writes
// the byte and waits for the child's next message on the event loop (uv_poll on the message
// socket: no thread is involved), then resolves with the stage reached or rejects with the failed
// step. Exits are watched through pidfds, also polled on the event loop.
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "errors.h"
#include "launch.h"
#include "plan-codec.h"
#include "plan.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace hull {
namespace {

// Owns the plan (its bytes, the decoded arrays) and the parent's ends. Lives as long as its handle.
struct SpawnState {
  std::string bytes;
  Arena arena;
  LaunchPlan launch{};
  Plan plan{};
  Launched launched;
  bool busy = false;  // a step of the protocol is waiting for the child
  bool done = false;  // execve reached, or failed
  ~SpawnState() { CloseLaunched(&launched); }
};

void FinalizeState(Napi::Env, SpawnState* st) { delete st; }

Napi::Object FailureObject(Napi::Env env, ErrorRecord& record) {
  record.syscall[sizeof record.syscall - 1] = '\0';
  record.message[sizeof record.message - 1] = '\0';
  Napi::Object failure = Napi::Object::New(env);
  failure.Set("step", Napi::Number::New(env, record.step));
  failure.Set("steps", Napi::Number::New(env, record.steps));
  failure.Set("syscall", Napi::String::New(env, record.syscall));
  failure.Set("errno", Napi::String::New(env, ErrnoName(record.err)));
  failure.Set("detail", Napi::String::New(env, record.message));
  return failure;
}

// ---- advance(): one byte to the child, then its next message, on the event loop -------------

struct StepWatch {
  uv_poll_t poll;
  SpawnState* st;
  Napi::Reference<Napi::Value> keep;  // the handle (External), so the state outlives this watch
  Napi::Promise::Deferred deferred;
  std::unique_ptr<Napi::AsyncContext> context;
  ChildMessage message{};
  size_t got = 0;

  explicit StepWatch(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
};

void OnStepWatchClosed(uv_handle_t* handle) { delete static_cast<StepWatch*>(handle->data); }

void OnMessageReadable(uv_poll_t* handle, int status, int /*events*/) {
  auto* w = static_cast<StepWatch*>(handle->data);
  int err = 0;
  ReadResult r = ReadResult::Broken;
  if (status < 0) {
    err = -status;
  } else {
    r = ReadMessage(w->st->launched.message_fd, &w->message, &w->got, &err);
    if (r == ReadResult::More) return;
  }
  uv_poll_stop(handle);
  SpawnState* st = w->st;
  st->busy = false;
  Napi::Env env = w->deferred.Env();
  {
    Napi::HandleScope scope(env);
    Napi::CallbackScope callback_scope(env, *w->context);  // runs the microtasks on close
    if (status < 0 || r == ReadResult::Broken) {
      st->done = true;
      w->deferred.Reject(SysError(env, "read", "container message socket", err).Value());
    } else if (r == ReadResult::Message && w->message.kind == ChildMessageKind::Failed) {
      st->done = true;
      Napi::Error e =
          Napi::Error::New(env, std::string(w->message.error.message) + ": " + ErrnoName(w->message.error.err));
      e.Set("failure", FailureObject(env, w->message.error));
      w->deferred.Reject(e.Value());
    } else {
      Napi::Object result = Napi::Object::New(env);
      const char* stage = r == ReadResult::Execd                         ? "started"
                          : w->message.kind == ChildMessageKind::AtHooks ? "hooks"
                                                                         : "ready";
      result.Set("stage", Napi::String::New(env, stage));
      if (r == ReadResult::Execd) st->done = true;
      // The console's pty master, sent by the child's console step (before its gate).
      bool at_gate_or_past = r == ReadResult::Execd || w->message.kind == ChildMessageKind::Ready;
      if (st->launched.console_fd >= 0 && at_gate_or_past) {
        int console_fd = ReceiveConsole(st->launched);
        if (console_fd >= 0) {
          result.Set("consoleFd", Napi::Number::New(env, console_fd));
          close(st->launched.console_fd);
          st->launched.console_fd = -1;
        } else if (r == ReadResult::Execd) {
          w->deferred.Reject(SysError(env, "recvmsg", "console socket", -console_fd).Value());
          uv_close(reinterpret_cast<uv_handle_t*>(handle), OnStepWatchClosed);
          return;
        }
      }
      if (st->done) CloseLaunched(&st->launched);
      w->deferred.Resolve(result);
    }
  }
  uv_close(reinterpret_cast<uv_handle_t*>(handle), OnStepWatchClosed);
}

// ---- watchExit(): pidfd polled on the event loop ----------------------------------------------

struct ExitWatch {
  uv_poll_t poll;
  int pidfd;
  Napi::FunctionReference callback;
  std::unique_ptr<Napi::AsyncContext> context;
};

void OnWatchClosed(uv_handle_t* handle) { delete static_cast<ExitWatch*>(handle->data); }

// The watches not yet fired. At the process's exit (stopExitWatches, from its 'exit' event) they are
// closed without a call: Node tears the environment down with JavaScript disallowed while it still
// runs the loop to close its own handles, and a pidfd that became readable then (an `exec -d`
// process ending as hull exits) would call into JavaScript and abort the process.
std::unordered_set<ExitWatch*>& LiveExitWatches() {
  static std::unordered_set<ExitWatch*> live;
  return live;
}

void OnPidfdReadable(uv_poll_t* handle, int status, int /*events*/) {
  auto* w = static_cast<ExitWatch*>(handle->data);
  siginfo_t info;
  memset(&info, 0, sizeof info);
  int rc =
      status < 0 ? -1 : waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(w->pidfd), &info, WEXITED | WNOHANG);
  if (rc == 0 && info.si_pid == 0) return;  // not yet: spurious wake-up
  uv_poll_stop(handle);
  LiveExitWatches().erase(w);
  Napi::Env env = w->callback.Env();
  Napi::HandleScope scope(env);
  Napi::Object result = Napi::Object::New(env);
  if (rc < 0) {
    result.Set("code", env.Null());
    result.Set("signal", env.Null());
    result.Set("error", Napi::String::New(env, ErrnoName(status < 0 ? -status : errno)));
  } else if (info.si_code == CLD_EXITED) {
    result.Set("code", Napi::Number::New(env, info.si_status));
    result.Set("signal", env.Null());
  } else {
    result.Set("code", env.Null());
    result.Set("signal", Napi::Number::New(env, info.si_status));
  }
  close(w->pidfd);
  w->pidfd = -1;
  Napi::FunctionReference cb = std::move(w->callback);
  std::unique_ptr<Napi::AsyncContext> ctx = std::move(w->context);
  uv_close(reinterpret_cast<uv_handle_t*>(handle), OnWatchClosed);
  try {
    cb.MakeCallback(env.Global(), {result}, *ctx);
  } catch (const Napi::Error&) {
    // The callback only settles a promise; an error here is the environment going away: no one waits.
  }
}

// ---- pidfdWait(): a pidfd (of any process, not only a child) polled with a time limit ----------

struct PidfdWaiter {
  uv_poll_t poll;
  uv_timer_t timer;
  int open_handles = 2;
  bool settled = false;
  Napi::Promise::Deferred deferred;
  std::unique_ptr<Napi::AsyncContext> context;
  // Shared with an abort listener, which may run after the waiter is gone: it reads this first.
  std::shared_ptr<bool> gone = std::make_shared<bool>(false);
  explicit PidfdWaiter(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
  ~PidfdWaiter() { *gone = true; }
};

void OnPidfdWaitClosed(uv_handle_t* handle) {
  auto* w = static_cast<PidfdWaiter*>(handle->data);
  if (--w->open_handles == 0) delete w;
}

void SettlePidfdWait(PidfdWaiter* w, bool exited, int err) {
  if (w->settled) return;
  w->settled = true;
  uv_poll_stop(&w->poll);
  uv_timer_stop(&w->timer);
  Napi::Env env = w->deferred.Env();
  {
    Napi::HandleScope scope(env);
    Napi::CallbackScope callback_scope(env, *w->context);
    if (err != 0) {
      w->deferred.Reject(SysError(env, "poll", "pidfd", err).Value());
    } else {
      w->deferred.Resolve(Napi::Boolean::New(env, exited));
    }
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&w->poll), OnPidfdWaitClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&w->timer), OnPidfdWaitClosed);
}

void OnPidfdWaitReadable(uv_poll_t* handle, int status, int /*events*/) {
  SettlePidfdWait(static_cast<PidfdWaiter*>(handle->data), status >= 0, status < 0 ? -status : 0);
}

void OnPidfdWaitTimeout(uv_timer_t* handle) { SettlePidfdWait(static_cast<PidfdWaiter*>(handle->data), false, 0); }

}  // namespace

Napi::Value PidfdOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pid = info[0].As<Napi::Number>().Int32Value();
  long fd = syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) throw SysError(env, "pidfd_open", std::to_string(pid), errno);
  if (fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC) < 0) {
    int e = errno;
    close(static_cast<int>(fd));
    throw SysError(env, "fcntl", "pidfd", e);
  }
  return Napi::Number::New(env, static_cast<double>(fd));
}

Napi::Value PidfdWait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pidfd = info[0].As<Napi::Number>().Int32Value();
  double timeout = info[1].As<Napi::Number>().DoubleValue();
  auto* w = new PidfdWaiter(env);
  w->context = std::make_unique<Napi::AsyncContext>(env, "hull:pidfd-wait");
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  int rc = uv_poll_init(loop, &w->poll, pidfd);
  if (rc != 0) {
    delete w;
    throw SysError(env, "uv_poll_init", "pidfd", -rc);
  }
  uv_timer_init(loop, &w->timer);
  w->poll.data = w;
  w->timer.data = w;
  Napi::Promise promise = w->deferred.Promise();
  rc = uv_poll_start(&w->poll, UV_READABLE, OnPidfdWaitReadable);
  if (rc != 0) {
    SettlePidfdWait(w, false, -rc);
    return promise;
  }
  if (timeout >= 0) uv_timer_start(&w->timer, OnPidfdWaitTimeout, static_cast<uint64_t>(timeout), 0);
  // An AbortSignal ends the wait early (resolving false) and frees its handles: a wait raced
  // against something else does not outlive the race.
  if (info.Length() > 2 && info[2].IsObject()) {
    Napi::Object signal = info[2].As<Napi::Object>();
    if (signal.Get("aborted").ToBoolean().Value()) {
      SettlePidfdWait(w, false, 0);
      return promise;
    }
    std::shared_ptr<bool> gone = w->gone;
    Napi::Function on_abort = Napi::Function::New(env, [w, gone](const Napi::CallbackInfo&) {
      if (!*gone) SettlePidfdWait(w, false, 0);
    });
    Napi::Object once = Napi::Object::New(env);
    once.Set("once", Napi::Boolean::New(env, true));
    signal.Get("addEventListener").As<Napi::Function>().Call(signal, {Napi::String::New(env, "abort"), on_abort, once});
  }
  return promise;
}

Napi::Value Spawn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object req = info[0].As<Napi::Object>();
  auto st = std::make_unique<SpawnState>();
  Napi::Buffer<char> bytes = req.Get("plan").As<Napi::Buffer<char>>();
  st->bytes.assign(bytes.Data(), bytes.Length());
  if (!DecodeLaunchPlan(st->bytes.data(), st->bytes.size(), &st->arena, &st->launch)) {
    throw Napi::TypeError::New(env, "spawn: the plan is not in this addon's wire format (HULL_PLAN_VERSION " +
                                        std::to_string(kPlanVersion) + ")");
  }
  LaunchRequest launch{};
  launch.plan = &st->launch;
  Napi::Array stdio = req.Get("stdio").As<Napi::Array>();
  for (uint32_t i = 0; i < 3; i++) launch.stdio[i] = stdio.Get(i).As<Napi::Number>().Int32Value();
  launch.cgroup_fd = req.Get("cgroupFd").As<Napi::Number>().Int32Value();
  std::vector<int> join;
  Napi::Value join_value = req.Get("joinNamespaceFds");
  if (join_value.IsArray()) {
    Napi::Array list = join_value.As<Napi::Array>();
    for (uint32_t i = 0; i < list.Length(); i++) join.push_back(list.Get(i).As<Napi::Number>().Int32Value());
  }
  launch.join_fds = join.data();
  launch.join_count = join.size();
  LaunchError error{};
  if (!Launch(launch, &st->plan, &st->launched, &error)) throw SysError(env, error.syscall, error.what, error.err);
  // Read on the event loop: never block it.
  int flags = fcntl(st->launched.message_fd, F_GETFL);
  if (flags < 0 || fcntl(st->launched.message_fd, F_SETFL, flags | O_NONBLOCK) < 0)
    throw SysError(env, "fcntl", "container message socket", errno);
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", Napi::Number::New(env, st->launched.pid));
  out.Set("pidfd", Napi::Number::New(env, st->launched.pidfd));
  st->launched.pidfd = -1;  // the caller's from here on
  out.Set("handle", Napi::External<SpawnState>::New(env, st.release(), FinalizeState));
  return out;
}

Napi::Value Advance(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* st = info[0].As<Napi::External<SpawnState>>().Data();
  std::string step = info[1].As<Napi::String>().Utf8Value();
  if (st->busy) throw Napi::Error::New(env, "advance: the child has not answered the last step yet");
  if (st->done || st->launched.sync_fd < 0)
    throw Napi::Error::New(env, "advance: this process has already started or failed");
  LaunchError error{};
  int e = 0;
  if (step == "go") {
    e = Go(st->launch, st->launched, &error);
    if (e != 0) throw SysError(env, error.syscall, error.what, e);
  } else if (step == "continue" || step == "start") {
    e = Tell(st->launched, step == "continue" ? kParentContinue : kParentStart);
    if (e != 0) throw SysError(env, "write", "container sync pipe", e);
  } else {
    throw Napi::TypeError::New(env, "advance: unknown step " + step);
  }
  auto* w = new StepWatch(env);
  w->st = st;
  w->keep = Napi::Persistent(info[0]);
  w->context = std::make_unique<Napi::AsyncContext>(env, "hull:advance");
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  int rc = uv_poll_init(loop, &w->poll, st->launched.message_fd);
  if (rc != 0) {
    delete w;
    throw SysError(env, "uv_poll_init", "container message socket", -rc);
  }
  w->poll.data = w;
  st->busy = true;
  Napi::Promise promise = w->deferred.Promise();
  rc = uv_poll_start(&w->poll, UV_READABLE, OnMessageReadable);
  if (rc != 0) {
    st->busy = false;
    uv_close(reinterpret_cast<uv_handle_t*>(&w->poll), OnStepWatchClosed);
    throw SysError(env, "uv_poll_start", "container message socket", -rc);
  }
  return promise;
}

Napi::Value WatchExit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pidfd = info[0].As<Napi::Number>().Int32Value();
  auto* w = new ExitWatch();
  w->pidfd = pidfd;
  w->callback = Napi::Persistent(info[1].As<Napi::Function>());
  w->context = std::make_unique<Napi::AsyncContext>(env, "hull:exit");
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  int rc = uv_poll_init(loop, &w->poll, pidfd);
  if (rc != 0) {
    delete w;
    throw SysError(env, "uv_poll_init", "pidfd", -rc);
  }
  w->poll.data = w;
  rc = uv_poll_start(&w->poll, UV_READABLE, OnPidfdReadable);
  if (rc != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&w->poll), OnWatchClosed);
    throw SysError(env, "uv_poll_start", "pidfd", -rc);
  }
  // keepAlive false: the watch does not keep the event loop (and so hull) alive (`exec -d`).
  if (info.Length() > 2 && info[2].IsBoolean() && !info[2].As<Napi::Boolean>().Value()) {
    uv_unref(reinterpret_cast<uv_handle_t*>(&w->poll));
  }
  LiveExitWatches().insert(w);
  return env.Undefined();
}

Napi::Value StopExitWatches(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  std::vector<ExitWatch*> stopping;
  for (ExitWatch* w : LiveExitWatches()) {
    if (static_cast<napi_env>(w->callback.Env()) == env) stopping.push_back(w);
  }
  for (ExitWatch* w : stopping) {
    LiveExitWatches().erase(w);
    uv_poll_stop(&w->poll);
    close(w->pidfd);
    w->pidfd = -1;
    w->callback.Reset();
    w->context.reset();
    uv_close(reinterpret_cast<uv_handle_t*>(&w->poll), OnWatchClosed);
  }
  return info.Env().Undefined();
}

Napi::Value PidfdSignal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pidfd = info[0].As<Napi::Number>().Int32Value();
  int sig = info[1].As<Napi::Number>().Int32Value();
  if (syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) < 0) throw SysError(env, "pidfd_send_signal", "", errno);
  return env.Undefined();
}

}  // namespace hull
