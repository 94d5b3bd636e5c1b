/** cpuset: cpuset.cpus and cpuset.mems. */
import type { Controller } from './controller.js';

export const cpuset: Controller = {
  name: 'cpuset',
  requestedBy(r) {
    return [...(r.cpu?.cpus !== undefined ? ['--cpuset-cpus'] : []), ...(r.cpu?.mems !== undefined ? ['--cpuset-mems'] : [])];
  },
  files(r) {
    const out: [string, string][] = [];
    if (r.cpu?.cpus !== undefined) out.push(['cpuset.cpus', r.cpu.cpus]);
    if (r.cpu?.mems !== undefined) out.push(['cpuset.mems', r.cpu.mems]);
    return out;
  },
};
