// The addon's launching (native/launch.h) and exit watching: spawn, advance through the protocol, watch.
#pragma once

#include <napi.h>

namespace hull {

Napi::Value Spawn(const Napi::CallbackInfo& info);
Napi::Value Advance(const Napi::CallbackInfo& info);
Napi::Value WatchExit(const Napi::CallbackInfo& info);
// Closes the process's exit watches not yet fired, without calling them (at its 'exit' event).
Napi::Value StopExitWatches(const Napi::CallbackInfo& info);
Napi::Value PidfdSignal(const Napi::CallbackInfo& info);
Napi::Value PidfdOpen(const Napi::CallbackInfo& info);
Napi::Value PidfdWait(const Napi::CallbackInfo& info);

}  // namespace hull
