/**
 * Detached containers: hull-monitor (native/monitor.cc, the protocol is drawn there) is started
 * with the plan on its stdin and answers once on fd 3 — started (with the container's pid) or a
 * failure. After that it lives on its own (setsid), and tells the world about the container only
 * through files: the json-file log and the status file read here.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Readable } from 'node:stream';
import { ContainerStartError, RuntimeError } from '../errors.js';
import { closeSync, mkdirSync } from 'node:fs';
import { type Attachment, attach as attachTo } from './monitor-client.js';
import path from 'node:path';
import { monitorPath, sys } from '../native/index.js';
import { type MonitorPlan, encodeMonitorInput } from './plan-codec.js';
import {
  ERROR_RECORD_ERRNO,
  ERROR_RECORD_MESSAGE,
  ERROR_RECORD_MESSAGE_SIZE,
  ERROR_RECORD_STEP,
  ERROR_RECORD_STEPS,
  ERROR_RECORD_SYSCALL,
  ERROR_RECORD_SYSCALL_SIZE,
  MONITOR_REPORTS,
  MONITOR_REPORT_ERROR,
  MONITOR_REPORT_SIZE,
} from '../native/plan-table.js';
import { crashPoint } from './crash-point.js';
import { processStartTime } from './liveness.js';
import type { MonitorStatus } from './monitor-status.js';
import { currentBootId, writeJsonAtomic } from './container-store.js';

export type { MonitorStatus } from './monitor-status.js';
export { readMonitorStatus } from './monitor-status.js';

const REPORT_SIZE = MONITOR_REPORT_SIZE;
const KIND_STARTED = MONITOR_REPORTS.indexOf('started');
const KIND_PLAN_FAILED = MONITOR_REPORTS.indexOf('planFailed');

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, value]) => [value, name]));
const errnoName = (n: number) => ERRNO_NAMES.get(n) ?? `E?${n}`;

export interface MonitorStarted {
  monitorPid: number;
  /** The container's first process (in hull's pid namespace). */
  pid: number;
  /** With `attach`: the connection that shows the container's output from its first byte. */
  attachment?: Attachment;
}

function cString(buf: Buffer, start: number, size: number): string {
  const slice = buf.subarray(start, start + size);
  const end = slice.indexOf(0);
  return slice.subarray(0, end < 0 ? size : end).toString('utf8');
}

async function readReport(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size >= REPORT_SIZE) break;
  }
  return Buffer.concat(chunks);
}

/**
 * Start a monitor for `plan`; resolves once the container's command runs (its execve). With
 * `attach` (and plan.attachFirst), a client attaches before the monitor runs: the container passes
 * its gate only then, so none of its output is missed.
 */
export async function startMonitor(plan: MonitorPlan, attach?: { stdin: boolean; once: boolean; terminal: boolean }): Promise<MonitorStarted> {
  const input = encodeMonitorInput(plan);
  const crashAt = process.env.HULL_TEST_MONITOR_CRASH_AT; // the crash tests' hook (native/monitor.cc)
  // The control socket, listening before the monitor runs: a client may connect at once (`start -a`).
  mkdirSync(path.dirname(plan.controlPath), { recursive: true, mode: 0o700 });
  const control = sys.listenUnix(plan.controlPath);
  let child;
  try {
    child = spawn(monitorPath(), [], {
      detached: true,
      cwd: '/',
      env: crashAt ? { HULL_TEST_MONITOR_CRASH_AT: crashAt } : {},
      stdio: ['pipe', 'ignore', 'ignore', 'pipe', control],
    });
  } finally {
    closeSync(control);
  }
  crashPoint('start: monitor spawned');
  // Before the monitor has its plan (and so before it can start anything), the status file names
  // it: from here on, the container's state comes from this monitor whatever happens to hull. If
  // hull dies before this, the monitor reads no plan and exits, having started nothing.
  if (child.pid !== undefined) {
    const status: MonitorStatus = { status: 'starting', monitorPid: child.pid, monitorStartTime: processStartTime(child.pid), bootId: currentBootId() };
    writeJsonAtomic(plan.statusPath, status);
  }
  crashPoint('start: monitor named in its status file');
  const attaching = attach ? attachTo(plan.controlPath, attach) : undefined;
  const spawnError = new Promise<never>((_, reject) => {
    child.once('error', (err) => reject(new RuntimeError(`cannot start hull-monitor: ${err.message}`, { cause: err })));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.stdin!.on('error', () => undefined); // EPIPE: the monitor died; its report (or none) says why
  child.stdin!.end(input);
  const reportStream = child.stdio[3] as Readable;
  const report = await Promise.race([readReport(reportStream), spawnError]);
  reportStream.destroy();
  child.unref();
  if (report.length < REPORT_SIZE) {
    const code = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), 1000))]);
    throw new RuntimeError(`hull-monitor ended without reporting (exit status ${code ?? 'unknown'})`);
  }
  const kind = report.readUInt32LE(0);
  const pid = report.readInt32LE(4);
  if (kind === KIND_STARTED) {
    const attachment = await attaching;
    return { monitorPid: child.pid!, pid, ...(attachment ? { attachment } : {}) };
  }
  const at = MONITOR_REPORT_ERROR; // the ErrorRecord's offsets: native/plan-table.h
  const step = report.readUInt32LE(at + ERROR_RECORD_STEP);
  const steps = report.readUInt32LE(at + ERROR_RECORD_STEPS);
  const errno = errnoName(report.readInt32LE(at + ERROR_RECORD_ERRNO));
  const syscall = cString(report, at + ERROR_RECORD_SYSCALL, ERROR_RECORD_SYSCALL_SIZE);
  const detail = cString(report, at + ERROR_RECORD_MESSAGE, ERROR_RECORD_MESSAGE_SIZE);
  if (kind === KIND_PLAN_FAILED) throw new ContainerStartError({ step, steps, syscall, errno, detail });
  throw new RuntimeError(`${detail}: ${errno}`, { code: errno });
}
