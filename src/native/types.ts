/**
 * The typed interface of hull's native addon (native/*.cc). Every function the addon exports is
 * declared here; nothing else in src/ touches the addon object directly.
 *
 * Errors thrown by the addon are turned into SystemError (see ./index.ts) carrying the syscall,
 * the path and the errno name.
 */

/** One step of the start-up plan, executed in order by the new process before execve. */
export type PlanStep =
  /** mount(2). `target` is absolute on the host before pivot_root; with `inRoot` it is resolved
   *  inside `rootfs` (openat2 RESOLVE_IN_ROOT) so symlinks in the image cannot redirect it, and
   *  created first as a directory or an empty file when `create` says so. */
  | {
      op: 'mount';
      source: string;
      target: string;
      fstype: string;
      flags: number;
      data: string;
      inRoot: boolean;
      create: 'dir' | 'file' | 'none';
      /** A target that does not exist is skipped instead of failing. */
      optional: boolean;
    }
  /** mknod(2) of a device node at `path` inside the root (RESOLVE_IN_ROOT), mode includes the type bits. */
  | { op: 'mknod'; path: string; mode: number; major: number; minor: number; uid?: number; gid?: number }
  /** symlink(2): `linkPath` (inside the root) → `target` (stored verbatim). */
  | { op: 'symlink'; target: string; linkPath: string }
  /** pivot_root into the directory `rootfs` (a mount point), detach the old root, chdir /. */
  | { op: 'pivotRoot'; rootfs: string }
  /** chroot(2) into `rootfs`, chdir /: a container that shares a mount namespace (the runtime's, or
   *  one joined by path), where pivot_root would move the root of every process in it. */
  | { op: 'chroot'; rootfs: string }
  /** mount(2) with MS_REMOUNT|MS_BIND|flags on a path (after pivot_root). Missing path is skipped. */
  | { op: 'remount'; target: string; flags: number; ignoreMissing: boolean }
  /** Hide a path (after pivot_root): /dev/null bound over a file, an empty read-only tmpfs over a directory. */
  | { op: 'mask'; path: string }
  | { op: 'sethostname'; hostname: string }
  | { op: 'setdomainname'; domainname: string }
  /** Write a value to a file of /proc: a sysctl (/proc/sys/…), /proc/self/oom_score_adj. */
  | { op: 'writeProc'; path: string; value: string }
  /** Bring the loopback interface of the new network namespace up. */
  | { op: 'loopbackUp' }
  /** setns(2) into the namespace file `path` (e.g. a network namespace hull made), `nstype` CLONE_NEW*. */
  | { op: 'setns'; path: string; nstype: number }
  /** Open /dev/ptmx (of the container's devpts), bind the slave onto /dev/console, send the master
   *  to the parent over the console socket, make the slave the controlling terminal and stdio. */
  | { op: 'console'; rows: number; cols: number; noDevConsole?: boolean }
  /** mkdir -p inside the (new) root, as the current user; used for a WorkingDir the image lacks. */
  | { op: 'mkdirs'; path: string; mode: number; uid: number; gid: number }
  /** chdir; with `inRoot` (after pivot_root) resolved inside the root without magic links. */
  | { op: 'chdir'; path: string; inRoot?: boolean }
  | { op: 'setrlimit'; resource: number; soft: bigint; hard: bigint }
  | { op: 'noNewPrivs' }
  /** setgroups, setgid, setuid (with PR_SET_KEEPCAPS so the capability step can still set sets). */
  | { op: 'setUser'; uid: number; gid: number; groups: number[] }
  /** Capability sets as 64-bit masks (bit N = capability N). Bounding: caps not in the mask are dropped. */
  | { op: 'capabilities'; bounding: bigint; effective: bigint; permitted: bigint; inheritable: bigint; ambient: bigint }
  /** Mark every fd >= 3 close-on-exec (close_range), so nothing of the host leaks past execve. */
  | { op: 'closeFds'; keep?: number }
  /** seccomp(SECCOMP_SET_MODE_FILTER) of a classic BPF program: struct sock_filter[] as hex
   *  (16 hex digits an instruction). Needs no_new_privs or CAP_SYS_ADMIN when it runs. */
  | { op: 'seccomp'; filter: string }
  /** The uid_map/gid_map texts of a new user namespace: the parent writes them before release
   *  (hull-monitor reads them from here); nothing for the process itself. */
  | { op: 'idMaps'; uidMap: string; gidMap: string }
  /** The container's own /dev/null (opened inside its root, checked to be the null device) over
   *  each stdio fd whose bit is set in `fds` (bit i = fd i): the host's never reaches it (src/runtime/stdio.ts). */
  | { op: 'nullStdio'; fds: number }
  /** Tell the parent the process is at its hooks point (its namespaces made, before pivot_root) and
   *  wait while the parent runs the create hooks (prestart, createRuntime, createContainer). */
  | { op: 'hooksPoint' }
  /** Open the start fifo O_PATH (before pivot_root: it is a host path), for the start gate. */
  | { op: 'openStartFifo'; path: string }
  /** The start gate, last before exec: the executable is looked up (a missing one fails here), the
   *  parent is told "ready" (created), and the process waits for start — a byte from the parent, or
   *  with openStartFifo, a reader of the fifo (`start` from any process). */
  | { op: 'startGate' }
  /** execve; when `file` has no '/', search `path` (colon-separated) like execvp. Always the last step. */
  | { op: 'exec'; file: string; argv: string[]; env: string[]; path: string };

