// hull-runc's native front (build/Release/hull-runc): containerd's runc shim starts one runtime
// process per verb, and Node's start-up alone (~100 ms on the CI machine) is most of what each of
// hull-runc's verbs costs; runc takes ~8 ms. Only `create` and `exec` need hull's TypeScript
// policy (the bundle's config read and checked, the plan built). So this small static executable
// serves `state`, `start`, `kill` and `delete` itself, exactly as src/runc/main.ts and
// src/oci/runtime.ts do (the same output, log lines, error texts and exit status), and hands every
// other call to Node: it execs Node on bin/hull-runc.cjs with its argv unchanged.
//
//   argv ──► global flags (--root, --log, --log-format, --criu, --systemd-cgroup) and a verb,
//            as commander takes them; anything else (another verb, --debug, --help, --version,
//            an option it does not know, a malformed line) ──────────────────────────► Node
//              │
//              ▼
//            <root>/<id>/state.json read strictly (json-reader.h): a member this file does not
//            know (a field a newer hull added), a value it cannot carry, an older hull's state
//            (without cgroup.path and hooks) ────────────────────────────────────────────► Node
//              │
//              ├── start with startContainer/poststart hooks, delete with poststop hooks ─► Node
//              ▼                                                                  (runs them)
//            state · start · kill · delete: statusOf, the start fifo, pidfds, the cgroup
//
// Every hand-over is decided before anything is changed. HULL_RUNC_TRACE=1 says on stderr why a
// call went to Node (the tests use it). Node is $HULL_NODE, else the node that built this file
// (HULL_NODE_PATH), else `node` on PATH.
//
// Like hull-monitor it is linked statically and uses no libstdc++: plain buffers, no exceptions.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "json-reader.h"
#include "write-all.h"

namespace hull {
namespace {

// src/runtime/spec.ts OCI_VERSION; the tests compare `state` with the Node path's byte for byte.
constexpr const char* kOciVersion = "1.2.0";
constexpr const char* kDefaultRoot = "/run/hull-runc";  // src/oci/runtime.ts DEFAULT_OCI_ROOT
constexpr int kKillWaitMs = 10000;                      // OciRuntime.killProcess
constexpr int kRmdirAttempts = 200;                     // ContainerCgroup.remove

// ---- a growable byte buffer (always NUL-terminated) ------------------------------------------

struct Buf {
  char* data = nullptr;
  size_t size = 0;
  size_t cap = 0;

  Buf() = default;
  Buf(const Buf&) = delete;
  Buf& operator=(const Buf&) = delete;
  ~Buf() { free(data); }

  void Reserve(size_t n) {
    if (size + n + 1 <= cap) return;
    size_t want = cap == 0 ? 256 : cap;
    while (want < size + n + 1) want *= 2;
    char* p = static_cast<char*>(realloc(data, want));
    if (p == nullptr) {
      static const char kMessage[] = "hull-runc: out of memory\n";
      (void)!write(2, kMessage, sizeof kMessage - 1);
      _exit(1);
    }
    data = p;
    cap = want;
  }
  void Add(const char* s, size_t n) {
    Reserve(n);
    memcpy(data + size, s, n);
    size += n;
    data[size] = '\0';
  }
  void Add(const char* s) { Add(s, strlen(s)); }
  void Add(char c) { Add(&c, 1); }
  void Printf(const char* format, ...) __attribute__((format(printf, 2, 3))) {
    va_list ap;
    va_start(ap, format);
    VPrintf(format, ap);
    va_end(ap);
  }
  void VPrintf(const char* format, va_list ap) {
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(nullptr, 0, format, ap);
    if (n > 0) {
      Reserve(static_cast<size_t>(n));
      vsnprintf(data + size, static_cast<size_t>(n) + 1, format, again);
      size += static_cast<size_t>(n);
    }
    va_end(again);
  }
  void Truncate(size_t n) {
    size = n;
    if (data != nullptr) data[n] = '\0';
  }
  const char* c_str() const { return data == nullptr ? "" : data; }
};

const char* ErrnoName(int err) {
  const char* name = strerrorname_np(err);
  if (name != nullptr) return name;
  static char unknown[24];
  snprintf(unknown, sizeof unknown, "E?%d", err);
  return unknown;
}

// The whole file; false with errno set when it cannot be opened or read.
bool ReadFile(const char* path, Buf* out) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  for (;;) {
    out->Reserve(4096);
    ssize_t n = read(fd, out->data + out->size, out->cap - out->size - 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      close(fd);
      errno = e;
      return false;
    }
    if (n == 0) break;
    out->size += static_cast<size_t>(n);
    out->data[out->size] = '\0';
  }
  close(fd);
  return true;
}

// JSON.stringify of a UTF-8 string: ", \ and the control characters escaped, the rest as it is.
void AddJsonString(Buf* out, const char* s, size_t n) {
  out->Add('"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out->Add("\\\"");
        break;
      case '\\':
        out->Add("\\\\");
        break;
      case '\b':
        out->Add("\\b");
        break;
      case '\f':
        out->Add("\\f");
        break;
      case '\n':
        out->Add("\\n");
        break;
      case '\r':
        out->Add("\\r");
        break;
      case '\t':
        out->Add("\\t");
        break;
      default:
        if (c < 0x20) {
          out->Printf("\\u%04x", c);
        } else {
          out->Add(static_cast<char>(c));
        }
    }
  }
  out->Add('"');
}

