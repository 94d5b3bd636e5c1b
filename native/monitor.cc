// hull-monitor: one small process per detached container, like Podman's conmon. It is the
// container's parent and a child subreaper, holds the container's stdio, writes its output to a
// log in Docker's json-file shape, records the exit (code, time, OOM kill) in a status file,
// restarts the container when its policy says so, and ends when the container has ended.
//
// It decides nothing: TypeScript (src/runtime/monitor.ts) builds the plan and every path, and
// hands them over in the binary form of native/plan-codec.h. The container's first process runs
// the same plan executor as `hull run` (native/child.cc), compiled into this executable.
//
// Why the executor is compiled in (rather than M forking a short-lived Node helper that clones the
// container with M as its subreaper): the helper would be a second Node start on every `run -d`
// and every restart (`node -e 0` alone is ~60 ms on the CI machine, plus loading hull and the
// addon) and ~40 MB of transient RSS, and a restart policy would need Node again after each exit.
// Compiled in, a restart is one clone3 from the plan M already holds. Measured on the CI machine
// (bench/detached.mjs, 10 interleaved runs): `hull run -d busybox sleep` 107 ms median beside
// `podman run -d` 151 ms; idle monitor RSS 880 kB / PSS 170 kB beside conmon's 1980 kB / 446 kB.
// It is linked statically (-static, no libstdc++ use, no exceptions/RTTI), so it maps no shared
// libraries at all; its buffers (16 KiB line + 96 KiB entry per container) are only touched as
// output comes.
//
// The protocol with hull (hull = the CLI or library, a Node process; M = this monitor; C = the
// container). M launches C with the same launcher as the addon (native/launch.h draws M's side of
// the protocol with C: go, then start at C's gate).
//
//   hull                                   M (hull-monitor)                    C
//   ────                                   ────────────────                    ─
//   spawn M (setsid, stdin = pipe,
//            fd 3 = report pipe) ────────► subreaper; ignore HUP/INT/TERM/PIPE
//   status file: starting {M's pid}
//   write the input to stdin; close ─────► read stdin to EOF; decode (plan-codec.h); stdin = /dev/null
//   read(fd 3) … blocks                    open log, cgroup dir; pipes for 1 and 2
//                                          Launch ──────────────────────────► close M's ends; wait "go"
//                                          Go ──────────────────────────────► plan steps … start gate
//                                          Ready? Start ────────────────────► execve (message socket closes)
//                                          end of file: status file {running, pid}
//   read MonitorReport ◄────────────────── MonitorReport {Started, pid} on fd 3; close fd 3
//   record state (monitorPid, …); exit     loop: poll(stdout, stderr | pty, pidfd)
//                                            output → log lines {"log","stream","time"}
//                                            pidfd readable → waitid → drain output
//                                          status file {exited, exitCode, finishedAt, oomKilled}
//                                          restart policy? backoff, launch again (status: restarting)
//                                          else: cgroup.kill, rmdir cgroup; exec the exit command
//                                          (hull rm, for --rm) or exit 0
//
// A failure before the report is a MonitorReport of kind MonitorFailed naming the syscall and path, or
// the container's own ErrorRecord (kind PlanFailed); hull turns either into one error line.
// The container gets PDEATHSIG = SIGKILL: if M is killed (-9), the container dies with it, and
// hull reports it exited from the pid + start time check (src/runtime/container-store.ts).
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <initializer_list>

