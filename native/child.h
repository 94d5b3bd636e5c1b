// The container's first process (or a process joining a container), between clone3 and execve.
#pragma once

#include <stdint.h>

#include "plan.h"

namespace hull {

// Runs in the child of clone3: waits for "go", executes the plan (with its hooks point and start
// gate, native/launch.h draws the protocol), execve's. Never returns. Only async-signal-safe calls:
// no malloc, no stdio, no C++ exceptions, no Napi.
[[noreturn]] void RunChild(const Plan& plan);

}  // namespace hull
