/**
 * A container's first process: spawned by the native addon from a plan, released, watched.
 * Its exit is observed through a pidfd polled on the event loop.
 */
import { ContainerStartError, RuntimeError } from '../errors.js';
import { native, toSystemError } from '../native/index.js';
import type { ExitStatus, NamespaceSet, PlanStep, StartFailure } from '../native/types.js';

export interface SpawnOptions {
  namespaces: NamespaceSet;
  rootfs: string;
  cgroupFd: number;
  stdio: [number, number, number];
  steps: PlanStep[];
  /** Kill the container if hull dies first (foreground runs have no monitor yet). */
  dieWithParent: boolean;
  /** exec: join these namespace fds of a running container instead of making new ones. */
  joinNamespaceFds?: number[];
  /** Watching its exit keeps hull's event loop alive (default true; false for `exec -d`). */
  keepAlive?: boolean;
}

const SIGKILL = 9;

export class ContainerProcess {
  readonly pid: number;
  private readonly pidfd: number;
  private exited = false;
  private readonly exitPromise: Promise<ExitStatus>;
  private readonly handle: unknown;

  private constructor(pid: number, pidfd: number, handle: unknown, keepAlive: boolean) {
    this.pid = pid;
    this.pidfd = pidfd;
    this.handle = handle;
    this.exitPromise = new Promise((resolve) => {
      native().watchExit(
        pidfd,
        (status) => {
          this.exited = true;
          resolve(status);
        },
        keepAlive,
      );
    });
  }

  /** clone3 the process; it waits for `start()` before running its plan. */
  static spawn(opts: SpawnOptions): ContainerProcess {
    const terminal = opts.steps.some((s) => s.op === 'console');
    let spawned;
    try {
      spawned = native().spawn({
        namespaces: opts.namespaces,
        rootfs: opts.rootfs,
        parentDeathSignal: opts.dieWithParent ? SIGKILL : 0,
        cgroupFd: opts.cgroupFd,
        stdio: opts.stdio,
        terminal,
        steps: opts.steps,
        ...(opts.joinNamespaceFds ? { joinNamespaceFds: opts.joinNamespaceFds } : {}),
      });
    } catch (err) {
      throw toSystemError(err);
    }
    return new ContainerProcess(spawned.pid, spawned.pidfd, spawned.handle, opts.keepAlive ?? true);
  }

  /**
   * Let the process run its plan. Resolves once it has execve'd (with the pty master when it has a
   * console); rejects with ContainerStartError naming the failed step when the plan fails.
   */
  async start(): Promise<{ consoleFd: number | undefined }> {
    try {
      return await native().release(this.handle);
    } catch (err) {
      const failure = (err as { failure?: StartFailure }).failure;
      if (failure) throw new ContainerStartError(failure);
      throw toSystemError(err);
    }
  }

  /** Resolves when the process has exited and been reaped. */
  wait(): Promise<ExitStatus> {
    return this.exitPromise;
  }

  get hasExited(): boolean {
    return this.exited;
  }

  /** Signal the process (by pidfd, so never a recycled pid). A no-op once it has exited. */
  signal(signal: number): void {
    if (this.exited) return;
    try {
      native().pidfdSignal(this.pidfd, signal);
    } catch (err) {
      const e = toSystemError(err);
      if ((e as { errno?: string }).errno === 'ESRCH') return; // exited, not yet reaped
      throw e instanceof Error ? e : new RuntimeError(String(e));
    }
  }
}

/** Docker's exit status: the code, or 128 + the signal number. */
export function exitCodeOf(status: ExitStatus): number {
  if (status.code !== null) return status.code;
  if (status.signal !== null) return 128 + status.signal;
  return 125;
}
