// The one launcher: the pipes, the clone3 (signals masked, straight into the cgroup), the joined
// namespaces, the uid/gid maps and the parent's side of the protocol with the container's first
// process. The addon (spawn.cc, on Node's event loop) and hull-monitor (blocking) both use it.
//
// The protocol (one-byte parent messages and whole ChildMessage records: native/plan-table.h):
//
//   parent                                   child (clone3: its namespaces, already in its cgroup)
//   ──────                                   ─────────────────────────────────────────────────────
//   Launch(): socketpair messages, pipe sync,
//     socketpair console (a terminal); block
//     all signals; clone3 (or fork a joiner
//     that setns's, then clone3s) ─────────► close the parent's ends; reset signal handlers;
//                                            read(sync) … blocks
//   (the caller's set-up: network, …)
//   Go(): uid/gid maps (a new user namespace);
//     write 'G' ───────────────────────────► steps 1 … k (setns, mounts)
//                                            [hooks point]  send AtHooks; read(sync) … blocks
//   ReadMessage → AtHooks: run the create
//     hooks; write 'C' ────────────────────► steps k+1 … n (pivot_root … seccomp, capabilities)
//                                            [start gate]   the executable is found; send Ready;
//   ReadMessage → Ready: created                             read(sync) … or open(start fifo, O_WRONLY) …
//   start: write 'S' (or any process opens
//     the start fifo and reads a byte) ────► execve → the message socket closes (CLOEXEC)
//   ReadMessage → end of file: started
//
//   Any failed step: send Failed {ErrorRecord}, _exit(125). The parent gone before 'G': the child
//   reads end of file on the sync pipe and exits without running anything.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "plan-codec.h"
#include "plan.h"

namespace hull {

struct LaunchRequest {
  const LaunchPlan* plan;
  int stdio[3];
  int cgroup_fd;        // an O_DIRECTORY fd of the container's cgroup (CLONE_INTO_CGROUP), or -1
  const int* join_fds;  // namespaces a forked joiner setns's into, in order, before it clones (or nullptr);
  size_t join_count;    // the plan's join_paths are opened and joined after these
};

struct Launched {
  int pid = -1;
  int pidfd = -1;
  int sync_fd = -1;     // the parent writes its one-byte messages here
  int message_fd = -1;  // the parent reads ChildMessages here
  int console_fd = -1;  // the parent's end of the console socket (a terminal), or -1
};

struct LaunchError {
  const char* syscall;
  int err;
  char what[160];
};

// Clones the container's first process (through a joiner when `join_count` > 0); it waits for Go.
// `plan_storage` must stay alive until the clone has returned. False with *error on failure.
bool Launch(const LaunchRequest& request, Plan* plan_storage, Launched* out, LaunchError* error);

// Writes the maps of a new user namespace (the plan's IdMaps step), then 'G'. 0 or errno (with *error).
int Go(const LaunchPlan& plan, const Launched& launched, LaunchError* error);

// One byte to the child ('C', 'S'). 0 or errno.
int Tell(const Launched& launched, char message);

// Reads ChildMessages incrementally: call when message_fd is readable (it may be non-blocking).
enum class ReadResult { More, Message, Execd, Broken };
ReadResult ReadMessage(int fd, ChildMessage* buffer, size_t* got, int* err);

// The console's pty master the child sent, once it has (MSG_DONTWAIT): the fd, or -errno.
int ReceiveConsole(const Launched& launched);

// Closes the parent's ends (not the pidfd).
void CloseLaunched(Launched* launched);

}  // namespace hull
