// clone3 of a container's first process, release after the parent's set-up, exit watching.
#pragma once

#include <napi.h>

namespace hull {

Napi::Value Spawn(const Napi::CallbackInfo& info);
Napi::Value Release(const Napi::CallbackInfo& info);
Napi::Value WatchExit(const Napi::CallbackInfo& info);
Napi::Value PidfdSignal(const Napi::CallbackInfo& info);
Napi::Value PidfdOpen(const Napi::CallbackInfo& info);
Napi::Value PidfdWait(const Napi::CallbackInfo& info);

}  // namespace hull
