/** What hull-monitor writes about its container (see native/monitor.cc), read without a lock. */
import { readFileSync } from 'node:fs';

/** The monitor's status file (written atomically on every change). */
export interface MonitorStatus {
  status: 'running' | 'restarting' | 'exited';
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
