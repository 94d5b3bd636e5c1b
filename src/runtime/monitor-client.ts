/**
 * hull's side of hull-monitor's control socket (native/monitor-control.h lists the requests):
 * exits and starts arrive from the monitor as they happen, and `attach` gives the container's
 * output from now on, with its stdin when it has one. A monitor that has gone (its socket missing or
 * refusing) answers `undefined`: the container's record then says how it ended.
 */
import net from 'node:net';
import { PassThrough, type Readable, type Writable } from 'node:stream';

/** Where a container's monitor listens: short, so that it fits a socket address (108 bytes). */
export function controlSocketPath(runRoot: string, id: string): string {
  return `${runRoot}/s/${id}`;
}

function connect(path: string): Promise<net.Socket | undefined> {
  return new Promise((resolve) => {
    const socket = net.createConnection(path);
    socket.once('connect', () => resolve(socket));
    socket.once('error', () => resolve(undefined)); // gone: no monitor answers for the container
  });
}

/** Sends one request and resolves with the first line the monitor answers (undefined: no monitor, or it closed first). */
async function ask(path: string, request: string, accept: (line: string) => boolean = () => true): Promise<string | undefined> {
  const socket = await connect(path);
  if (!socket) return undefined;
  return new Promise((resolve) => {
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (accept(line)) {
          socket.destroy();
          resolve(line);
          return;
        }
      }
    });
    socket.once('close', () => resolve(undefined));
    socket.once('error', () => resolve(undefined));
    socket.write(`${request}\n`); // not ended: a waiter that half-closes counts as gone
  });
}

export interface MonitorExit {
  code: number;
  /** No restart follows (else the monitor restarts the container after its back-off). */
  final: boolean;
}

function parseExit(line: string | undefined): MonitorExit | undefined {
  const m = line === undefined ? null : /^exit (-?\d+) (final|restarting)$/.exec(line);
  return m ? { code: Number(m[1]), final: m[2] === 'final' } : undefined;
}

/** The container's next end (`finalOnly`: its last one, no restart after it); undefined when no monitor answers. */
export async function nextExit(path: string, finalOnly = false): Promise<MonitorExit | undefined> {
  return parseExit(await ask(path, 'wait', (line) => parseExit(line) !== undefined && (!finalOnly || parseExit(line)!.final)));
}

/**
 * Resolves when the container's monitor has finished with it: its last end written, its cgroup
 * removed, its connections closed (at once when no monitor answers).
 */
export async function monitorDone(path: string): Promise<void> {
  await ask(path, 'wait', () => false);
}

/** The container's pid once its monitor has started it; undefined when the start failed or no monitor answers. */
export async function startedPid(path: string): Promise<number | undefined> {
  const line = await ask(path, 'started', (l) => l.startsWith('running ') || l === 'failed' || l.startsWith('exit '));
  const m = line === undefined ? null : /^running (\d+)$/.exec(line);
  return m ? Number(m[1]) : undefined;
}

/** Wakes a monitor waiting to restart the container (the stop marker then ends it). */
export async function askStop(path: string): Promise<void> {
  await ask(path, 'stop');
}

/** The size of the container's terminal. */
export async function resizeTerminal(path: string, rows: number, cols: number): Promise<void> {
  await ask(path, `resize ${rows} ${cols}`);
}

export interface Attachment {
  /** What the container writes (a terminal: everything on stdout). */
  stdout: Readable;
  stderr: Readable;
  /** What goes to the container's stdin (when attached with stdin). */
  stdin: Writable | undefined;
  /** Resolves when the monitor closes the connection (the container has ended for good, or the monitor went). */
  closed: Promise<void>;
  /** Leave: closes the connection to the monitor (the container goes on; `closed` then resolves). */
  detach(): void;
}

/**
 * Attach to the container: its output from now on (Docker's multiplexed frames unless it has a
 * terminal), and its stdin with `stdin` (`once`: ending it ends the container's stdin).
 */
export async function attach(path: string, opts: { stdin: boolean; once: boolean; terminal: boolean }): Promise<Attachment | undefined> {
  const socket = await connect(path);
  if (!socket) return undefined;
  socket.write(`attach${opts.stdin ? ' stdin' : ''}${opts.once ? ' once' : ''}\n`);
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let header: Buffer = Buffer.alloc(0);
  let greeted = false;
  let pending: Buffer = Buffer.alloc(0);
  let frame: { stream: number; left: number } | undefined;
  socket.on('data', (chunk: Buffer) => {
    let data = chunk;
    if (!greeted) {
      header = Buffer.concat([header, data]);
      const nl = header.indexOf(0x0a);
      if (nl < 0) return;
      greeted = true; // "attached\n"
      data = header.subarray(nl + 1);
    }
    if (opts.terminal) {
      if (data.length > 0) stdout.write(data);
      return;
    }
    pending = pending.length === 0 ? data : Buffer.concat([pending, data]);
    for (;;) {
      if (!frame) {
        if (pending.length < 8) return;
        frame = { stream: pending[0]!, left: pending.readUInt32BE(4) };
        pending = pending.subarray(8);
      }
      const take = Math.min(frame.left, pending.length);
      if (take > 0) (frame.stream === 2 ? stderr : stdout).write(pending.subarray(0, take));
      pending = pending.subarray(take);
      frame.left -= take;
      if (frame.left > 0) return;
      frame = undefined;
    }
  });
  const closed = new Promise<void>((resolve) => {
    socket.once('close', () => {
      stdout.end();
      stderr.end();
      resolve();
    });
  });
  socket.on('error', () => socket.destroy());
  return { stdout, stderr, stdin: opts.stdin ? socket : undefined, closed, detach: () => socket.destroy() };
}
