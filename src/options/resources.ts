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

/**
 * The resource values as numbers (Docker's HostConfig fields: the Engine API's JSON gives them so,
 * the CLI's flags are parsed into them): both edges reach linux.resources through resourcesFromValues.
 * Absent: not given. The device rates, which need the host's devices, are the flags' own.
 */
export interface ResourceValues {
  memory?: number;
  memorySwap?: number;
  memoryReservation?: number;
  nanoCpus?: number;
  cpuPeriod?: number;
  cpuQuota?: number;
  cpuShares?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: number;
  blkioWeight?: number;
  memorySwappiness?: number;
  oomKillDisable?: boolean;
}

/** The flags that were given, parsed; undefined when none was. */
export function parseResourceFlags(f: ResourceFlags, cpuCount = os.availableParallelism()): SpecResources | undefined {
  const values: ResourceValues = {};
  if (f.memory !== undefined) values.memory = parseBytes(f.memory, '--memory');
  if (f.memorySwap !== undefined) values.memorySwap = parseBytesOrUnlimited(f.memorySwap, '--memory-swap');
  if (f.memoryReservation !== undefined) values.memoryReservation = parseBytes(f.memoryReservation, '--memory-reservation');
  if (f.oomKillDisable) values.oomKillDisable = true;
  if (f.memorySwappiness !== undefined) values.memorySwappiness = parseInteger(f.memorySwappiness, '--memory-swappiness');
  if (f.cpuShares !== undefined) values.cpuShares = parseInteger(f.cpuShares, '--cpu-shares');
  if (f.cpus !== undefined) values.nanoCpus = parseNanoCpus(f.cpus);
  if (f.cpuPeriod !== undefined) values.cpuPeriod = parseInteger(f.cpuPeriod, '--cpu-period');
  if (f.cpuQuota !== undefined) values.cpuQuota = parseInteger(f.cpuQuota, '--cpu-quota');
  if (f.cpusetCpus !== undefined) values.cpusetCpus = parseCpuList(f.cpusetCpus, '--cpuset-cpus');
  if (f.cpusetMems !== undefined) values.cpusetMems = parseCpuList(f.cpusetMems, '--cpuset-mems');
  if (f.pidsLimit !== undefined) values.pidsLimit = parseInteger(f.pidsLimit, '--pids-limit');
  if (f.blkioWeight !== undefined) values.blkioWeight = parseInteger(f.blkioWeight, '--blkio-weight');
  const r = resourcesFromValues(values, cpuCount) ?? {};
  const bio: NonNullable<SpecResources['blockIO']> = { ...r.blockIO };
  if (f.deviceReadBps?.length) bio.throttleReadBpsDevice = f.deviceReadBps.map((v) => parseDeviceRate(v, '--device-read-bps'));
  if (f.deviceWriteBps?.length) bio.throttleWriteBpsDevice = f.deviceWriteBps.map((v) => parseDeviceRate(v, '--device-write-bps'));
  if (f.deviceReadIops?.length) bio.throttleReadIOPSDevice = f.deviceReadIops.map((v) => parseDeviceIops(v, '--device-read-iops'));
  if (f.deviceWriteIops?.length) bio.throttleWriteIOPSDevice = f.deviceWriteIops.map((v) => parseDeviceIops(v, '--device-write-iops'));
  if (Object.keys(bio).length > 0) r.blockIO = bio;
  return Object.keys(r).length > 0 ? r : undefined;
}

/** The values given, checked as Docker's CLI and daemon check them, as linux.resources; undefined when none was. */
export function resourcesFromValues(v: ResourceValues, cpuCount = os.availableParallelism()): SpecResources | undefined {
  const r: SpecResources = {};
  const mem: NonNullable<SpecResources['memory']> = {};
  if (v.memory !== undefined) mem.limit = v.memory;
  if (v.memorySwap !== undefined) mem.swap = v.memorySwap;
  if (v.memoryReservation !== undefined) mem.reservation = v.memoryReservation;
  if (v.oomKillDisable) mem.disableOOMKiller = true;
  if (v.memorySwappiness !== undefined) {
    const s = v.memorySwappiness;
    // Docker: -1 is "not set" (the host's default); else 0..100 (its daemon's message).
    if (s !== -1 && (s < 0 || s > 100)) throw new UsageError(`Invalid value: ${s}, valid memory swappiness range is 0-100`);
    if (s !== -1) mem.swappiness = s;
  }
  if (Object.keys(mem).length > 0) r.memory = mem;

  const cpu: NonNullable<SpecResources['cpu']> = {};
  if (v.cpuShares !== undefined) {
    const shares = v.cpuShares;
    if (shares < 0) throw new UsageError(`invalid value ${shares} for --cpu-shares: must not be negative`);
    cpu.shares = shares === 0 ? 0 : Math.min(MAX_SHARES, Math.max(MIN_SHARES, shares)); // Docker clamps
  }
  if (v.nanoCpus !== undefined) {
    const nano = v.nanoCpus;
    if (nano < 0 || (nano > 0 && (nano < 0.01e9 || nano > cpuCount * 1e9))) {
      throw new UsageError(`range of CPUs is from 0.01 to ${cpuCount}.00, as there are only ${cpuCount} CPUs available`);
    }
    cpu.period = DEFAULT_CPU_PERIOD;
    cpu.quota = nano === 0 ? -1 : Math.round((nano * DEFAULT_CPU_PERIOD) / 1e9);
  }
  if (v.nanoCpus !== undefined && v.cpuPeriod !== undefined) throw new UsageError('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (v.nanoCpus !== undefined && v.cpuQuota !== undefined) throw new UsageError('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if (v.cpuPeriod !== undefined) {
    const period = v.cpuPeriod;
    // Docker's daemon: 0 is "not set"; otherwise 1 ms .. 1 s.
    if (period !== 0 && (period < 1000 || period > 1_000_000))
      throw new UsageError('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
    if (period !== 0) cpu.period = period;
  }
  if (v.cpuQuota !== undefined) {
    const quota = v.cpuQuota;
    if (quota > 0 && quota < 1000) throw new UsageError('CPU cfs quota can not be less than 1ms (i.e. 1000)');
    // 0 and -1: no limit (cpu.max "max"), as Docker.
    if (quota !== 0) cpu.quota = quota < 0 ? -1 : quota;
  }
  if (v.cpusetCpus !== undefined) cpu.cpus = parseCpuList(v.cpusetCpus, '--cpuset-cpus');
  if (v.cpusetMems !== undefined) cpu.mems = parseCpuList(v.cpusetMems, '--cpuset-mems');
  if (Object.keys(cpu).length > 0) r.cpu = cpu;

  if (v.pidsLimit !== undefined) r.pids = { limit: Math.max(-1, v.pidsLimit) };

  if (v.blkioWeight !== undefined) {
    const w = v.blkioWeight;
    if (w !== 0 && (w < 10 || w > 1000)) throw new UsageError(`invalid value ${w} for --blkio-weight: range is from 10 to 1000`);
    r.blockIO = { weight: w };
  }
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
