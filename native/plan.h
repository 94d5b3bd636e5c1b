// The flat start-up plan: built in TypeScript (src/runtime/plan.ts), copied here into plain C
// structures by spawn.cc before clone3, and executed step by step by child.cc in the new process.
// The child only reads this memory (its copy-on-write image of the parent's), never allocates.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

namespace hull {

enum class StepOp : uint32_t {
  Mount,
  Mknod,
  Symlink,
  PivotRoot,
  Remount,
  Mask,
  Sethostname,
  LoopbackUp,
  Console,
  Mkdirs,
  Chdir,
  Setrlimit,
  NoNewPrivs,
  SetUser,
  Capabilities,
  CloseFds,
  Exec,
  Seccomp,  // s0: the filter (struct sock_filter[]) in hex, n0: instruction count
  IdMaps,   // s0: uid_map text, s1: gid_map text; for the parent (it writes them before go), a no-op here
  Setns,
  NullStdio,  // n0: mask of the stdio fds (bit i = fd i) to point at the container's own /dev/null
};

enum class CreateKind : uint32_t { None, Dir, File };

struct Step {
  StepOp op;
  // Strings, meaning by op (nullptr when unused):
  //   Mount: s0 source, s1 target, s2 fstype, s3 data
  //   Mknod: s0 path   Symlink: s0 target, s1 link path   PivotRoot: s0 rootfs
  //   Setns: s0 namespace file, n0 CLONE_NEW* type
  //   Remount/Chdir/Mkdirs: s0 path   Sethostname: s0 name   Exec: s0 file, s1 PATH
  const char* s0;
  const char* s1;
  const char* s2;
  const char* s3;
  // Numbers, meaning by op:
  //   Mount: n0 flags, n1 CreateKind, n2 inRoot, n3 optional
  //   Mknod: n0 mode, n1 major, n2 minor   Remount: n0 flags, n1 ignoreMissing
  //   Mkdirs: n0 mode, n1 uid, n2 gid   Setrlimit: n0 resource, n1 soft, n2 hard
  //   SetUser: n0 uid, n1 gid   Capabilities: n0 bounding, n1 effective, n2 permitted,
  //   n3 inheritable, n4 ambient   Console: n0 rows, n1 cols
  uint64_t n0, n1, n2, n3, n4;
  // Exec: argv/envp (NULL-terminated). SetUser: groups.
  char* const* argv;
  char* const* envp;
  const gid_t* groups;
  size_t ngroups;
};

struct Plan {
  const Step* steps;
  size_t count;
  const char* rootfs;  // host path of the container's root mount, for in-root resolution and messages
  int stdio[3];       // fds to become 0, 1, 2
  int sync_fd;        // child reads "go" here (parent holds the write end)
  int error_fd;       // child writes an ErrorRecord here on failure; CLOEXEC, so EOF = execve done
  int console_fd;     // child's end of the console socket, or -1
  int close_in_child[3];  // the parent's ends, closed first thing in the child (-1 = none)
  int parent_death_signal;
};

// The fixed failure record. Written once, atomically (it is smaller than PIPE_BUF).
struct ErrorRecord {
  uint32_t step;       // 1-based
  uint32_t steps;
  int32_t err;         // errno
  char syscall[32];
  char message[512];   // what was being done: "mount proc on /run/hull/…/rootfs/proc"
};
static_assert(sizeof(ErrorRecord) <= 4096, "an ErrorRecord must fit in PIPE_BUF");

}  // namespace hull
