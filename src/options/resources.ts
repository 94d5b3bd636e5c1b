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
  cpuPeriod?: string;
  cpuQuota?: string;
  cpuShares?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: string;
  blkioWeight?: string;
  deviceReadBps?: string[];
  deviceWriteBps?: string[];
  deviceReadIops?: string[];
  deviceWriteIops?: string[];
  memorySwappiness?: string;
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
  if (f.memorySwappiness !== undefined) {
    const v = parseInteger(f.memorySwappiness, '--memory-swappiness');
    // Docker: -1 is "not set" (the host's default); else 0..100 (its daemon's message).
    if (v !== -1 && (v < 0 || v > 100)) throw new UsageError(`Invalid value: ${v}, valid memory swappiness range is 0-100`);
    if (v !== -1) mem.swappiness = v;
  }
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
  if (f.cpus !== undefined && f.cpuPeriod !== undefined) throw new UsageError('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (f.cpus !== undefined && f.cpuQuota !== undefined) throw new UsageError('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if (f.cpuPeriod !== undefined) {
    const period = parseInteger(f.cpuPeriod, '--cpu-period');
    // Docker's daemon: 0 is "not set"; otherwise 1 ms .. 1 s.
    if (period !== 0 && (period < 1000 || period > 1_000_000))
      throw new UsageError('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
    if (period !== 0) cpu.period = period;
  }
  if (f.cpuQuota !== undefined) {
    const quota = parseInteger(f.cpuQuota, '--cpu-quota');
    if (quota > 0 && quota < 1000) throw new UsageError('CPU cfs quota can not be less than 1ms (i.e. 1000)');
    // 0 and -1: no limit (cpu.max "max"), as Docker.
    if (quota !== 0) cpu.quota = quota < 0 ? -1 : quota;
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
  if (f.deviceReadIops?.length) bio.throttleReadIOPSDevice = f.deviceReadIops.map((v) => parseDeviceIops(v, '--device-read-iops'));
  if (f.deviceWriteIops?.length) bio.throttleWriteIOPSDevice = f.deviceWriteIops.map((v) => parseDeviceIops(v, '--device-write-iops'));
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
  return { ...blockDevice(device, flag, stat), rate };
}

/** `--device-read-iops /dev/sda:1000` → the block device's numbers and the rate in IO per second (Docker's format). */
export function parseDeviceIops(value: string, flag: string, stat: (p: string) => { isBlockDevice(): boolean; rdev: number } = statSync): SpecDeviceRate {
  const colon = value.lastIndexOf(':');
  const device = value.slice(0, colon);
  if (colon < 0 || !device.startsWith('/dev/')) throw new UsageError(`bad format for ${flag}: ${value} (expected <device-path>:<number>, e.g. /dev/sda:1000)`);
  const text = value.slice(colon + 1);
  if (!/^\d+$/.test(text)) {
    throw new UsageError(`invalid rate for device: ${value}. The correct format is <device-path>:<number>. Number must be a positive integer`);
  }
  return { ...blockDevice(device, flag, stat), rate: Number(text) };
}

/** A block device's major and minor numbers. */
function blockDevice(device: string, flag: string, stat: (p: string) => { isBlockDevice(): boolean; rdev: number }): { major: number; minor: number } {
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
  return { major, minor };
}
