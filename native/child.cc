// The plan executor: runs in the new process created by clone3, executes the flat plan built in
// TypeScript, and execve's the container's command. Everything here must be async-signal-safe:
// the parent (Node) is multithreaded and this process is a copy of just one of its threads.
//
// A failing step sends one ChildMessage {Failed, ErrorRecord} and exits 125. Success is execve itself:
// the message socket is close-on-exec, so the parent reads end of file exactly when execve succeeds.
// The hooks point and the start gate talk to the parent as native/launch.h draws.
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "fdpass.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace hull {
namespace {

// ---- tiny async-signal-safe string building -------------------------------------------------

struct Text {
  char* buf;
  size_t cap;
  size_t len;
  void Put(const char* s) {
    if (s == nullptr) s = "";
    while (*s != '\0' && len + 1 < cap) buf[len++] = *s++;
    buf[len] = '\0';
  }
  void PutUint(uint64_t v) {
    char tmp[24];
    int i = 0;
    do {
      tmp[i++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0 && i < 23);
    while (i > 0 && len + 1 < cap) buf[len++] = tmp[--i];
    buf[len] = '\0';
  }
};

struct Context {
  const Plan* plan;
  size_t step;        // 0-based index of the step being executed
  int root_fd;        // O_PATH fd of the rootfs (after it is mounted), for RESOLVE_IN_ROOT
  int start_fifo_fd;  // O_PATH fd of the start fifo (an OCI create), or -1
};

// A whole message to the parent. MSG_NOSIGNAL: a parent that has gone costs no SIGPIPE.
bool Send(const Context& ctx, const ChildMessage& m) {
  const char* p = reinterpret_cast<const char*>(&m);
  size_t left = sizeof m;
  while (left > 0) {
    ssize_t n = send(ctx.plan->message_fd, p, left, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    left -= static_cast<size_t>(n);
  }
  return true;
}

// One byte from the parent; 0 at end of file (the parent is gone).
char Receive(const Context& ctx) {
  char c = 0;
  ssize_t got;
  do {
    got = read(ctx.plan->sync_fd, &c, 1);
  } while (got < 0 && errno == EINTR);
  return got == 1 ? c : 0;
}

[[noreturn]] void Fail(const Context& ctx, const char* syscall_name, int err, const char* what1,
                       const char* what2 = nullptr, const char* what3 = nullptr, const char* what4 = nullptr) {
  ChildMessage m;
  memset(&m, 0, sizeof m);
  m.kind = ChildMessageKind::Failed;
  ErrorRecord& rec = m.error;
  rec.step = static_cast<uint32_t>(ctx.step + 1);
  rec.steps = static_cast<uint32_t>(ctx.plan->count);
  rec.err = err;
  Text sc{rec.syscall, sizeof rec.syscall, 0};
  sc.Put(syscall_name);
  Text msg{rec.message, sizeof rec.message, 0};
  msg.Put(what1);
  msg.Put(what2);
  msg.Put(what3);
  msg.Put(what4);
  Send(ctx, m);
  _exit(125);
}

// Joins rootfs and an in-container path for messages: "/run/hull/…/rootfs" + "/proc".
const char* HostPath(const Context& ctx, const char* inner, char* buf, size_t cap) {
  Text t{buf, cap, 0};
  t.Put(ctx.plan->rootfs);
  t.Put(inner);
  return buf;
}

int OpenInRoot(int root_fd, const char* path, uint64_t flags, uint64_t resolve_extra = 0) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = flags | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | resolve_extra;
  // EAGAIN: a rename or mount anywhere on the system raced a ".." walk (the kernel cannot prove
  // it stayed inside the root) and asks the caller to retry.
  long fd;
  int tries = 0;
  do {
    fd = syscall(SYS_openat2, root_fd, path, &how, sizeof how);
  } while (fd < 0 && errno == EAGAIN && ++tries < 1000);
  return static_cast<int>(fd);
}

// mkdir -p of `path` inside the root: every component is resolved with RESOLVE_IN_ROOT, so a
// symlink in the image (even an absolute one, or one full of "..") cannot lead outside it. A
// dangling symlink on the way is followed inside the root as runc does (its target is created
// there, never on the host): the walk restarts on "<link's parent>/<target>/<rest>", at most 40
// times (ELOOP). Returns an O_PATH fd of the last directory, or -1 with errno set.
int MkdirsInRoot(int root_fd, const char* path_in, mode_t mode) {
  char path[4096];
  {
    Text t{path, sizeof path, 0};
    t.Put(path_in);
    if (t.len + 1 >= sizeof path) {
      errno = ENAMETOOLONG;
      return -1;
    }
  }
  for (int hops = 0;; hops++) {
    if (hops > 40) {
      errno = ELOOP;
      return -1;
    }
    char prefix[4096];
    size_t len = 0;
    int dir_fd = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
    if (dir_fd < 0) return -1;
    const char* p = path;
    bool restart = false;
    while (*p != '\0') {
      while (*p == '/') p++;
      if (*p == '\0') break;
      const char* start = p;
      while (*p != '\0' && *p != '/') p++;
      size_t n = static_cast<size_t>(p - start);
      size_t parent_len = len;
      if (len + n + 2 >= sizeof prefix) {
        close(dir_fd);
        errno = ENAMETOOLONG;
        return -1;
      }
      prefix[len++] = '/';
      memcpy(prefix + len, start, n);
      len += n;
      prefix[len] = '\0';
      int next = OpenInRoot(root_fd, prefix, O_PATH | O_DIRECTORY);
      if (next < 0 && errno == ENOENT) {
        char name[256];
        if (n >= sizeof name) {
          close(dir_fd);
          errno = ENAMETOOLONG;
          return -1;
        }
        memcpy(name, start, n);
        name[n] = '\0';
        if (mkdirat(dir_fd, name, mode) < 0) {
          if (errno != EEXIST) {
            int e = errno;
            close(dir_fd);
            errno = e;
            return -1;
          }
          // It exists but does not resolve: a dangling symlink. Follow it inside the root.
          char link[4096];
          ssize_t got = readlinkat(dir_fd, name, link, sizeof link - 1);
          if (got < 0) {
            int e = errno == EINVAL ? ENOENT : errno;
            close(dir_fd);
            errno = e;
            return -1;
          }
          link[got] = '\0';
          char rewritten[4096];
          Text t{rewritten, sizeof rewritten, 0};
          if (link[0] != '/') {
            prefix[parent_len] = '\0';
            t.Put(prefix);
            t.Put("/");
          }
          t.Put(link);
          t.Put("/");
          t.Put(p);
          close(dir_fd);
          if (t.len + 1 >= sizeof rewritten) {
            errno = ENAMETOOLONG;
            return -1;
          }
          memcpy(path, rewritten, t.len + 1);
          restart = true;
          break;
        }
        next = OpenInRoot(root_fd, prefix, O_PATH | O_DIRECTORY);
      }
      if (next < 0) {
        int e = errno;
        close(dir_fd);
        errno = e;
        return -1;
      }
      close(dir_fd);
      dir_fd = next;
    }
    if (!restart) return dir_fd;
  }
}

// Opens (creating if asked) the mount target `path` inside the root; returns an O_PATH fd.
int OpenMountTarget(int root_fd, const char* path, CreateKind create) {
  int fd = OpenInRoot(root_fd, path, O_PATH);
  if (fd >= 0 || errno != ENOENT || create == CreateKind::None) return fd;
  if (create == CreateKind::Dir) return MkdirsInRoot(root_fd, path, 0755);
  // A file: make its parent directory, then the empty file, then resolve it again.
  char parent[4096];
  Text t{parent, sizeof parent, 0};
  t.Put(path);
  const char* base = path;
  for (size_t i = t.len; i > 0; i--) {
    if (parent[i - 1] == '/') {
      parent[i - 1] = '\0';
      base = path + i;
      break;
    }
  }
  int dir_fd = MkdirsInRoot(root_fd, parent, 0755);
  if (dir_fd < 0) return -1;
  // O_PATH fds cannot be used with openat for creation: reopen the directory itself.
  char self[40];
  Text s{self, sizeof self, 0};
  s.Put("/proc/self/fd/");
  s.PutUint(static_cast<uint64_t>(dir_fd));
  int real_dir = open(self, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  close(dir_fd);
  if (real_dir < 0) return -1;
  int created = openat(real_dir, base, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
  int e = errno;
  close(real_dir);
  if (created < 0 && e != EEXIST) {
    errno = e;
    return -1;
  }
  if (created >= 0) close(created);
  return OpenInRoot(root_fd, path, O_PATH);
}

const unsigned long kPropagationFlags = MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE;
const unsigned long kRemountableFlags =
    MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME;

void DoMount(Context& ctx, const Step& s) {
  const char* source = s.s0;
  const char* target = s.s1;
  const char* fstype = s.s2[0] == '\0' ? nullptr : s.s2;
  const char* data = s.s3[0] == '\0' ? nullptr : s.s3;
  unsigned long flags = static_cast<unsigned long>(s.n0);
  auto create = static_cast<CreateKind>(s.n1);
  bool in_root = s.n2 != 0;
  bool optional = s.n3 != 0;
  char shown[4096];
  const char* shown_target = target;
  char fd_path[40];
  const char* mount_at = target;
  int target_fd = -1;

  if (in_root) {
    shown_target = HostPath(ctx, target, shown, sizeof shown);
    if (ctx.root_fd < 0) {
      ctx.root_fd = open(ctx.plan->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (ctx.root_fd < 0) Fail(ctx, "open", errno, "open rootfs ", ctx.plan->rootfs);
    }
    target_fd = OpenMountTarget(ctx.root_fd, target, create);
    if (target_fd < 0) {
      if (optional && errno == ENOENT) return;
      Fail(ctx, "openat2", errno, "resolve mount target ", shown_target);
    }
    Text t{fd_path, sizeof fd_path, 0};
    t.Put("/proc/self/fd/");
    t.PutUint(static_cast<uint64_t>(target_fd));
    mount_at = fd_path;
  } else if (optional && access(target, F_OK) != 0 && errno == ENOENT) {
    return;
  }

  const char* what = fstype != nullptr && !(flags & MS_BIND) ? fstype : source;
  // Propagation changes must be made alone (a new mount with shared, say, is EINVAL); a bind with
  // extra flags needs a remount after it.
  bool only_propagation = (flags & ~(kPropagationFlags | MS_REC)) == 0;
  bool propagation_after = (flags & kPropagationFlags) && !only_propagation;
  unsigned long first = flags;
  if (flags & MS_BIND) {
    first = flags & (MS_BIND | MS_REC);
  } else if (propagation_after) {
    first = flags & ~(kPropagationFlags | MS_REC);
  }
  if (mount(source, mount_at, fstype, first, data) < 0) {
    Fail(ctx, "mount", errno, "mount ", what, " on ", shown_target);
  }
  bool follow_up = ((flags & MS_BIND) && (flags & kRemountableFlags)) || propagation_after;
  if (follow_up && target_fd >= 0) {
    // The fd still names what was under the new mount: resolve the target again to reach it.
    close(target_fd);
    target_fd = OpenInRoot(ctx.root_fd, target, O_PATH);
    if (target_fd < 0) Fail(ctx, "openat2", errno, "resolve mount target ", shown_target, " after mounting");
    Text t{fd_path, sizeof fd_path, 0};
    t.Put("/proc/self/fd/");
    t.PutUint(static_cast<uint64_t>(target_fd));
  }
  if ((flags & MS_BIND) && !(flags & MS_REMOUNT) && (flags & kRemountableFlags)) {
    unsigned long again = MS_REMOUNT | MS_BIND | (flags & kRemountableFlags);
    if (mount(nullptr, mount_at, nullptr, again, nullptr) < 0) {
      Fail(ctx, "mount", errno, "remount ", shown_target, " with bind flags");
    }
  }
  // A recursive read-only bind is read-only all the way down, submounts included (as Docker's
  // since 25): mount_setattr(2) with AT_RECURSIVE. Kernels before 5.12 lack it (ENOSYS): there
  // only the top mount is read-only.
  if ((flags & MS_BIND) && (flags & MS_REC) && (flags & MS_RDONLY)) {
    struct mount_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.attr_set = MOUNT_ATTR_RDONLY;
    if (syscall(SYS_mount_setattr, AT_FDCWD, mount_at, AT_RECURSIVE, &attr, sizeof attr) < 0 && errno != ENOSYS) {
      Fail(ctx, "mount_setattr", errno, "make ", shown_target, " read-only recursively");
    }
  }
  if (propagation_after) {
    if (mount(nullptr, mount_at, nullptr, flags & (kPropagationFlags | MS_REC), nullptr) < 0) {
      Fail(ctx, "mount", errno, "set propagation of ", shown_target);
    }
  }
  if (target_fd >= 0) close(target_fd);
}

void DoPivotRoot(Context& ctx, const Step& s) {
  const char* rootfs = s.s0;
  // The old root, held open: after pivot_root "." is the new root for this process, and the old
  // root is reached through this fd (runc's order).
  int old_root = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (old_root < 0) Fail(ctx, "open", errno, "open the old root");
  if (chdir(rootfs) < 0) Fail(ctx, "chdir", errno, "chdir ", rootfs);
  if (syscall(SYS_pivot_root, ".", ".") < 0) Fail(ctx, "pivot_root", errno, "pivot_root ", rootfs);
  // The old root is now stacked over the new one; detach it so the host is unreachable. A slave
  // first: with a shared root propagation its mounts may be peers of the host's, and a detach would
  // propagate their unmounts to the host.
  if (fchdir(old_root) < 0) Fail(ctx, "fchdir", errno, "enter the old root under ", rootfs);
  close(old_root);
  if (mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) < 0)
    Fail(ctx, "mount", errno, "make the old root under ", rootfs, " a slave");
  if (umount2(".", MNT_DETACH) < 0) Fail(ctx, "umount2", errno, "detach the old root under ", rootfs);
  if (chdir("/") < 0) Fail(ctx, "chdir", errno, "chdir / after pivot_root");
  if (ctx.root_fd >= 0) {
    close(ctx.root_fd);
    ctx.root_fd = -1;
  }
}

// A shared mount namespace keeps its root: only this process enters the rootfs (runc does the same).
void DoChroot(Context& ctx, const Step& s) {
  const char* rootfs = s.s0;
  if (chdir(rootfs) < 0) Fail(ctx, "chdir", errno, "chdir ", rootfs);
  if (chroot(".") < 0) Fail(ctx, "chroot", errno, "chroot ", rootfs);
  if (chdir("/") < 0) Fail(ctx, "chdir", errno, "chdir / after chroot");
  if (ctx.root_fd >= 0) {
    close(ctx.root_fd);
    ctx.root_fd = -1;
  }
}

void DoRemount(Context& ctx, const Step& s) {
  const char* target = s.s0;
  unsigned long flags = static_cast<unsigned long>(s.n0);
  if (s.n1 != 0 && access(target, F_OK) != 0 && errno == ENOENT) return;
  if (mount(target, target, nullptr, MS_BIND | MS_REC, nullptr) < 0) {
    Fail(ctx, "mount", errno, "bind ", target, " onto itself");
  }
  if (mount(nullptr, target, nullptr, MS_REMOUNT | MS_BIND | flags, nullptr) < 0) {
    Fail(ctx, "mount", errno, "remount ", target);
  }
}

// A value written to a file of /proc: a sysctl under /proc/sys (in the container's namespaces, after
// pivot_root, before /proc/sys is made read-only), or /proc/self/oom_score_adj. Not through a
// symlink: /proc/sys has none, and the path comes from the plan, never from the image.
void DoWriteProc(Context& ctx, const Step& s) {
  int fd = open(s.s0, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) Fail(ctx, "open", errno, "open ", s.s0);
  size_t len = strlen(s.s1);
  ssize_t n = write(fd, s.s1, len);
  if (n < 0 || static_cast<size_t>(n) != len) Fail(ctx, "write", n < 0 ? errno : EIO, "write ", s.s1, " to ", s.s0);
  close(fd);
}

// Docker's masked paths: a file gets /dev/null bound over it, a directory an empty read-only tmpfs.
void DoMask(Context& ctx, const Step& s) {
  struct stat st;
  if (lstat(s.s0, &st) < 0) {
    if (errno == ENOENT) return;
    Fail(ctx, "lstat", errno, "lstat ", s.s0);
  }
  if (S_ISDIR(st.st_mode)) {
    if (mount("tmpfs", s.s0, "tmpfs", MS_RDONLY, "size=0") < 0) Fail(ctx, "mount", errno, "mask ", s.s0);
  } else if (mount("/dev/null", s.s0, nullptr, MS_BIND, nullptr) < 0) {
    Fail(ctx, "mount", errno, "mask ", s.s0);
  }
}

void DoLoopbackUp(Context& ctx) {
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) Fail(ctx, "socket", errno, "socket for lo");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, "lo", 3);
  if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0) Fail(ctx, "ioctl", errno, "SIOCGIFFLAGS lo");
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0) Fail(ctx, "ioctl", errno, "SIOCSIFFLAGS lo up");
  close(sock);
}