bool IsUtf8(const char* s) {
  size_t n = strlen(s);
  for (size_t i = 0; i < n;) {
    size_t len = json::Utf8Length(s + i, n - i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

// ---- the command line (src/runc/main.ts: commander's program with positional options) -------

enum class Verb { kState, kStart, kKill, kDelete };

struct Cli {
  const char* root = kDefaultRoot;
  const char* log = nullptr;  // nullptr or "": the log lines go to stderr
  bool json_log = false;
  Verb verb = Verb::kState;
  const char* id = nullptr;
  const char* signal = "SIGTERM";
  bool all = false;
  bool force = false;
};

// Parses what the front serves; anything else is the reason the call goes to Node.
const char* ParseCli(int argc, char** argv, Cli* cli) {
  int i = 1;
  for (; i < argc; i++) {
    const char* a = argv[i];
    if (a[0] != '-' || a[1] == '\0') break;
    const char* eq = strchr(a, '=');
    size_t name_size = eq != nullptr ? static_cast<size_t>(eq - a) : strlen(a);
    auto is = [&](const char* name) { return strlen(name) == name_size && memcmp(a, name, name_size) == 0; };
    if (is("--root") || is("--log") || is("--log-format") || is("--criu")) {
      const char* value;
      if (eq != nullptr) {
        value = eq + 1;
      } else if (i + 1 < argc) {
        value = argv[++i];  // commander takes the next word as the value, whatever it looks like
      } else {
        return "a global option without its value";
      }
      if (is("--root")) {
        cli->root = value;
      } else if (is("--log")) {
        cli->log = value;
      } else if (is("--log-format")) {
        if (strcmp(value, "json") == 0) {
          cli->json_log = true;
        } else if (strcmp(value, "text") == 0) {
          cli->json_log = false;
        } else {
          return "--log-format is neither text nor json";
        }
      }  // --criu: accepted and ignored, as main.ts does
    } else if (eq == nullptr && is("--systemd-cgroup")) {
      // Only create maps linux.cgroupsPath; the other verbs use the cgroup recorded in state.json.
    } else {
      return "a global option the front does not serve (--debug, --help, --version, …)";
    }
  }
  if (i >= argc) return "no verb";
  const char* verb = argv[i++];
  int min = 1;
  int max = 1;
  if (strcmp(verb, "state") == 0) {
    cli->verb = Verb::kState;
  } else if (strcmp(verb, "start") == 0) {
    cli->verb = Verb::kStart;
  } else if (strcmp(verb, "kill") == 0) {
    cli->verb = Verb::kKill;
    max = 2;
  } else if (strcmp(verb, "delete") == 0) {
    cli->verb = Verb::kDelete;
  } else {
    return "a verb Node serves";
  }
  const char* operands[2] = {nullptr, nullptr};
  int n = 0;
  bool options_done = false;
  for (; i < argc; i++) {
    const char* a = argv[i];
    if (!options_done && a[0] == '-' && a[1] != '\0') {
      if (strcmp(a, "--") == 0) {
        options_done = true;
      } else if (cli->verb == Verb::kKill && (strcmp(a, "-a") == 0 || strcmp(a, "--all") == 0)) {
        cli->all = true;
      } else if (cli->verb == Verb::kDelete && (strcmp(a, "-f") == 0 || strcmp(a, "--force") == 0)) {
        cli->force = true;
      } else {
        return "an option of the verb that the front does not serve";
      }
      continue;
    }
    if (n == max) return "too many arguments";
    operands[n++] = a;
  }
  if (n < min) return "a missing argument";
  cli->id = operands[0];
  if (operands[1] != nullptr) cli->signal = operands[1];
  return nullptr;
}

// path.resolve: absolute (against the working directory), `.`, `..` and repeated slashes gone.
bool Resolve(const char* p, Buf* out) {
  Buf raw;
  if (p[0] != '/') {
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd) == nullptr) return false;
    raw.Add(cwd);
    raw.Add('/');
  }
  raw.Add(p);
  out->Truncate(0);
  const char* s = raw.c_str();
  while (*s != '\0') {
    while (*s == '/') s++;
    const char* end = strchrnul(s, '/');
    size_t n = static_cast<size_t>(end - s);
    if (n == 2 && s[0] == '.' && s[1] == '.') {
      const char* slash = static_cast<const char*>(memrchr(out->c_str(), '/', out->size));
      out->Truncate(slash == nullptr ? 0 : static_cast<size_t>(slash - out->c_str()));
    } else if (n > 0 && !(n == 1 && s[0] == '.')) {
      out->Add('/');
      out->Add(s, n);
    }
    s = end;
  }
  if (out->size == 0) out->Add('/');
  return true;
}

// ---- the log (src/runc/log.ts) ---------------------------------------------------------------

// One line in runc's format (text: logrus's; json), to --log, else to stderr; with --log, an error's
// message alone on stderr too. The time: RFC 3339 in seconds, UTC.
void Log(const Cli& cli, const char* level, const char* msg) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char now[40];
  snprintf(now, sizeof now, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
           tm.tm_min, tm.tm_sec);
  Buf line;
  if (cli.json_log) {
    line.Printf("{\"level\":\"%s\",\"msg\":", level);
    AddJsonString(&line, msg, strlen(msg));
    line.Printf(",\"time\":\"%s\"}\n", now);
  } else {
    line.Printf("time=\"%s\" level=%s msg=", now, level);
    AddJsonString(&line, msg, strlen(msg));
    line.Add('\n');
  }
  if (cli.log == nullptr || cli.log[0] == '\0') {
    WriteAll(2, line.data, line.size);
    return;
  }
  int fd = open(cli.log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  bool written = fd >= 0 && WriteAll(fd, line.data, line.size);
  if (fd >= 0) close(fd);
  if (!written) WriteAll(2, line.data, line.size);  // an unwritable log: the message still reaches someone
  if (strcmp(level, "error") == 0) {
    WriteAll(2, msg, strlen(msg));
    WriteAll(2, "\n", 1);
  }
}

// ---- the hand-over to Node -------------------------------------------------------------------

[[noreturn]] void CannotHandOver(const char* what, const char* path, int err) {
  fprintf(stderr, "hull-runc: cannot hand the call to Node: %s %s: %s\n", what, path, ErrnoName(err));
  exit(1);
}

// exec Node on bin/hull-runc.cjs (../../bin from build/Release) with this call's argv.
[[noreturn]] void HandOver(int argc, char** argv, const char* why) {
  const char* trace = getenv("HULL_RUNC_TRACE");
  if (trace != nullptr && trace[0] != '\0') fprintf(stderr, "hull-runc: to node: %s\n", why);
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n < 0) CannotHandOver("readlink", "/proc/self/exe", errno);
  exe[n] = '\0';
  for (int up = 0; up < 3; up++) {
    char* slash = strrchr(exe, '/');
    if (slash == nullptr) CannotHandOver("find", "bin/hull-runc.cjs", ENOENT);
    *slash = '\0';
  }
  Buf entry;
  entry.Printf("%s/bin/hull-runc.cjs", exe);
  if (access(entry.c_str(), R_OK) < 0) CannotHandOver("access", entry.c_str(), errno);
  char** args = static_cast<char**>(calloc(static_cast<size_t>(argc) + 2, sizeof(char*)));
  if (args == nullptr) CannotHandOver("calloc", "argv", ENOMEM);
  args[1] = entry.data;
  for (int i = 1; i < argc; i++) args[i + 1] = argv[i];
  // hull-runc makes no TLS connection, but NODE_EXTRA_CA_CERTS makes Node read and parse the
  // whole CA bundle it names before any script runs (about 65 ms of a 100 ms start on this
  // project's CI machine, whose environment sets it): it is dropped for the Node part only.
  if (unsetenv("NODE_EXTRA_CA_CERTS") < 0) CannotHandOver("unsetenv", "NODE_EXTRA_CA_CERTS", errno);
  const char* tried;
  int err;
  const char* given = getenv("HULL_NODE");
  if (given != nullptr && given[0] != '\0') {
    args[0] = const_cast<char*>(given);
    if (strchr(given, '/') != nullptr) {
      execv(given, args);
    } else {
      execvp(given, args);
    }
    tried = given;
    err = errno;
  } else {
    tried = "node (the one that built hull, then node on PATH)";
    err = ENOENT;
    bool on_path = true;
#ifdef HULL_NODE_PATH
    args[0] = const_cast<char*>(HULL_NODE_PATH);
    execv(HULL_NODE_PATH, args);
    err = errno;
    // Gone or not executable: node on PATH then; anything else is that node's failure.
    if (err != ENOENT && err != EACCES && err != ENOTDIR) {
      tried = HULL_NODE_PATH;
      on_path = false;
    }
#endif
    if (on_path) {
      args[0] = const_cast<char*>("node");
      execvp("node", args);
      if (errno != ENOENT) err = errno;
    }
  }
  free(args);
  CannotHandOver("exec", tried, err);
}

