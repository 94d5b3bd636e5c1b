/** A container's processes as `top` shows them (the CLI's table and the Engine API's `{Titles, Processes}`), from /proc. */
import { readFileSync } from 'node:fs';

export interface ProcessTable {
  Titles: string[];
  Processes: string[][];
}

/** UID, PID, PPID and CMD of each pid (host pids, in order); one that ended meanwhile is left out. */
export function processTable(pids: readonly number[]): ProcessTable {
  const rows: string[][] = [];
  for (const pid of [...pids].sort((a, b) => a - b)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] ?? '';
      const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '';
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
      rows.push([uid === '0' ? 'root' : uid, String(pid), ppid, cmdline]);
    } catch {
      // ended meanwhile
    }
  }
  return { Titles: ['UID', 'PID', 'PPID', 'CMD'], Processes: rows };
}
