/** Docker's resource flags (as typed) → the runtime-spec's linux.resources, with Docker's checks. */
import os from 'node:os';
import { UsageError } from '../../errors.js';
import type { SpecResources } from '../spec.js';
import { DEFAULT_CPU_PERIOD } from './cpu.js';
import { parseDeviceRate } from './io.js';
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

const MIN_MEMORY = 6 * 1024 * 1024;
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

/** Docker's checks across the memory flags; and its default swap (as much again as the memory). */
export function completeResources(r: SpecResources | undefined): SpecResources | undefined {
  const m = r?.memory;
  if (!m) return r;
  if (m.limit !== undefined && m.limit > 0 && m.limit < MIN_MEMORY) throw new UsageError('minimum memory limit allowed is 6MB');
  if (m.reservation !== undefined && m.reservation > 0 && m.reservation < MIN_MEMORY) throw new UsageError('minimum memory reservation allowed is 6MB');
  if (m.swap !== undefined && m.swap > 0 && !(m.limit && m.limit > 0)) {
    throw new UsageError('you should always set the memory limit when using a memoryswap limit, see usage');
  }
  if (m.swap !== undefined && m.swap > 0 && m.limit && m.swap < m.limit) {
    throw new UsageError('minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (m.limit && m.limit > 0 && m.reservation && m.reservation > m.limit) {
    throw new UsageError('minimum memory limit can not be less than memory reservation limit, see usage');
  }
  if (m.limit && m.limit > 0 && m.swap === undefined) m.swap = m.limit * 2;
  return r;
}

/** `update`: the new values over the old, field by field; the memory rules checked again. */
export function mergeResources(old: SpecResources | undefined, changes: SpecResources): SpecResources {
  const out: SpecResources = structuredClone(old ?? {});
  if (changes.memory) {
    const m = { ...out.memory, ...changes.memory };
    // A new limit without a new swap: the default swap again, unless swap was unlimited.
    if (changes.memory.limit !== undefined && changes.memory.swap === undefined && out.memory?.swap !== -1) delete m.swap;
    out.memory = m;
  }
  if (changes.cpu) out.cpu = { ...out.cpu, ...changes.cpu };
  if (changes.pids) out.pids = changes.pids;
  if (changes.blockIO) out.blockIO = { ...out.blockIO, ...changes.blockIO };
  return completeResources(out)!;
}
