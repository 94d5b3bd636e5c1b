// The cgroup v2 device controller: load a BPF_PROG_TYPE_CGROUP_DEVICE program (generated in
// TypeScript, src/runtime/devices-bpf.ts) and attach it to a container's cgroup directory.
// The program stays attached as long as the cgroup exists; removing the cgroup detaches it.
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "errors.h"
#include "sys.h"

namespace hull {

// attachDeviceFilter(cgroupDir, program): bpf(BPF_PROG_LOAD) then bpf(BPF_PROG_ATTACH, BPF_CGROUP_DEVICE).
Napi::Value AttachDeviceFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string dir = info[0].As<Napi::String>().Utf8Value();
  Napi::Buffer<uint8_t> program = info[1].As<Napi::Buffer<uint8_t>>();
  if (program.Length() == 0 || program.Length() % sizeof(struct bpf_insn) != 0) {
    throw SysError(env, "bpf", "device program of " + std::to_string(program.Length()) + " bytes", EINVAL);
  }
  static const char kLicense[] = "Apache-2.0";
  union bpf_attr load;
  memset(&load, 0, sizeof load);
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insn_cnt = static_cast<uint32_t>(program.Length() / sizeof(struct bpf_insn));
  load.insns = reinterpret_cast<uint64_t>(program.Data());
  load.license = reinterpret_cast<uint64_t>(kLicense);
  // EAGAIN: a signal came while the verifier ran (SIGPROF under a profiler, SIGCHLD, SIGWINCH…).
  // Signals are held on this thread meanwhile (those sent to it wait, the process's go to another
  // thread); a profiler sampling every 50 µs interrupted every try otherwise. And the load is
  // tried again on EAGAIN, as libbpf does.
  sigset_t all, saved;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &saved);
  long prog_fd = -1;
  for (int attempt = 0; attempt < 10; attempt++) {
    prog_fd = syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load);
    if (prog_fd >= 0 || errno != EAGAIN) break;
  }
  int load_errno = errno;
  pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  if (prog_fd < 0) {
    int e = load_errno;
    if (e == EAGAIN) throw SysError(env, "bpf", "BPF_PROG_LOAD device program (interrupted 10 times)", e);
    // Again with the verifier's log, for the message (not on the fast path: logging costs).
    std::vector<char> log(16384, '\0');
    load.log_level = 1;
    load.log_buf = reinterpret_cast<uint64_t>(log.data());
    load.log_size = static_cast<uint32_t>(log.size());
    long again = syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load);
    if (again >= 0) close(static_cast<int>(again));
    std::string why = log[0] != '\0' ? std::string(": ") + log.data() : "";
    throw SysError(env, "bpf", "BPF_PROG_LOAD device program" + why, e);
  }
  int cgroup_fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgroup_fd < 0) {
    int e = errno;
    close(static_cast<int>(prog_fd));
    throw SysError(env, "open", dir, e);
  }
  union bpf_attr attach;
  memset(&attach, 0, sizeof attach);
  attach.target_fd = static_cast<uint32_t>(cgroup_fd);
  attach.attach_bpf_fd = static_cast<uint32_t>(prog_fd);
  attach.attach_type = BPF_CGROUP_DEVICE;
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  long rc = syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof attach);
  int e = errno;
  close(cgroup_fd);
  close(static_cast<int>(prog_fd));
  if (rc < 0) throw SysError(env, "bpf", "BPF_PROG_ATTACH device program to " + dir, e);
  return env.Undefined();
}

}  // namespace hull