#include "fdpass.h"
#include "launch.h"
#include "monitor-control.h"
#include "plan-codec.h"
#include "write-all.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace hull {
namespace {

constexpr int kReportFd = 3;
constexpr int kControlFd = 4;  // the control socket, bound and listening (native/monitor-control.h)

MonitorConfig cfg;
Arena arena;  // the decoded plan's arrays: they live as long as M
int report_fd = kReportFd;

// ---- small helpers (M is single-threaded: stdio-free, but not signal-handler code) ----------

// What M tells hull once, on fd 3 (read in src/runtime/monitor.ts; the layout is in plan-table.h).
void Report_(MonitorReportKind kind, int pid, const ErrorRecord* rec) {
  if (report_fd < 0) return;
  MonitorReport r;
  memset(&r, 0, sizeof r);
  r.kind = kind;
  r.pid = pid;
  if (rec != nullptr) r.error = *rec;
  ssize_t n;
  do {
    n = write(report_fd, &r, sizeof r);
  } while (n < 0 && errno == EINTR);
  close(report_fd);
  report_fd = -1;
}

// A failure of M itself before the report: "op path: ERRNO" reaches the user through hull.
[[noreturn]] void Die(const char* syscall_name, int err, const char* what, const char* path = "") {
  ErrorRecord rec;
  memset(&rec, 0, sizeof rec);
  rec.err = err;
  snprintf(rec.syscall, sizeof rec.syscall, "%s", syscall_name);
  snprintf(rec.message, sizeof rec.message, "monitor: %s%s%s", what, path[0] ? " " : "", path);
  Report_(MonitorReportKind::MonitorFailed, 0, &rec);
  _exit(1);
}

// RFC 3339 with nanoseconds, UTC: Docker's log and state timestamps.
void Now(char* out, size_t cap) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
           tm.tm_min, tm.tm_sec, ts.tv_nsec);
}

// Field 22 of /proc/PID/stat: the start time hull pairs with the pid (src/runtime/liveness.ts).
unsigned long long StartTime(int pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  char* p = strrchr(buf, ')');
  if (p == nullptr) return 0;
  p += 2;  // ") " then field 3
  for (int field = 3; field < 22 && *p; p++) {
    if (*p == ' ') field++;
  }
  return strtoull(p, nullptr, 10);
}

// Who writes the status file: this monitor (pid, start time, boot), so hull can tell whether the
// monitor answering for the container is alive whatever its own record says.
char identity[160];

void InitIdentity() {
  char boot[64] = "";
  int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t n = read(fd, boot, sizeof boot - 1);
    close(fd);
    boot[n > 0 ? n : 0] = '\0';
    for (char* p = boot; *p; p++) {
      if (*p == '\n') *p = '\0';
    }
  }
  snprintf(identity, sizeof identity, "\"monitorPid\":%d,\"monitorStartTime\":%llu,\"bootId\":\"%s\",", getpid(),
           StartTime(getpid()), boot);
}

// The status file, replaced atomically (temp + rename): hull reads it without a lock. `json` is an
// object ("{…}"); the monitor's identity goes first in it.
void WriteStatus(const char* json) {
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", cfg.status_path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;  // nothing to tell anyone: hull falls back to the pid check
  bool ok =
      WriteAll(fd, "{", 1) && WriteAll(fd, identity, strlen(identity)) && WriteAll(fd, json + 1, strlen(json + 1));
  close(fd);
  if (ok) rename(tmp, cfg.status_path);
}

