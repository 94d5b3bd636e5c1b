// Spawning a container's first process, and watching it exit.
//
// The parent/child protocol (sync pipe, error pipe, console socket):
//
//   parent (Node, main thread)                     child (clone3: new pid/mnt/uts/ipc/net/cgroup ns,
//                                                         already inside its cgroup)
//   ─────────────────────────────                  ─────────────────────────────────────────────
//   spawn(): copy the plan into C structures
//            pipe2 sync, pipe2 error, socketpair console
//            block all signals; clone3 ───────────► close the parent's ends; reset signal handlers
//            restore the mask; close the child's ends  read(sync) … blocks
//   (TS finishes its side: nothing yet; later network, uid maps)
//   release(): write(sync, "G") ─────────────────► plan step 1 … N
//              uv_poll(error) on the event loop        on failure: write(error, ErrorRecord), _exit(125)
//                                                      console step: sendmsg(console, pty master)
//                                                      execve → error fd (CLOEXEC) closes
//              read(error) → 0 bytes: started; recvmsg(console) → master
//              read(error) → ErrorRecord: rejected with {step, steps, syscall, errno, detail}
//   watchExit(): uv_poll on the pidfd (event loop; no thread is involved at any point)
//              readable → waitid(P_PIDFD) → callback({code, signal})
//
// If the parent dies before "go", read(sync) returns EOF and the child exits without running.
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include <memory>
#include <string>
#include <vector>

#include "child.h"
#include "errors.h"
#include "fdpass.h"
#include "plan.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace hull {
namespace {

// Owns everything the plan points into. Lives until release() finishes (or is finalized).
struct SpawnState {
  std::vector<std::unique_ptr<std::string>> strings;
  std::vector<std::vector<char*>> arrays;
  std::vector<std::vector<gid_t>> group_lists;
  std::vector<Step> steps;
  Plan plan{};
  int sync_write = -1;     // parent's end of the sync pipe
  int error_read = -1;     // parent's end of the error pipe
  int console_parent = -1; // parent's end of the console socket
  bool released = false;