// A pty from the container's own devpts instance: the slave becomes /dev/console, the
// controlling terminal and stdio; the master goes to the parent over the console socket.
void DoConsole(Context& ctx, const Step& s) {
  if (ctx.plan->console_fd < 0) Fail(ctx, "console", EBADF, "no console socket");
  int master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) Fail(ctx, "open", errno, "open /dev/pts/ptmx");
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0) Fail(ctx, "ioctl", errno, "TIOCSPTLCK /dev/pts/ptmx");
  unsigned int n = 0;
  if (ioctl(master, TIOCGPTN, &n) < 0) Fail(ctx, "ioctl", errno, "TIOCGPTN /dev/pts/ptmx");
  char slave_path[48];
  Text t{slave_path, sizeof slave_path, 0};
  t.Put("/dev/pts/");
  t.PutUint(n);
  int slave = open(slave_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) Fail(ctx, "open", errno, "open ", slave_path);
  if (s.n0 != 0 && s.n1 != 0) {
    struct winsize ws;
    memset(&ws, 0, sizeof ws);
    ws.ws_row = static_cast<unsigned short>(s.n0);
    ws.ws_col = static_cast<unsigned short>(s.n1);
    if (ioctl(slave, TIOCSWINSZ, &ws) < 0) Fail(ctx, "ioctl", errno, "TIOCSWINSZ ", slave_path);
  }
  if (s.n2 == 0) {  // n2 = 1: a process joining a running container (exec) leaves /dev/console alone
    int console = open("/dev/console", O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (console < 0) Fail(ctx, "open", errno, "create /dev/console");
    close(console);
    if (mount(slave_path, "/dev/console", nullptr, MS_BIND, nullptr) < 0) {
      Fail(ctx, "mount", errno, "mount ", slave_path, " on /dev/console");
    }
  }
  int sent = SendFd(ctx.plan->console_fd, master);
  if (sent != 0) Fail(ctx, "sendmsg", sent, "send the console to hull");
  close(master);
  close(ctx.plan->console_fd);
  if (ioctl(slave, TIOCSCTTY, 0) < 0) Fail(ctx, "ioctl", errno, "TIOCSCTTY ", slave_path);
  for (int i = 0; i < 3; i++) {
    if (dup2(slave, i) < 0) Fail(ctx, "dup2", errno, "dup2 the console to stdio");
  }
  if (slave > 2) close(slave);
}

