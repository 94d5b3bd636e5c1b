/**
 * A container's first process (or a process joining a container), launched by the native addon
 * from a plan and taken through the protocol native/launch.h draws: `go` (it runs its plan up to
 * its hooks point or its start gate), `continueAfterHooks`, `start` (past the gate to execve).
 * Its exit is observed through a pidfd polled on the event loop.
 */
import { ContainerStartError, RuntimeError } from '../errors.js';
import { native, toSystemError } from '../native/index.js';
import type { ExitStatus, LaunchStage, StageReached, StartFailure } from '../native/types.js';
import { type LaunchPlan, encodeLaunchPlan } from './plan-codec.js';

export interface SpawnOptions {
  plan: LaunchPlan;
  cgroupFd: number;
  stdio: [number, number, number];
  /** Namespaces joined before the clone (exec; a pid namespace joined by path): fds, in order. */
  joinNamespaceFds?: number[];
  /** Watching its exit keeps hull's event loop alive (default true; false for `exec -d`). */
  keepAlive?: boolean;
}

export class ContainerProcess {
  readonly pid: number;
  private readonly pidfd: number;
  private exited = false;
  private readonly exitPromise: Promise<ExitStatus>;
  private readonly handle: unknown;
  private stageReached: LaunchStage | 'cloned' = 'cloned';
  private console: number | undefined;
  private readonly keepsAlive: boolean;

  private constructor(pid: number, pidfd: number, handle: unknown, keepAlive: boolean) {
    this.pid = pid;
    this.pidfd = pidfd;
    this.handle = handle;
    this.keepsAlive = keepAlive;
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

  /** clone3 the process; it waits for `go` before running its plan. */
  static spawn(opts: SpawnOptions): ContainerProcess {
    let spawned;
    try {
      spawned = native().spawn({
        plan: encodeLaunchPlan(opts.plan),
        cgroupFd: opts.cgroupFd,
        stdio: opts.stdio,
        ...(opts.joinNamespaceFds ? { joinNamespaceFds: opts.joinNamespaceFds } : {}),
      });
    } catch (err) {
      throw toSystemError(err);
    }
    return new ContainerProcess(spawned.pid, spawned.pidfd, spawned.handle, opts.keepAlive ?? true);
  }

  /** Where the process is: cloned, at its hooks point, at its start gate (created), or started. */
  get stage(): LaunchStage | 'cloned' {
    return this.stageReached;
  }

  /** The pty master, once the process has sent it (a console step). */
  get consoleFd(): number | undefined {
    return this.console;
  }

  private async advance(step: 'go' | 'continue' | 'start'): Promise<LaunchStage> {
    let reached: StageReached;
    try {
      reached = await native().advance(this.handle, step);
    } catch (err) {
      const failure = (err as { failure?: StartFailure }).failure;
      if (failure) throw new ContainerStartError(failure);
      throw toSystemError(err);
    }
    if (reached.consoleFd !== undefined) this.console = reached.consoleFd;
    this.stageReached = reached.stage;
    return reached.stage;
  }

  /** Let the process run its plan; resolves at its hooks point, its start gate, or execve (a plan without a gate). */
  go(): Promise<LaunchStage> {
    return this.advance('go');
  }

  /** After the create hooks ran: on to the start gate (or execve). */
  continueAfterHooks(): Promise<LaunchStage> {
    return this.advance('continue');
  }

  /**
   * Take the process to execve: past its hooks point (none expected here) and its start gate.
   * Resolves once it has execve'd; rejects with ContainerStartError naming the failed step.
   */
  async start(): Promise<{ consoleFd: number | undefined }> {
    if (this.stageReached === 'cloned') await this.go();
    if (this.stageReached === 'hooks') throw new RuntimeError('the process waits at its hooks point: run the create hooks and continue first');
    if (this.stageReached === 'ready') await this.advance('start');
    return { consoleFd: this.console };
  }

  /**
   * Let a process waiting at its start gate go on to execve, without waiting for it (for a caller
   * that exits at once: a failure after the gate is then nobody's to report).
   */
  release(): void {
    if (this.stageReached !== 'ready') throw new RuntimeError(`the process is not at its start gate (${this.stageReached})`);
    this.advance('start').catch(() => undefined);
  }

  /**
   * Resolves when the process has exited and been reaped. With `holdEventLoop`, a process whose
   * watch does not keep the event loop alive (keepAlive false) keeps it alive for this wait.
   */
  wait(opts: { holdEventLoop?: boolean } = {}): Promise<ExitStatus> {
    if (this.keepsAlive || this.exited || !opts.holdEventLoop) return this.exitPromise;
    const holding = setInterval(() => undefined, 1 << 30);
    return this.exitPromise.finally(() => clearInterval(holding));
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
