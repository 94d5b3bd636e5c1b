// hull's native addon: the export table only. See src/native/types.ts for the typed interface.
#include <napi.h>

#include "spawn.h"
#include "sys.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("spawn", Napi::Function::New(env, hull::Spawn, "spawn"));
  exports.Set("advance", Napi::Function::New(env, hull::Advance, "advance"));
  exports.Set("watchExit", Napi::Function::New(env, hull::WatchExit, "watchExit"));
  exports.Set("stopExitWatches", Napi::Function::New(env, hull::StopExitWatches, "stopExitWatches"));
  exports.Set("pidfdSignal", Napi::Function::New(env, hull::PidfdSignal, "pidfdSignal"));
  exports.Set("pidfdOpen", Napi::Function::New(env, hull::PidfdOpen, "pidfdOpen"));
  exports.Set("pidfdWait", Napi::Function::New(env, hull::PidfdWait, "pidfdWait"));
  exports.Set("mknod", Napi::Function::New(env, hull::Mknod, "mknod"));
  exports.Set("lsetxattr", Napi::Function::New(env, hull::Lsetxattr, "lsetxattr"));
  exports.Set("lgetxattr", Napi::Function::New(env, hull::Lgetxattr, "lgetxattr"));
  exports.Set("llistxattr", Napi::Function::New(env, hull::Llistxattr, "llistxattr"));
  exports.Set("mount", Napi::Function::New(env, hull::Mount, "mount"));
  exports.Set("umount2", Napi::Function::New(env, hull::Umount2, "umount2"));
  exports.Set("bridgePortUp", Napi::Function::New(env, hull::BridgePortUp, "bridgePortUp"));
  exports.Set("setWindowSize", Napi::Function::New(env, hull::SetWindowSize, "setWindowSize"));
  exports.Set("flock", Napi::Function::New(env, hull::Flock, "flock"));
  exports.Set("openInRoot", Napi::Function::New(env, hull::OpenInRoot, "openInRoot"));
  exports.Set("readlinkFd", Napi::Function::New(env, hull::ReadlinkFd, "readlinkFd"));
  exports.Set("pipe", Napi::Function::New(env, hull::Pipe, "pipe"));
  exports.Set("sendFdTo", Napi::Function::New(env, hull::SendFdTo, "sendFdTo"));
  exports.Set("listenUnix", Napi::Function::New(env, hull::ListenUnix, "listenUnix"));
  exports.Set("openUserns", Napi::Function::New(env, hull::OpenUserns, "openUserns"));
  exports.Set("idmapMount", Napi::Function::New(env, hull::IdmapMount, "idmapMount"));
  exports.Set("attachDeviceFilter", Napi::Function::New(env, hull::AttachDeviceFilter, "attachDeviceFilter"));
  exports.Set("relay", Napi::Function::New(env, hull::Relay, "relay"));
  return exports;
}

}  // namespace

NODE_API_MODULE(hull, Init)
