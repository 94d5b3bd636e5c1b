/** memory: memory.max, memory.swap.max (Docker's --memory-swap is memory + swap), memory.low. */
import type { Controller } from './controller.js';

export const memory: Controller = {
  name: 'memory',
  requestedBy(r) {
    const m = r.memory ?? {};
    return [
      ...(m.limit !== undefined ? ['--memory'] : []),
      // (a swap limit always comes with --memory: Docker's default swap is set by hull itself)
      ...(m.swap !== undefined && m.limit === undefined ? ['--memory-swap'] : []),
      ...(m.reservation !== undefined ? ['--memory-reservation'] : []),
    ];
  },
  files(r, has) {
    const m = r.memory ?? {};
    const out: [string, string][] = [];
    if (m.limit !== undefined) out.push(['memory.max', m.limit > 0 ? String(m.limit) : 'max']);
    if (m.swap !== undefined && has('memory.swap.max')) {
      // As runc: cgroup v2 limits swap alone, the spec (and Docker) limit memory + swap.
      const swap = m.swap < 0 || !m.limit || m.limit <= 0 ? 'max' : String(Math.max(0, m.swap - m.limit));
      out.push(['memory.swap.max', swap]);
    }
    if (m.reservation !== undefined) out.push(['memory.low', m.reservation > 0 ? String(m.reservation) : '0']);
    return out;
  },
};

/** The `oom_kill` count of a memory.events file's text (0 when absent). */
export function oomKillsOf(memoryEvents: string): number {
  return Number(/^oom_kill (\d+)$/m.exec(memoryEvents)?.[1] ?? 0);
}
