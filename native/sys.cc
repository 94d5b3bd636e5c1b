#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <termios.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "errors.h"
#include "fdpass.h"

namespace hull {
namespace {

std::string Arg(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::String>().Utf8Value(); }
int64_t Int(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int64Value(); }

}  // namespace

Napi::Value Mknod(const Napi::CallbackInfo& info) {
  std::string path = Arg(info, 0);
  auto mode = static_cast<mode_t>(Int(info, 1));
  dev_t dev = makedev(static_cast<unsigned>(Int(info, 2)), static_cast<unsigned>(Int(info, 3)));
  if (mknod(path.c_str(), mode, dev) < 0) throw SysError(info.Env(), "mknod", path, errno);
  return info.Env().Undefined();
}

Napi::Value Lsetxattr(const Napi::CallbackInfo& info) {
  std::string path = Arg(info, 0);
  std::string name = Arg(info, 1);
  Napi::Buffer<char> value = info[2].As<Napi::Buffer<char>>();
  int flags = info.Length() > 3 ? static_cast<int>(Int(info, 3)) : 0;
  if (lsetxattr(path.c_str(), name.c_str(), value.Data(), value.Length(), flags) < 0) {
    throw SysError(info.Env(), "lsetxattr", path + " " + name, errno);
  }
  return info.Env().Undefined();
}

Napi::Value Lgetxattr(const Napi::CallbackInfo& info) {
  std::string path = Arg(info, 0);
  std::string name = Arg(info, 1);
  for (;;) {
    ssize_t size = lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
    if (size < 0) {
      if (errno == ENODATA) return info.Env().Null();
      throw SysError(info.Env(), "lgetxattr", path + " " + name, errno);
    }
    std::vector<char> buf(static_cast<size_t>(size) + 1);
    ssize_t got = lgetxattr(path.c_str(), name.c_str(), buf.data(), buf.size());
    if (got < 0 && errno == ERANGE) continue;  // grew in between
    if (got < 0) throw SysError(info.Env(), "lgetxattr", path + " " + name, errno);
    return Napi::Buffer<char>::Copy(info.Env(), buf.data(), static_cast<size_t>(got));
  }
}

Napi::Value Llistxattr(const Napi::CallbackInfo& info) {
  std::string path = Arg(info, 0);
  for (;;) {
    ssize_t size = llistxattr(path.c_str(), nullptr, 0);
    if (size < 0) throw SysError(info.Env(), "llistxattr", path, errno);
    std::vector<char> buf(static_cast<size_t>(size) + 1);
    ssize_t got = llistxattr(path.c_str(), buf.data(), buf.size());
    if (got < 0 && errno == ERANGE) continue;
    if (got < 0) throw SysError(info.Env(), "llistxattr", path, errno);
    Napi::Array names = Napi::Array::New(info.Env());
    uint32_t n = 0;
    for (ssize_t i = 0; i < got;) {
      std::string name(buf.data() + i);
      i += static_cast<ssize_t>(name.size()) + 1;
      if (!name.empty()) names.Set(n++, Napi::String::New(info.Env(), name));
    }
    return names;
  }
}

Napi::Value Mount(const Napi::CallbackInfo& info) {
  std::string source = Arg(info, 0), target = Arg(info, 1), fstype = Arg(info, 2), data = Arg(info, 4);
  auto flags = static_cast<unsigned long>(Int(info, 3));
  if (mount(source.empty() ? nullptr : source.c_str(), target.c_str(), fstype.empty() ? nullptr : fstype.c_str(), flags,
            data.empty() ? nullptr : data.c_str()) < 0) {
    throw SysError(info.Env(), "mount", target, errno);
  }
  return info.Env().Undefined();
}

Napi::Value Umount2(const Napi::CallbackInfo& info) {
  std::string target = Arg(info, 0);
  if (umount2(target.c_str(), static_cast<int>(Int(info, 1))) < 0) throw SysError(info.Env(), "umount2", target, errno);
  return info.Env().Undefined();
}

// Make `port` a port of the bridge `bridge` (SIOCBRADDIF) and bring it up (SIOCSIFFLAGS): the
// host end of a container's veth, without an `ip` process on the start path.
Napi::Value BridgePortUp(const Napi::CallbackInfo& info) {
  std::string bridge = Arg(info, 0), port = Arg(info, 1);
  if (bridge.size() >= IFNAMSIZ || port.size() >= IFNAMSIZ)
    throw SysError(info.Env(), "ioctl", bridge + " " + port, ENAMETOOLONG);
  int sock = socket(AF_LOCAL, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) throw SysError(info.Env(), "socket", "AF_LOCAL", errno);
  unsigned index = if_nametoindex(port.c_str());
  if (index == 0) {
    int e = errno;
    close(sock);
    throw SysError(info.Env(), "if_nametoindex", port, e);
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, bridge.c_str(), bridge.size());
  ifr.ifr_ifindex = static_cast<int>(index);
  if (ioctl(sock, SIOCBRADDIF, &ifr) < 0) {
    int e = errno;
    close(sock);
    throw SysError(info.Env(), "ioctl", "SIOCBRADDIF " + bridge + " " + port, e);
  }
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, port.c_str(), port.size());
  if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0) {
    int e = errno;
    close(sock);
    throw SysError(info.Env(), "ioctl", "SIOCGIFFLAGS " + port, e);
  }
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0) {
    int e = errno;
    close(sock);
    throw SysError(info.Env(), "ioctl", "SIOCSIFFLAGS " + port + " up", e);
  }
  close(sock);
  return info.Env().Undefined();
}

