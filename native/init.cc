// hull-init: a tiny init for `--init`, bound into the container at /dev/init and run as its PID 1
// (like Docker's docker-init/tini). It starts the command as its child, forwards every signal it
// gets to that child, reaps every zombie of the pid namespace (orphans are reparented to PID 1),
// and exits with the command's status: its exit code, or 128 + the signal that killed it.
//
//   usage: hull-init [--] COMMAND [ARG...]
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
  int first = 1;
  if (first < argc && strcmp(argv[first], "--") == 0) first++;
  if (first >= argc) {
    fprintf(stderr, "hull-init: usage: hull-init [--] COMMAND [ARG...]\n");
    return 2;
  }
  sigset_t all, saved;
  sigfillset(&all);
  if (sigprocmask(SIG_SETMASK, &all, &saved) < 0) {
    fprintf(stderr, "hull-init: sigprocmask: %s\n", strerrorname_np(errno));
    return 125;
  }
  pid_t child = fork();
  if (child < 0) {
    fprintf(stderr, "hull-init: fork: %s\n", strerrorname_np(errno));
    return 125;
  }
  if (child == 0) {
    sigprocmask(SIG_SETMASK, &saved, nullptr);
    // Its own process group in the foreground of the terminal, if there is one (for ^C with -t).
    setpgid(0, 0);
    if (isatty(0)) {
      signal(SIGTTOU, SIG_IGN);
      tcsetpgrp(0, getpid());
      signal(SIGTTOU, SIG_DFL);
    }
    execvp(argv[first], argv + first);
    int e = errno;
    fprintf(stderr, "hull-init: exec %s: %s\n", argv[first], strerrorname_np(e));
    _exit(e == ENOENT ? 127 : 126);
  }
  for (;;) {
    siginfo_t info;
    int sig = sigwaitinfo(&all, &info);
    if (sig < 0) {
      if (errno == EINTR) continue;
      fprintf(stderr, "hull-init: sigwaitinfo: %s\n", strerrorname_np(errno));
      return 125;
    }
    if (sig != SIGCHLD) {
      // The child's stop signals are its own; everything else is passed on.
      if (kill(child, sig) < 0 && errno != ESRCH) fprintf(stderr, "hull-init: kill: %s\n", strerrorname_np(errno));
      continue;
    }
    for (;;) {
      int status = 0;
      pid_t pid = waitpid(-1, &status, WNOHANG);
      if (pid <= 0) break;
      if (pid == child) {
        // The command is done; the kernel kills the rest of the namespace when PID 1 exits.
        if (WIFEXITED(status)) return WEXITSTATUS(status);
        if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
      }
    }
  }
}
