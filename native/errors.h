// Native errors for JavaScript: an Error whose message is "op path: ENAME" and which carries
// .syscall, .path and .code (the errno name), turned into hull's SystemError by src/native/index.ts.
#pragma once

#include <napi.h>

#include <string>

namespace hull {

// "ENOENT" for 2; "E?" + number for values glibc has no name for.
std::string ErrnoName(int err);

Napi::Error SysError(Napi::Env env, const char* syscall, const std::string& path, int err);

}  // namespace hull
