#include "errors.h"

#include <string.h>

namespace hull {

std::string ErrnoName(int err) {
  const char* name = strerrorname_np(err);
  if (name != nullptr) return name;
  return "E?" + std::to_string(err);
}

Napi::Error SysError(Napi::Env env, const char* syscall, const std::string& path, int err) {
  std::string name = ErrnoName(err);
  std::string message = std::string(syscall) + (path.empty() ? "" : " " + path) + ": " + name;
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("syscall", Napi::String::New(env, syscall));
  if (!path.empty()) e.Set("path", Napi::String::New(env, path));
  e.Set("code", Napi::String::New(env, name));
  e.Set("errno", Napi::Number::New(env, err));
  return e;
}

}  // namespace hull
