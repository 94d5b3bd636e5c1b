/**
 * A started process — a container's first one, or one joined by exec — with its streams, signals and exit.
 */
import { type ContainerRecord } from './container-store.js';
import { ContainerProcess, exitCodeOf } from './process.js';
import { type StdioOptions, type WiredStdio } from './stdio.js';
import type { Terminal } from './terminal.js';

export interface StartOptions extends StdioOptions {
  /** Relay the container's console to hull's own terminal (for `run -t`), with stdin when `interactive`. */
  attachTerminal?: boolean;
  interactive?: boolean;
}

/**
 * The process's console (the pty master its start sent), relayed as `opts` say; undefined without
 * one. terminal.js is loaded only when there is a console (most starts have none).
 */
export async function consoleTerminal(consoleFd: number | undefined, opts: { attachTerminal?: boolean; interactive?: boolean }): Promise<Terminal | undefined> {
  if (consoleFd === undefined) return undefined;
  const { Terminal } = await import('./terminal.js');
  return new Terminal(consoleFd, { relayToHost: opts.attachTerminal ?? false, interactive: opts.interactive ?? false });
}

/** A started process (a container's first one, or one joined by exec): its streams, signals and
 *  the promise of its exit code, which resolves once its output has drained and `afterExit` ran. */
export class StartedProcess {
  private readonly exitCode: Promise<number>;

  constructor(
    private readonly proc: ContainerProcess,
    private readonly stdio: WiredStdio,
    readonly terminal: Terminal | undefined,
    afterExit?: (code: number) => Promise<void>,
  ) {
    this.exitCode = (async () => {
      const code = exitCodeOf(await proc.wait());
      this.stdio.stop();
      await Promise.all([this.stdio.drained(), this.terminal?.closed()]);
      await afterExit?.(code);
      return code;
    })();
  }

  get pid(): number {
    return this.proc.pid;
  }
  get stdin(): WiredStdio['stdin'] {
    return this.stdio.stdin;
  }
  get stdout(): WiredStdio['stdout'] {
    return this.stdio.stdout;
  }
  get stderr(): WiredStdio['stderr'] {
    return this.stdio.stderr;
  }

  /** Send a signal to the process. */
  kill(signal: number): void {
    this.proc.signal(signal);
  }

  /** Resolves with the exit code (Docker's: 128 + signal when killed) once everything is cleaned up. */
  wait(): Promise<number> {
    return this.exitCode;
  }
}

/** A process started by exec. */
export type ExecProcess = StartedProcess;

/** A started container: its first process, and its record, which is finished when it exits. */
export class RunningContainer extends StartedProcess {
  constructor(
    readonly record: ContainerRecord,
    proc: ContainerProcess,
    stdio: WiredStdio,
    terminal: Terminal | undefined,
    finish: () => Promise<void>,
  ) {
    super(proc, stdio, terminal, async (code) => {
      record.state = { ...record.state, status: 'exited', exitCode: code, finishedAt: new Date().toISOString() };
      delete record.state.pid;
      await finish();
    });
  }

  get id(): string {
    return this.record.id;
  }
  get name(): string {
    return this.record.name;
  }
}
