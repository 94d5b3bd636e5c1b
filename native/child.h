// The container's first process, between clone3 and execve.
#pragma once

#include <stdint.h>

#include "plan.h"

namespace hull {

// Runs in the child of clone3: waits for "go", executes the plan, execve's. Never returns.
// Only async-signal-safe calls: no malloc, no stdio, no C++ exceptions, no Napi.
[[noreturn]] void RunChild(const Plan& plan);

// clone3 into `namespaces` (CLONE_NEW* flags) and, when cgroup_fd >= 0, straight into that cgroup
// (CLONE_INTO_CGROUP), with every signal blocked around it so that no handler of the caller's runs
// in the child before RunChild resets them. The child runs RunChild(plan) and never returns.
// Returns the child's pid with *pidfd set (CLONE_PIDFD), or -1 with errno set.
long CloneContainer(uint64_t namespaces, int cgroup_fd, const Plan& plan, int* pidfd);

// What the joining process (exec) reports on its pipe: the pid of the process that runs the
// plan, or the failed syscall (setns of ns_fds[index], clone3) and errno.
struct JoinReport {
  int32_t pid;
  int32_t err;
  int32_t index;
  char syscall[16];
};

// exec into a running container: runs in a plain fork of hull. Non-dumpable, setns into each of
// `ns_fds` in order, then clone3(CLONE_PARENT | CLONE_INTO_CGROUP) the process that runs RunChild
// (a child of hull, inside the container's pid namespace and cgroup); reports and exits.
[[noreturn]] void RunJoiner(const Plan& plan, const int* ns_fds, size_t n_ns, int cgroup_fd, int report_fd);

}  // namespace hull