// The container's events in hull's events log (src/events/log.ts): its volumes' `mount` and its
// `start` at each start; `oom` (when the OOM killer struck), `die` and its volumes' `unmount` at each
// end. Each is one O_APPEND write of the whole line, as every writer of that log does, so concurrent
// writers never interleave. hull wrote the lines but for the exit code and the time in a file, read
// at each event (a rename rewrites it), in NUL-separated sections: the start line, the die line up
// to the exit code, the rest of it, the oom line, the mount lines, the unmount lines (the last three
// each a list of lines separated by newlines; absent in the files of older hulls). The monitor
// writes them because it is the one that sees them in order (a container may end before hull hears
// it started) and sees a restart policy's. Rotation is left to hull's writers.
void AppendEvent(bool die, int code, bool oom) {
  if (cfg.events_path[0] == '\0') return;
  static char parts[65536];
  int pfd = open(cfg.event_lines_path, O_RDONLY | O_CLOEXEC);
  if (pfd < 0) return;
  ssize_t got = read(pfd, parts, sizeof parts - 1);
  close(pfd);
  if (got <= 0) return;
  parts[got] = '\0';
  const char* section[6] = {"", "", "", "", "", ""};
  int sections = 0;
  for (size_t at = 0; sections < 6 && at <= static_cast<size_t>(got); at += strlen(parts + at) + 1) {
    section[sections++] = parts + at;
  }
  if (sections < 3) return;  // not hull's file
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  long long sec = static_cast<long long>(ts.tv_sec);
  long long ns = sec * 1000000000LL + ts.tv_nsec;
  int fd = open(cfg.events_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return;  // no events log: the state is still in the status file
  char line[4300];
  auto write_line = [&](int n) {
    if (n >= 0 && static_cast<size_t>(n) < sizeof line)
      WriteAll(fd, line, static_cast<size_t>(n));  // hull keeps them under 4 KiB
  };
  auto each = [&](const char* lines) {
    for (const char* p = lines; *p != '\0';) {
      const char* nl = strchr(p, '\n');
      int len = static_cast<int>(nl != nullptr ? nl - p : static_cast<long>(strlen(p)));
      if (len > 0) write_line(snprintf(line, sizeof line, "%.*s,\"time\":%lld,\"timeNano\":%lld}\n", len, p, sec, ns));
      p += len + (nl != nullptr ? 1 : 0);
    }
  };
  if (die) {
    if (oom) each(section[3]);
    write_line(snprintf(line, sizeof line, "%s%d%s,\"time\":%lld,\"timeNano\":%lld}\n", section[1], code, section[2],
                        sec, ns));
    each(section[5]);
  } else {
    each(section[4]);
    each(section[0]);
  }
  close(fd);
}

// The crash tests' hook (src/runtime/crash-point.ts has hull's): HULL_TEST_MONITOR_CRASH_AT=N
// kills the monitor at the Nth point it passes, as a kill -9 from outside would.
long crash_at = 0;
long crash_passed = 0;

void CrashPoint() {
  if (crash_at > 0 && ++crash_passed == crash_at) raise(SIGKILL);
}

// ---- the json-file log ---------------------------------------------------------------------

constexpr size_t kMaxLine = 16 * 1024;  // Docker splits longer lines into partial entries

struct Stream {
  const char* name;
  int number;  // 1 stdout, 2 stderr (the attach frames' stream)
  int fd = -1;
  char line[kMaxLine];
  size_t len = 0;
};

int log_fd = -1;
uint64_t log_size = 0;
char entry[kMaxLine * 6 + 256];

// --log-opt max-size/max-file: LOG → LOG.1 → … → LOG.(N-1); the oldest is dropped. One file: truncated.
void RotateLog() {
  char from[4200], to[4200];
  if (cfg.log_max_files <= 1) {
    if (ftruncate(log_fd, 0) == 0) log_size = 0;
    return;
  }
  for (uint32_t i = cfg.log_max_files - 1; i >= 1; i--) {
    if (i == 1) {
      snprintf(from, sizeof from, "%s", cfg.log_path);
    } else {
      snprintf(from, sizeof from, "%s.%u", cfg.log_path, i - 1);
    }
    snprintf(to, sizeof to, "%s.%u", cfg.log_path, i);
    rename(from, to);  // a missing older file is no error
  }
  int fd = open(cfg.log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return;  // keep writing to the renamed file rather than lose output
  close(log_fd);
  log_fd = fd;
  log_size = 0;
}

void Emit(const Stream& s, const char* data, size_t n) {
  if (log_fd < 0 || n == 0) return;
  size_t o = 0;
  auto put = [&](const char* t) {
    while (*t) entry[o++] = *t++;
  };
  put("{\"log\":\"");
  static const char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    auto c = static_cast<unsigned char>(data[i]);
    switch (c) {
      case '"':
        put("\\\"");
        break;
      case '\\':
        put("\\\\");
        break;
      case '\n':
        put("\\n");
        break;
      case '\r':
        put("\\r");
        break;
      case '\t':
        put("\\t");
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          put("\\u00");
          entry[o++] = kHex[c >> 4];
          entry[o++] = kHex[c & 15];
        } else {
          entry[o++] = static_cast<char>(c);
        }
    }
  }
  put("\",\"stream\":\"");
  put(s.name);
  put("\",\"time\":\"");
  char now[48];
  Now(now, sizeof now);
  put(now);
  put("\"}\n");
  if (WriteAll(log_fd, entry, o)) log_size += o;  // one write per entry: O_APPEND keeps entries whole
  if (cfg.log_max_size > 0 && log_size >= cfg.log_max_size) RotateLog();
}

