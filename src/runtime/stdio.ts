/**
 * The container's stdio. A container never holds a file description of the caller's: a process
 * that holds one can reopen it through /proc/self/fd/N, and the reopened file is the host's (a
 * container's root could chmod, chown, truncate or read the caller's file, or the host's
 * /dev/null). So:
 *
 * - 'ignore', and a caller's /dev/null: the container gets its OWN /dev/null, opened inside its root
 *   by the plan's `nullStdio` step (until then the child holds a placeholder it never runs with);
 * - 'inherit' (hull's own 0, 1, 2) that is anything else — a file, a terminal, a pipe, a socket, a
 *   device — is relayed through a pipe of hull's. Pipes are relayed too: a pipe reopened through
 *   /proc/self/fd/N can be opened in the other direction (reading what others write into the
 *   caller's stdout pipe), and its file status flags (O_NONBLOCK) are shared with the caller's
 *   shell and its other processes. Docker relays every stream the same way;
 * - a number: an fd the library's caller made for the container. An anonymous pipe or a socket is
 *   handed over as it is (it leads nowhere but to the caller, who made it for this purpose: the
 *   builder's RUN output, say); anything else (a file) is relayed as 'inherit' is.
 */
import { closeSync, constants, fstatSync, openSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { sys } from '../native/index.js';
import type { RelayOptions } from '../native/types.js';

/** 'inherit': hull's own fd (relayed); 'pipe': a stream for the caller; 'ignore': the container's /dev/null; a number: that fd. */
export type StdioSpec = 'inherit' | 'pipe' | 'ignore' | number;

export interface StdioOptions {
  stdin?: StdioSpec;
  stdout?: StdioSpec;
  stderr?: StdioSpec;
}

/** How each of the container's fds 0, 1, 2 is provided. */
export type StdioRoute =
  /** The container's own /dev/null (the plan's nullStdio step). */
  | { kind: 'null' }
  /** A pipe of hull's, relayed (native/relay.cc) to or from `fd`: hull's own, or a caller's file. */
  | { kind: 'relay'; fd: number }
  /** A pipe of hull's whose other end is a stream for the caller. */
  | { kind: 'pipe' }
  /** The caller's anonymous pipe or socket, handed over. */
  | { kind: 'pass'; fd: number };

export type StdioRoutes = [StdioRoute, StdioRoute, StdioRoute];

const NULL_DEVICE_RDEV = (1 << 8) | 3; // makedev(1, 3)

/** What an fd is: the null device, a pipe or socket (anonymous: nothing on a file system), or anything else. */
export function fdKind(fd: number): 'null' | 'pipe-or-socket' | 'other' {
  try {
    const st = fstatSync(fd);
    if (st.isCharacterDevice() && st.rdev === NULL_DEVICE_RDEV) return 'null';
    if (st.isFIFO() || st.isSocket()) {
      // A named FIFO is a file on the host: reopened, it can be chmod'ed; pipe:[N] and socket:[N] cannot.
      const link = readlinkSync(`/proc/self/fd/${fd}`);
      if (link.startsWith('pipe:[') || link.startsWith('socket:[')) return 'pipe-or-socket';
    }
  } catch {
    // a closed fd: relaying it fails with a clear error where it is opened
  }
  return 'other';
}

/** Decide how each stdio fd reaches the container (see the head of this file). */
export function routeStdio(opts: StdioOptions): StdioRoutes {
  const route = (index: 0 | 1 | 2, spec: StdioSpec): StdioRoute => {
    if (spec === 'ignore') return { kind: 'null' };
    if (spec === 'pipe') return { kind: 'pipe' };
    const fd = spec === 'inherit' ? index : spec;
    const kind = fdKind(fd);
    if (kind === 'null') return { kind: 'null' };
    if (kind === 'pipe-or-socket' && spec !== 'inherit') return { kind: 'pass', fd };
    return { kind: 'relay', fd };
  };
  return [route(0, opts.stdin ?? 'ignore'), route(1, opts.stdout ?? 'inherit'), route(2, opts.stderr ?? 'inherit')];
}

/** Every fd the container's own /dev/null: a detached exec, or a terminal (whose console step then replaces all three). */
export const ALL_NULL_ROUTES: StdioRoutes = [{ kind: 'null' }, { kind: 'null' }, { kind: 'null' }];

/** The plan's nullStdio mask (bit i: fd i gets the container's /dev/null). */
export function nullStdioMask(routes: StdioRoutes): number {
  return routes.reduce((mask, r, i) => (r.kind === 'null' ? mask | (1 << i) : mask), 0);
}

export interface WiredStdio {
  /** What the child gets as 0, 1, 2 (a placeholder where the plan opens the container's /dev/null). */
  childFds: [number, number, number];
  stdin: Writable | undefined;
  stdout: Readable | undefined;
  stderr: Readable | undefined;
  /** Close hull's copies of the child's ends (after spawn). */
  closeChildEnds(): void;
  /** Resolves when every relayed output stream has ended and been written out (so no output is lost). */
  drained(): Promise<void>;
  /** Stop relaying input (the container is gone). */
  stop(): void;
}

/** A relay thread; the end of hull's pipe it was to own is closed if it cannot start. */
function startRelay(from: number, to: number, options: RelayOptions): ReturnType<typeof sys.relay> {
  try {
    return sys.relay(from, to, options);
  } catch (err) {
    closeSync(options.closeFrom ? from : to);
    throw err;
  }
}

export function wireStdio(routes: StdioRoutes): WiredStdio {
  const toClose: number[] = [];
  const ends: Promise<void>[] = [];
  const stoppers: (() => void)[] = [];
  let placeholder: number | undefined;
  const result: WiredStdio = {
    childFds: [0, 1, 2],
    stdin: undefined,
    stdout: undefined,
    stderr: undefined,
    closeChildEnds() {
      for (const fd of toClose.splice(0)) closeSync(fd);
    },
    async drained() {
      await Promise.all(ends);
    },
    stop() {
      for (const s of stoppers.splice(0)) s();
    },
  };
  const nullPlaceholder = (): number => {
    // Never run with: the plan's nullStdio step replaces it before anything of the container runs.
    if (placeholder === undefined) {
      placeholder = openSync('/dev/null', constants.O_RDWR);
      toClose.push(placeholder);
    }
    return placeholder;
  };

  try {
    // stdin
    const input = routes[0];
    if (input.kind === 'null') {
      result.childFds[0] = nullPlaceholder();
    } else if (input.kind === 'pass') {
      result.childFds[0] = input.fd;
    } else {
      const [r, w] = sys.pipe();
      toClose.push(r);
      result.childFds[0] = r;
      if (input.kind === 'pipe') {
        const writer = new net.Socket({ fd: w, readable: false, writable: true });
        writer.on('error', () => undefined); // EPIPE once the container is gone: input no one reads
        result.stdin = writer;
      } else {
        // The relay closes the container's end of the pipe when the input ends (EOF for the
        // container) or is stopped; an unreadable input ends it the same way. It does not keep
        // hull running: input left unread when the container is gone is dropped, as Docker does.
        const relay = startRelay(input.fd, w, { closeFrom: false, closeTo: true, keepAlive: false });
        relay.done.catch(() => undefined);
        stoppers.push(relay.stop);
      }
    }

    // stdout, stderr
    for (const index of [1, 2] as const) {
      const route = routes[index];
      if (route.kind === 'null') {
        result.childFds[index] = nullPlaceholder();
        continue;
      }
      if (route.kind === 'pass') {
        result.childFds[index] = route.fd;
        continue;
      }
      const [r, w] = sys.pipe();
      toClose.push(w);
      result.childFds[index] = w;
      if (route.kind === 'pipe') {
        const reader = new net.Socket({ fd: r, readable: true, writable: false });
        ends.push(new Promise((resolve) => reader.once('close', () => resolve())));
        if (index === 1) result.stdout = reader;
        else result.stderr = reader;
      } else {
        // Relayed until the container's last writer closes the pipe. An output that cannot be
        // written (a full disk, a closed reader) ends the relay: the container's writes then fail
        // with EPIPE, as they would have on the output itself.
        const relay = startRelay(r, route.fd, { closeFrom: true, closeTo: false, keepAlive: true });
        ends.push(
          relay.done.then(
            () => undefined,
            () => undefined,
          ),
        );
      }
    }
  } catch (err) {
    result.stop();
    result.closeChildEnds();
    throw err;
  }
  return result;
}
