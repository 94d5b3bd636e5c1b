/**
 * A test hook for crash safety: with HULL_TEST_CRASH_AT=N, the Nth crash point this process
 * passes kills it with SIGKILL, as a kill -9 from outside would at that moment (no cleanup, no
 * finally blocks). `crashPoint('label')` marks the places between two changes to the host or the
 * store; the crash tests run a verb with N = 1, 2, … until it completes without reaching N, so every
 * point is tried, and check that the next command finishes the job. hull-monitor has its own
 * (HULL_TEST_MONITOR_CRASH_AT, native/monitor.cc). Free when unset.
 */
import { writeSync } from 'node:fs';

const crashAt = Number(process.env.HULL_TEST_CRASH_AT ?? 0);
let passed = 0;

export function crashPoint(label: string): void {
  if (!(crashAt > 0)) return;
  passed++;
  if (passed !== crashAt) return;
  // The label on stderr, so a failing crash test can say where it killed.
  writeSync(2, `hull: test crash point ${passed}: ${label}\n`);
  process.kill(process.pid, 'SIGKILL');
}
