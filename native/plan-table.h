// The one table of everything TypeScript and C++ must agree on: the plan's step ops and what each
// field means, the wire format's version, the messages of the parent/child protocol, and the sizes
// and offsets of the fixed records TypeScript reads. src/native/plan-table.ts is generated from this
// file (node scripts/gen-plan-table.mjs; its --check runs in the unit tests), and every size and
// offset below is checked by a static_assert where the C++ structures are defined.
#pragma once

// Bump when the wire format (native/plan-codec.h, src/runtime/plan-codec.ts) changes.
#define HULL_PLAN_VERSION 4

// X(number, Name, "name in TypeScript"). A step carries strings s0..s3, numbers n0..n4, argv,
// envp and groups; what each op reads of them is written beside it.
#define HULL_PLAN_OPS(X)                                                                                  \
  X(0, Mount, "mount")                  /* s0 source, s1 target, s2 fstype, s3 data; n0 flags, n1 create, \
                                           n2 inRoot, n3 optional */                                      \
  X(1, Mknod, "mknod")                  /* s0 path; n0 mode, n1 major, n2 minor, n3 uid, n4 gid */        \
  X(2, Symlink, "symlink")              /* s0 target, s1 link path */                                     \
  X(3, PivotRoot, "pivotRoot")          /* s0 rootfs */                                                   \
  X(4, Remount, "remount")              /* s0 target; n0 flags, n1 ignoreMissing */                       \
  X(5, Mask, "mask")                    /* s0 path */                                                     \
  X(6, Sethostname, "sethostname")      /* s0 hostname */                                                 \
  X(7, LoopbackUp, "loopbackUp")        /* - */                                                           \
  X(8, Console, "console")              /* n0 rows, n1 cols, n2 noDevConsole */                           \
  X(9, Mkdirs, "mkdirs")                /* s0 path; n0 mode, n1 uid, n2 gid */                            \
  X(10, Chdir, "chdir")                 /* s0 path; n0 inRoot */                                          \
  X(11, Setrlimit, "setrlimit")         /* n0 resource, n1 soft, n2 hard */                               \
  X(12, NoNewPrivs, "noNewPrivs")       /* - */                                                           \
  X(13, SetUser, "setUser")             /* n0 uid, n1 gid; groups */                                      \
  X(14, Capabilities, "capabilities")   /* n0 bounding, n1 effective, n2 permitted, n3 inheritable,       \
                                           n4 ambient */                                                  \
  X(15, CloseFds, "closeFds")           /* n0 fds kept above stdio (3 … 2+n0: runc's --preserve-fds) */ \
  X(16, Exec, "exec")                   /* s0 file, s1 PATH; argv, envp */                                \
  X(17, Seccomp, "seccomp")             /* s0 the filter in hex; n0 instruction count */                  \
  X(18, IdMaps, "idMaps")               /* s0 uid_map, s1 gid_map (the parent writes them before go) */   \
  X(19, Setns, "setns")                 /* s0 namespace file; n0 CLONE_NEW* type */                       \
  X(20, NullStdio, "nullStdio")         /* n0 mask of stdio fds that get the container's /dev/null */     \
  X(21, HooksPoint, "hooksPoint")       /* - : tell the parent, wait for it to run the create hooks */    \
  X(22, OpenStartFifo, "openStartFifo") /* s0 the fifo (O_PATH, before pivot_root) */                     \
  X(23, StartGate, "startGate")         /* - : tell the parent "created", wait for start */               \
  X(24, Chroot, "chroot")               /* s0 rootfs: a shared mount namespace (the runtime's, or one     \
                                           joined by path), where pivot_root would move every root */     \
  X(25, WriteProc, "writeProc")         /* s0 a /proc file (a sysctl, oom_score_adj), s1 the value */     \
  X(26, Setdomainname, "setdomainname") /* s0 domain name */

// What the child tells the parent (ChildMessage.kind). End of file on the message pipe (it is
// close-on-exec) means the child has execve'd.
#define HULL_CHILD_MESSAGES(X)                                                \
  X(0, Failed, "failed") /* a step failed: the ErrorRecord says which, how */ \
  X(1, AtHooks, "hooks") /* at the hooks point: the create hooks may run */   \
  X(2, Ready, "ready")   /* at the start gate: created, waiting for start */

// What the parent tells the child (one byte each on the sync pipe).
#define HULL_PARENT_MESSAGES(X)                                \
  X('G', Go, "go")             /* run the plan */              \
  X('C', Continue, "continue") /* the create hooks have run */ \
  X('S', Start, "start")       /* pass the start gate */

// Fixed records TypeScript reads (sizes in bytes; offsets from the record's start).
#define HULL_ERROR_RECORD_SYSCALL_SIZE 32
#define HULL_ERROR_RECORD_MESSAGE_SIZE 512
// ErrorRecord {u32 step, u32 steps, i32 err, char syscall[32], char message[512]}
#define HULL_ERROR_RECORD_SIZE 556
#define HULL_ERROR_RECORD_STEP 0
#define HULL_ERROR_RECORD_STEPS 4
#define HULL_ERROR_RECORD_ERRNO 8
#define HULL_ERROR_RECORD_SYSCALL 12
#define HULL_ERROR_RECORD_MESSAGE 44
// ChildMessage {u32 kind, ErrorRecord error}
#define HULL_CHILD_MESSAGE_SIZE 560
// hull-monitor's report on fd 3: MonitorReport {u32 kind, i32 pid, ErrorRecord error}
#define HULL_MONITOR_REPORT_SIZE 564
#define HULL_MONITOR_REPORT_ERROR 8
#define HULL_MONITOR_REPORTS(X)                                        \
  X(0, Started, "started")             /* the container runs: pid */   \
  X(1, PlanFailed, "planFailed")       /* a step failed: the record */ \
  X(2, MonitorFailed, "monitorFailed") /* the monitor itself failed */
