// hull-monitor's control socket: how hull talks to a running monitor (src/runtime/monitor-client.ts
// is the other side). A unix stream socket in the container's run directory; each connection makes
// one request, a line:
//
//   wait               "exit CODE restarting|final\n" at each end of the container; closed after final
//   started            "running PID\n" once the container runs (at once if it does), or "failed\n"
//   attach [stdin] [once]
//                      the container's output from now on: with a terminal the raw bytes, else Docker's
//                      multiplexed frames ({stream, 0, 0, 0, size u32 big-endian} then the bytes); with
//                      stdin, what the client sends goes to the container's stdin (its pipe or its
//                      terminal); with once, the client's end of input closes the container's stdin
//   resize ROWS COLS   the terminal's size; "ok\n"
//   stop               wakes a monitor waiting to restart (hull's stop wrote the stop marker); "ok\n"
//
// Nothing blocks the monitor: sockets are non-blocking, an attached client that does not keep up
// (more than kMaxPending bytes waiting) is disconnected, and a line that does not end is dropped.
#pragma once

#include <poll.h>
#include <stddef.h>

namespace hull {

// Takes the listening socket `fd` (hull made it at `path` and handed it over as fd 4, so clients
// could connect before this monitor ran). False with errno set when `fd` is not one.
bool ControlInit(int fd, const char* path);

// The fds to poll (the listener, each client) into `out`; returns how many (at most `cap`).
int ControlPollFds(struct pollfd* out, int cap);

// Handles what poll said about those fds.
void ControlHandle(const struct pollfd* fds, int n);

// The container's output: to every attached client.
void ControlOutput(int stream, const char* data, size_t n);

// Where attached clients' input goes (-1: nowhere): a pipe the control then owns (closed when
// replaced, or at a client's end of input with `once`), or the terminal (not owned; resize applies to it).
void ControlSetStdin(int fd, bool terminal);

// The container runs (pid), or its start failed (pid 0): for "started" clients.
void ControlStarted(int pid);

// The container ended with `code`; `final`: no restart follows. For "wait" clients.
void ControlExited(int code, bool final);

// Whether a client is attached (a start that waits for one: `start -a`).
bool ControlHasAttached();

// Whether a "stop" request came since the last call.
bool ControlStopAsked();

// Closes every connection and removes the socket (before the exit command runs).
void ControlClose();

}  // namespace hull