// ---- what a verb comes to --------------------------------------------------------------------

enum class Outcome { kOk, kFailed, kToNode };

struct Front {
  Cli cli;
  Buf root;     // --root, resolved
  Buf message;  // kFailed: the error's text
  Buf why;      // kToNode: the reason
  bool missing = false;

  Outcome Failed(const char* format, ...) __attribute__((format(printf, 2, 3))) {
    va_list ap;
    va_start(ap, format);
    message.Truncate(0);
    message.VPrintf(format, ap);
    va_end(ap);
    return Outcome::kFailed;
  }
  // A system call that failed: "op path: ENAME", as hull's SystemError says it.
  Outcome SysFailed(const char* op, const char* path, int err) {
    return path == nullptr ? Failed("%s: %s", op, ErrnoName(err)) : Failed("%s %s: %s", op, path, ErrnoName(err));
  }
  Outcome ToNode(const char* format, ...) __attribute__((format(printf, 2, 3))) {
    va_list ap;
    va_start(ap, format);
    why.Truncate(0);
    why.VPrintf(format, ap);
    va_end(ap);
    return Outcome::kToNode;
  }
};

// ---- signals (src/runtime/signals.ts parseSignal over Node's os.constants.signals) -----------

struct SignalName {
  const char* name;
  int number;
};

