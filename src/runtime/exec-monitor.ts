/**
 * A process run in a running container under a hull-monitor of its own (the Engine API's exec):
 * the monitor is its parent, holds its stdio, serves attach on its control socket and records its
 * end in a status file, exactly as for a detached container (native/monitor.cc, unchanged). So the
 * API server is never an exec's parent: restarting it leaves the exec running, and the new server
 * reads its exit code from the file.
 *
 * The monitor joins the container's namespaces and cgroup by path: hull opens them (prepare.ts,
 * after checking the container's init by pid and start time) and names its own fds to the monitor
 * (/proc/HULL/fd/N), holding them until the monitor has reported the start, so the monitor opens
 * exactly what hull checked even if the container's pid were reused meanwhile. Its plan keeps the
 * cgroup (it is the container's), restarts nothing, logs nothing, and appends the exec's own
 * `exec_start` and `exec_die` events.
 *
 * What the exec was asked (its ExecConfig) is kept beside the status, under the run root's execs/:
 * Docker keeps exec configs in the daemon's memory; hull's server keeps nothing that a restart would lose.
 */
import { closeSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConflictError } from '../errors.js';
import { containerEvent, writeMonitorEvents } from '../events/emit.js';
import { eventsFile } from '../events/log.js';
import { removeFile } from '../files.js';
import { removeTree } from '../layer/remove-tree.js';
import { type ContainerRecord, writeJsonAtomic } from './container-store.js';
import { isSameProcess, openProcess, processStartTime } from './liveness.js';
import { type Attachment, controlSocketPath } from './monitor-client.js';
import { readMonitorStatus } from './monitor-status.js';
import { type PreparedExec, prepareExec } from './prepare.js';
import type { Runtime } from './runtime.js';
import { mayAct, statusOfRecord } from './states.js';

/** What an exec was asked (Docker's ExecConfig, parsed) and, once started, which monitor runs it. */
export interface ExecRecord {
  id: string;
  containerId: string;
  cmd: string[];
  tty: boolean;
  user: string;
  workdir?: string;
  env: string[];
  attachStdin: boolean;
  attachStdout: boolean;
  attachStderr: boolean;
  /** ms since the epoch. */
  created: number;
  monitor?: { pid: number; startTime: number | undefined };
  /** Its start failed (told to its client): it ended with 126, as Docker's "cannot invoke". */
  startFailed?: boolean;
}

/** Where it stands: Docker's Running, ExitCode (null before its end) and Pid (hull's pid namespace). */
export interface ExecState {
  running: boolean;
  exitCode: number | null;
  pid: number;
}

const RECORD_FILE = 'exec.json';
const STATUS_FILE = 'monitor.json';
const EVENTS_FILE = 'events';

/** The execs of one run root, each a directory `execs/ID/`. */
export class ExecStore {
  readonly dir: string;

  constructor(readonly runRoot: string) {
    this.dir = path.join(runRoot, 'execs');
  }

  private file(id: string, name: string): string {
    if (!/^[0-9a-f]{64}$/.test(id)) throw new ConflictError(`invalid exec id: ${id}`);
    return path.join(this.dir, id, name);
  }

  /** A new exec's record, saved. */
  create(config: Omit<ExecRecord, 'id' | 'created' | 'monitor'>): ExecRecord {
    const made: ExecRecord = { ...config, id: randomBytes(32).toString('hex'), created: Date.now() };
    this.save(made);
    return made;
  }

  save(record: ExecRecord): void {
    mkdirSync(path.join(this.dir, record.id), { recursive: true, mode: 0o700 });
    writeJsonAtomic(this.file(record.id, RECORD_FILE), record);
  }

  /** The record, or undefined for an unknown (or malformed) id. */
  get(id: string): ExecRecord | undefined {
    if (!/^[0-9a-f]{64}$/.test(id)) return undefined;
    try {
      return JSON.parse(readFileSync(this.file(id, RECORD_FILE), 'utf8')) as ExecRecord;
    } catch {
      return undefined;
    }
  }

  statusPath(id: string): string {
    return this.file(id, STATUS_FILE);
  }

  /** Running or not, from its monitor's status file and whether that monitor lives. */
  state(record: ExecRecord): ExecState {
    if (!record.monitor) return { running: false, exitCode: record.startFailed ? 126 : null, pid: 0 };
    const status = readMonitorStatus(this.statusPath(record.id));
    if (status?.status === 'exited') return { running: false, exitCode: status.exitCode ?? null, pid: 0 };
    const alive = isSameProcess(record.monitor.pid, record.monitor.startTime);
    // A monitor killed (-9) took its process with it (PDEATHSIG) and wrote no end: ended, code unknown.
    return { running: alive, exitCode: alive ? null : 137, pid: alive ? (status?.pid ?? 0) : 0 };
  }