  const char* Keep(const std::string& s) {
    strings.push_back(std::make_unique<std::string>(s));
    return strings.back()->c_str();
  }
  char* const* KeepArray(const Napi::Array& list) {
    std::vector<char*> out;
    for (uint32_t i = 0; i < list.Length(); i++) {
      out.push_back(const_cast<char*>(Keep(list.Get(i).As<Napi::String>().Utf8Value())));
    }
    out.push_back(nullptr);
    arrays.push_back(std::move(out));
    return arrays.back().data();
  }
  void CloseParentEnds() {
    for (int* fd : {&sync_write, &error_read, &console_parent}) {
      if (*fd >= 0) close(*fd);
      *fd = -1;
    }
  }
  ~SpawnState() { CloseParentEnds(); }
};

std::string Str(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
}
uint64_t Num(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (v.IsBigInt()) {
    bool lossless = true;
    return v.As<Napi::BigInt>().Uint64Value(&lossless);
  }
  if (v.IsNumber()) return static_cast<uint64_t>(v.As<Napi::Number>().Int64Value());
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? 1 : 0;
  return 0;
}

StepOp ParseOp(Napi::Env env, const std::string& op) {
  static const struct {
    const char* name;
    StepOp op;
  } kOps[] = {
      {"mount", StepOp::Mount},         {"mknod", StepOp::Mknod},
      {"symlink", StepOp::Symlink},     {"pivotRoot", StepOp::PivotRoot},
      {"remount", StepOp::Remount},     {"sethostname", StepOp::Sethostname},
      {"mask", StepOp::Mask},
      {"loopbackUp", StepOp::LoopbackUp}, {"console", StepOp::Console},
      {"mkdirs", StepOp::Mkdirs},       {"chdir", StepOp::Chdir},
      {"setrlimit", StepOp::Setrlimit}, {"noNewPrivs", StepOp::NoNewPrivs},
      {"setUser", StepOp::SetUser},     {"capabilities", StepOp::Capabilities},
      {"closeFds", StepOp::CloseFds},   {"exec", StepOp::Exec},
      {"seccomp", StepOp::Seccomp},     {"idMaps", StepOp::IdMaps},
      {"setns", StepOp::Setns},         {"nullStdio", StepOp::NullStdio},
  };
  for (const auto& entry : kOps) {
    if (op == entry.name) return entry.op;
  }
  throw Napi::TypeError::New(env, "unknown plan step: " + op);
}

Step ParseStep(Napi::Env env, SpawnState& st, const Napi::Object& o) {
  Step s{};
  s.op = ParseOp(env, Str(o, "op"));
  switch (s.op) {
    case StepOp::Mount: {
      s.s0 = st.Keep(Str(o, "source"));
      s.s1 = st.Keep(Str(o, "target"));
      s.s2 = st.Keep(Str(o, "fstype"));
      s.s3 = st.Keep(Str(o, "data"));
      s.n0 = Num(o, "flags");
      std::string create = Str(o, "create");
      s.n1 = static_cast<uint64_t>(create == "dir" ? CreateKind::Dir : create == "file" ? CreateKind::File : CreateKind::None);
      s.n2 = Num(o, "inRoot");
      s.n3 = Num(o, "optional");
      break;
    }
    case StepOp::Mknod:
      s.s0 = st.Keep(Str(o, "path"));
      s.n0 = Num(o, "mode");
      s.n1 = Num(o, "major");
      s.n2 = Num(o, "minor");
      break;
    case StepOp::Symlink:
      s.s0 = st.Keep(Str(o, "target"));
      s.s1 = st.Keep(Str(o, "linkPath"));
      break;
    case StepOp::PivotRoot:
      s.s0 = st.Keep(Str(o, "rootfs"));
      break;
    case StepOp::Remount:
      s.s0 = st.Keep(Str(o, "target"));
      s.n0 = Num(o, "flags");
      s.n1 = Num(o, "ignoreMissing");
      break;
    case StepOp::Mask:
      s.s0 = st.Keep(Str(o, "path"));
      break;
    case StepOp::Sethostname:
      s.s0 = st.Keep(Str(o, "hostname"));
      break;
    case StepOp::Console:
      s.n0 = Num(o, "rows");
      s.n1 = Num(o, "cols");
      s.n2 = Num(o, "noDevConsole");
      break;
    case StepOp::Mkdirs:
      s.s0 = st.Keep(Str(o, "path"));
      s.n0 = Num(o, "mode");
      s.n1 = Num(o, "uid");
      s.n2 = Num(o, "gid");
      break;
    case StepOp::Chdir:
      s.s0 = st.Keep(Str(o, "path"));
      s.n0 = Num(o, "inRoot");
      break;
    case StepOp::Setrlimit:
      s.n0 = Num(o, "resource");
      s.n1 = Num(o, "soft");
      s.n2 = Num(o, "hard");
      break;
    case StepOp::SetUser: {
      s.n0 = Num(o, "uid");
      s.n1 = Num(o, "gid");
      Napi::Array groups = o.Get("groups").As<Napi::Array>();
      std::vector<gid_t> list;
      for (uint32_t i = 0; i < groups.Length(); i++) {
        list.push_back(static_cast<gid_t>(groups.Get(i).As<Napi::Number>().Uint32Value()));
      }
      st.group_lists.push_back(std::move(list));
      s.groups = st.group_lists.back().data();
      s.ngroups = st.group_lists.back().size();
      break;
    }
    case StepOp::Capabilities:
      s.n0 = Num(o, "bounding");
      s.n1 = Num(o, "effective");
      s.n2 = Num(o, "permitted");
      s.n3 = Num(o, "inheritable");
      s.n4 = Num(o, "ambient");
      break;
    case StepOp::Exec:
      s.s0 = st.Keep(Str(o, "file"));
      s.s1 = st.Keep(Str(o, "path"));
      s.argv = st.KeepArray(o.Get("argv").As<Napi::Array>());
      s.envp = st.KeepArray(o.Get("env").As<Napi::Array>());
      break;
    case StepOp::Seccomp:
      s.s0 = st.Keep(Str(o, "filter"));
      s.n0 = st.strings.back()->size() / 16;
      break;
    case StepOp::IdMaps:
      s.s0 = st.Keep(Str(o, "uidMap"));
      s.s1 = st.Keep(Str(o, "gidMap"));
      break;
    case StepOp::Setns:
      s.s0 = st.Keep(Str(o, "path"));
      s.n0 = Num(o, "nstype");
      break;
    case StepOp::NullStdio:
      s.n0 = Num(o, "fds");
      break;
    case StepOp::LoopbackUp:
    case StepOp::NoNewPrivs:
    case StepOp::CloseFds:
      break;
  }
  return s;
}

uint64_t NamespaceFlags(const Napi::Object& ns) {
  uint64_t flags = 0;
  if (Num(ns, "pid")) flags |= CLONE_NEWPID;
  if (Num(ns, "mount")) flags |= CLONE_NEWNS;
  if (Num(ns, "uts")) flags |= CLONE_NEWUTS;
  if (Num(ns, "ipc")) flags |= CLONE_NEWIPC;
  if (Num(ns, "net")) flags |= CLONE_NEWNET;
  if (Num(ns, "cgroup")) flags |= CLONE_NEWCGROUP;
  if (Num(ns, "user")) flags |= CLONE_NEWUSER;
  return flags;
}

void FinalizeState(Napi::Env, SpawnState* st) { delete st; }

// ---- release(): "go", then wait for execve or a failure record, on the event loop ------------

// The error pipe is polled like the pidfd: no thread is involved, so starting a container never
// wakes libuv's threadpool.
struct StartWatch {
  uv_poll_t poll;
  SpawnState* st;
  Napi::Reference<Napi::Value> keep;  // the handle (External), so the state outlives this watch
  Napi::Promise::Deferred deferred;
  std::unique_ptr<Napi::AsyncContext> context;
  ErrorRecord record{};
  size_t got = 0;