constexpr SignalName kSignals[] = {
    {"SIGHUP", SIGHUP},     {"SIGINT", SIGINT},       {"SIGQUIT", SIGQUIT},     {"SIGILL", SIGILL},
    {"SIGTRAP", SIGTRAP},   {"SIGABRT", SIGABRT},     {"SIGIOT", SIGIOT},       {"SIGBUS", SIGBUS},
    {"SIGFPE", SIGFPE},     {"SIGKILL", SIGKILL},     {"SIGUSR1", SIGUSR1},     {"SIGSEGV", SIGSEGV},
    {"SIGUSR2", SIGUSR2},   {"SIGPIPE", SIGPIPE},     {"SIGALRM", SIGALRM},     {"SIGTERM", SIGTERM},
    {"SIGCHLD", SIGCHLD},   {"SIGSTKFLT", SIGSTKFLT}, {"SIGCONT", SIGCONT},     {"SIGSTOP", SIGSTOP},
    {"SIGTSTP", SIGTSTP},   {"SIGTTIN", SIGTTIN},     {"SIGTTOU", SIGTTOU},     {"SIGURG", SIGURG},
    {"SIGXCPU", SIGXCPU},   {"SIGXFSZ", SIGXFSZ},     {"SIGVTALRM", SIGVTALRM}, {"SIGPROF", SIGPROF},
    {"SIGWINCH", SIGWINCH}, {"SIGIO", SIGIO},         {"SIGPOLL", SIGPOLL},     {"SIGPWR", SIGPWR},
    {"SIGSYS", SIGSYS},
};

bool AllDigits(const char* s, size_t n) {
  if (n == 0) return false;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

// The number, 0 for a name parseSignal refuses ('unknown signal'), -1 for what only Node can say
// (text that is not ASCII, whose trimming and upper-casing are JavaScript's; SIGRTMIN+N past 64).
int ParseSignal(const char* text) {
  for (const char* p = text; *p != '\0'; p++) {
    if (static_cast<unsigned char>(*p) >= 0x80) return -1;
  }
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; };
  const char* s = text;
  const char* end = text + strlen(text);
  while (s < end && space(*s)) s++;
  while (end > s && space(end[-1])) end--;
  size_t n = static_cast<size_t>(end - s);
  if (AllDigits(s, n)) {
    size_t i = 0;
    while (i + 1 < n && s[i] == '0') i++;  // Number("0009") is 9
    if (n - i > 2) return 0;
    int v = atoi(s + i);
    return v >= 1 && v <= 64 ? v : 0;
  }
  char name[64];
  size_t at = 0;
  bool has_sig = n >= 3 && (s[0] | 0x20) == 's' && (s[1] | 0x20) == 'i' && (s[2] | 0x20) == 'g';
  if (!has_sig) at = static_cast<size_t>(snprintf(name, sizeof name, "SIG"));
  if (at + n >= sizeof name) return 0;
  for (size_t i = 0; i < n; i++) name[at++] = (s[i] >= 'a' && s[i] <= 'z') ? static_cast<char>(s[i] - 32) : s[i];
  name[at] = '\0';
  if (strncmp(name, "SIGRTMIN", 8) == 0) {
    const char* rest = name + 8;
    if (*rest == '\0') return 34;
    if (*rest == '+' && AllDigits(rest + 1, strlen(rest + 1))) {
      const char* d = rest + 1;
      while (d[0] == '0' && d[1] != '\0') d++;
      if (strlen(d) > 2 || 34 + atoi(d) > 64) return -1;
      return 34 + atoi(d);
    }
  }
  for (const SignalName& sig : kSignals) {
    if (strcmp(sig.name, name) == 0) return sig.number;
  }
  return 0;
}

// ---- the saved state (OciRuntime's SavedState, src/oci/runtime.ts) ---------------------------

enum HookBits : unsigned {
  kPrestart = 1,
  kCreateRuntime = 2,
  kCreateContainer = 4,
  kStartContainer = 8,
  kPoststart = 16,
  kPoststop = 32,
};

struct Saved {
  Buf text;  // state.json's bytes: the values point into them
  json::Document doc;
  const json::Value* id = nullptr;
  const json::Value* bundle = nullptr;
  const json::Value* rootfs = nullptr;
  const json::Value* created = nullptr;
  const json::Value* annotations = nullptr;
  int pid = 0;
  bool has_start_time = false;
  uint64_t start_time = 0;
  const char* cgroup = nullptr;  // its absolute directory
  unsigned hooks = 0;
};

bool UniqueNames(const json::Value& object) {
  for (const json::Value* a = object.first; a != nullptr; a = a->next) {
    for (const json::Value* b = a->next; b != nullptr; b = b->next) {
      if (a->name_size == b->name_size && memcmp(a->name, b->name, a->name_size) == 0) return false;
    }
  }
  return true;
}

// A JavaScript array index ("0", "42"): such names come first in an object, whatever their order.
bool IsArrayIndex(const json::Value& m) {
  if (!AllDigits(m.name, m.name_size) || (m.name[0] == '0' && m.name_size > 1) || m.name_size > 10) return false;
  return strtoull(m.name, nullptr, 10) < 4294967295ULL;
}

bool NameIs(const json::Value& m, const char* name) {
  return m.name_size == strlen(name) && memcmp(m.name, name, m.name_size) == 0;
}