  /** Forget execs made before `before` (ms) that are not running: their records and status files. */
  async sweep(before: number): Promise<void> {
    let ids: string[];
    try {
      ids = readdirSync(this.dir);
    } catch {
      return;
    }
    for (const id of ids) {
      const record = this.get(id);
      if (record && (record.created >= before || this.state(record).running)) continue;
      await removeTree(path.join(this.dir, id)).catch(() => undefined);
    }
  }
}

/** A new exec of a container, saved, with Docker's `exec_create` event (its start and end are its monitor's to log). */
export function createExec(
  rt: Runtime,
  store: ExecStore,
  record: ContainerRecord,
  config: Omit<ExecRecord, 'id' | 'created' | 'monitor' | 'containerId'>,
): ExecRecord {
  const made = store.create({ ...config, containerId: record.id });
  containerEvent(rt.paths.runRoot, record, `exec_create: ${made.cmd.join(' ')}`, { execID: made.id });
  return made;
}

export interface ExecStarted {
  pid: number;
  /** With `attach`: the process's output from its first byte (it waits at its gate until this is there), and its stdin when asked. */
  attachment?: Attachment;
}

/**
 * Start a saved exec under its own monitor. With `attach`, the caller is attached before the process
 * runs; without, it runs detached (Docker's `Detach: true`). Resolves once the process runs (its execve).
 */
export async function startExecUnderMonitor(
  rt: Runtime,
  store: ExecStore,
  exec: ExecRecord,
  opts: { attach?: { stdin: boolean }; consoleSize?: { rows: number; cols: number } } = {},
): Promise<ExecStarted> {
  const { attach } = opts;
  return rt.locked(exec.containerId, async (record) => {
    const notRunning = () => new ConflictError(`Container ${record.id} is not running`);
    mayAct('exec', statusOfRecord(record), record.id);
    const pidfd = await openProcess(record.state.pid, record.state.pidStartTime);
    if (pidfd === undefined) throw notRunning();
    let prepared: PreparedExec | undefined;
    const command = exec.cmd.join(' ');
    try {
      const stdin = attach?.stdin === true && !exec.tty;
      prepared = await prepareExec(
        rt,
        record,
        {
          cmd: exec.cmd,
          env: exec.env,
          ...(exec.user ? { user: exec.user } : {}),
          ...(exec.workdir ? { workdir: exec.workdir } : {}),
          tty: exec.tty,
          ...(exec.tty && opts.consoleSize ? { consoleSize: opts.consoleSize } : {}),
          underMonitor: true,
          monitorStdin: stdin,
        },
        notRunning,
      );
      const held = (fd: number) => `/proc/${process.pid}/fd/${fd}`;
      const statusPath = store.statusPath(exec.id);
      removeFile(statusPath);
      const { startMonitor } = await import('./monitor.js');
      const started = await startMonitor(
        {
          controlPath: controlSocketPath(rt.paths.runRoot, exec.id),
          openStdin: stdin,
          attachFirst: attach !== undefined,
          launch: { ...prepared.launch, joinPaths: prepared.namespaceFds.map(held) },
          cgroup: prepared.cgroupFd >= 0 ? held(prepared.cgroupFd) : '',
          logPath: '/dev/null', // an exec's output goes to its attached client only, as Docker's
          statusPath,
          memoryEvents: '',
          removeCgroup: false, // the container's: it stays
          restart: { name: 'no', maximumRetryCount: 0 },
          stopMarker: '',
          exitCommand: [],
          logMaxSize: 0,
          logMaxFiles: 1,
          eventsPath: eventsFile(rt.paths.runRoot),
          eventLinesPath: writeMonitorEvents(path.join(store.dir, exec.id, EVENTS_FILE), record, { command, execID: exec.id }),
        },
        attach ? { stdin: attach.stdin, once: true, terminal: exec.tty } : undefined, // a terminal takes stdin through its pty
      );
      store.save({ ...exec, monitor: { pid: started.monitorPid, startTime: processStartTime(started.monitorPid) } });
      return { pid: started.pid, ...(started.attachment ? { attachment: started.attachment } : {}) };
    } finally {
      prepared?.release();
      closeSync(pidfd);
    }
  });
}
