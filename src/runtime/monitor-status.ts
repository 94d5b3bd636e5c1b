/** What hull-monitor writes about its container (see native/monitor.cc), read without a lock. */
import { readFileSync } from 'node:fs';

/**
 * The monitor's status file (written atomically on every change). hull writes the first one,
 * `starting`, naming the monitor it has just spawned, before it hands the monitor its plan: from
 * then on the file says which process answers for the container, whatever happens to hull.
 */
export interface MonitorStatus {
  status: 'starting' | 'running' | 'restarting' | 'exited';
  /** The monitor (pid, start time, boot) that wrote this; absent in files of older monitors. */
  monitorPid?: number;
  monitorStartTime?: number;
  bootId?: string;
  pid?: number;
  pidStartTime?: number;
  startedAt?: string;
  exitCode?: number;
  signal?: number | null;
  finishedAt?: string;
  oomKilled?: boolean;
  restartCount?: number;
  error?: string;
}

export function readMonitorStatus(file: string): MonitorStatus | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as MonitorStatus;
  } catch {
    return undefined; // not written yet, or gone with its container
  }
}