// Why state.json is not one the front can serve (a shape it does not know exactly), or nullptr.
const char* CheckSaved(const json::Value& root, Saved* s) {
  using json::Kind;
  if (root.kind != Kind::kObject) return "not an object";
  if (!UniqueNames(root)) return "a member twice";
  static const char* const kKnown[] = {"id",      "bundle", "rootfs",      "pid",  "pidStartTime",
                                       "created", "cgroup", "annotations", "hooks"};
  for (const json::Value* m = root.first; m != nullptr; m = m->next) {
    bool known = false;
    for (const char* k : kKnown) known = known || NameIs(*m, k);
    if (!known) return "a member the front does not know";
  }
  auto text = [&](const char* name) -> const json::Value* {
    const json::Value* v = json::Member(root, name);
    return v != nullptr && v->kind == Kind::kString ? v : nullptr;
  };
  s->id = text("id");
  s->bundle = text("bundle");
  s->rootfs = text("rootfs");
  s->created = text("created");
  if (s->id == nullptr || s->bundle == nullptr || s->rootfs == nullptr || s->created == nullptr) {
    return "id, bundle, rootfs or created missing or not a string";
  }
  int64_t number;
  const json::Value* pid = json::Member(root, "pid");
  if (pid == nullptr || !json::Integer(*pid, 1, INT32_MAX, &number)) return "pid missing or not a process id";
  s->pid = static_cast<int>(number);
  if (const json::Value* start = json::Member(root, "pidStartTime")) {
    if (!json::Integer(*start, 0, INT64_C(1) << 53, &number)) return "pidStartTime not an integer";
    s->has_start_time = true;
    s->start_time = static_cast<uint64_t>(number);
  }
  const json::Value* cgroup = json::Member(root, "cgroup");
  if (cgroup == nullptr || cgroup->kind != Kind::kObject || !UniqueNames(*cgroup))
    return "cgroup missing or not an object";
  for (const json::Value* m = cgroup->first; m != nullptr; m = m->next) {
    if (!NameIs(*m, "parent") && !NameIs(*m, "name") && !NameIs(*m, "path"))
      return "a member of cgroup the front does not know";
    if (m->kind != Kind::kString) return "a member of cgroup that is not a string";
  }
  const json::Value* path = json::Member(*cgroup, "path");
  if (json::Member(*cgroup, "parent") == nullptr || json::Member(*cgroup, "name") == nullptr)
    return "cgroup without parent and name";
  if (path == nullptr) return "cgroup without path (made by an older hull)";
  if (path->text[0] != '/' || strlen(path->text) != path->size) return "cgroup.path not an absolute path";
  s->cgroup = path->text;
  if (const json::Value* annotations = json::Member(root, "annotations")) {
    if (annotations->kind != Kind::kObject || !UniqueNames(*annotations)) return "annotations not an object of strings";
    for (const json::Value* m = annotations->first; m != nullptr; m = m->next) {
      if (m->kind != Kind::kString) return "annotations not an object of strings";
      if (IsArrayIndex(*m)) return "an annotation named like an array index (JavaScript orders those first)";
    }
    s->annotations = annotations;
  }
  const json::Value* hooks = json::Member(root, "hooks");
  if (hooks == nullptr) return "no hooks (made by an older hull)";
  if (hooks->kind != Kind::kArray) return "hooks not an array";
  static const char* const kHooks[] = {"prestart",       "createRuntime", "createContainer",
                                       "startContainer", "poststart",     "poststop"};
  for (const json::Value* h = hooks->first; h != nullptr; h = h->next) {
    unsigned bit = 0;
    for (unsigned i = 0; i < sizeof kHooks / sizeof kHooks[0]; i++) {
      if (json::Equals(*h, kHooks[i])) bit = 1u << i;
    }
    if (bit == 0) return "a hook kind the front does not know";
    s->hooks |= bit;
  }
  return nullptr;
}

