// vitest setupFile (every test file): watches the worker's event loop for long synchronous stretches.
//
// A test that runs child processes with spawnSync back to back, never awaiting, holds its worker's
// event loop the whole time. vitest's worker talks to the main process over an RPC whose calls time
// out after 60 s, and that timer is checked before the answer is read: a stretch of 60 s or more that
// starts while a call is in flight fails the whole run with `Timeout calling "onTaskUpdate"`, after
// every test passed. That happens only now and then; this makes it certain and names the test. A
// stretch over WARN_MS is said on stderr; one over FAIL_MS fails the test it was in (or the file,
// for an afterAll hook). The cure is an `await` in the loop (`await yieldToLoop()` from hull-env.ts).
import { afterAll, afterEach, beforeEach, expect } from 'vitest';

const TICK_MS = 250;
// Overridable only for the guard's own test (test/unit/loop-guard.test.ts).
const WARN_MS = Number(process.env.HULL_LOOP_GUARD_WARN_MS ?? 15_000);
const FAIL_MS = Number(process.env.HULL_LOOP_GUARD_FAIL_MS ?? 45_000);

interface Stretch {
  ms: number;
  where: string;
}

let last = performance.now();
let long: Stretch[] = [];

/** The time since the last look, less the tick: how long the loop was held, if that is long. */
function look(where: string): void {
  const now = performance.now();
  const held = now - last - TICK_MS;
  last = now;
  if (held < WARN_MS) return;
  console.warn(`loop-guard: the event loop was held ${(held / 1000).toFixed(1)} s at once (in ${where}); vitest's worker RPC times out at 60 s`);
  if (held > FAIL_MS) long.push({ ms: held, where });
}

const currentTest = () => expect.getState().currentTestName ?? 'a hook';
setInterval(() => look(currentTest()), TICK_MS).unref();

function failOnLong(where: string): void {
  look(where);
  const [first] = long;
  long = [];
  if (first === undefined) return;
  throw new Error(
    `the worker's event loop was held ${(first.ms / 1000).toFixed(1)} s at once by synchronous calls (in ${first.where}): ` +
      `over ${FAIL_MS / 1000} s risks vitest's 60 s RPC timeout; await between the calls (yieldToLoop)`,
  );
}

beforeEach(() => failOnLong('a beforeAll hook'));
afterEach(() => failOnLong(currentTest()));
afterAll(() => failOnLong('an afterAll hook'));
