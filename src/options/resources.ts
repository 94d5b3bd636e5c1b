/**
 * Docker's resource flags (`-m`, `--cpus`, `--pids-limit`, `--device-read-bps`, …, as commander
 * gives them: strings) → the runtime-spec's linux.resources, with the checks Docker's CLI makes.
 * Docker's checks across the memory values are the library's (completeResources).
 */
import { statSync } from 'node:fs';
import os from 'node:os';
import { UsageError } from '../errors.js';
import { DEFAULT_CPU_PERIOD } from '../runtime/cgroups/cpu.js';
import type { SpecDeviceRate, SpecResources } from '../runtime/spec.js';
import { parseBytes, parseBytesOrUnlimited, parseCpuList, parseInteger, parseNanoCpus } from './units.js';

export interface ResourceFlags {
  memory?: string;
  memorySwap?: string;
  memoryReservation?: string;
  cpus?: string;
  cpuShares?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: string;
  blkioWeight?: string;
  deviceReadBps?: string[];
  deviceWriteBps?: string[];
  oomKillDisable?: boolean;
}

const MIN_SHARES = 2;
const MAX_SHARES = 262144;

/** The flags that were given, parsed; undefined when none was. */
export function parseResourceFlags(f: ResourceFlags, cpuCount = os.availableParallelism()): SpecResources | undefined {
  const r: SpecResources = {};
  const mem: NonNullable<SpecResources['memory']> = {};
  if (f.memory !== undefined) mem.limit = parseBytes(f.memory, '--memory');
  if (f.memorySwap !== undefined) mem.swap = parseBytesOrUnlimited(f.memorySwap, '--memory-swap');
  if (f.memoryReservation !== undefined) mem.reservation = parseBytes(f.memoryReservation, '--memory-reservation');
  if (f.oomKillDisable) mem.disableOOMKiller = true;
  if (Object.keys(mem).length > 0) r.memory = mem;

  const cpu: NonNullable<SpecResources['cpu']> = {};
  if (f.cpuShares !== undefined) {
    const shares = parseInteger(f.cpuShares, '--cpu-shares');
    if (shares < 0) throw new UsageError(`invalid value ${f.cpuShares} for --cpu-shares: must not be negative`);
    cpu.shares = shares === 0 ? 0 : Math.min(MAX_SHARES, Math.max(MIN_SHARES, shares)); // Docker clamps
  }
  if (f.cpus !== undefined) {
    const nano = parseNanoCpus(f.cpus);
    if (nano > 0 && (nano < 0.01e9 || nano > cpuCount * 1e9)) {
      throw new UsageError(`range of CPUs is from 0.01 to ${cpuCount}.00, as there are only ${cpuCount} CPUs available`);
    }
    cpu.period = DEFAULT_CPU_PERIOD;
    cpu.quota = nano === 0 ? -1 : Math.round((nano * DEFAULT_CPU_PERIOD) / 1e9);
  }
  if (f.cpusetCpus !== undefined) cpu.cpus = parseCpuList(f.cpusetCpus, '--cpuset-cpus');
  if (f.cpusetMems !== undefined) cpu.mems = parseCpuList(f.cpusetMems, '--cpuset-mems');
  if (Object.keys(cpu).length > 0) r.cpu = cpu;

  if (f.pidsLimit !== undefined) r.pids = { limit: Math.max(-1, parseInteger(f.pidsLimit, '--pids-limit')) };

  const bio: NonNullable<SpecResources['blockIO']> = {};
  if (f.blkioWeight !== undefined) {
    const w = parseInteger(f.blkioWeight, '--blkio-weight');
    if (w !== 0 && (w < 10 || w > 1000)) throw new UsageError(`invalid value ${f.blkioWeight} for --blkio-weight: range is from 10 to 1000`);
    bio.weight = w;
  }
  if (f.deviceReadBps?.length) bio.throttleReadBpsDevice = f.deviceReadBps.map((v) => parseDeviceRate(v, '--device-read-bps'));
  if (f.deviceWriteBps?.length) bio.throttleWriteBpsDevice = f.deviceWriteBps.map((v) => parseDeviceRate(v, '--device-write-bps'));
  if (Object.keys(bio).length > 0) r.blockIO = bio;

  return Object.keys(r).length > 0 ? r : undefined;
}

/** `--device-read-bps /dev/sda:1mb` → the block device's numbers and the rate (Docker's format). */
export function parseDeviceRate(value: string, flag: string, stat: (p: string) => { isBlockDevice(): boolean; rdev: number } = statSync): SpecDeviceRate {
  const colon = value.lastIndexOf(':');
  const device = value.slice(0, colon);
  if (colon < 0 || !device.startsWith('/dev/')) throw new UsageError(`bad format for ${flag}: ${value} (expected <device-path>:<rate>, e.g. /dev/sda:1mb)`);
  let rate: number;
  try {
    rate = parseBytes(value.slice(colon + 1), flag);
  } catch {
    throw new UsageError(
      `invalid rate for device: ${value}. The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb`,
    );
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