// runtime.ts ID_RE and dir(): [\w+.-]+, not . or ..
bool ValidId(const char* id) {
  if (id[0] == '\0' || strcmp(id, ".") == 0 || strcmp(id, "..") == 0) return false;
  for (const char* p = id; *p != '\0'; p++) {
    char c = *p;
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '+' ||
              c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// <root>/<id>, then `file` below it when given.
void ContainerPath(const Front& f, const char* file, Buf* out) {
  out->Truncate(0);
  out->Add(f.root.c_str());
  if (out->data[out->size - 1] != '/') out->Add('/');
  out->Add(f.cli.id);
  if (file != nullptr) {
    out->Add('/');
    out->Add(file);
  }
}

// OciRuntime.load, strictly: a state.json the front cannot serve goes to Node (before anything
// is done). `needs_config`: the verb reads the saved config.json (its hooks) in the Node path.
Outcome Load(Front* f, Saved* s, bool needs_config) {
  if (!ValidId(f->cli.id)) return f->Failed("invalid id format: %s", f->cli.id);
  Buf file;
  ContainerPath(*f, "state.json", &file);
  if (!ReadFile(file.c_str(), &s->text)) {
    if (errno == ENOENT) {
      f->missing = true;
      return f->Failed("container does not exist");
    }
    return f->ToNode("%s: %s", file.c_str(), ErrnoName(errno));
  }
  char error[160];
  if (memchr(s->text.data, '\0', s->text.size) != nullptr) return f->ToNode("%s: a NUL byte", file.c_str());
  if (!json::Parse(s->text.data, s->text.size, &s->doc, error, sizeof error)) {
    return f->ToNode("%s: not JSON the front reads: %s", file.c_str(), error);
  }
  if (const char* why = CheckSaved(*s->doc.root, s)) return f->ToNode("%s: %s", file.c_str(), why);
  if (!json::Equals(*s->id, f->cli.id)) return f->ToNode("%s: its id is not %s", file.c_str(), f->cli.id);
  if (needs_config) {
    Buf config;
    ContainerPath(*f, "config.json", &config);
    struct stat st;
    if (stat(config.c_str(), &st) < 0 || !S_ISREG(st.st_mode)) return f->ToNode("%s: not a file", config.c_str());
  }
  return Outcome::kOk;
}

// ---- the container's process (src/runtime/liveness.ts) ---------------------------------------

// Field 22 of /proc/PID/stat; false when there is no such process or only its zombie.
bool StartTimeOf(int pid, uint64_t* out) {
  char path[32];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  Buf stat;
  if (!ReadFile(path, &stat)) return false;
  // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
  const char* paren = static_cast<const char*>(memrchr(stat.c_str(), ')', stat.size));
  if (paren == nullptr || paren + 2 > stat.c_str() + stat.size) return false;
  const char* field = paren + 2;
  for (int i = 0; i < 19; i++) {
    if (i == 0 && (field[0] == 'Z' || field[0] == 'X') && field[1] == ' ') return false;
    field = strchr(field, ' ');
    if (field == nullptr) return false;
    field++;
  }
  size_t n = strcspn(field, " ");
  if (!AllDigits(field, n) || n > 19) return false;
  *out = strtoull(field, nullptr, 10);
  return true;
}

bool IsSameProcess(const Saved& s) {
  uint64_t now;
  return StartTimeOf(s.pid, &now) && (!s.has_start_time || now == s.start_time);
}

// A pidfd for the recorded process in *fd, or -1 when it is gone (openProcess).
Outcome OpenProcess(Front* f, const Saved& s, int* fd) {
  *fd = -1;
  long r = syscall(SYS_pidfd_open, s.pid, 0);
  if (r < 0) {
    if (errno == ESRCH) return Outcome::kOk;
    char pid[16];
    snprintf(pid, sizeof pid, "%d", s.pid);
    return f->SysFailed("pidfd_open", pid, errno);
  }
  // The start time is checked after the pidfd is open: the fd cannot name a process that merely reuses the pid.
  if (!IsSameProcess(s)) {
    close(static_cast<int>(r));
    return Outcome::kOk;
  }
  *fd = static_cast<int>(r);
  return Outcome::kOk;
}

enum class Status { kCreated, kRunning, kPaused, kStopped };

const char* StatusName(Status st) {
  switch (st) {
    case Status::kCreated:
      return "created";
    case Status::kRunning:
      return "running";
    case Status::kPaused:
      return "paused";
    case Status::kStopped:
      break;
  }
  return "stopped";
}

// OciRuntime.statusOf: the same process? its start fifo still there? its cgroup frozen?
Status StatusOf(const Front& f, const Saved& s) {
  if (!IsSameProcess(s)) return Status::kStopped;
  Buf path;
  ContainerPath(f, "exec.fifo", &path);
  if (access(path.c_str(), F_OK) == 0) return Status::kCreated;
  path.Truncate(0);
  path.Printf("%s/cgroup.freeze", s.cgroup);
  Buf freeze;
  if (!ReadFile(path.c_str(), &freeze)) return Status::kRunning;
  // readFileSync(…).trim() === '1'
  const char* p = freeze.c_str();
  const char* end = p + freeze.size;
  auto space = [](char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; };
  while (p < end && space(*p)) p++;
  while (end > p && space(end[-1])) end--;
  return end - p == 1 && p[0] == '1' ? Status::kPaused : Status::kRunning;
}

// ---- the verbs -------------------------------------------------------------------------------

// `state`: runc's object (main.ts shown()), as JSON.stringify(value, null, 2) prints it.
Outcome State(Front* f) {
  Saved s;
  Outcome o = Load(f, &s, false);
  if (o != Outcome::kOk) return o;
  Status st = StatusOf(*f, s);
  Buf out;
  out.Printf("{\n  \"ociVersion\": \"%s\",\n  \"id\": ", kOciVersion);
  AddJsonString(&out, s.id->text, s.id->size);
  out.Printf(",\n  \"pid\": %d,\n  \"status\": \"%s\",\n  \"bundle\": ", st == Status::kStopped ? 0 : s.pid,
             StatusName(st));
  AddJsonString(&out, s.bundle->text, s.bundle->size);
  out.Add(",\n  \"rootfs\": ");
  AddJsonString(&out, s.rootfs->text, s.rootfs->size);
  out.Add(",\n  \"created\": ");
  AddJsonString(&out, s.created->text, s.created->size);
  out.Add(",\n  \"owner\": \"\"");
  if (s.annotations != nullptr) {
    out.Add(",\n  \"annotations\": {");
    for (const json::Value* m = s.annotations->first; m != nullptr; m = m->next) {
      out.Add(m == s.annotations->first ? "\n    " : ",\n    ");
      AddJsonString(&out, m->name, m->name_size);
      out.Add(": ");
      AddJsonString(&out, m->text, m->size);
    }
    out.Add(s.annotations->first != nullptr ? "\n  }" : "}");
  }
  out.Add("\n}\n");
  if (!WriteAll(1, out.data, out.size)) return f->SysFailed("write", "stdout", errno);
  return Outcome::kOk;
}

// The byte the container writes at its start gate, unread in the (non-blocking) fifo.
bool WroteAtGate(int fd) {
  char b;
  ssize_t n;
  do {
    n = read(fd, &b, 1);
  } while (n < 0 && errno == EINTR);
  return n == 1;
}

// `start` (OciRuntime.start and openGate): the process first (once the fifo is open the container
// may pass, run and end at once), then the fifo opened for reading and writing (it never reports
// end of file while the container opens it), and its byte awaited beside the process's end.
Outcome Start(Front* f) {
  Saved s;
  Outcome o = Load(f, &s, true);
  if (o != Outcome::kOk) return o;
  if ((s.hooks & (kStartContainer | kPoststart)) != 0) return f->ToNode("start: the container has start hooks");
  Status st = StatusOf(*f, s);
  if (st == Status::kStopped) return f->Failed("cannot start a container that has stopped");
  if (st == Status::kRunning) return f->Failed("cannot start an already running container");
  int pidfd;
  o = OpenProcess(f, s, &pidfd);
  if (o != Outcome::kOk) return o;
  if (pidfd < 0) return f->Failed("cannot start a container that has stopped");
  Buf fifo;
  ContainerPath(*f, "exec.fifo", &fifo);
  int fd = open(fifo.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    close(pidfd);
    return f->SysFailed("open", fifo.c_str(), e);
  }
  bool passed = false;
  for (;;) {
    struct pollfd p[2] = {{fd, POLLIN, 0}, {pidfd, POLLIN, 0}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      close(fd);
      close(pidfd);
      return f->SysFailed("poll", fifo.c_str(), e);
    }
    if ((p[0].revents & (POLLERR | POLLNVAL)) != 0) {
      close(fd);
      close(pidfd);
      return f->SysFailed("poll", fifo.c_str(), EIO);
    }
    if ((p[0].revents & POLLIN) != 0 && WroteAtGate(fd)) {
      passed = true;
      break;
    }
    if (p[1].revents != 0) {
      // It ended: having passed its gate first (its byte is there), or before it.
      passed = WroteAtGate(fd);
      break;
    }
  }
  close(fd);
  close(pidfd);
  if (!passed) return f->Failed("cannot start a container that has stopped");
  if (unlink(fifo.c_str()) < 0 && errno != ENOENT) return f->SysFailed("unlink", fifo.c_str(), errno);
  return Outcome::kOk;
}

// The pids in the cgroup and, below it, its children's (src/runtime/stats.ts cgroupPids).
void CgroupPids(Buf* dir, Buf* pids) {
  size_t at = dir->size;
  dir->Add("/cgroup.procs");
  Buf procs;
  if (ReadFile(dir->c_str(), &procs)) {
    for (char* line = procs.data; line != nullptr && *line != '\0';) {
      char* end = strchrnul(line, '\n');
      size_t n = static_cast<size_t>(end - line);
      if (AllDigits(line, n) && n < 10) {
        int pid = atoi(line);
        pids->Add(reinterpret_cast<const char*>(&pid), sizeof pid);
      }
      line = *end == '\0' ? nullptr : end + 1;
    }
  }
  dir->Truncate(at);
  DIR* d = opendir(dir->c_str());
  if (d == nullptr) return;
  while (struct dirent* e = readdir(d)) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    dir->Add('/');
    dir->Add(e->d_name);
    bool is_dir = e->d_type == DT_DIR;
    struct stat st;
    if (e->d_type == DT_UNKNOWN) is_dir = lstat(dir->c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    if (is_dir) CgroupPids(dir, pids);
    dir->Truncate(at);
  }
  closedir(d);
}

// `kill` (OciRuntime.kill): the first process through a pidfd; --all: every process in the cgroup.
Outcome Kill(Front* f) {
  int sig = ParseSignal(f->cli.signal);
  if (sig < 0) return f->ToNode("kill: a signal only Node parses");
  if (sig == 0) return f->Failed("unknown signal \"%s\"", f->cli.signal);
  Saved s;
  Outcome o = Load(f, &s, false);
  if (o != Outcome::kOk) return o;
  if (f->cli.all) {
    Buf dir;
    dir.Add(s.cgroup);
    Buf pids;
    if (access(s.cgroup, F_OK) == 0) CgroupPids(&dir, &pids);
    for (size_t i = 0; i + sizeof(int) <= pids.size; i += sizeof(int)) {
      int pid;
      memcpy(&pid, pids.data + i, sizeof pid);
      kill(pid, sig);  // gone meanwhile: nothing to do
    }
    return Outcome::kOk;
  }
  int pidfd = -1;
  if (StatusOf(*f, s) != Status::kStopped) {
    o = OpenProcess(f, s, &pidfd);
    if (o != Outcome::kOk) return o;
  }
  if (pidfd < 0) return f->Failed("container not running");
  long r = syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0);
  int e = errno;
  close(pidfd);
  if (r < 0 && e != ESRCH) return f->SysFailed("pidfd_send_signal", nullptr, e);
  return Outcome::kOk;
}

// SIGKILL through a pidfd, and its end awaited (at most kKillWaitMs, as OciRuntime.killProcess).
Outcome KillProcess(Front* f, const Saved& s) {
  int pidfd;
  Outcome o = OpenProcess(f, s, &pidfd);
  if (o != Outcome::kOk || pidfd < 0) return o;
  if (syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0) < 0) {
    int e = errno;
    close(pidfd);
    return e == ESRCH ? Outcome::kOk : f->SysFailed("pidfd_send_signal", nullptr, e);
  }
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
    if (elapsed >= kKillWaitMs) break;
    struct pollfd p = {pidfd, POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(kKillWaitMs - elapsed));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int e = errno;
      close(pidfd);
      return f->SysFailed("poll", "pidfd", e);
    }
    break;
  }
  close(pidfd);
  return Outcome::kOk;
}

