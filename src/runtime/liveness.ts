/**
 * Is a recorded process still the one hull started? A pid alone can be reused; the pair of pid and
 * its start time (field 22 of /proc/PID/stat, in clock ticks since boot) cannot.
 */
import { closeSync, readFileSync } from 'node:fs';

/** The start time of `pid`, or undefined when there is no such process (or only its zombie). */
export function processStartTime(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // no such process (any read error of /proc/PID means it is gone for us)
  }
  // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined; // dead, waiting to be reaped
  const start = Number(fields[19]);
  return Number.isFinite(start) ? start : undefined;
}

export function isSameProcess(pid: number, startTime: number | undefined): boolean {
  const now = processStartTime(pid);
  return now !== undefined && (startTime === undefined || now === startTime);
}

/**
 * A pidfd for the recorded process, or undefined when it is gone. The start time is checked after
 * the pidfd is open, so the fd cannot name a process that merely reuses the pid.
 */
export async function openProcess(pid: number | undefined, startTime: number | undefined): Promise<number | undefined> {
  if (pid === undefined || pid <= 0) return undefined;
  const { sys } = await import('../native/index.js');
  let fd: number;
  try {
    fd = sys.pidfdOpen(pid);
  } catch (err) {
    if ((err as { errno?: string }).errno === 'ESRCH') return undefined;
    throw err;
  }
  if (!isSameProcess(pid, startTime)) {
    closeSync(fd);
    return undefined;
  }
  return fd;
}

/** The command name of a process (/proc/PID/comm), '' when it is gone. */
export function processName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}