  explicit StartWatch(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
};

void OnStartWatchClosed(uv_handle_t* handle) { delete static_cast<StartWatch*>(handle->data); }

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

void OnErrorPipeReadable(uv_poll_t* handle, int status, int /*events*/) {
  auto* w = static_cast<StartWatch*>(handle->data);
  int err = 0;
  bool failed = false;
  if (status < 0) {
    err = -status;
  } else {
    auto* bytes = reinterpret_cast<char*>(&w->record);
    ssize_t n = read(w->st->error_read, bytes + w->got, sizeof w->record - w->got);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) return;
      err = errno;
    } else if (n > 0) {
      w->got += static_cast<size_t>(n);
      if (w->got < sizeof w->record) return;  // the rest is on its way (it is written at once)
      failed = true;
    } else if (w->got != 0) {
      err = EPROTO;  // EOF in the middle of a record
    }
    // n == 0 with nothing read: EOF, the error pipe closed on execve. Started.
  }
  uv_poll_stop(handle);
  SpawnState* st = w->st;
  Napi::Env env = w->deferred.Env();
  {
    Napi::HandleScope scope(env);
    Napi::CallbackScope callback_scope(env, *w->context);  // runs the microtasks on close
    if (err != 0) {
      w->deferred.Reject(SysError(env, "read", "container error pipe", err).Value());
    } else if (failed) {
      Napi::Error e = Napi::Error::New(env, std::string(w->record.message) + ": " + ErrnoName(w->record.err));
      e.Set("failure", FailureObject(env, w->record));
      w->deferred.Reject(e.Value());
    } else {
      int console_fd = -1;
      if (st->console_parent >= 0) {
        // The child sent it before execve, and execve has happened: it is already queued.
        console_fd = ReceiveFd(st->console_parent, MSG_DONTWAIT);
      }
      if (console_fd < 0 && st->console_parent >= 0) {
        w->deferred.Reject(SysError(env, "recvmsg", "console socket", -console_fd).Value());
      } else {
        Napi::Object result = Napi::Object::New(env);
        result.Set("consoleFd", console_fd >= 0 ? Napi::Number::New(env, console_fd) : env.Undefined());
        w->deferred.Resolve(result);
      }
    }
    st->CloseParentEnds();
    st->released = true;
  }
  uv_close(reinterpret_cast<uv_handle_t*>(handle), OnStartWatchClosed);
}

// ---- watchExit(): pidfd polled on the event loop ----------------------------------------------

struct ExitWatch {
  uv_poll_t poll;
  int pidfd;
  Napi::FunctionReference callback;
  std::unique_ptr<Napi::AsyncContext> context;
};

void OnWatchClosed(uv_handle_t* handle) { delete static_cast<ExitWatch*>(handle->data); }