// Splits what was read into lines (each logged with its "\n"); keeps the unfinished rest.
void Consume(Stream& s, const char* data, size_t n) {
  for (size_t i = 0; i < n; i++) {
    s.line[s.len++] = data[i];
    if (data[i] == '\n' || s.len == kMaxLine) {
      Emit(s, s.line, s.len);
      s.len = 0;
    }
  }
}

void Flush(Stream& s) {
  Emit(s, s.line, s.len);
  s.len = 0;
}

// Reads once from a stream; false at its end (EOF, or EIO from a pty whose slave is gone).
bool Pump(Stream& s) {
  char buf[8192];
  ssize_t n = read(s.fd, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (n <= 0) {
    Flush(s);
    close(s.fd);
    s.fd = -1;
    return false;
  }
  Consume(s, buf, static_cast<size_t>(n));
  ControlOutput(s.number, buf, static_cast<size_t>(n));
  return true;
}

Stream out_stream, err_stream;

// ---- starting the container ------------------------------------------------------------------

// A user namespace (remapped container): the launch plan has an IdMaps step (Go writes the maps).
bool remapped = false;
bool attached_once = false;  // attach_first applies to the first start only

struct Started {
  int pid;
  int pidfd;
};

// Launch the container from the plan and take it through its gate; on failure returns pid 0 with
// *failure filled (*plan_failed: one of the plan's steps failed, rather than M itself).
Started StartContainer(ErrorRecord* failure, bool* plan_failed) {
  *plan_failed = false;
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);  // a placeholder: the plan's nullStdio step replaces it
  if (devnull < 0) Die("open", errno, "open", "/dev/null");
  int out[2] = {-1, -1}, err[2] = {-1, -1}, in[2] = {-1, -1};
  if (!cfg.launch.terminal && (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0))
    Die("pipe2", errno, "output pipes");
  // -i: the container's stdin is a pipe the monitor holds; attached clients write into it.
  if (!cfg.launch.terminal && cfg.open_stdin && pipe2(in, O_CLOEXEC) < 0) Die("pipe2", errno, "stdin pipe");
  int cgroup_fd = -1;
  if (cfg.cgroup[0] != '\0') {
    cgroup_fd = open(cfg.cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cgroup_fd < 0) Die("open", errno, "open cgroup", cfg.cgroup);
  }
  LaunchRequest request{};
  request.plan = &cfg.launch;
  request.stdio[0] = in[0] >= 0 ? in[0] : devnull;
  request.stdio[1] = cfg.launch.terminal ? devnull : out[1];
  request.stdio[2] = cfg.launch.terminal ? devnull : err[1];
  request.cgroup_fd = cgroup_fd;
  static Plan plan;  // the child's copy is made at clone
  Launched c;
  LaunchError error{};
  bool launched = Launch(request, &plan, &c, &error);
  for (int fd : {out[1], err[1], in[0], devnull, cgroup_fd}) {
    if (fd >= 0) close(fd);
  }
  if (!launched) Die(error.syscall, error.err, error.what, cfg.cgroup);
  if (Go(cfg.launch, c, &error) != 0) Die(error.syscall, error.err, error.what);

  // Its messages, up to execve: Ready at the gate (start at once), then end of file.
  ChildMessage message{};
  size_t got = 0;
  int read_err = 0;
  for (;;) {
    ReadResult r = ReadMessage(c.message_fd, &message, &got, &read_err);
    if (r == ReadResult::Execd) break;
    if (r == ReadResult::Message && message.kind == ChildMessageKind::Ready) {
      // `start -a`: the first start waits at its gate until the client that will show its output
      // has attached (it connected before this monitor ran; a minute at most).
      if (cfg.attach_first && !attached_once) {
        for (int waited = 0; waited < 600 && !ControlHasAttached(); waited++) {
          struct pollfd p[40];
          int control = ControlPollFds(p, 40);
          if (poll(p, static_cast<nfds_t>(control), 100) > 0) ControlHandle(p, control);
        }
        attached_once = true;
      }
      if (Tell(c, kParentStart) != 0) Die("write", errno, "start the container");
      continue;
    }
    if (r == ReadResult::Message && message.kind == ChildMessageKind::Failed) {
      *failure = message.error;
      *plan_failed = true;
    } else {
      memset(failure, 0, sizeof *failure);
      failure->err = r == ReadResult::Broken ? read_err : EPROTO;
      snprintf(failure->syscall, sizeof failure->syscall, "read");
      snprintf(failure->message, sizeof failure->message, "monitor: %s",
               r == ReadResult::Broken ? "the container's message socket"
                                       : "the container stopped at its hooks point (hull-monitor runs no hooks)");
      kill(c.pid, SIGKILL);
    }
    siginfo_t info;
    waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(c.pidfd), &info, WEXITED);
    close(c.pidfd);
    CloseLaunched(&c);
    for (int fd : {out[0], err[0], in[1]}) {
      if (fd >= 0) close(fd);
    }
    return {0, -1};
  }
  if (cfg.launch.terminal) {
    int master = ReceiveConsole(c);
    if (master < 0) Die("recvmsg", -master, "receive the container's console");
    out_stream.fd = master;
    ControlSetStdin(master, true);
  } else {
    out_stream.fd = out[0];
    err_stream.fd = err[0];
    ControlSetStdin(in[1], false);  // the control owns the pipe's write end (-1 without -i)
  }
  CloseLaunched(&c);
  return {c.pid, c.pidfd};
}

