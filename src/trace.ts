/**
 * Opt-in phase timing: with HULL_TRACE=1, `trace('label')` prints the milliseconds since the
 * previous mark to stderr. Free when off. For finding where start-up time goes.
 */
const enabled = process.env.HULL_TRACE === '1';
let last = enabled ? performance.now() : 0;

export function trace(label: string): void {
  if (!enabled) return;
  const now = performance.now();
  process.stderr.write(`hull-trace ${label} +${(now - last).toFixed(2)}ms (at ${now.toFixed(1)})\n`);
  last = now;
}
