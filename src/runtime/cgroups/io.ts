/** io: io.bfq.weight or io.weight (from --blkio-weight, runc's conversion) and io.max (bps per device). */
import { statSync } from 'node:fs';
import { UsageError } from '../../errors.js';
import type { SpecDeviceRate } from '../spec.js';
import type { Controller } from './controller.js';
import { parseBytes } from './units.js';

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
    for (const [dev, limits] of lines) out.push(['io.max', `${dev} ${limits.join(' ')}`]);
    return out;
  },
};

/** `--device-read-bps /dev/sda:1mb` → the block device's numbers and the rate (Docker's format). */
export function parseDeviceRate(value: string, flag: string, stat: (p: string) => { isBlockDevice(): boolean; rdev: number } = statSync): SpecDeviceRate {
  const colon = value.lastIndexOf(':');
  const device = value.slice(0, colon);
  if (colon < 0 || !device.startsWith('/dev/')) throw new UsageError(`bad format for ${flag}: ${value} (expected <device-path>:<rate>, e.g. /dev/sda:1mb)`);
  let rate: number;
  try {
    rate = parseBytes(value.slice(colon + 1), flag);
  } catch {
    throw new UsageError(`invalid rate for device: ${value}. The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb`);
  }
  let st;
  try {
    st = stat(device);
  } catch (err) {
    throw new UsageError(`${flag}: ${device}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (!st.isBlockDevice()) throw new UsageError(`${flag}: ${device} is not a block device`);
  // Linux's dev_t: major in bits 8-19 (and 32+), minor in bits 0-7 and 20-31.
  const rdev = BigInt(st.rdev);
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  return { major, minor, rate };
}