void DoMkdirs(Context& ctx, const Step& s) {
  // After pivot_root "/" is the container's root, so plain path walking stays inside it.
  char buf[4096];
  Text t{buf, sizeof buf, 0};
  t.Put(s.s0);
  for (size_t i = 1; i <= t.len; i++) {
    if (buf[i] != '/' && buf[i] != '\0') continue;
    char saved = buf[i];
    buf[i] = '\0';
    if (mkdir(buf, static_cast<mode_t>(s.n0)) == 0) {
      if (lchown(buf, static_cast<uid_t>(s.n1), static_cast<gid_t>(s.n2)) < 0) {
        Fail(ctx, "lchown", errno, "chown ", buf);
      }
    } else if (errno != EEXIST) {
      Fail(ctx, "mkdir", errno, "mkdir ", buf);
    }
    buf[i] = saved;
  }
}

int Capset(uint64_t effective, uint64_t permitted, uint64_t inheritable) {
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  data[0].effective = static_cast<uint32_t>(effective);
  data[1].effective = static_cast<uint32_t>(effective >> 32);
  data[0].permitted = static_cast<uint32_t>(permitted);
  data[1].permitted = static_cast<uint32_t>(permitted >> 32);
  data[0].inheritable = static_cast<uint32_t>(inheritable);
  data[1].inheritable = static_cast<uint32_t>(inheritable >> 32);
  return static_cast<int>(syscall(SYS_capset, &hdr, data));
}

