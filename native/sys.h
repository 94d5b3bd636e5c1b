// 1:1 wrappers of system calls Node lacks. Each throws SysError (op, path, errno name) on failure.
#pragma once

#include <napi.h>

namespace hull {

Napi::Value Mknod(const Napi::CallbackInfo& info);
Napi::Value Lsetxattr(const Napi::CallbackInfo& info);
Napi::Value Lgetxattr(const Napi::CallbackInfo& info);
Napi::Value Llistxattr(const Napi::CallbackInfo& info);
Napi::Value Mount(const Napi::CallbackInfo& info);
Napi::Value Umount2(const Napi::CallbackInfo& info);
Napi::Value BridgePortUp(const Napi::CallbackInfo& info);
Napi::Value SetWindowSize(const Napi::CallbackInfo& info);
Napi::Value Flock(const Napi::CallbackInfo& info);
Napi::Value Pipe(const Napi::CallbackInfo& info);
Napi::Value ListenUnix(const Napi::CallbackInfo& info);
Napi::Value SendFdTo(const Napi::CallbackInfo& info);
Napi::Value OpenInRoot(const Napi::CallbackInfo& info);
Napi::Value ReadlinkFd(const Napi::CallbackInfo& info);
Napi::Value AttachDeviceFilter(const Napi::CallbackInfo& info);  // bpf.cc
Napi::Value OpenUserns(const Napi::CallbackInfo& info);          // userns.cc
Napi::Value IdmapMount(const Napi::CallbackInfo& info);          // userns.cc
Napi::Value Relay(const Napi::CallbackInfo& info);               // relay.cc

}  // namespace hull
