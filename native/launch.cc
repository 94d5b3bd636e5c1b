// The one launcher (the protocol is drawn in launch.h). Everything between the fork/clone and the
// child's RunChild is async-signal-safe: Node is multithreaded, and the joiner is a copy of one of
// its threads.
#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <initializer_list>

#include "child.h"
#include "fdpass.h"

namespace hull {
namespace {

void SetError(LaunchError* e, const char* syscall, int err, const char* what) {
  e->syscall = syscall;
  e->err = err;
  snprintf(e->what, sizeof e->what, "%s", what);
}

void CloseAll(std::initializer_list<int> fds) {
  for (int fd : fds) {
    if (fd >= 0) close(fd);
  }
}

// What the joiner reports on its pipe: the pid of the process that runs the plan, or the failed
// syscall (setns of join_fds[index], clone3) and errno.
struct JoinReport {
  int32_t pid;
  int32_t err;
  int32_t index;
  char syscall[16];
};

// clone3 with every signal blocked around it, so that no handler of the caller's runs in the child
// before RunChild resets them; straight into the cgroup (CLONE_INTO_CGROUP) when one is given.
long Clone(uint64_t flags, int cgroup_fd, int* pidfd, int exit_signal) {
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.flags = flags;
  if (pidfd != nullptr) {
    args.flags |= CLONE_PIDFD;
    args.pidfd = reinterpret_cast<uint64_t>(pidfd);
  }
  args.exit_signal = static_cast<uint64_t>(exit_signal);
  if (cgroup_fd >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = static_cast<uint64_t>(cgroup_fd);
  }
  return syscall(SYS_clone3, &args, sizeof args);
}

// The joiner: a plain fork of the caller. Non-dumpable, setns into each fd, then clone3 the process
// that runs the plan (CLONE_PARENT: the caller's child, so the caller reaps it and opens its pidfd
// before anyone else could) into the joined pid namespace and the cgroup; reports and exits.
[[noreturn]] void RunJoiner(const Plan& plan, uint64_t clone_flags, const int* fds, size_t n, int cgroup_fd,
                            int report_fd) {
  for (int fd : plan.close_in_child) {
    if (fd >= 0) close(fd);
  }
  JoinReport rep;
  memset(&rep, 0, sizeof rep);
  // Nothing of this process may be read through /proc by a container before execve.
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
    rep.err = errno;
    memcpy(rep.syscall, "prctl", 6);
  }
  for (size_t i = 0; i < n && rep.err == 0; i++) {
    if (setns(fds[i], 0) < 0) {
      rep.err = errno;
      memcpy(rep.syscall, "setns", 6);
      rep.index = static_cast<int32_t>(i);
    }
  }
  if (rep.err == 0) {
    long pid = Clone(clone_flags | CLONE_PARENT, cgroup_fd, nullptr, 0);  // CLONE_PARENT: the parent's exit signal
    if (pid == 0) {
      prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
      RunChild(plan);
    }
    if (pid < 0) {
      rep.err = errno;
      memcpy(rep.syscall, "clone3", 7);
    } else {
      rep.pid = static_cast<int32_t>(pid);
    }
  }
  ssize_t ignored = write(report_fd, &rep, sizeof rep);
  (void)ignored;
  _exit(rep.err == 0 ? 0 : 1);
}

// Clone through a joiner; the pid of the plan's process, or -1 with *error set.
long CloneJoined(const LaunchRequest& req, const Plan& plan, LaunchError* error) {
  int report[2];
  if (pipe2(report, O_CLOEXEC) < 0) {
    SetError(error, "pipe2", errno, "the joiner's report pipe");
    return -1;
  }
  sigset_t all, saved;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &saved);
  long joiner = Clone(0, -1, nullptr, SIGCHLD);
  if (joiner == 0) {
    close(report[0]);
    RunJoiner(plan, req.plan->clone_flags, req.join_fds, req.join_count, req.cgroup_fd, report[1]);
  }
  int clone_errno = errno;
  pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  close(report[1]);
  if (joiner < 0) {
    close(report[0]);
    SetError(error, "clone3", clone_errno, "the joiner");
    return -1;
  }
  JoinReport rep;
  memset(&rep, 0, sizeof rep);
  ssize_t n;
  do {
    n = read(report[0], &rep, sizeof rep);
  } while (n < 0 && errno == EINTR);
  int read_errno = errno;
  close(report[0]);
  while (waitpid(static_cast<pid_t>(joiner), nullptr, 0) < 0 && errno == EINTR) {
  }
  if (n != static_cast<ssize_t>(sizeof rep)) {
    SetError(error, "read", n < 0 ? read_errno : EPROTO, "the joiner's report");
    return -1;
  }
  if (rep.err != 0) {
    rep.syscall[sizeof rep.syscall - 1] = '\0';
    char what[64];
    snprintf(what, sizeof what, "%s",
             strcmp(rep.syscall, "setns") == 0 ? "join the container's namespaces" : "clone the process");
    error->syscall = strcmp(rep.syscall, "setns") == 0   ? "setns"
                     : strcmp(rep.syscall, "prctl") == 0 ? "prctl"
                                                         : "clone3";
    error->err = rep.err;
    snprintf(error->what, sizeof error->what, "%s (namespace %d of %zu)", what, rep.index + 1, req.join_count);
    return -1;
  }
  return rep.pid;
}