void DoCapabilities(Context& ctx, const Step& s) {
  uint64_t bounding = s.n0, effective = s.n1, permitted = s.n2, inheritable = s.n3, ambient = s.n4;
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct cur[2];
  if (syscall(SYS_capget, &hdr, cur) < 0) Fail(ctx, "capget", errno, "capget");
  uint64_t have = static_cast<uint64_t>(cur[0].permitted) | (static_cast<uint64_t>(cur[1].permitted) << 32);
  // Make every permitted capability effective, so CAP_SETPCAP is there to shrink the bounding set.
  if (Capset(have, have, 0) < 0) Fail(ctx, "capset", errno, "capset (raise effective)");
  for (int cap = 0; cap < 64; cap++) {
    if (bounding & (1ULL << cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
      if (errno == EINVAL) break;  // past the kernel's last capability
      Fail(ctx, "prctl", errno, "PR_CAPBSET_DROP");
    }
  }
  if (Capset(effective, permitted, inheritable) < 0) Fail(ctx, "capset", errno, "capset");
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
    Fail(ctx, "prctl", errno, "PR_CAP_AMBIENT_CLEAR_ALL");
  }
  // The kernel raises an ambient capability only when it is permitted and inheritable too: one
  // that is not cannot be honoured, and is left out (as runc leaves it).
  for (int cap = 0; cap < 64; cap++) {
    uint64_t bit = 1ULL << cap;
    if (!(ambient & bit) || !(permitted & bit) || !(inheritable & bit)) continue;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0) Fail(ctx, "prctl", errno, "PR_CAP_AMBIENT_RAISE");
  }
}

