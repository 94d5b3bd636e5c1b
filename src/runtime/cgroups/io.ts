/** io: io.bfq.weight or io.weight (from --blkio-weight, runc's conversion) and io.max (bps and iops per device). */
import type { SpecDeviceRate } from '../spec.js';
import type { Controller } from './controller.js';

/** runc's convertBlkIOToIOWeightValue: [10, 1000] → [1, 10000]. */
export function blkioToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

export const io: Controller = {
  name: 'io',
  requestedBy(r) {
    const b = r.blockIO ?? {};
    return [
      ...(b.weight !== undefined ? ['--blkio-weight'] : []),
      ...(b.throttleReadBpsDevice?.length ? ['--device-read-bps'] : []),
      ...(b.throttleWriteBpsDevice?.length ? ['--device-write-bps'] : []),
      ...(b.throttleReadIOPSDevice?.length ? ['--device-read-iops'] : []),
      ...(b.throttleWriteIOPSDevice?.length ? ['--device-write-iops'] : []),
    ];
  },
  files(r, has) {
    const b = r.blockIO ?? {};
    const out: [string, string][] = [];
    if (b.weight !== undefined && b.weight > 0) {
      // As runc: BFQ takes the blkio range as it is; otherwise io.weight (iocost).
      if (has('io.bfq.weight')) out.push(['io.bfq.weight', String(b.weight)]);
      else out.push(['io.weight', `default ${blkioToIoWeight(b.weight)}`]);
    }
    const lines = new Map<string, string[]>();
    const add = (rates: SpecDeviceRate[] | undefined, key: string) => {
      for (const d of rates ?? []) {
        const dev = `${d.major}:${d.minor}`;
        lines.set(dev, [...(lines.get(dev) ?? []), `${key}=${d.rate > 0 ? d.rate : 'max'}`]);
      }
    };
    add(b.throttleReadBpsDevice, 'rbps');
    add(b.throttleWriteBpsDevice, 'wbps');
    add(b.throttleReadIOPSDevice, 'riops');
    add(b.throttleWriteIOPSDevice, 'wiops');
    for (const [dev, limits] of lines) out.push(['io.max', `${dev} ${limits.join(' ')}`]);
    return out;
  },
};
