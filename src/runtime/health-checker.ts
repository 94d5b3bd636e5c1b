/**
 * Running a container's health checks (the rules are in health.ts): every interval, the probe
 * through the library's exec path (so it runs as `exec` would, with the container's user,
 * environment and working directory, and with Docker 20.10's exec_create/exec_start/exec_die
 * events, which its daemon/health.go emits for every probe too), its result recorded, and a
 * `health_status: …` event when the status changes.
 *
 * Who runs them, for as long as the container runs (Docker runs them for every running container):
 * - a detached container (`run -d`, `start`, `restart`, `run --sig-proxy=false`): a small Node
 *   process beside its hull-monitor (`hull health-monitor ID TOKEN`, hidden), spawned by the start
 *   only when the container has a probe. It follows the container through the monitor's control
 *   socket: the probes run while it runs; at a restart of its policy the status goes back to
 *   starting; it ends with the container's last end (or when its token is no longer the file's).
 *   Why not in hull-monitor itself: a probe is an exec — the container's namespaces, cgroup,
 *   user, environment, seccomp filter and plan, all decided in TypeScript (prepare.ts) — which the
 *   C++ monitor cannot build; and containers without a health check pay nothing.
 * - a foreground container (`run` without -d): the hull that runs it, its parent, until it exits.
 */
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { ConflictError, ContainerNotFoundError } from '../errors.js';
import { formatGoDuration } from '../duration.js';
import { cliPath } from '../native/index.js';
import { containerEvent } from '../events/emit.js';
import { type ContainerRecord, writeJsonAtomic } from './container-store.js';
import {
  type HealthResult,
  type HealthSchedule,
  type HealthState,
  type Probe,
  MAX_OUTPUT_BYTES,
  applyProbeResult,
  healthFile,
  probeOf,
  probeOutput,
  readHealth,
  scheduleOf,
  startingHealth,
} from './health.js';
import { withLock } from './lock.js';
import { controlSocketPath, startedPid, watchExits } from './monitor-client.js';
import type { Runtime } from './runtime.js';

const SIGTERM = 15;
const SIGKILL = 9;
/** After a timed-out probe's SIGTERM, how long before SIGKILL (Docker's termProcessTimeout). */
const TERM_GRACE_MS = 10_000;

/**
 * At a start (under the container's lock, once its process runs): its health state set to
 * `starting` with a new checker token, which is returned; undefined when it has no probe.
 */
export function beginHealth(rt: Runtime, record: ContainerRecord): string | undefined {
  if (probeOf(record.healthcheck, record.shell) === undefined) return undefined;
  const token = randomBytes(16).toString('hex');
  const dir = rt.containers.dir(record.id);
  writeJsonAtomic(healthFile(dir), startingHealth(readHealth(dir), token));
  return token;
}

/** The health checker of a detached container, started beside its monitor (it ends on its own). */
export function spawnHealthMonitor(rt: Runtime, record: ContainerRecord, token: string): void {
  const child = spawn(process.execPath, [cliPath(), '--root', rt.paths.root, '--run-root', rt.paths.runRoot, 'health-monitor', record.id, token], {
    detached: true,
    cwd: '/',
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
    stdio: 'ignore',
  });
  child.on('error', () => undefined); // no Node to run it: the container runs on, with no health checks
  child.unref();
}

/** The detached container's checker (`hull health-monitor`): its probes for each run until its last end. */
export async function superviseHealth(rt: Runtime, id: string, token: string): Promise<void> {
  const control = controlSocketPath(rt.paths.runRoot, id);
  const exits = await watchExits(control);
  if (!exits) return;
  try {
    for (;;) {
      if ((await startedPid(control)) === undefined) return;
      const ended = exits.next();
      if ((await checkUntil(rt, id, token, ended)) === 'superseded') return;
      const exit = await ended;
      if (!exit || exit.final) return;
      // Restarted by its policy: starting again, as Docker's initHealthMonitor.
      if (!(await updateHealth(rt, id, token, (state) => startingHealth(state, token)))) return;
    }
  } finally {
    exits.close();
  }
}

/** The foreground container's checker, in this process: `stop` ends it (and waits for a probe under way). */
export function checkInForeground(rt: Runtime, record: ContainerRecord, token: string): { stop(): Promise<void> } {
  let end!: () => void;
  const ended = new Promise<void>((resolve) => (end = resolve));
  const running = checkUntil(rt, record.id, token, ended).catch(() => undefined);
  return {
    stop: async () => {
      end();
      await running;
    },
  };
}

/**
 * Probes every interval (measured from the end of one to the start of the next, as Docker's)
 * until `ended` resolves; 'superseded' when another start's checker has taken over.
 */
