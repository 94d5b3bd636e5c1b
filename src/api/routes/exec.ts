/**
 * Exec: `POST /containers/{id}/exec` makes a session, `POST /exec/{id}/start` runs it (hijacked:
 * its output framed, or raw with a terminal; the client's input to its stdin), `GET
 * /exec/{id}/json` tells its state and exit code, `POST /exec/{id}/resize` sizes its terminal.
 * Each runs under a hull-monitor of its own (src/runtime/exec-monitor.ts), never as the server's
 * child: the server relays its streams through the monitor's attach, and a restarted server
 * still finds it and its exit code.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ConflictError, ExecNotFoundError, UsageError } from '../../errors.js';
import { parseEnvEntries } from '../../options/env.js';
import { type ExecRecord, type ExecState, createExec, startExecUnderMonitor } from '../../runtime/exec-monitor.js';
import { controlSocketPath, resizeTerminal } from '../../runtime/monitor-client.js';
import { isLive, statusOfRecord } from '../../runtime/states.js';
import type { Router } from '../router.js';
import type { ApiSessions } from '../sessions.js';
import { frame } from '../streams.js';
import { serveAttachment } from './containers.js';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function strings(body: Record<string, unknown>, key: string): string[] {
  const v = body[key];
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw new UsageError(`${key}: a list of strings expected`);
  return v;
}

/** Docker's ExecInspect body. */
function execInspect(e: ExecRecord, state: ExecState): Record<string, unknown> {
  return {
    ID: e.id,
    Running: state.running,
    ExitCode: state.exitCode,
    ProcessConfig: { tty: e.tty, entrypoint: e.cmd[0] ?? '', arguments: e.cmd.slice(1), privileged: false, user: e.user },
    OpenStdin: e.attachStdin,
    OpenStderr: e.attachStderr,
    OpenStdout: e.attachStdout,
    CanRemove: false,
    ContainerID: e.containerId,
    DetachKeys: '',
    Pid: state.pid,
  };
}

/** How long after the 101 an attached exec's first output may go out (see the start route). */
const OUTPUT_AFTER_UPGRADE_MS = 50;

export function execRoutes(router: Router, s: ApiSessions): void {
  const { hull } = s;
  /** Execs whose start is under way (two starts of one exec: the second is refused). */
  const starting = new Set<string>();

  const found = (id: string): ExecRecord => {
    const e = s.execs.get(id);
    if (!e) throw new ExecNotFoundError(id);
    return e;
  };

  router.add('POST', '/containers/{id}/exec', async (ex) => {
    const body = await ex.json();
    if (!isObject(body)) throw new UsageError("the request body must be a JSON object (Docker's ExecConfig)");
    const record = await hull.getContainer(ex.params.id!);
    if (!isLive(statusOfRecord(record))) throw new ConflictError(`Container ${record.id} is not running`);
    const cmd = strings(body, 'Cmd');
    if (cmd.length === 0) throw new UsageError('No exec command specified');
    if (body.Privileged === true) throw new UsageError("Privileged is not supported by hull for exec (the process keeps the container's privileges)");
    await s.sweepExecs();
    const made = createExec(hull.runtime, s.execs, record, {
      cmd,
      tty: body.Tty === true,
      user: typeof body.User === 'string' ? body.User : '',
      ...(typeof body.WorkingDir === 'string' && body.WorkingDir !== '' ? { workdir: body.WorkingDir } : {}),
      env: parseEnvEntries(strings(body, 'Env'), {}),
      attachStdin: body.AttachStdin === true,
      attachStdout: body.AttachStdout === true,
      attachStderr: body.AttachStderr === true,
    });
    ex.reply(201, { Id: made.id });
  });

  router.add('GET', '/exec/{id}/json', async (ex) => {
    const e = found(ex.params.id!);
    // Docker forgets a container's execs with it.
    await hull.getContainer(e.containerId).catch(() => {
      throw new ExecNotFoundError(e.id);
    });
    ex.reply(200, execInspect(e, s.execs.state(e)));
  });

  router.add('POST', '/exec/{id}/resize', async (ex) => {
    const e = found(ex.params.id!);
    const rows = Number(ex.query.get('h'));
    const cols = Number(ex.query.get('w'));
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows <= 0 || cols <= 0) throw new UsageError('invalid terminal size: h and w must be positive');
    if (!s.execs.state(e).running) throw new ConflictError(`Exec ${e.id} is not running`);
    if (e.tty) await resizeTerminal(controlSocketPath(hull.paths.runRoot, e.id), rows, cols);
    ex.reply(200);
  });

  router.add('POST', '/exec/{id}/start', async (ex) => {
    const e = found(ex.params.id!);
    const body = (await ex.json()) ?? {};
    if (!isObject(body)) throw new UsageError('the request body must be a JSON object');
    if (e.monitor || e.startFailed || starting.has(e.id)) throw new ConflictError(`Error: Exec command ${e.id} has already run`);
    const detach = body.Detach === true;
    const size = Array.isArray(body.ConsoleSize) && body.ConsoleSize.length === 2 ? (body.ConsoleSize as unknown[]) : undefined;
    const consoleSize =
      size && typeof size[0] === 'number' && typeof size[1] === 'number' && size[0] > 0 && size[1] > 0 ? { rows: size[0], cols: size[1] } : undefined;
    starting.add(e.id);
    try {
      if (detach) {
        await startExecUnderMonitor(hull.runtime, s.execs, e, consoleSize ? { consoleSize } : {});
        ex.reply(200);
        return;
      }
      // Upgraded first, as Docker's daemon does: a client that reads the 101 through a buffered reader (docker-py)
      // would lose output that came in the same read. A failure after this point can only be told in the stream.
      const conn = ex.hijack();
      const upgradedAt = performance.now();
      let started;
      try {
        started = await startExecUnderMonitor(hull.runtime, s.execs, e, { attach: { stdin: e.attachStdin }, ...(consoleSize ? { consoleSize } : {}) });
      } catch (err) {
        s.execs.save({ ...e, startFailed: true });
        const text = Buffer.from(`${err instanceof Error ? err.message : String(err)}\r\n`);
        conn.end(e.tty ? text : frame(2, text));
        return;
      }
      // The monitor writes the exit code before it closes the attachment: the client's inspect right after sees it (`docker exec`'s status).
      // docker-py then takes the raw socket from under its buffered reader: bytes that arrived with the 101 are lost
      // (`exec_run` came back with no output under load). dockerd's exec start takes tens of ms, so its output never
      // comes that soon; the exec here may, so its output (held in the monitor's pipe meanwhile) waits as long.
      await sleep(Math.max(0, OUTPUT_AFTER_UPGRADE_MS - (performance.now() - upgradedAt)));
      if (started.attachment) await serveAttachment(conn, started.attachment, { terminal: e.tty, stdout: e.attachStdout, stderr: e.attachStderr });
      else conn.end();
    } finally {
      starting.delete(e.id);
    }
  });
}