// ---- exit ------------------------------------------------------------------------------------

unsigned long long OomKills() {
  if (cfg.memory_events[0] == '\0') return 0;
  int fd = open(cfg.memory_events, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[1024];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  const char* p = strstr(buf, "oom_kill ");
  return p == nullptr ? 0 : strtoull(p + 9, nullptr, 10);
}

// Reads output until both streams end; after the container's init is gone the kernel kills the
// rest of its pid namespace, so the ends follow at once. Bounded, in case someone else holds them.
void Drain() {
  for (int rounds = 0; rounds < 50 && (out_stream.fd >= 0 || err_stream.fd >= 0); rounds++) {
    struct pollfd p[2] = {{out_stream.fd, POLLIN, 0}, {err_stream.fd, POLLIN, 0}};
    int n = poll(p, 2, 100);
    if (n < 0 && errno != EINTR) break;
    if (n == 0) continue;
    if (out_stream.fd >= 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) Pump(out_stream);
    if (err_stream.fd >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) Pump(err_stream);
  }
  for (Stream* s : {&out_stream, &err_stream}) {
    if (s->fd >= 0) {
      Flush(*s);
      close(s->fd);
      s->fd = -1;
    }
  }
}

void RemoveCgroup() {
  if (!cfg.remove_cgroup || cfg.cgroup[0] == '\0') return;
  char kill_path[4200];
  snprintf(kill_path, sizeof kill_path, "%s/cgroup.kill", cfg.cgroup);
  bool killed = false;
  for (int attempt = 0; attempt < 200; attempt++) {
    if (rmdir(cfg.cgroup) == 0 || errno == ENOENT) return;
    if (errno != EBUSY) return;  // hull's rm deals with what is left
    if (!killed) {
      int fd = open(kill_path, O_WRONLY | O_CLOEXEC);
      if (fd >= 0) {
        ssize_t ignored = write(fd, "1", 1);
        (void)ignored;
        close(fd);
      }
      killed = true;
    }
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, nullptr);
  }
}

bool StopRequested() { return cfg.stop_marker[0] != '\0' && access(cfg.stop_marker, F_OK) == 0; }

bool ShouldRestart(int code, unsigned restarts) {
  if (StopRequested()) return false;
  switch (cfg.restart_policy) {
    case 1:  // on-failure[:N]
      return code != 0 && (cfg.max_restarts == 0 || restarts < cfg.max_restarts);
    case 2:  // always
    case 3:  // unless-stopped
      return true;
    default:
      return false;
  }
}

void ReapOthers() {
  while (waitpid(-1, nullptr, WNOHANG) > 0) {
  }
}

}  // namespace
}  // namespace hull

