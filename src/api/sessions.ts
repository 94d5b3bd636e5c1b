/**
 * What the API server holds in memory, all of it about connections, none about containers (the
 * store and the monitors hold those; a restarted server sees every container as before):
 *
 * - attach requests that came before their container's start (docker CLI's `run`: create, attach,
 *   wait, start): the start that follows attaches the first of them from the container's first
 *   byte (the monitor lets the container run once it is there), so no output is lost;
 * - the `--rm` containers it started, to remove when they end (src/api/auto-remove.ts);
 * - once asked for, how long its event loop has been held (src/api/loop-delay.ts).
 *
 * Exec sessions are not held here: each is a record under the run root with its own monitor
 * (src/runtime/exec-monitor.ts), so a restarted server still answers `GET /exec/{id}/json`.
 */
import type { Duplex } from 'node:stream';
import type { Hull } from '../hull.js';
import { ExecStore } from '../runtime/exec-monitor.js';
import { AutoRemovals } from './auto-remove.js';
import { LoopDelay } from './loop-delay.js';

/** A hijacked attach connection waiting for its container's start. */
export interface PendingAttach {
  conn: Duplex;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  /** Called by the start that serves it (or when it cannot be served). */
  serve: (run: () => Promise<void>) => void;
}

/** Exec sessions that ended are forgotten after this long (Docker keeps them until the container goes). */
const EXEC_KEEP_MS = 10 * 60 * 1000;

export class ApiSessions {
  private readonly pending = new Map<string, PendingAttach[]>();
  readonly execs: ExecStore;
  readonly autoRemovals: AutoRemovals;
  readonly loopDelay = new LoopDelay();

  constructor(readonly hull: Hull) {
    this.execs = new ExecStore(hull.paths.runRoot);
    this.autoRemovals = new AutoRemovals(hull);
  }

  /** Keep an attach for the container's start; forgotten when its client goes. */
  addPending(containerId: string, attach: PendingAttach): void {
    const list = this.pending.get(containerId) ?? [];
    list.push(attach);
    this.pending.set(containerId, list);
    attach.conn.once('close', () => {
      const now = this.pending.get(containerId)?.filter((a) => a !== attach) ?? [];
      if (now.length > 0) this.pending.set(containerId, now);
      else this.pending.delete(containerId);
    });
  }

  /** The attaches waiting for this container's start (taken: the start serves them). */
  takePending(containerId: string): PendingAttach[] {
    const list = this.pending.get(containerId) ?? [];
    this.pending.delete(containerId);
    return list.filter((a) => !a.conn.destroyed);
  }

  /** Forget ended execs made long ago (called as new ones are made). */
  async sweepExecs(): Promise<void> {
    await this.execs.sweep(Date.now() - EXEC_KEEP_MS);
  }
}