int WriteMap(int pid, const char* file, const char* text, LaunchError* error) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", pid, file);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    SetError(error, "open", e, path);
    return e;
  }
  size_t n = strlen(text);
  ssize_t w = write(fd, text, n);
  int e = w == static_cast<ssize_t>(n) ? 0 : (w < 0 ? errno : EIO);
  close(fd);
  if (e != 0) SetError(error, "write", e, path);
  return e;
}

bool LaunchJoining(const LaunchRequest& req, Plan* plan, Launched* out, LaunchError* error);

}  // namespace

bool Launch(const LaunchRequest& request, Plan* plan, Launched* out, LaunchError* error) {
  // The namespaces to join before the clone: the caller's fds, then the plan's files.
  constexpr size_t kMaxJoin = 16;
  int join[kMaxJoin];
  size_t n_join = 0, n_opened = 0;
  for (size_t i = 0; i < request.join_count && n_join < kMaxJoin; i++) join[n_join++] = request.join_fds[i];
  for (char** p = request.plan->join_paths; p != nullptr && *p != nullptr; p++) {
    if (n_join == kMaxJoin) {
      SetError(error, "setns", E2BIG, "too many namespaces to join");
      for (size_t i = n_join - n_opened; i < n_join; i++) close(join[i]);
      return false;
    }
    int fd = open(*p, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      SetError(error, "open", errno, *p);
      for (size_t i = n_join - n_opened; i < n_join; i++) close(join[i]);
      return false;
    }
    join[n_join++] = fd;
    n_opened++;
  }
  LaunchRequest req = request;
  req.join_fds = join;
  req.join_count = n_join;
  bool ok = LaunchJoining(req, plan, out, error);
  for (size_t i = n_join - n_opened; i < n_join; i++) close(join[i]);
  return ok;
}

