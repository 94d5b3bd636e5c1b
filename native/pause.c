/*
 * hull-pause: a pod's infra process (as Kubernetes' pause and Podman's catatonit). It holds the
 * pod's namespaces by being alive in them: it sleeps until SIGTERM or SIGINT and, as PID 1 of a
 * shared PID namespace, reaps the orphans the kernel hands it. Static, no libc state, no output.
 */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void quit(int sig) {
  (void)sig;
  _exit(0);
}

static void reap(int sig) {
  (void)sig;
  while (waitpid(-1, 0, WNOHANG) > 0) {
  }
}

static int on(int sig, void (*handler)(int)) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sa.sa_flags = SA_RESTART | (sig == SIGCHLD ? SA_NOCLDSTOP : 0);
  sigemptyset(&sa.sa_mask);
  return sigaction(sig, &sa, 0);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "-v") == 0) {
    static const char version[] = "hull-pause\n";
    return write(1, version, sizeof version - 1) == (ssize_t)(sizeof version - 1) ? 0 : 1;
  }
  if (on(SIGINT, quit) < 0 || on(SIGTERM, quit) < 0 || on(SIGCHLD, reap) < 0) {
    static const char failed[] = "hull-pause: sigaction failed\n";
    (void)!write(2, failed, sizeof failed - 1);
    return 1;
  }
  for (;;) pause();
}
