/** Signal names as Docker takes them: "SIGTERM", "TERM", "term" or "15". */
import { constants } from 'node:os';
import { UsageError } from '../errors.js';

export function parseSignal(text: string): number {
  const t = text.trim();
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    if (n >= 1 && n <= 64) return n;
    throw new UsageError(`invalid signal: ${text}`);
  }
  const upper = t.toUpperCase();
  const name = (upper.startsWith('SIG') ? upper : `SIG${upper}`) as keyof typeof constants.signals;
  const rt = /^SIGRTMIN(?:\+(\d+))?$/.exec(name);
  if (rt) return 34 + Number(rt[1] ?? 0);
  const n = constants.signals[name];
  if (n === undefined) throw new UsageError(`invalid signal: ${text}`);
  return n;
}
