/**
 * Exec: `POST /containers/{id}/exec` makes a session, `POST /exec/{id}/start` runs it (hijacked:
 * its output framed, or raw with a terminal; the client's input to its stdin), `GET
 * /exec/{id}/json` tells its state and exit code, `POST /exec/{id}/resize` sizes its terminal.
 */
import { ConflictError, ExecNotFoundError, UsageError } from '../../errors.js';
import { parseEnvEntries } from '../../options/env.js';
import { isLive, statusOfRecord } from '../../runtime/states.js';
import type { Router } from '../router.js';
import type { ApiSessions, ExecSession } from '../sessions.js';
import { relayOutput } from '../streams.js';

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
function execInspect(e: ExecSession): Record<string, unknown> {
  return {
    ID: e.id,
    Running: e.running,
    ExitCode: e.exitCode,
    ProcessConfig: { tty: e.tty, entrypoint: e.cmd[0] ?? '', arguments: e.cmd.slice(1), privileged: e.privileged, user: e.user },
    OpenStdin: e.attachStdin,
    OpenStderr: e.attachStderr,
    OpenStdout: e.attachStdout,
    CanRemove: false,
    ContainerID: e.containerId,
    DetachKeys: '',
    Pid: e.pid,
  };
}

export function execRoutes(router: Router, s: ApiSessions): void {
  const { hull } = s;

  router.add('POST', '/containers/{id}/exec', async (ex) => {
    const body = await ex.json();
    if (!isObject(body)) throw new UsageError("the request body must be a JSON object (Docker's ExecConfig)");
    const record = await hull.getContainer(ex.params.id!);
    if (!isLive(statusOfRecord(record))) throw new ConflictError(`Container ${record.id} is not running`);
    const cmd = strings(body, 'Cmd');
    if (cmd.length === 0) throw new UsageError('No exec command specified');
    if (body.Privileged === true) throw new UsageError("Privileged is not supported by hull for exec (the process keeps the container's privileges)");
    const session = s.addExec({
      containerId: record.id,
      cmd,
      tty: body.Tty === true,
      user: typeof body.User === 'string' ? body.User : '',
      workdir: typeof body.WorkingDir === 'string' && body.WorkingDir !== '' ? body.WorkingDir : undefined,
      env: parseEnvEntries(strings(body, 'Env'), {}),
      privileged: false,
      attachStdin: body.AttachStdin === true,
      attachStdout: body.AttachStdout === true,
      attachStderr: body.AttachStderr === true,
    });
    ex.reply(201, { Id: session.id });
  });

  router.add('GET', '/exec/{id}/json', async (ex) => {
    const e = s.exec(ex.params.id!);
    if (!e) throw new ExecNotFoundError(ex.params.id!);
    ex.reply(200, execInspect(e));
  });

  router.add('POST', '/exec/{id}/resize', async (ex) => {
    const e = s.exec(ex.params.id!);
    if (!e) throw new ExecNotFoundError(ex.params.id!);
    const rows = Number(ex.query.get('h'));
    const cols = Number(ex.query.get('w'));
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows <= 0 || cols <= 0) throw new UsageError('invalid terminal size: h and w must be positive');
    e.process?.terminal?.resize(rows, cols);
    ex.reply(200);
  });

  router.add('POST', '/exec/{id}/start', async (ex) => {
    const e = s.exec(ex.params.id!);
    if (!e) throw new ExecNotFoundError(ex.params.id!);
    const body = (await ex.json()) ?? {};
    if (!isObject(body)) throw new UsageError('the request body must be a JSON object');
    if (e.running || e.exitCode !== null) throw new ConflictError(`Error: Exec command ${e.id} has already run`);
    const detach = body.Detach === true;
    const size = Array.isArray(body.ConsoleSize) && body.ConsoleSize.length === 2 ? (body.ConsoleSize as number[]) : undefined;
    e.running = true;
    let proc;
    try {
      proc = await hull.exec(e.containerId, {
        cmd: e.cmd,
        env: e.env,
        ...(e.user ? { user: e.user } : {}),
        ...(e.workdir ? { workdir: e.workdir } : {}),
        tty: e.tty,
        ...(e.tty && size && size[0]! > 0 ? { consoleSize: { rows: size[0]!, cols: size[1]! } } : {}),
        detach,
        stdin: !detach && e.attachStdin ? 'pipe' : 'ignore',
        stdout: !detach && e.attachStdout ? 'pipe' : 'ignore',
        stderr: !detach && e.attachStderr ? 'pipe' : 'ignore',
      });
    } catch (err) {
      e.running = false;
      e.exitCode = 126;
      throw err;
    }
    e.process = proc;
    e.pid = proc.pid;
    const ended = proc.wait().then((code) => {
      e.exitCode = code;
      e.running = false;
      e.process = undefined;
    });
    if (detach) {
      ex.reply(200);
      return;
    }
    const conn = ex.hijack();
    const terminal = proc.terminal?.stream;
    const input = terminal ?? proc.stdin;
    if (e.attachStdin && input) conn.pipe(input);
    const output = relayOutput(conn, terminal ? { stdout: terminal } : { stdout: proc.stdout ?? undefined, stderr: proc.stderr ?? undefined }, e.tty);
    // The exit code is known before the stream ends: the client asks for it right after (`docker exec`'s status).
    await ended;
    await output;
    conn.end();
  });
}