void DoSetUser(Context& ctx, const Step& s) {
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) Fail(ctx, "prctl", errno, "PR_SET_KEEPCAPS");
  if (syscall(SYS_setgroups, s.ngroups, s.groups) < 0) Fail(ctx, "setgroups", errno, "setgroups");
  gid_t gid = static_cast<gid_t>(s.n1);
  uid_t uid = static_cast<uid_t>(s.n0);
  // Raw syscalls: glibc's wrappers broadcast to all threads with signals, which is not safe here.
  if (syscall(SYS_setresgid, gid, gid, gid) < 0) Fail(ctx, "setresgid", errno, "setresgid");
  if (syscall(SYS_setresuid, uid, uid, uid) < 0) Fail(ctx, "setresuid", errno, "setresuid");
}

// The working directory: a host path before pivot_root (n0 = 0), else resolved inside the new
// root without magic links (n0 = 1), so `-w /proc/self/fd/N` cannot lead to a host directory
// through an fd that is still open here (CVE-2024-21626).
void DoChdir(Context& ctx, const Step& s) {
  if (s.n0 == 0) {
    if (chdir(s.s0) < 0) Fail(ctx, "chdir", errno, "chdir to ", s.s0);
    return;
  }
  int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) Fail(ctx, "open", errno, "open /");
  int dir = OpenInRoot(root, s.s0, O_PATH | O_DIRECTORY);
  if (dir < 0) Fail(ctx, "chdir", errno, "chdir to working directory ", s.s0);  // resolved by openat2
  if (fchdir(dir) < 0) Fail(ctx, "fchdir", errno, "chdir to working directory ", s.s0);
  close(dir);
  close(root);
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// The filter comes as hex (the plan's strings hold no NUL bytes); it is decoded onto the stack.
void DoSeccomp(Context& ctx, const Step& s) {
  constexpr size_t kMax = 4096;  // BPF_MAXINSNS
  struct sock_filter filter[kMax];
  size_t count = static_cast<size_t>(s.n0);
  if (count == 0 || count > kMax || strlen(s.s0) != count * 16)
    Fail(ctx, "seccomp", EINVAL, "malformed seccomp filter in the plan");
  auto* bytes = reinterpret_cast<unsigned char*>(filter);
  for (size_t i = 0; i < count * 8; i++) {
    int hi = HexDigit(s.s0[2 * i]), lo = HexDigit(s.s0[2 * i + 1]);
    if (hi < 0 || lo < 0) Fail(ctx, "seccomp", EINVAL, "malformed seccomp filter in the plan");
    bytes[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  struct sock_fprog prog = {static_cast<unsigned short>(count), filter};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
    Fail(ctx, "seccomp", errno, "load the seccomp filter");
}

// The container's own /dev/null over the stdio fds in the n0 mask (bit i = fd i). Until now they
// held a placeholder of hull's: the host's /dev/null must never reach the container, whose root
// could chmod or chown the host's node through /proc/self/fd/N. Resolved inside the root without
// magic links, and checked to be the null device (an image's /dev/null could be anything).
void DoNullStdio(Context& ctx, const Step& s) {
  int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) Fail(ctx, "open", errno, "open /");
  int fd = OpenInRoot(root, "/dev/null", O_RDWR | O_NOCTTY);
  if (fd < 0) Fail(ctx, "openat2", errno, "open the container's /dev/null");
  close(root);
  struct stat st;
  if (fstat(fd, &st) < 0) Fail(ctx, "fstat", errno, "fstat the container's /dev/null");
  if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
    Fail(ctx, "open", ENODEV, "the container's /dev/null is not the null device");
  for (int i = 0; i < 3; i++) {
    if ((s.n0 & (1u << i)) != 0 && dup2(fd, i) < 0) Fail(ctx, "dup2", errno, "dup2 /dev/null to stdio");
  }
  close(fd);
}

// Each place execvp would look for `file` along `search_path` (':'-separated; an empty entry is
// "."), in order, handed to `attempt` until it returns true; whether one did. No allocation.
template <typename Attempt>
bool ForEachPathCandidate(const char* search_path, const char* file, Attempt attempt) {
  char candidate[4096];
  const char* p = search_path;
  while (true) {
    const char* end = strchr(p, ':');
    size_t n = end == nullptr ? strlen(p) : static_cast<size_t>(end - p);
    Text t{candidate, sizeof candidate, 0};
    if (n == 0) {
      t.Put(".");
    } else {
      for (size_t i = 0; i < n && t.len + 1 < t.cap; i++) candidate[t.len++] = p[i];
      candidate[t.len] = '\0';
    }
    t.Put("/");
    t.Put(file);
    if (attempt(static_cast<const char*>(candidate))) return true;
    if (end == nullptr) return false;
    p = end + 1;
  }
}

// The command was not found along $PATH (or only without execute permission): Docker's messages.
[[noreturn]] void NotInPath(Context& ctx, const char* file, bool saw_eacces) {
  if (saw_eacces) Fail(ctx, "execve", EACCES, "exec \"", file, "\": permission denied in $PATH");
  Fail(ctx, "execve", ENOENT, "exec \"", file, "\": executable file not found in $PATH");
}

[[noreturn]] void DoExec(Context& ctx, const Step& s) {
  const char* file = s.s0;
  if (strchr(file, '/') != nullptr) {
    execve(file, s.argv, s.envp);
    Fail(ctx, "execve", errno, "exec ", file);
  }
  // execvp's search, without its allocation: the first ENOENT-free hit wins; EACCES is remembered.
  bool saw_eacces = false;
  ForEachPathCandidate(s.s1, file, [&](const char* candidate) {
    execve(candidate, s.argv, s.envp);
    if (errno == EACCES) {
      saw_eacces = true;
    } else if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP && errno != ENAMETOOLONG) {
      Fail(ctx, "execve", errno, "exec ", candidate);
    }
    return false;
  });
  NotInPath(ctx, file, saw_eacces);
}