async function checkUntil(rt: Runtime, id: string, token: string, ended: Promise<unknown>): Promise<'ended' | 'superseded'> {
  let over = false;
  void ended.then(() => (over = true));
  for (;;) {
    const record = rt.containers.read(id);
    const probe = probeOf(record?.healthcheck, record?.shell);
    if (!record || !probe) return 'superseded';
    const schedule = scheduleOf(record.healthcheck!);
    if ((await sleepUnless(schedule.intervalMs, ended)) === 'ended' || over) return 'ended';
    const now = rt.containers.read(id);
    if (!now || now.state.status !== 'running') return 'ended';
    if (now.state.paused) continue; // no probes while frozen (Docker stops its monitor while paused)
    const { result, settled } = await runProbe(rt, id, probe, schedule);
    if (over) return 'ended'; // a result that comes after the end is dropped, as Docker's
    const startedAt = Date.parse(now.state.startedAt ?? '') || Date.now();
    const kept = await updateHealth(rt, id, token, (state) => applyProbeResult(state, result, schedule, startedAt), { whileRunning: true });
    await settled; // a timed-out probe is recorded at once, and waited for before the next: dying probes never pile up
    if (!kept) return 'superseded';
  }
}

function sleepUnless(ms: number, ended: Promise<unknown>): Promise<'slept' | 'ended'> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([new Promise<'slept'>((resolve) => (timer = setTimeout(() => resolve('slept'), ms))), ended.then(() => 'ended' as const)]).finally(() =>
    clearTimeout(timer),
  );
}

/**
 * One probe: its command run by exec, stdout and stderr into one buffer (the first 4096 bytes
 * kept). Past the timeout it is a failure with Docker's text, given at once; the process gets
 * SIGTERM (SIGKILL after 10 s), and `settled` resolves when it has gone. A probe that cannot run
 * is a failure with the error's message (ExitCode -1), as Docker's.
 */
export async function runProbe(rt: Runtime, id: string, probe: Probe, schedule: HealthSchedule): Promise<{ result: HealthResult; settled: Promise<void> }> {
  const start = new Date().toISOString();
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  const keep = (chunk: Buffer) => {
    const room = MAX_OUTPUT_BYTES - size;
    if (chunk.length > room) truncated = true;
    if (room <= 0) return;
    const kept = chunk.subarray(0, room);
    chunks.push(kept);
    size += kept.length;
  };
  let proc;
  try {
    proc = await rt.exec(id, { cmd: probe.args, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' });
  } catch (err) {
    const result = { Start: start, End: new Date().toISOString(), ExitCode: -1, Output: err instanceof Error ? err.message : String(err) };
    return { result, settled: Promise.resolve() };
  }
  const running = proc;
  running.stdout?.on('data', keep);
  running.stderr?.on('data', keep);
  let timer: NodeJS.Timeout | undefined;
  let killer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<HealthResult>((resolve) => {
    timer = setTimeout(() => {
      const end = new Date().toISOString();
      running.kill(SIGTERM);
      killer = setTimeout(() => running.kill(SIGKILL), TERM_GRACE_MS);
      resolve({ Start: start, End: end, ExitCode: -1, Output: `Health check exceeded timeout (${formatGoDuration(schedule.timeoutNs)})` });
    }, schedule.timeoutMs);
  });
  const exited = running
    .wait()
    .then((code): HealthResult => ({ Start: start, End: new Date().toISOString(), ExitCode: code, Output: probeOutput(Buffer.concat(chunks), truncated) }));
  const result = await Promise.race([exited, timedOut]);
  clearTimeout(timer);
  const settled = exited.then(
    () => clearTimeout(killer),
    () => clearTimeout(killer),
  );
  return { result, settled };
}

/**
 * Change the health state under the container's lock while `token` is the file's (false when it
 * is not, or the container is gone); a `health_status: …` event when the status changes. With
 * `whileRunning`, nothing changes once the container has stopped (a `stop` that held the lock
 * while the probe ended, say): Docker drops a result that comes after the stop.
 */
async function updateHealth(
  rt: Runtime,
  id: string,
  token: string,
  change: (state: HealthState) => HealthState,
  opts: { whileRunning?: boolean } = {},
): Promise<boolean> {
  try {
    return await withLock(rt.containers.lockPath(id), id, async () => {
      const dir = rt.containers.dir(id);
      const now = readHealth(dir);
      const record = rt.containers.read(id);
      if (!now || now.checker !== token || !record) return false;
      if (opts.whileRunning && record.state.status !== 'running') return true; // dropped; the end is coming
      const next = change(now);
      writeJsonAtomic(healthFile(dir), next);
      if (next.Status !== now.Status && next.Status !== 'starting') containerEvent(rt.paths.runRoot, record, `health_status: ${next.Status}`);
      return true;
    });
  } catch (err) {
    if (err instanceof ContainerNotFoundError) return false;
    if (err instanceof ConflictError) return true; // its lock held past the wait by another command: this change is dropped, the checks go on
    throw err;
  }
}