// ContainerCgroup.remove: rmdir, with cgroup.kill for what is left and retries while the kernel
// still counts exiting processes in it (EBUSY); then its parent if that was its last container.
Outcome RemoveCgroup(Front* f, const char* dir) {
  if (access(dir, F_OK) < 0) return Outcome::kOk;
  for (int attempt = 0;; attempt++) {
    if (rmdir(dir) == 0) {
      Buf parent;
      parent.Add(dir);
      char* slash = strrchr(parent.data, '/');
      parent.Truncate(slash == parent.data ? 1 : static_cast<size_t>(slash - parent.data));
      if (rmdir(parent.c_str()) < 0 && errno != ENOTEMPTY && errno != EBUSY && errno != ENOENT) {
        return f->SysFailed("rmdir", parent.c_str(), errno);
      }
      return Outcome::kOk;
    }
    if (errno == ENOENT) return Outcome::kOk;
    if (errno != EBUSY || attempt >= kRmdirAttempts) return f->SysFailed("rmdir", dir, errno);
    if (attempt == 0) {
      Buf kill_file;
      kill_file.Printf("%s/cgroup.kill", dir);
      int fd = open(kill_file.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd >= 0) {
        WriteAll(fd, "1", 1);  // Linux < 5.14 has no cgroup.kill: the retries are all there is
        close(fd);
      }
    }
    struct timespec pause = {0, (attempt + 1 < 10 ? attempt + 1 : 10) * 1000000L};
    while (nanosleep(&pause, &pause) < 0 && errno == EINTR) {
    }
  }
}