using namespace hull;

int main() {
  signal(SIGPIPE, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  signal(SIGINT, SIG_IGN);
  signal(SIGTERM, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);
  if (fcntl(kReportFd, F_SETFD, FD_CLOEXEC) < 0) _exit(2);  // no report pipe: not started by hull
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) Die("prctl", errno, "PR_SET_CHILD_SUBREAPER");

  // The plan, from stdin to EOF.
  size_t cap = 64 * 1024, len = 0;
  char* buf = static_cast<char*>(malloc(cap));
  if (buf == nullptr) Die("malloc", ENOMEM, "plan buffer");
  for (;;) {
    if (len == cap) {
      cap *= 2;
      buf = static_cast<char*>(realloc(buf, cap));
      if (buf == nullptr) Die("realloc", ENOMEM, "plan buffer");
    }
    ssize_t n = read(0, buf + len, cap - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) Die("read", errno, "read the plan from stdin");
    if (n == 0) break;
    len += static_cast<size_t>(n);
  }
  if (!DecodeMonitorInput(buf, len, &arena, &cfg))
    Die("decode", EINVAL, "the plan is not in hull's format (version mismatch?)");
  InitIdentity();
  if (const char* at = getenv("HULL_TEST_MONITOR_CRASH_AT")) crash_at = strtol(at, nullptr, 10);
  CrashPoint();  // 1: the plan read, nothing started
  for (size_t i = 0; i < cfg.launch.count; i++) {
    if (cfg.launch.steps[i].op == StepOp::IdMaps) remapped = true;
  }
  if (remapped) {
    // hull mounted the remapped root on the host and detaches it there once the container runs:
    // this private copy of the mounts keeps it for restarts, and goes with the monitor.
    if (unshare(CLONE_NEWNS) < 0) Die("unshare", errno, "CLONE_NEWNS");
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) Die("mount", errno, "make / private");
  }
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0 || dup2(devnull, 0) < 0) Die("dup2", errno, "stdin to", "/dev/null");
  close(devnull);

  log_fd = open(cfg.log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (log_fd < 0) Die("open", errno, "open log", cfg.log_path);
  struct stat log_stat;
  if (fstat(log_fd, &log_stat) == 0) log_size = static_cast<uint64_t>(log_stat.st_size);
  out_stream.name = "stdout";
  out_stream.number = 1;
  err_stream.name = "stderr";
  err_stream.number = 2;
  if (!ControlInit(kControlFd, cfg.control_path))
    Die("getsockopt", errno, "take the control socket (fd 4)", cfg.control_path);

  unsigned restarts = 0;
  unsigned long long backoff_ms = 100;
  char json[1024], started_at[48], finished_at[48];
  for (;;) {
    ErrorRecord failure;
    bool plan_failed = false;
    unsigned long long oom_before = OomKills();
    Started c = StartContainer(&failure, &plan_failed);
    if (c.pid == 0) {
      if (report_fd >= 0) {
        Report_(plan_failed ? MonitorReportKind::PlanFailed : MonitorReportKind::MonitorFailed, 0, &failure);
        _exit(1);
      }
      // A restart that could not start: recorded as an exit of 125 (hull's own failure).
      ControlStarted(0);
      ControlExited(125, true);
      Now(finished_at, sizeof finished_at);
      snprintf(json, sizeof json,
               "{\"status\":\"exited\",\"exitCode\":125,\"finishedAt\":\"%s\",\"oomKilled\":false,"
               "\"restartCount\":%u,\"error\":\"restart failed: %s: %s\"}\n",
               finished_at, restarts, failure.syscall,
               strerrorname_np(failure.err) ? strerrorname_np(failure.err) : "E?");
      WriteStatus(json);
      break;
    }
    Now(started_at, sizeof started_at);
    time_t started_mono = time(nullptr);
    snprintf(json, sizeof json,
             "{\"status\":\"running\",\"pid\":%d,\"pidStartTime\":%llu,\"startedAt\":\"%s\",\"restartCount\":%u}\n",
             c.pid, StartTime(c.pid), started_at, restarts);
    WriteStatus(json);
    AppendEvent(false, 0, false);
    CrashPoint();  // 2: running, not yet reported to hull
    ControlStarted(c.pid);
    Report_(MonitorReportKind::Started, c.pid, nullptr);
    CrashPoint();  // 3: reported

    siginfo_t info;
    memset(&info, 0, sizeof info);
    for (;;) {
      struct pollfd p[3 + 40] = {{c.pidfd, POLLIN, 0}, {out_stream.fd, POLLIN, 0}, {err_stream.fd, POLLIN, 0}};
      int control = ControlPollFds(p + 3, 40);
      int n = poll(p, static_cast<nfds_t>(3 + control), -1);
      if (n < 0) {
        if (errno == EINTR) continue;
        break;
      }
      ControlHandle(p + 3, control);
      if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) Pump(out_stream);
      if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) Pump(err_stream);
      if (p[0].revents & POLLIN) {
        if (waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(c.pidfd), &info, WEXITED | WNOHANG) == 0 &&
            info.si_pid != 0) {
          break;
        }
      }
    }
    close(c.pidfd);
    Drain();
    ReapOthers();
    ControlSetStdin(-1, false);  // a restart gets a new pipe
    CrashPoint();                // 4: the container ended, its end not yet written
    int code = info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
    char signal_text[16];
    if (info.si_code == CLD_EXITED) {
      snprintf(signal_text, sizeof signal_text, "null");
    } else {
      snprintf(signal_text, sizeof signal_text, "%d", info.si_status);
    }
    bool oom = OomKills() > oom_before;
    Now(finished_at, sizeof finished_at);
    bool again = ShouldRestart(code, restarts);
    snprintf(json, sizeof json,
             "{\"status\":\"%s\",\"exitCode\":%d,\"signal\":%s,\"startedAt\":\"%s\",\"finishedAt\":\"%s\","
             "\"oomKilled\":%s,\"restartCount\":%u}\n",
             again ? "restarting" : "exited", code, signal_text, started_at, finished_at, oom ? "true" : "false",
             restarts);
    WriteStatus(json);
    AppendEvent(true, code, oom);
    CrashPoint();  // 5: the end written
    ControlExited(code, !again);
    if (!again) break;
    // Docker's backoff: 100 ms, doubling up to a minute; reset after 10 s of running. The wait is a
    // poll of the control socket: hull's stop (its marker, then a "stop" request) ends it at once.
    if (time(nullptr) - started_mono >= 10) backoff_ms = 100;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += static_cast<time_t>(backoff_ms / 1000);
    until.tv_nsec += static_cast<long>(backoff_ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000;
    }
    while (!StopRequested()) {
      struct timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      long long left_ms = (until.tv_sec - now.tv_sec) * 1000LL + (until.tv_nsec - now.tv_nsec) / 1000000;
      if (left_ms <= 0) break;
      struct pollfd p[40];
      int control = ControlPollFds(p, 40);
      if (poll(p, static_cast<nfds_t>(control), static_cast<int>(left_ms)) > 0) ControlHandle(p, control);
      ControlStopAsked();  // a stop request only wakes this wait: the marker decides
    }
    if (StopRequested()) {
      ControlExited(code, true);
      snprintf(json, sizeof json,
               "{\"status\":\"exited\",\"exitCode\":%d,\"signal\":%s,\"startedAt\":\"%s\",\"finishedAt\":\"%s\","
               "\"oomKilled\":%s,\"restartCount\":%u}\n",
               code, signal_text, started_at, finished_at, oom ? "true" : "false", restarts);
      WriteStatus(json);
      break;
    }
    backoff_ms = backoff_ms * 2 > 60000 ? 60000 : backoff_ms * 2;
    restarts++;
  }
  close(log_fd);
  if (remapped) umount2(cfg.launch.rootfs, MNT_DETACH);  // so the exit command can remove the run dir
  RemoveCgroup();
  ControlClose();
  CrashPoint();  // 6: the cgroup removed, the exit command not yet run
  if (cfg.exit_command[0] != nullptr) {
    execv(cfg.exit_command[0], cfg.exit_command);
    _exit(127);
  }
  return 0;
}
