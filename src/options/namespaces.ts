/**
 * `--pid host|container:NAME`, `--ipc private|shareable|host|none|container:NAME`, `--uts host`,
 * `--cgroupns host|private` → the typed namespace modes (Docker's PidMode, IpcMode, UTSMode,
 * CgroupnsMode strings; the Engine API sends the same strings).
 */
import { UsageError } from '../errors.js';
import type { CgroupnsMode, IpcMode, PidMode, UtsMode } from '../runtime/namespaces.js';

function containerOf(text: string, flag: string): string | undefined {
  if (!text.startsWith('container:')) return undefined;
  const name = text.slice('container:'.length);
  if (name === '') throw new UsageError(`--${flag}: container: needs a container name or id`);
  return name;
}

export function parsePidMode(text: string): PidMode {
  if (text === '' || text === 'private') return { mode: 'private' };
  if (text === 'host') return { mode: 'host' };
  const container = containerOf(text, 'pid');
  if (container !== undefined) return { mode: 'container', container };
  throw new UsageError(`--pid: invalid PID mode '${text}' (use host or container:NAME)`);
}

export function parseIpcMode(text: string): IpcMode {
  if (text === '') return { mode: 'private' };
  if (text === 'private' || text === 'shareable' || text === 'host' || text === 'none') return { mode: text };
  const container = containerOf(text, 'ipc');
  if (container !== undefined) return { mode: 'container', container };
  throw new UsageError(`--ipc: invalid IPC mode '${text}' (use private, shareable, host, none or container:NAME)`);
}

export function parseUtsMode(text: string): UtsMode {
  if (text === '' || text === 'private') return { mode: 'private' };
  if (text === 'host') return { mode: 'host' };
  throw new UsageError(`--uts: invalid UTS mode '${text}' (use host)`);
}

export function parseCgroupnsMode(text: string): CgroupnsMode {
  if (text === 'private' || text === 'host') return { mode: text };
  throw new UsageError(`--cgroupns: invalid cgroup namespace mode '${text}' (use host or private)`);
}
