// The plan in a flat binary form, for the monitor (native/monitor.cc), which is a plain executable
// and has no JavaScript to hand it objects. src/runtime/plan-codec.ts writes this format; it says
// the same as the objects src/runtime/plan.ts hands the addon, field for field (spawn.cc ParseStep).
//
//   header  "HULLPLN1"  u32 version (2)
//   u64     clone flags (CLONE_NEW* bits, decided in TypeScript)
//   str     rootfs        str cgroup dir ("" = none)   str log file     str status file
//   str     memory.events ("" = none)
//   u32     terminal      u32 parent death signal (for the container)   u32 remove cgroup on exit
//   u32     restart policy (0 no, 1 on-failure, 2 always, 3 unless-stopped)  u32 max restarts (0 = no limit)
//   str     stop marker file (restarts end when it exists)
//   u64     log max size in bytes (0 = unlimited)   u32 log max files (>= 1; rotated as LOG.1 … LOG.N-1)
//   strs    exit command (run in place of the monitor after the container's end; empty = none)
//   u32     step count, then per step:
//           u32 op, str s0, s1, s2, s3, u64 n0, n1, n2, n3, n4, strs argv, strs envp, u32s groups
//
//   str = u32 length + bytes (no NUL)   strs = u32 count + str…   u32s = u32 count + u32…
// Numbers are in the host's byte order (writer and reader are on the same machine).
//
// Decoding allocates (malloc): it runs in the monitor before any fork, single-threaded.
#pragma once

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"

namespace hull {

constexpr uint32_t kPlanVersion = 2;

struct MonitorConfig {
  uint64_t clone_flags;
  const char* rootfs;
  const char* cgroup;
  const char* log_path;
  const char* status_path;
  const char* memory_events;
  uint32_t terminal;
  uint32_t parent_death_signal;
  uint32_t remove_cgroup;
  uint32_t restart_policy;
  uint32_t max_restarts;
  const char* stop_marker;
  uint64_t log_max_size;
  uint32_t log_max_files;
  char** exit_command;  // NULL-terminated; exit_command[0] == nullptr when none
  Step* steps;
  size_t count;
};

class PlanReader {
 public:
  PlanReader(const char* buf, size_t len) : p_(buf), end_(buf + len) {}
  bool ok() const { return ok_; }

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
    if (!ok_ || static_cast<size_t>(end_ - p_) < n) return Bad();
    char* s = static_cast<char*>(malloc(n + 1));
    if (s == nullptr) return Bad();
    memcpy(s, p_, n);
    s[n] = '\0';
    p_ += n;
    return s;
  }
  char** Strs() {
    uint32_t n = U32();
    if (!ok_ || n > (1u << 20)) return BadArray();
    auto** out = static_cast<char**>(calloc(n + 1, sizeof(char*)));
    if (out == nullptr) return BadArray();
    for (uint32_t i = 0; i < n && ok_; i++) out[i] = const_cast<char*>(Str());
    return out;
  }
  gid_t* Gids(size_t* count) {
    uint32_t n = U32();
    *count = 0;
    if (!ok_ || n > 65536) {
      ok_ = false;
      return nullptr;
    }
    auto* out = static_cast<gid_t*>(calloc(n + 1, sizeof(gid_t)));
    if (out == nullptr) {
      ok_ = false;
      return nullptr;
    }
    for (uint32_t i = 0; i < n; i++) out[i] = U32();
    *count = n;
    return out;
  }
  bool Magic() {
    if (end_ - p_ < 8 || memcmp(p_, "HULLPLN1", 8) != 0) return ok_ = false;
    p_ += 8;
    return true;
  }
  bool AtEnd() const { return p_ == end_; }

 private:
  void Take(void* out, size_t n) {
    if (!ok_ || static_cast<size_t>(end_ - p_) < n) {
      ok_ = false;
      return;
    }
    memcpy(out, p_, n);
    p_ += n;
  }
  const char* Bad() {
    ok_ = false;
    return "";
  }
  char** BadArray() {
    ok_ = false;
    static char* empty[1] = {nullptr};
    return empty;
  }
  const char* p_;
  const char* end_;
  bool ok_ = true;
};

// Returns false when the buffer is not a well-formed plan of this version.
inline bool DecodePlan(const char* buf, size_t len, MonitorConfig* c) {
  PlanReader r(buf, len);
  if (!r.Magic() || r.U32() != kPlanVersion) return false;
  c->clone_flags = r.U64();
  c->rootfs = r.Str();
  c->cgroup = r.Str();
  c->log_path = r.Str();
  c->status_path = r.Str();
  c->memory_events = r.Str();
  c->terminal = r.U32();
  c->parent_death_signal = r.U32();
  c->remove_cgroup = r.U32();
  c->restart_policy = r.U32();
  c->max_restarts = r.U32();
  c->stop_marker = r.Str();
  c->log_max_size = r.U64();
  c->log_max_files = r.U32();
  c->exit_command = r.Strs();
  uint32_t count = r.U32();
  if (!r.ok() || count > 100000) return false;
  c->steps = static_cast<Step*>(calloc(count + 1, sizeof(Step)));
  if (c->steps == nullptr) return false;
  c->count = count;
  for (uint32_t i = 0; i < count && r.ok(); i++) {
    Step& s = c->steps[i];
    uint32_t op = r.U32();
    if (op > static_cast<uint32_t>(StepOp::NullStdio)) return false;
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
  return r.ok() && r.AtEnd();
}

}  // namespace hull
