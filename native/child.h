// The container's first process, between clone3 and execve.
#pragma once

#include "plan.h"

namespace hull {

// Runs in the child of clone3: waits for "go", executes the plan, execve's. Never returns.
// Only async-signal-safe calls: no malloc, no stdio, no C++ exceptions, no Napi.
[[noreturn]] void RunChild(const Plan& plan);

}  // namespace hull