void OnPidfdReadable(uv_poll_t* handle, int status, int /*events*/) {
  auto* w = static_cast<ExitWatch*>(handle->data);
  siginfo_t info;
  memset(&info, 0, sizeof info);
  int rc = status < 0 ? -1 : waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(w->pidfd), &info, WEXITED | WNOHANG);
  if (rc == 0 && info.si_pid == 0) return;  // not yet: spurious wake-up
  uv_poll_stop(handle);
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
  cb.MakeCallback(env.Global(), {result}, *ctx);
}


// ---- pidfdWait(): a pidfd (of any process, not only a child) polled with a time limit ----------

struct PidfdWaiter {
  uv_poll_t poll;
  uv_timer_t timer;
  int open_handles = 2;
  bool settled = false;
  Napi::Promise::Deferred deferred;
  std::unique_ptr<Napi::AsyncContext> context;
  explicit PidfdWaiter(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
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
  return promise;
}

namespace {

// exec: a fork of hull joins the container's namespaces and clones the plan's process as hull's
// own child (see RunJoiner in child.cc). The joiner's report comes on a pipe at once.
//
//   hull (Node)                        joiner (fork)                        process (clone3)
//   pipe2 report; block signals; fork ► non-dumpable; setns(ns fds…)
//   read(report) … blocks              clone3(CLONE_PARENT|INTO_CGROUP) ──► non-dumpable; RunChild:
//   ◄── JoinReport {pid | syscall+errno}; _exit                              wait "go" on sync …
//   waitpid(joiner); pidfd_open(pid)
//   release(): "go" ──────────────────────────────────────────────────────► plan steps; execve
Napi::Value SpawnJoined(Napi::Env env, std::unique_ptr<SpawnState> st, const Napi::Array& join, int cgroup_fd, int child_sync,
                        int child_error, int child_console) {
  std::vector<int> ns_fds;
  for (uint32_t i = 0; i < join.Length(); i++) ns_fds.push_back(join.Get(i).As<Napi::Number>().Int32Value());
  auto close_child_ends = [&]() {
    for (int fd : {child_sync, child_error, child_console}) {
      if (fd >= 0) close(fd);
    }
  };
  int report[2];
  if (pipe2(report, O_CLOEXEC) < 0) {
    int e = errno;
    close_child_ends();
    throw SysError(env, "pipe2", "exec report pipe", e);
  }
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.exit_signal = SIGCHLD;
  sigset_t all, saved;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &saved);
  long joiner = syscall(SYS_clone3, &args, sizeof args);
  if (joiner == 0) {
    close(report[0]);
    RunJoiner(st->plan, ns_fds.data(), ns_fds.size(), cgroup_fd, report[1]);
  }
  int clone_errno = errno;
  pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  close(report[1]);
  close_child_ends();
  if (joiner < 0) {
    close(report[0]);
    throw SysError(env, "clone3", "exec", clone_errno);
  }
  JoinReport rep;
  memset(&rep, 0, sizeof rep);
  ssize_t n;
  do {
    n = read(report[0], &rep, sizeof rep);
  } while (n < 0 && errno == EINTR);
  int read_errno = errno;
  close(report[0]);
  int status = 0;
  while (waitpid(static_cast<pid_t>(joiner), &status, 0) < 0 && errno == EINTR) {
  }
  if (n != static_cast<ssize_t>(sizeof rep)) throw SysError(env, "read", "exec report pipe", n < 0 ? read_errno : EPROTO);
  rep.syscall[sizeof rep.syscall - 1] = '\0';
  if (rep.err != 0) {
    std::string what = std::string(rep.syscall) == "setns" ? "namespace fd " + std::to_string(ns_fds[rep.index]) : "exec";
    throw SysError(env, rep.syscall, what, rep.err);
  }
  long pidfd = syscall(SYS_pidfd_open, rep.pid, 0);
  if (pidfd < 0) throw SysError(env, "pidfd_open", std::to_string(rep.pid), errno);
  fcntl(static_cast<int>(pidfd), F_SETFD, FD_CLOEXEC);
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", Napi::Number::New(env, rep.pid));
  out.Set("pidfd", Napi::Number::New(env, static_cast<double>(pidfd)));
  out.Set("handle", Napi::External<SpawnState>::New(env, st.release(), FinalizeState));
  return out;
}

}  // namespace

