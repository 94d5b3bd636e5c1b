// The loop guard (test/helpers/loop-guard.ts, a setupFile of every test file) fails a test that holds
// its worker's event loop too long, and only that one: shown on a fixture run by vitest itself, with
// the thresholds lowered so it takes a second.
import path from 'node:path';
import { expect, it } from 'vitest';
import { runAsync } from '../helpers/child-process.js';
import { PROJECT } from '../helpers/hull-env.js';

it('fails the test that held the event loop over the limit, names it, and passes the one that awaited', async () => {
  const r = await runAsync(
    process.execPath,
    [path.join(PROJECT, 'node_modules/vitest/vitest.mjs'), 'run', '--root', path.join(PROJECT, 'test/fixtures/loop-guard')],
    {
      env: { ...process.env, HULL_LOOP_GUARD_WARN_MS: '500', HULL_LOOP_GUARD_FAIL_MS: '900', NO_COLOR: '1' },
    },
  );
  const out = r.stdout + r.stderr;
  expect(r.code, out).toBe(1);
  expect(out).toMatch(/✓ awaits between its child processes/);
  expect(out).toMatch(/× holds the loop with back-to-back spawnSync calls/);
  expect(out).toMatch(/event loop was held 1\.\d s at once by synchronous calls \(in holds the loop with back-to-back spawnSync calls\)/);
  expect(out).toMatch(/Tests {2}1 failed \| 1 passed/);
}, 60_000);
