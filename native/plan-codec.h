// The plan's one wire format and its one decoder, for the addon (spawn.cc) and hull-monitor alike.
// src/runtime/plan-codec.ts writes it; TypeScript decides everything in it.
//
//   launch plan   "HULLPLAN"  u32 version (HULL_PLAN_VERSION)
//                 u64 clone flags (CLONE_NEW* bits)   str rootfs
//                 u32 terminal   u32 parent death signal
//                 strs namespace files joined before the clone (a pid or time namespace joined by path)
//                 u32 step count, then per step:
//                   u32 op, str s0, s1, s2, s3, u64 n0, n1, n2, n3, n4, strs argv, strs envp, u32s groups
//   monitor input the launch plan, then what hull-monitor needs around it:
//                 str cgroup dir ("" = none)   str log file   str status file   str memory.events ("" = none)
//                 u32 remove cgroup on exit   u32 restart policy (0 no, 1 on-failure, 2 always, 3 unless-stopped)
//                 u32 max restarts (0 = no limit)   str stop marker file
//                 u64 log max size in bytes (0 = unlimited)   u32 log max files (>= 1)
//                 strs exit command (run in place of the monitor after the container's end; empty = none)
//                 str control socket (native/monitor-control.h)   u32 open stdin (a pipe the monitor holds)
//                 u32 attach first (the first start waits at its gate for an attached client)
//
//   str = u32 length + bytes + NUL (the decoded strings point into the buffer, which must outlive
//   the plan)   strs = u32 count + str…   u32s = u32 count + u32…
// Numbers are in the host's byte order (writer and reader are on the same machine).
//
// Decoding allocates only the pointer arrays (argv, envp, groups, the steps), from an Arena that
// the caller frees with the plan; it runs before any clone, never in a child.
#pragma once

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"

namespace hull {

constexpr uint32_t kPlanVersion = HULL_PLAN_VERSION;

// Allocations that live and die together (a decoded plan's arrays).
class Arena {
 public:
  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  ~Arena() { Free(); }
  void* Alloc(size_t n) {
    auto* block = static_cast<Block*>(calloc(1, sizeof(Block) + n));
    if (block == nullptr) return nullptr;
    block->next = head_;
    head_ = block;
    return block + 1;
  }
  void Free() {
    while (head_ != nullptr) {
      Block* next = head_->next;
      free(head_);
      head_ = next;
    }
  }

 private:
  struct alignas(16) Block {
    Block* next;
  };
  Block* head_ = nullptr;
};

struct LaunchPlan {
  uint64_t clone_flags;
  const char* rootfs;
  uint32_t terminal;
  uint32_t parent_death_signal;
  char** join_paths;  // NULL-terminated
  Step* steps;
  size_t count;
};

struct MonitorConfig {
  LaunchPlan launch;
  const char* cgroup;
  const char* log_path;
  const char* status_path;
  const char* memory_events;
  uint32_t remove_cgroup;
  uint32_t restart_policy;
  uint32_t max_restarts;
  const char* stop_marker;
  uint64_t log_max_size;
  uint32_t log_max_files;
  char** exit_command;  // NULL-terminated; exit_command[0] == nullptr when none
  const char* control_path;
  uint32_t open_stdin;
  uint32_t attach_first;
  const char* events_path;       // "" for none
  const char* event_lines_path;  // the lines the monitor appends (monitor.cc AppendEvent)
};

class PlanReader {
 public:
  PlanReader(const char* buf, size_t len, Arena* arena) : p_(buf), end_(buf + len), arena_(arena) {}
  bool ok() const { return ok_; }
  bool AtEnd() const { return p_ == end_; }

