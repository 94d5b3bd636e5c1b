/**
 * The events the library emits, in Docker's attributes (daemon/events.go): a container's carry
 * its labels, `image` and `name` (and what the action adds: `exitCode`, `signal`, `oldName`);
 * an image's its `name`; a network's `name` and `type` (and `container` for connect/disconnect);
 * a volume's `driver` (and `container`, `destination` for mount). Each is one append (log.ts);
 * none throws into the operation that caused it.
 */
import { renameSync, writeFileSync } from 'node:fs';
import type { ContainerRecord } from '../runtime/container-store.js';
import { containerLabels } from '../runtime/container-store.js';
import { emitEvent, eventLine, eventMessage } from './log.js';

export { emitEvent } from './log.js';

/** A container's attributes, sorted by key as Docker's (a Go map) are. */
export function containerAttributes(record: ContainerRecord, extra: Record<string, string> = {}): Record<string, string> {
  const all: Record<string, string> = { ...containerLabels(record), image: record.image, name: record.name, ...extra };
  return Object.fromEntries(
    Object.keys(all)
      .sort()
      .map((k) => [k, all[k]!]),
  );
}

/**
 * A container event. The warning of a failed append is dropped: events are a record of what
 * happened, and an operation that worked is not made to fail or to print because its record could
 * not be written (the run root that holds the log also holds the container's state, so the
 * failure shows anyway).
 */
export function containerEvent(runRoot: string, record: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
  emitEvent(runRoot, { type: 'container', action, id: record.id, attributes: containerAttributes(record, extra) });
}

/** Image, network and volume events; a failed append is dropped as containerEvent's. */
export function objectEvent(runRoot: string, type: 'image' | 'network' | 'volume', action: string, id: string, attributes: Record<string, string>): void {
  emitEvent(runRoot, { type, action, id, attributes });
}

/** Each volume a container mounts (`mount`) or let go (`unmount`), as Docker's volume events. */
export function volumeEvents(runRoot: string, record: ContainerRecord, action: 'mount' | 'unmount'): void {
  for (const m of record.mounts ?? []) {
    if (m.Type !== 'volume' || !m.Name) continue;
    const attributes: Record<string, string> = { container: record.id, driver: m.Driver ?? 'local' };
    if (action === 'mount') Object.assign(attributes, { destination: m.Destination, propagation: m.Propagation, 'read/write': String(m.RW) });
    objectEvent(runRoot, 'volume', action, m.Name, attributes);
  }
}

/**
 * A detached container's `start` and `die` lines for hull-monitor, in the file it reads at each:
 * the start line, NUL, the die line up to the exit code, NUL, the rest of it, each without the
 * time (native/monitor.cc AppendEvent adds the code and the time). Written at start and again on
 * rename (the name is in them). Returns the file.
 */
export function writeMonitorEvents(file: string, record: ContainerRecord): string {
  const untimed = (line: string) => line.slice(0, line.lastIndexOf(',"time":0,"timeNano":0}'));
  const start = untimed(eventLine(eventMessage({ type: 'container', action: 'start', id: record.id, attributes: containerAttributes(record) }, 0n)));
  const marker = 'EXIT-CODE-MARKER';
  const die = untimed(
    eventLine(eventMessage({ type: 'container', action: 'die', id: record.id, attributes: containerAttributes(record, { exitCode: marker }) }, 0n)),
  );
  const key = `"exitCode":"${marker}`;
  const at = die.indexOf(key) + key.length - marker.length;
  writeFileSync(`${file}.tmp`, `${start}\0${die.slice(0, at)}\0${die.slice(at + marker.length)}`);
  renameSync(`${file}.tmp`, file);
  return file;
}