namespace {

bool LaunchJoining(const LaunchRequest& req, Plan* plan, Launched* out, LaunchError* error) {
  int sync_pipe[2] = {-1, -1}, messages[2] = {-1, -1}, console[2] = {-1, -1};
  if (pipe2(sync_pipe, O_CLOEXEC) < 0) {
    SetError(error, "pipe2", errno, "the sync pipe");
    return false;
  }
  // A socket, not a pipe: the child sends with MSG_NOSIGNAL, so a parent that has gone (an OCI
  // create has returned) costs it no SIGPIPE.
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, messages) < 0) {
    SetError(error, "socketpair", errno, "the message socket");
    CloseAll({sync_pipe[0], sync_pipe[1]});
    return false;
  }
  if (req.plan->terminal && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, console) < 0) {
    SetError(error, "socketpair", errno, "the console socket");
    CloseAll({sync_pipe[0], sync_pipe[1], messages[0], messages[1]});
    return false;
  }
  memset(plan, 0, sizeof *plan);
  plan->steps = req.plan->steps;
  plan->count = req.plan->count;
  plan->rootfs = req.plan->rootfs;
  for (int i = 0; i < 3; i++) plan->stdio[i] = req.stdio[i];
  plan->sync_fd = sync_pipe[0];
  plan->message_fd = messages[1];
  plan->console_fd = console[1];
  plan->close_in_child[0] = sync_pipe[1];
  plan->close_in_child[1] = messages[0];
  plan->close_in_child[2] = console[0];
  plan->parent_death_signal = static_cast<int>(req.plan->parent_death_signal);

  int pidfd = -1;
  long pid;
  if (req.join_count > 0) {
    pid = CloneJoined(req, *plan, error);
    if (pid > 0) {
      pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
      if (pidfd < 0) {
        SetError(error, "pidfd_open", errno, "the container's first process");
        kill(static_cast<pid_t>(pid), SIGKILL);
        waitpid(static_cast<pid_t>(pid), nullptr, __WALL);
        pid = -1;
      } else {
        fcntl(pidfd, F_SETFD, FD_CLOEXEC);
      }
    }
  } else {
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    pid = Clone(req.plan->clone_flags, req.cgroup_fd, &pidfd, SIGCHLD);
    if (pid == 0) RunChild(*plan);
    int clone_errno = errno;
    pthread_sigmask(SIG_SETMASK, &saved, nullptr);
    if (pid < 0) SetError(error, "clone3", clone_errno, "the container's first process");
  }
  CloseAll({sync_pipe[0], messages[1], console[1]});
  if (pid < 0) {
    CloseAll({sync_pipe[1], messages[0], console[0]});
    return false;
  }
  out->pid = static_cast<int>(pid);
  out->pidfd = pidfd;
  out->sync_fd = sync_pipe[1];
  out->message_fd = messages[0];
  out->console_fd = console[0];
  return true;
}

}  // namespace

int Go(const LaunchPlan& plan, const Launched& launched, LaunchError* error) {
  for (size_t i = 0; i < plan.count; i++) {
    const Step& s = plan.steps[i];
    if (s.op != StepOp::IdMaps) continue;
    int e = WriteMap(launched.pid, "uid_map", s.s0, error);
    if (e == 0) e = WriteMap(launched.pid, "gid_map", s.s1, error);
    if (e != 0) return e;
  }
  int e = Tell(launched, kParentGo);
  if (e != 0) SetError(error, "write", e, "the container's sync pipe");
  return e;
}

int Tell(const Launched& launched, char message) {
  ssize_t n;
  do {
    n = write(launched.sync_fd, &message, 1);  // one byte into a pipe nobody else writes: never blocks
  } while (n < 0 && errno == EINTR);
  return n == 1 ? 0 : (n < 0 ? errno : EIO);
}

ReadResult ReadMessage(int fd, ChildMessage* buffer, size_t* got, int* err) {
  auto* bytes = reinterpret_cast<char*>(buffer);
  for (;;) {
    ssize_t n = read(fd, bytes + *got, sizeof *buffer - *got);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return ReadResult::More;
      *err = errno;
      return ReadResult::Broken;
    }
    if (n == 0) {
      if (*got == 0) return ReadResult::Execd;
      *err = EPROTO;  // end of file in the middle of a record
      return ReadResult::Broken;
    }
    *got += static_cast<size_t>(n);
    if (*got < sizeof *buffer) continue;  // the rest is on its way (it is sent at once)
    *got = 0;
    return ReadResult::Message;
  }
}

int ReceiveConsole(const Launched& launched) {
  if (launched.console_fd < 0) return -EBADF;
  return ReceiveFd(launched.console_fd, MSG_DONTWAIT);
}

void CloseLaunched(Launched* l) {
  for (int* fd : {&l->sync_fd, &l->message_fd, &l->console_fd}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
}

}  // namespace hull