void ResetSignals() {
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    sigaction(sig, &dfl, nullptr);  // fails harmlessly for the reserved real-time signals
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

// The executable the exec step will run, looked up now (before the start gate), as execvp will:
// a create fails at once on a command that does not exist (as runc's does), not after its start.
void CheckExecutable(Context& ctx) {
  const Step* exec = nullptr;
  for (size_t i = 0; i < ctx.plan->count; i++) {
    if (ctx.plan->steps[i].op == StepOp::Exec) exec = &ctx.plan->steps[i];
  }
  if (exec == nullptr) Fail(ctx, "plan", EINVAL, "the plan has no exec step");
  const char* file = exec->s0;
  struct stat st;
  if (strchr(file, '/') != nullptr) {
    if (stat(file, &st) < 0) Fail(ctx, "stat", errno, "exec ", file);
    if (S_ISDIR(st.st_mode)) Fail(ctx, "execve", EACCES, "exec ", file, ": is a directory");
    return;
  }
  bool saw_eacces = false;
  bool found = ForEachPathCandidate(exec->s1, file, [&](const char* candidate) {
    if (stat(candidate, &st) != 0 || !S_ISREG(st.st_mode)) return false;
    if (access(candidate, X_OK) == 0) return true;
    saw_eacces = true;
    return false;
  });
  if (!found) NotInPath(ctx, file, saw_eacces);
}

// The hooks point: the parent runs the create hooks (prestart, createRuntime, createContainer)
// while this process waits in its namespaces, before pivot_root.
void DoHooksPoint(Context& ctx) {
  ChildMessage m;
  memset(&m, 0, sizeof m);
  m.kind = ChildMessageKind::AtHooks;
  if (!Send(ctx, m)) _exit(125);  // the parent is gone
  char c = Receive(ctx);
  if (c == 0) _exit(125);
  if (c != kParentContinue) Fail(ctx, "read", EPROTO, "hooks point: unexpected message from the parent");
}

// The start gate, last before execve: "created" is told, and the process waits for start — a
// byte on the sync pipe, or (an OCI create, whose creator may be gone) a reader of the start fifo.
void DoStartGate(Context& ctx) {
  CheckExecutable(ctx);
  ChildMessage m;
  memset(&m, 0, sizeof m);
  m.kind = ChildMessageKind::Ready;
  bool told = Send(ctx, m);
  if (ctx.start_fifo_fd < 0) {
    if (!told) _exit(125);
    char c = Receive(ctx);
    if (c == 0) _exit(125);  // the parent is gone before start
    if (c != kParentStart) Fail(ctx, "read", EPROTO, "start gate: unexpected message from the parent");
    return;
  }
  // The fifo was opened O_PATH before pivot_root; reopened for writing it blocks until `start`
  // opens it for reading, then one byte tells start that the gate is passed.
  char self[40];
  Text t{self, sizeof self, 0};
  t.Put("/proc/self/fd/");
  t.PutUint(static_cast<uint64_t>(ctx.start_fifo_fd));
  int fd;
  do {
    fd = open(self, O_WRONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) Fail(ctx, "open", errno, "open the start fifo");
  char zero = '0';
  if (write(fd, &zero, 1) != 1) Fail(ctx, "write", errno, "write the start fifo");
  close(fd);
  close(ctx.start_fifo_fd);
  ctx.start_fifo_fd = -1;
}

}  // namespace

void RunChild(const Plan& plan) {
  Context ctx{&plan, 0, -1, -1};
  for (int fd : plan.close_in_child) {
    if (fd >= 0) close(fd);
  }
  ResetSignals();
  if (plan.parent_death_signal > 0) prctl(PR_SET_PDEATHSIG, plan.parent_death_signal, 0, 0, 0);

  // Wait for the parent's "go". End of file means the parent is gone: leave quietly.
  if (Receive(ctx) != kParentGo) _exit(125);

  // stdio: first move every source above the low fds, so [5, 0, 1] style permutations work.
  int moved[3];
  for (int i = 0; i < 3; i++) {
    moved[i] = fcntl(plan.stdio[i], F_DUPFD_CLOEXEC, 10);
    if (moved[i] < 0) Fail(ctx, "fcntl", errno, "F_DUPFD stdio");
  }
  for (int i = 0; i < 3; i++) {
    if (dup2(moved[i], i) < 0) Fail(ctx, "dup2", errno, "dup2 stdio");
    close(moved[i]);
  }
  if (setsid() < 0) Fail(ctx, "setsid", errno, "setsid");
  umask(022);

  for (ctx.step = 0; ctx.step < plan.count; ctx.step++) {
    const Step& s = plan.steps[ctx.step];
    switch (s.op) {
      case StepOp::Mount:
        DoMount(ctx, s);
        break;
      case StepOp::Mknod:
        if (mknod(s.s0, static_cast<mode_t>(s.n0), makedev(s.n1, s.n2)) < 0 && errno != EEXIST) {
          Fail(ctx, "mknod", errno, "mknod ", s.s0);
        }
        // mknod applied the umask; the plan's mode is the mode wanted, and its owner the one given.
        if (chmod(s.s0, static_cast<mode_t>(s.n0) & 07777) < 0) Fail(ctx, "chmod", errno, "chmod ", s.s0);
        if ((s.n3 != 0 || s.n4 != 0) && lchown(s.s0, static_cast<uid_t>(s.n3), static_cast<gid_t>(s.n4)) < 0) {
          Fail(ctx, "lchown", errno, "lchown ", s.s0);
        }
        break;
      case StepOp::Symlink:
        if (symlink(s.s0, s.s1) < 0 && errno != EEXIST) Fail(ctx, "symlink", errno, "symlink ", s.s1, " -> ", s.s0);
        break;
      case StepOp::PivotRoot:
        DoPivotRoot(ctx, s);
        break;
      case StepOp::Chroot:
        DoChroot(ctx, s);
        break;
      case StepOp::Remount:
        DoRemount(ctx, s);
        break;
      case StepOp::Mask:
        DoMask(ctx, s);
        break;
      case StepOp::Sethostname:
        if (sethostname(s.s0, strlen(s.s0)) < 0) Fail(ctx, "sethostname", errno, "sethostname ", s.s0);
        break;
      case StepOp::Setdomainname:
        if (setdomainname(s.s0, strlen(s.s0)) < 0) Fail(ctx, "setdomainname", errno, "setdomainname ", s.s0);
        break;
      case StepOp::WriteProc:
        DoWriteProc(ctx, s);
        break;
      case StepOp::LoopbackUp:
        DoLoopbackUp(ctx);
        break;
      case StepOp::Console:
        DoConsole(ctx, s);
        break;
      case StepOp::Mkdirs:
        DoMkdirs(ctx, s);
        break;
      case StepOp::Chdir:
        DoChdir(ctx, s);
        break;
      case StepOp::Setrlimit: {
        struct rlimit rl = {static_cast<rlim_t>(s.n1), static_cast<rlim_t>(s.n2)};
        if (setrlimit(static_cast<__rlimit_resource>(s.n0), &rl) < 0) Fail(ctx, "setrlimit", errno, "setrlimit");
        break;
      }
      case StepOp::NoNewPrivs:
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) Fail(ctx, "prctl", errno, "PR_SET_NO_NEW_PRIVS");
        break;
      case StepOp::SetUser:
        DoSetUser(ctx, s);
        break;
      case StepOp::Capabilities:
        DoCapabilities(ctx, s);
        break;
      case StepOp::CloseFds:
        if (syscall(SYS_close_range, 3U + static_cast<unsigned>(s.n0), ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
          Fail(ctx, "close_range", errno, "close_range");
        }
        // The fds kept are inherited across execve even when the runtime marked them close-on-exec
        // (Node marks every fd it inherits so); one that is not open is not an error (runc's too).
        for (int fd = 3; fd < 3 + static_cast<int>(s.n0); fd++) {
          if (fcntl(fd, F_SETFD, 0) < 0 && errno != EBADF) Fail(ctx, "fcntl", errno, "F_SETFD of a preserved fd");
        }
        break;
      case StepOp::Seccomp:
        DoSeccomp(ctx, s);
        break;
      case StepOp::IdMaps:
        break;  // written by the parent before go
      case StepOp::Exec:
        DoExec(ctx, s);
        break;
      case StepOp::Setns: {
        // Join a namespace by its file (one hull made, or another container's).
        int fd = open(s.s0, O_RDONLY | O_CLOEXEC);
        if (fd < 0) Fail(ctx, "open", errno, "open namespace ", s.s0);
        if (setns(fd, static_cast<int>(s.n0)) < 0) Fail(ctx, "setns", errno, "setns ", s.s0);
        close(fd);
        break;
      }
      case StepOp::NullStdio:
        DoNullStdio(ctx, s);
        break;
      case StepOp::HooksPoint:
        DoHooksPoint(ctx);
        break;
      case StepOp::OpenStartFifo:
        ctx.start_fifo_fd = open(s.s0, O_PATH | O_CLOEXEC);
        if (ctx.start_fifo_fd < 0) Fail(ctx, "open", errno, "open the start fifo ", s.s0);
        break;
      case StepOp::StartGate:
        DoStartGate(ctx);
        break;
    }
  }
  Fail(ctx, "plan", EINVAL, "the plan has no exec step");
}

}  // namespace hull
