/** pids: pids.max (0 or negative: unlimited, as Docker's --pids-limit). */
import type { Controller } from './controller.js';

export const pids: Controller = {
  name: 'pids',
  requestedBy(r) {
    return r.pids !== undefined ? ['--pids-limit'] : [];
  },
  files(r) {
    if (r.pids === undefined) return [];
    return [['pids.max', r.pids.limit > 0 ? String(r.pids.limit) : 'max']];
  },
};