  uint32_t U32() {
    uint32_t v = 0;
    Take(&v, sizeof v);
    return v;
  }
  uint64_t U64() {
    uint64_t v = 0;
    Take(&v, sizeof v);
    return v;
  }
  const char* Str() {
    uint32_t n = U32();
    if (!ok_ || static_cast<size_t>(end_ - p_) < static_cast<size_t>(n) + 1 || p_[n] != '\0' ||
        memchr(p_, '\0', n) != nullptr) {
      ok_ = false;
      return "";
    }
    const char* s = p_;
    p_ += n + 1;
    return s;
  }
  char** Strs() {
    uint32_t n = U32();
    if (!ok_ || n > (1u << 20)) return Empty();
    auto** out = static_cast<char**>(arena_->Alloc((n + 1) * sizeof(char*)));
    if (out == nullptr) return Empty();
    for (uint32_t i = 0; i < n && ok_; i++) out[i] = const_cast<char*>(Str());
    return out;
  }
  gid_t* Gids(size_t* count) {
    uint32_t n = U32();
    *count = 0;
    auto* out = ok_ && n <= 65536 ? static_cast<gid_t*>(arena_->Alloc((n + 1) * sizeof(gid_t))) : nullptr;
    if (out == nullptr) {
      ok_ = false;
      return nullptr;
    }
    for (uint32_t i = 0; i < n; i++) out[i] = U32();
    *count = n;
    return out;
  }
  bool Magic() {
    if (end_ - p_ < 8 || memcmp(p_, "HULLPLAN", 8) != 0) return ok_ = false;
    p_ += 8;
    return true;
  }
  Step* Steps(size_t count) { return static_cast<Step*>(arena_->Alloc((count + 1) * sizeof(Step))); }

 private:
  void Take(void* out, size_t n) {
    if (!ok_ || static_cast<size_t>(end_ - p_) < n) {
      ok_ = false;
      return;
    }
    memcpy(out, p_, n);
    p_ += n;
  }
  char** Empty() {
    ok_ = false;
    static char* empty[1] = {nullptr};
    return empty;
  }
  const char* p_;
  const char* end_;
  Arena* arena_;
  bool ok_ = true;
};

// The launch plan at the reader's position; false when it is not well-formed or of another version.
inline bool DecodeLaunchPlan(PlanReader& r, LaunchPlan* p) {
  if (!r.Magic() || r.U32() != kPlanVersion) return false;
  p->clone_flags = r.U64();
  p->rootfs = r.Str();
  p->terminal = r.U32();
  p->parent_death_signal = r.U32();
  p->join_paths = r.Strs();
  uint32_t count = r.U32();
  if (!r.ok() || count > 100000) return false;
  p->steps = r.Steps(count);
  if (p->steps == nullptr) return false;
  p->count = count;
  for (uint32_t i = 0; i < count && r.ok(); i++) {
    Step& s = p->steps[i];
    uint32_t op = r.U32();
    if (op >= kStepOpCount) return false;
    s.op = static_cast<StepOp>(op);
    s.s0 = r.Str();
    s.s1 = r.Str();
    s.s2 = r.Str();
    s.s3 = r.Str();
    s.n0 = r.U64();
    s.n1 = r.U64();
    s.n2 = r.U64();
    s.n3 = r.U64();
    s.n4 = r.U64();
    s.argv = r.Strs();
    s.envp = r.Strs();
    s.groups = r.Gids(&s.ngroups);
  }
  return r.ok();
}

// A whole launch plan (the addon's input).
inline bool DecodeLaunchPlan(const char* buf, size_t len, Arena* arena, LaunchPlan* p) {
  PlanReader r(buf, len, arena);
  return DecodeLaunchPlan(r, p) && r.AtEnd();
}

// hull-monitor's input: the launch plan, then the monitor's own settings.
inline bool DecodeMonitorInput(const char* buf, size_t len, Arena* arena, MonitorConfig* c) {
  PlanReader r(buf, len, arena);
  if (!DecodeLaunchPlan(r, &c->launch)) return false;
  c->cgroup = r.Str();
  c->log_path = r.Str();
  c->status_path = r.Str();
  c->memory_events = r.Str();
  c->remove_cgroup = r.U32();
  c->restart_policy = r.U32();
  c->max_restarts = r.U32();
  c->stop_marker = r.Str();
  c->log_max_size = r.U64();
  c->log_max_files = r.U32();
  c->exit_command = r.Strs();
  c->control_path = r.Str();
  c->open_stdin = r.U32();
  c->attach_first = r.U32();
  c->events_path = r.Str();
  c->event_lines_path = r.Str();
  return r.ok() && r.AtEnd();
}

}  // namespace hull