Napi::Value Spawn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object req = info[0].As<Napi::Object>();
  auto st = std::make_unique<SpawnState>();

  Napi::Array steps = req.Get("steps").As<Napi::Array>();
  st->steps.reserve(steps.Length());
  for (uint32_t i = 0; i < steps.Length(); i++) {
    st->steps.push_back(ParseStep(env, *st, steps.Get(i).As<Napi::Object>()));
  }
  Napi::Array stdio = req.Get("stdio").As<Napi::Array>();
  for (uint32_t i = 0; i < 3; i++) st->plan.stdio[i] = stdio.Get(i).As<Napi::Number>().Int32Value();
  st->plan.steps = st->steps.data();
  st->plan.count = st->steps.size();
  st->plan.rootfs = st->Keep(Str(req, "rootfs"));
  st->plan.parent_death_signal = static_cast<int>(Num(req, "parentDeathSignal"));
  int cgroup_fd = static_cast<int>(req.Get("cgroupFd").As<Napi::Number>().Int32Value());
  bool terminal = Num(req, "terminal") != 0;

  int sync_pipe[2], error_pipe[2], console[2] = {-1, -1};
  if (pipe2(sync_pipe, O_CLOEXEC) < 0) throw SysError(env, "pipe2", "sync pipe", errno);
  st->sync_write = sync_pipe[1];
  if (pipe2(error_pipe, O_CLOEXEC) < 0) {
    int e = errno;
    close(sync_pipe[0]);
    throw SysError(env, "pipe2", "error pipe", e);
  }
  st->error_read = error_pipe[0];
  if (terminal && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, console) < 0) {
    int e = errno;
    close(sync_pipe[0]);
    close(error_pipe[1]);
    throw SysError(env, "socketpair", "console socket", e);
  }
  st->console_parent = console[0];
  st->plan.sync_fd = sync_pipe[0];
  st->plan.error_fd = error_pipe[1];
  st->plan.console_fd = console[1];
  st->plan.close_in_child[0] = st->sync_write;
  st->plan.close_in_child[1] = st->error_read;
  st->plan.close_in_child[2] = st->console_parent;

  Napi::Value join = req.Get("joinNamespaceFds");
  if (join.IsArray()) return SpawnJoined(env, std::move(st), join.As<Napi::Array>(), cgroup_fd, sync_pipe[0], error_pipe[1], console[1]);

  int pidfd = -1;
  long pid = CloneContainer(NamespaceFlags(req.Get("namespaces").As<Napi::Object>()), cgroup_fd, st->plan, &pidfd);
  int clone_errno = errno;

  close(sync_pipe[0]);
  close(error_pipe[1]);
  if (console[1] >= 0) close(console[1]);
  if (pid < 0) throw SysError(env, "clone3", "", clone_errno);

  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", Napi::Number::New(env, static_cast<double>(pid)));
  out.Set("pidfd", Napi::Number::New(env, pidfd));
  out.Set("handle", Napi::External<SpawnState>::New(env, st.release(), FinalizeState));
  return out;
}

Napi::Value Release(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* st = info[0].As<Napi::External<SpawnState>>().Data();
  if (st->released || st->sync_write < 0) throw Napi::Error::New(env, "release: this process was already released");
  // One byte into an empty pipe: never blocks.
  char go = 'G';
  ssize_t n;
  do {
    n = write(st->sync_write, &go, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) throw SysError(env, "write", "container sync pipe", n < 0 ? errno : EIO);
  close(st->sync_write);
  st->sync_write = -1;

  auto* w = new StartWatch(env);
  w->st = st;
  w->keep = Napi::Persistent(info[0]);
  w->context = std::make_unique<Napi::AsyncContext>(env, "hull:start");
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  int rc = uv_poll_init(loop, &w->poll, st->error_read);
  if (rc != 0) {
    delete w;
    throw SysError(env, "uv_poll_init", "container error pipe", -rc);
  }
  w->poll.data = w;
  Napi::Promise promise = w->deferred.Promise();
  rc = uv_poll_start(&w->poll, UV_READABLE, OnErrorPipeReadable);
  if (rc != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&w->poll), OnStartWatchClosed);
    throw SysError(env, "uv_poll_start", "container error pipe", -rc);
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
  return env.Undefined();
}

Napi::Value PidfdSignal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pidfd = info[0].As<Napi::Number>().Int32Value();
  int sig = info[1].As<Napi::Number>().Int32Value();
  if (syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) < 0) throw SysError(env, "pidfd_send_signal", "", errno);
  return env.Undefined();
}

}  // namespace hull
