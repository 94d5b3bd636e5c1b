// User namespaces for remapped containers: a user namespace fd with given uid/gid maps (for
// idmapped mounts, made before the container exists), and idmapped mounts of directories.
//
//   openUserns(uidMap, gidMap): a throw-away child is cloned into a new user namespace and
//   waits on a pipe; hull writes its /proc/PID/uid_map and gid_map, opens /proc/PID/ns/user,
//   and lets it exit. The fd keeps the namespace alive.
//   idmapMount(source, target, usernsFd): open_tree(OPEN_TREE_CLONE) → mount_setattr(MOUNT_ATTR_IDMAP)
//   → move_mount onto target. The kernel allows this only from the file system's own user
//   namespace (the host's), on a mount that has not been attached yet.
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "errors.h"
#include "sys.h"

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

namespace hull {
namespace {

int WriteFile(const std::string& path, const std::string& text) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  ssize_t n = write(fd, text.data(), text.size());
  int e = n < 0 ? errno : (static_cast<size_t>(n) != text.size() ? EIO : 0);
  close(fd);
  return e;
}

}  // namespace

Napi::Value OpenUserns(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string uid_map = info[0].As<Napi::String>().Utf8Value();
  std::string gid_map = info[1].As<Napi::String>().Utf8Value();
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0) throw SysError(env, "pipe2", "userns helper", errno);
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.flags = CLONE_NEWUSER;
  args.exit_signal = SIGCHLD;
  sigset_t all, saved;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &saved);
  long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0) {
    // Only async-signal-safe calls: wait until hull closes its end, then go.
    close(pipefd[1]);
    char c;
    while (read(pipefd[0], &c, 1) < 0 && errno == EINTR) {
    }
    _exit(0);
  }
  int clone_errno = errno;
  pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  close(pipefd[0]);
  if (pid < 0) {
    close(pipefd[1]);
    throw SysError(env, "clone3", "CLONE_NEWUSER", clone_errno);
  }
  std::string proc = "/proc/" + std::to_string(pid);
  int err = WriteFile(proc + "/uid_map", uid_map);
  const char* what = "uid_map";
  if (err == 0) {
    err = WriteFile(proc + "/gid_map", gid_map);
    what = "gid_map";
  }
  int fd = -1;
  if (err == 0) {
    fd = open((proc + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) err = errno;
    what = "ns/user";
  }
  close(pipefd[1]);
  int status;
  while (waitpid(static_cast<pid_t>(pid), &status, 0) < 0 && errno == EINTR) {
  }
  if (err != 0) throw SysError(env, what[0] == 'n' ? "open" : "write", proc + "/" + what, err);
  return Napi::Number::New(env, fd);
}

Napi::Value IdmapMount(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string source = info[0].As<Napi::String>().Utf8Value();
  std::string target = info[1].As<Napi::String>().Utf8Value();
  int userns_fd = info[2].As<Napi::Number>().Int32Value();
  long tree = syscall(SYS_open_tree, AT_FDCWD, source.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree < 0) throw SysError(env, "open_tree", source, errno);
  struct mount_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = static_cast<uint64_t>(userns_fd);
  if (syscall(SYS_mount_setattr, static_cast<int>(tree), "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) {
    int e = errno;
    close(static_cast<int>(tree));
    throw SysError(env, "mount_setattr", source + " (MOUNT_ATTR_IDMAP)", e);
  }
  if (syscall(SYS_move_mount, static_cast<int>(tree), "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) < 0) {
    int e = errno;
    close(static_cast<int>(tree));
    throw SysError(env, "move_mount", target, e);
  }
  close(static_cast<int>(tree));
  return env.Undefined();
}

}  // namespace hull
