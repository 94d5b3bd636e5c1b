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
import { type EventInput, emitEvent, eventLine, eventMessage } from './log.js';

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

/** Image, network, volume and pod events; a failed append is dropped as containerEvent's. */
export function objectEvent(
  runRoot: string,
  type: 'image' | 'network' | 'volume' | 'pod',
  action: string,
  id: string,
  attributes: Record<string, string>,
): void {
  emitEvent(runRoot, { type, action, id, attributes });
}

/** Each volume a container mounts (`mount`) or let go (`unmount`), as Docker's volume events. */
export function volumeEvents(runRoot: string, record: ContainerRecord, action: 'mount' | 'unmount'): void {
  for (const input of volumeEventInputs(record, action)) emitEvent(runRoot, input);
}

function volumeEventInputs(record: ContainerRecord, action: 'mount' | 'unmount'): EventInput[] {
  const out: EventInput[] = [];
  for (const m of record.mounts ?? []) {
    if (m.Type !== 'volume' || !m.Name) continue;
    const attributes: Record<string, string> = { container: record.id, driver: m.Driver ?? 'local' };
    if (action === 'mount') Object.assign(attributes, { destination: m.Destination, propagation: m.Propagation, 'read/write': String(m.RW) });
    out.push({ type: 'volume', action, id: m.Name, attributes });
  }
  return out;
}

/**
 * A detached container's event lines for hull-monitor, in the file it reads at each start and end
 * (native/monitor.cc AppendEvent, which adds the exit code and the time), NUL-separated: the start
 * line, the die line up to the exit code, the rest of it, the oom line, the volumes' mount lines,
 * their unmount lines (newline-separated). Written at start and again on rename (the name is in
 * them). Returns the file.
 */
export function writeMonitorEvents(file: string, record: ContainerRecord): string {
  const untimed = (input: EventInput) => {
    const line = eventLine(eventMessage(input, 0n));
    return line.slice(0, line.lastIndexOf(',"time":0,"timeNano":0}'));
  };
  const start = untimed({ type: 'container', action: 'start', id: record.id, attributes: containerAttributes(record) });
  const marker = 'EXIT-CODE-MARKER';
  const die = untimed({ type: 'container', action: 'die', id: record.id, attributes: containerAttributes(record, { exitCode: marker }) });
  const key = `"exitCode":"${marker}`;
  const at = die.indexOf(key) + key.length - marker.length;
  const oom = untimed({ type: 'container', action: 'oom', id: record.id, attributes: containerAttributes(record) });
  const mounts = volumeEventInputs(record, 'mount').map(untimed).join('\n');
  const unmounts = volumeEventInputs(record, 'unmount').map(untimed).join('\n');
  writeFileSync(`${file}.tmp`, [start, die.slice(0, at), die.slice(at + marker.length), oom, mounts, unmounts].join('\0'));
  renameSync(`${file}.tmp`, file);
  return file;
}