/** Namespace flags for clone3 (CLONE_NEW*). */
export interface NamespaceSet {
  pid: boolean;
  mount: boolean;
  uts: boolean;
  ipc: boolean;
  net: boolean;
  cgroup: boolean;
  /** A new user namespace: the parent writes its uid/gid maps before go. */
  user?: boolean;
  /** A new time namespace. */
  time?: boolean;
}

export interface SpawnRequest {
  /** The launch plan in its wire format (src/runtime/plan-codec.ts encodeLaunchPlan). */
  plan: Buffer;
  /** An open O_DIRECTORY fd of the container's cgroup (v2), for CLONE_INTO_CGROUP; -1 for none. */
  cgroupFd: number;
  /** fds the child gets as 0, 1, 2 (they are dup2'd; the originals are not closed by the addon). */
  stdio: [number, number, number];
  /**
   * Namespaces joined before the clone (exec into a running container; a pid namespace joined by
   * path): a fork of hull setns's into each of these fds, in order, and clones the plan's process
   * (with the plan's clone flags) into them and `cgroupFd`, as hull's child.
   */
  joinNamespaceFds?: number[];
}

/** Where the child is after a step of the protocol (native/launch.h). */
export type LaunchStage = 'hooks' | 'ready' | 'started';

export interface StageReached {
  stage: LaunchStage;
  /** The pty master, once the child has sent it (its console step comes before its gate). */
  consoleFd?: number;
}

export interface SpawnedProcess {
  /** pid in hull's pid namespace. */
  pid: number;
  /** A pidfd for the process (CLONE_PIDFD). Owned by the caller; closed by `watchExit` when it fires. */
  pidfd: number;
}

/** A failure record written by the child: which step failed and how. */
export interface StartFailure {
  step: number;
  steps: number;
  syscall: string;
  errno: string;
  detail: string;
}

export interface ExitStatus {
  /** Exit code when the process exited, else null. */
  code: number | null;
  /** Signal number when the process was killed by a signal, else null. */
  signal: number | null;
}