// rm -rf of the state directory (rmSync recursive, force: what is already gone is no error).
Outcome RemoveTree(Front* f, Buf* path) {
  struct stat st;
  if (lstat(path->c_str(), &st) < 0)
    return errno == ENOENT ? Outcome::kOk : f->SysFailed("lstat", path->c_str(), errno);
  if (!S_ISDIR(st.st_mode)) {
    if (unlink(path->c_str()) < 0 && errno != ENOENT) return f->SysFailed("unlink", path->c_str(), errno);
    return Outcome::kOk;
  }
  DIR* d = opendir(path->c_str());
  if (d == nullptr) return errno == ENOENT ? Outcome::kOk : f->SysFailed("opendir", path->c_str(), errno);
  size_t at = path->size;
  errno = 0;
  while (struct dirent* e = readdir(d)) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    path->Add('/');
    path->Add(e->d_name);
    Outcome o = RemoveTree(f, path);
    path->Truncate(at);
    if (o != Outcome::kOk) {
      closedir(d);
      return o;
    }
    errno = 0;
  }
  int e = errno;
  closedir(d);
  if (e != 0) return f->SysFailed("readdir", path->c_str(), e);
  if (rmdir(path->c_str()) < 0 && errno != ENOENT) return f->SysFailed("rmdir", path->c_str(), errno);
  return Outcome::kOk;
}

// `delete` (OciRuntime.delete; main.ts: --force and a missing container is no error).
Outcome Delete(Front* f) {
  Saved s;
  Outcome o = Load(f, &s, true);
  if (o == Outcome::kFailed && f->missing && f->cli.force) return Outcome::kOk;
  if (o != Outcome::kOk) return o;
  if ((s.hooks & kPoststop) != 0) return f->ToNode("delete: the container has poststop hooks");
  Status st = StatusOf(*f, s);
  if ((st == Status::kRunning || st == Status::kPaused) && !f->cli.force) {
    return f->Failed("cannot delete container %s that is not stopped: %s", f->cli.id, StatusName(st));
  }
  o = KillProcess(f, s);
  if (o != Outcome::kOk) return o;
  o = RemoveCgroup(f, s.cgroup);
  if (o != Outcome::kOk) return o;
  Buf dir;
  ContainerPath(*f, nullptr, &dir);
  return RemoveTree(f, &dir);
}

}  // namespace
}  // namespace hull

int main(int argc, char** argv) {
  using hull::Outcome;
  for (int i = 1; i < argc; i++) {
    // Node would read such an argument as U+FFFD: another path than the bytes name.
    if (!hull::IsUtf8(argv[i])) hull::HandOver(argc, argv, "an argument that is not UTF-8");
  }
  hull::Front f;
  if (const char* why = hull::ParseCli(argc, argv, &f.cli)) hull::HandOver(argc, argv, why);
  if (!hull::Resolve(f.cli.root, &f.root)) hull::HandOver(argc, argv, "the working directory is gone");
  Outcome o = Outcome::kOk;
  switch (f.cli.verb) {
    case hull::Verb::kState:
      o = hull::State(&f);
      break;
    case hull::Verb::kStart:
      o = hull::Start(&f);
      break;
    case hull::Verb::kKill:
      o = hull::Kill(&f);
      break;
    case hull::Verb::kDelete:
      o = hull::Delete(&f);
      break;
  }
  if (o == Outcome::kToNode) hull::HandOver(argc, argv, f.why.c_str());
  if (o == Outcome::kFailed) {
    hull::Log(f.cli, "error", f.message.c_str());
    return 1;
  }
  return 0;
}