Napi::Value SetWindowSize(const Napi::CallbackInfo& info) {
  int fd = static_cast<int>(Int(info, 0));
  struct winsize ws = {};
  ws.ws_row = static_cast<unsigned short>(Int(info, 1));
  ws.ws_col = static_cast<unsigned short>(Int(info, 2));
  if (ioctl(fd, TIOCSWINSZ, &ws) < 0) throw SysError(info.Env(), "ioctl", "TIOCSWINSZ", errno);
  return info.Env().Undefined();
}

Napi::Value Flock(const Napi::CallbackInfo& info) {
  int fd = static_cast<int>(Int(info, 0));
  int op = static_cast<int>(Int(info, 1));
  int rc;
  do {
    rc = flock(fd, op);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) throw SysError(info.Env(), "flock", "fd " + std::to_string(fd), errno);
  return info.Env().Undefined();
}

// openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) of `path` below the directory `root`: every
// component, symlinks and ".." included, is resolved as if `root` were "/" (for `cp`).
Napi::Value OpenInRoot(const Napi::CallbackInfo& info) {
  std::string root = Arg(info, 0), path = Arg(info, 1);
  int root_fd = open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) throw SysError(info.Env(), "open", root, errno);
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = static_cast<uint64_t>(Int(info, 2)) | O_CLOEXEC;
  if (how.flags & (O_CREAT | O_TMPFILE)) how.mode = static_cast<uint64_t>(Int(info, 3));
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  // EAGAIN: a rename or mount somewhere on the system raced a ".." walk; the kernel asks for a retry.
  long fd;
  int tries = 0;
  do {
    fd = syscall(SYS_openat2, root_fd, path.c_str(), &how, sizeof how);
  } while (fd < 0 && errno == EAGAIN && ++tries < 1000);
  int e = errno;
  close(root_fd);
  if (fd < 0) throw SysError(info.Env(), "openat2", root + " " + path, e);
  return Napi::Number::New(info.Env(), static_cast<double>(fd));
}

// readlinkat(fd, ""): the target of a symlink opened with O_PATH | O_NOFOLLOW.
Napi::Value ReadlinkFd(const Napi::CallbackInfo& info) {
  int fd = static_cast<int>(Int(info, 0));
  char buf[4097];
  ssize_t n = readlinkat(fd, "", buf, sizeof buf - 1);
  if (n < 0) throw SysError(info.Env(), "readlinkat", "fd " + std::to_string(fd), errno);
  return Napi::String::New(info.Env(), buf, static_cast<size_t>(n));
}

Napi::Value Pipe(const Napi::CallbackInfo& info) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) throw SysError(info.Env(), "pipe2", "", errno);
  Napi::Array out = Napi::Array::New(info.Env(), 2);
  out.Set(0u, Napi::Number::New(info.Env(), fds[0]));
  out.Set(1u, Napi::Number::New(info.Env(), fds[1]));
  return out;
}

// A unix socket's address for `path`; too long a path is `op path: ENAMETOOLONG`.
static struct sockaddr_un UnixAddress(Napi::Env env, const char* op, const std::string& path) {
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) throw SysError(env, op, path, ENAMETOOLONG);
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

// sendFdTo(path, fd, name): connect to the unix stream socket at `path` and send `fd` in one
// sendmsg (SCM_RIGHTS) with `name` as its data: runc's --console-socket protocol (the pty master).
Napi::Value SendFdTo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int fd = info[1].As<Napi::Number>().Int32Value();
  std::string name = info[2].As<Napi::String>().Utf8Value();
  struct sockaddr_un addr = UnixAddress(env, "connect", path);
  int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0) throw SysError(env, "socket", path, errno);
  if (connect(sock, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) < 0) {
    int e = errno;
    close(sock);
    throw SysError(env, "connect", path, e);
  }
  int err = SendFd(sock, fd, name.c_str(), name.size());
  close(sock);
  if (err != 0) throw SysError(env, "sendmsg", path, err);
  return env.Undefined();
}

// A unix stream socket bound at `path` (a stale file there replaced) and listening: hull makes
// hull-monitor's control socket and hands it over, so clients can connect before the monitor runs.
Napi::Value ListenUnix(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  struct sockaddr_un addr = UnixAddress(env, "bind", path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw SysError(env, "socket", path, errno);
  unlink(path.c_str());
  if (bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) < 0) {
    int e = errno;
    close(fd);
    throw SysError(env, "bind", path, e);
  }
  if (chmod(path.c_str(), 0600) < 0 || listen(fd, 16) < 0) {
    int e = errno;
    close(fd);
    unlink(path.c_str());
    throw SysError(env, "listen", path, e);
  }
  return Napi::Number::New(env, fd);
}

}  // namespace hull