export interface NativeAddon {
  /**
   * clone3 the container's first process (native/launch.h). It waits in the child for `go`, so the
   * parent can finish its side (network) first.
   */
  spawn(request: SpawnRequest): SpawnedProcess & { handle: unknown };
  /**
   * One step of the protocol — `go` (with the uid/gid maps of a new user namespace written first),
   * `continue` after the create hooks, `start` at the gate — then wait (polling the child's message
   * socket on the event loop; no thread) for the stage the child reaches next; rejects with an Error
   * carrying `failure` when a step of the plan fails.
   */
  advance(handle: unknown, step: 'go' | 'continue' | 'start'): Promise<StageReached>;
  /** Calls back once when the process exits (pidfd polled on the event loop; nothing blocks). With
   *  `keepAlive` false the watch does not keep the event loop alive (a process left to run on its own). */
  watchExit(pidfd: number, callback: (status: ExitStatus) => void, keepAlive?: boolean): void;
  /** Closes every exit watch not yet fired, without calling it: at the process's 'exit' event (native() registers it). */
  stopExitWatches(): void;
  /** pidfd_send_signal(2). */
  pidfdSignal(pidfd: number, signal: number): void;
  /** pidfd_open(2) of any process (close-on-exec); the caller closes it. */
  pidfdOpen(pid: number): number;
  /** Resolves true once the process of `pidfd` has exited, false after `timeoutMs` (-1: no limit)
   *  or once `signal` aborts (the wait's handles freed at once). Works for processes that are not
   *  hull's children; does not reap, does not close the fd. */
  pidfdWait(pidfd: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean>;

  // --- 1:1 system call wrappers Node lacks ---
  mknod(path: string, mode: number, major: number, minor: number): void;
  lsetxattr(path: string, name: string, value: Buffer, flags: number): void;
  lgetxattr(path: string, name: string): Buffer | null;
  llistxattr(path: string): string[];
  mount(source: string, target: string, fstype: string, flags: number, data: string): void;
  umount2(target: string, flags: number): void;
  /** SIOCBRADDIF `port` to `bridge`, then SIOCSIFFLAGS `port` up. */
  bridgePortUp(bridge: string, port: string): void;
  /** TIOCSWINSZ on a terminal fd. */
  setWindowSize(fd: number, rows: number, cols: number): void;
  /** flock(2) with LOCK_EX/LOCK_SH (| LOCK_NB); blocks the calling thread, so use LOCK_NB or short critical sections. */
  flock(fd: number, operation: number): void;
  /** openat2 of `path` resolved inside `root` (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS); O_CLOEXEC is added. */
  openInRoot(root: string, path: string, flags: number, mode: number): number;
  /** readlinkat(fd, ""): the target of a symlink opened with O_PATH | O_NOFOLLOW. */
  readlinkFd(fd: number): string;
  /** pipe2(O_CLOEXEC): [read end, write end]. */
  pipe(): [number, number];
  /** Copy `from` into `to` on a thread of its own (native/relay.cc) until EOF, an error or the
   *  returned stop(); then close the fds marked as owned and call `done` on the event loop (with
   *  `keepAlive` the pending relay keeps the process running). EPIPE ends it without an error. */
  relay(from: number, to: number, options: RelayOptions, done: (err: Error | null, bytes: number) => void): () => void;
  /** Connect to the unix stream socket at `path` and send `fd` (SCM_RIGHTS) with `name` as the data: runc's --console-socket. */
  sendFdTo(path: string, fd: number, name: string): void;
  /** A unix stream socket bound at `path` (replacing a stale file) and listening, close-on-exec: its fd. */
  listenUnix(path: string): number;
  /** Load a BPF_PROG_TYPE_CGROUP_DEVICE program (struct bpf_insn[]) and attach it to the cgroup
   *  directory (BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI); it goes when the cgroup is removed. */
  attachDeviceFilter(cgroupDir: string, program: Buffer): void;
  /** An fd of a new user namespace with these /proc/PID/uid_map and gid_map texts (close-on-exec). */
  openUserns(uidMap: string, gidMap: string): number;
  /** An idmapped bind mount of `source` on `target` (open_tree, mount_setattr MOUNT_ATTR_IDMAP, move_mount). */
  idmapMount(source: string, target: string, usernsFd: number): void;
}

export interface RelayOptions {
  closeFrom: boolean;
  closeTo: boolean;
  keepAlive: boolean;
}
