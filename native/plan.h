// The flat start-up plan: built in TypeScript (src/runtime/plan.ts), sent in the wire format of
// native/plan-codec.h (one format and one decoder for the addon and hull-monitor), and executed
// step by step by child.cc in the new process. The child only reads this memory (its copy-on-write
// image of the parent's), never allocates. Op numbers and record layouts: native/plan-table.h.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "plan-table.h"

namespace hull {

#define HULL_AS_ENUM(number, name, text) name = number,
enum class StepOp : uint32_t { HULL_PLAN_OPS(HULL_AS_ENUM) };
enum class ChildMessageKind : uint32_t { HULL_CHILD_MESSAGES(HULL_AS_ENUM) };
enum class MonitorReportKind : uint32_t { HULL_MONITOR_REPORTS(HULL_AS_ENUM) };
#undef HULL_AS_ENUM

#define HULL_AS_COUNT(number, name, text) +1
constexpr uint32_t kStepOpCount = 0 HULL_PLAN_OPS(HULL_AS_COUNT);
#undef HULL_AS_COUNT

#define HULL_AS_BYTE(byte, name, text) constexpr char kParent##name = byte;
HULL_PARENT_MESSAGES(HULL_AS_BYTE)
#undef HULL_AS_BYTE

enum class CreateKind : uint32_t { None, Dir, File };

struct Step {
  StepOp op;
  // What each op reads of these: the table in native/plan-table.h (nullptr / 0 when unused).
  const char* s0;
  const char* s1;
  const char* s2;
  const char* s3;
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
  const char* rootfs;     // host path of the container's root mount, for in-root resolution and messages
  int stdio[3];           // fds to become 0, 1, 2
  int sync_fd;            // the child reads the parent's one-byte messages here (go, continue, start)
  int message_fd;         // the child writes ChildMessages here; CLOEXEC, so EOF = execve done
  int console_fd;         // child's end of the console socket, or -1
  int close_in_child[3];  // the parent's ends, closed first thing in the child (-1 = none)
  int parent_death_signal;
};

// The fixed failure record. Written once, atomically (it is smaller than PIPE_BUF).
struct ErrorRecord {
  uint32_t step;  // 1-based
  uint32_t steps;
  int32_t err;  // errno
  char syscall[HULL_ERROR_RECORD_SYSCALL_SIZE];
  char message[HULL_ERROR_RECORD_MESSAGE_SIZE];  // what was being done: "mount proc on /run/hull/…/rootfs/proc"
};
static_assert(sizeof(ErrorRecord) == HULL_ERROR_RECORD_SIZE, "plan-table.h: ErrorRecord size");
static_assert(offsetof(ErrorRecord, step) == HULL_ERROR_RECORD_STEP, "plan-table.h: ErrorRecord.step");
static_assert(offsetof(ErrorRecord, steps) == HULL_ERROR_RECORD_STEPS, "plan-table.h: ErrorRecord.steps");
static_assert(offsetof(ErrorRecord, err) == HULL_ERROR_RECORD_ERRNO, "plan-table.h: ErrorRecord.err");
static_assert(offsetof(ErrorRecord, syscall) == HULL_ERROR_RECORD_SYSCALL, "plan-table.h: ErrorRecord.syscall");
static_assert(offsetof(ErrorRecord, message) == HULL_ERROR_RECORD_MESSAGE, "plan-table.h: ErrorRecord.message");

// One message of the child on the message pipe; always written whole (smaller than PIPE_BUF).
struct ChildMessage {
  ChildMessageKind kind;
  ErrorRecord error;  // kind Failed only
};
static_assert(sizeof(ChildMessage) == HULL_CHILD_MESSAGE_SIZE, "plan-table.h: ChildMessage size");
static_assert(sizeof(ChildMessage) <= 4096, "a ChildMessage must fit in PIPE_BUF");

// hull-monitor's one report to hull on fd 3 (read in src/runtime/monitor.ts).
struct MonitorReport {
  MonitorReportKind kind;
  int32_t pid;
  ErrorRecord error;
};
static_assert(sizeof(MonitorReport) == HULL_MONITOR_REPORT_SIZE, "plan-table.h: MonitorReport size");
static_assert(offsetof(MonitorReport, error) == HULL_MONITOR_REPORT_ERROR, "plan-table.h: MonitorReport.error");

}  // namespace hull
