/**
 * The events log: one append-only file per run root (`<runRoot>/events/events.log`), one line of
 * Docker's event JSON per event, written by whichever process causes the event (the CLI, the API,
 * hull-monitor for a detached container's `die`). It lives under the run root because Docker's
 * events are the daemon's memory: they do not survive a reboot, and neither do these.
 *
 * Many writers, nothing lost or doubled: each event is one write(2) of a whole line to a file
 * opened with O_APPEND, and lines are kept under PIPE_BUF (4 KiB), so appends never interleave.
 * Bounded: a writer that finds the file past the limit renames it to `events.log.1` (the one before
 * goes) under a flock, after checking the file is still the one it wrote to (another writer may
 * have rotated meanwhile). A writer that opened the old file just before the rename still lands in
 * `.1`, which readers keep draining (see follow.ts).
 *
 * This module is on `hull run`'s path: it imports only node:fs, node:path and the addon's loader.
 */
import { closeSync, fstatSync, mkdirSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { sys } from '../native/index.js';

const LOCK_EX = 2;
const LOCK_NB = 4;

export type EventType = 'container' | 'image' | 'network' | 'volume' | 'pod';

/** Docker's event message (the API's and `docker events --format '{{json .}}'`'s shape). */
export interface EventMessage {
  /** Docker's legacy fields, kept for containers and images. */
  status?: string;
  id?: string;
  from?: string;
  Type: EventType;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  /** Nanoseconds since the epoch: a bigint, as a double loses the last digits (written as the integer it is: eventLine). */
  timeNano: bigint;
}

/** What a caller says about an event; the rest (legacy fields, scope, time) is filled in here. */
export interface EventInput {
  type: EventType;
  action: string;
  id: string;
  attributes?: Record<string, string>;
}

/** Lines stay under PIPE_BUF so an O_APPEND write of one is never interleaved with another's. */
export const MAX_LINE = 4096;
const DEFAULT_MAX_BYTES = 8 * 1024 * 1024;
const ATTRIBUTE_MAX = 512;

export const eventsDir = (runRoot: string): string => path.join(runRoot, 'events');
export const eventsFile = (runRoot: string): string => path.join(eventsDir(runRoot), 'events.log');
export const rotatedFile = (runRoot: string): string => `${eventsFile(runRoot)}.1`;

/** The rotation limit: HULL_EVENTS_MAX_BYTES (for tests), else 8 MiB. */
export function maxLogBytes(): number {
  const n = Number(process.env.HULL_EVENTS_MAX_BYTES);
  return Number.isInteger(n) && n > 0 ? n : DEFAULT_MAX_BYTES;
}

/** Docker's message for an event at `nowNs` (nanoseconds since the epoch). */
export function eventMessage(input: EventInput, nowNs: bigint = wallClockNs()): EventMessage {
  const attributes = input.attributes ?? {};
  // Docker keeps status/id/from for containers and images only (the API's pre-1.22 fields).
  const legacy =
    input.type === 'container'
      ? { status: input.action, id: input.id, from: attributes.image ?? '' }
      : input.type === 'image'
        ? { status: input.action, id: input.id }
        : {};
  return {
    ...legacy,
    Type: input.type,
    Action: input.action,
    Actor: { ID: input.id, Attributes: attributes },
    scope: 'local',
    time: Number(nowNs / 1_000_000_000n),
    timeNano: nowNs,
  };
}

/** Attributes a cut line keeps: the ones Docker sets itself (the others are labels). */
const KEPT = new Set(['name', 'image', 'exitCode', 'signal', 'oldName', 'container', 'type', 'driver', 'destination', 'execID']);

/** Docker's JSON of the message, timeNano the exact integer (it is the last key). */
export function eventJson(message: EventMessage): string {
  const { timeNano, ...rest } = message;
  return `${JSON.stringify(rest).slice(0, -1)},"timeNano":${timeNano}}`;
}

/** The message as one line of at most MAX_LINE bytes: long values are cut, then labels dropped from the end. */
export function eventLine(message: EventMessage): string {
  let line = eventJson(message) + '\n';
  if (Buffer.byteLength(line) <= MAX_LINE) return line;
  const attributes = new Map<string, string>();
  for (const [k, v] of Object.entries(message.Actor.Attributes)) attributes.set(k.slice(0, ATTRIBUTE_MAX), v.slice(0, ATTRIBUTE_MAX));
  const droppable = [...attributes.keys()].filter((k) => !KEPT.has(k));
  for (;;) {
    line = eventJson({ ...message, Actor: { ...message.Actor, Attributes: Object.fromEntries(attributes) } }) + '\n';
    const next = droppable.pop();
    if (Buffer.byteLength(line) <= MAX_LINE || next === undefined) return line;
    attributes.delete(next);
  }
}

function wallClockNs(): bigint {
  // Date.now() is the wall clock (hrtime is monotonic, not since the epoch); the sub-ms part
  // from hrtime only orders events of one process within a millisecond.
  return BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
}

/**
 * Append an event to the root's log. Never throws into the operation that caused it: a failure to
 * log (a read-only or full run root) is returned as a warning for the caller to show or drop.
 */
export function emitEvent(runRoot: string, input: EventInput): string | undefined {
  try {
    appendLine(runRoot, eventLine(eventMessage(input)));
    return undefined;
  } catch (err) {
    return `could not log the ${input.type} ${input.action} event: ${(err as Error).message}`;
  }
}

/** One open(O_APPEND) + write + close (and an fstat for the size); rotates past the limit. */
export function appendLine(runRoot: string, line: string): void {
  const file = eventsFile(runRoot);
  let fd: number;
  try {
    fd = openSync(file, 'a', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    mkdirSync(eventsDir(runRoot), { recursive: true, mode: 0o700 });
    fd = openSync(file, 'a', 0o600);
  }
  let size: number;
  let ino: number;
  try {
    const data = Buffer.from(line);
    if (writeSync(fd, data) !== data.length) throw new Error('short write');
    ({ size, ino } = fstatSync(fd));
  } finally {
    closeSync(fd);
  }
  if (size > maxLogBytes()) rotate(runRoot, ino);
}

/**
 * Rename the log to `.1` if it is still the file of inode `ino` (a writer that lost the race to
 * another rotation leaves the new file alone). Under a flock, taken without waiting: a busy lock
 * is another writer rotating.
 */
function rotate(runRoot: string, ino: number): void {
  const lockFile = path.join(eventsDir(runRoot), 'rotate.lock');
  const fd = openSync(lockFile, 'a', 0o600);
  try {
    try {
      sys.flock(fd, LOCK_EX | LOCK_NB);
    } catch {
      return; // another writer is rotating
    }
    const file = eventsFile(runRoot);
    let now;
    try {
      now = statSync(file);
    } catch {
      return; // rotated and not yet written again
    }
    if (now.ino !== ino || now.size <= maxLogBytes()) return;
    renameSync(file, rotatedFile(runRoot));
  } finally {
    closeSync(fd); // releases the flock
  }
}
