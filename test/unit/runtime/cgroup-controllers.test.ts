// The cgroup v2 controllers against a temporary directory that imitates cgroupfs (no root).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HostUnsupportedError, UsageError } from '../../../src/errors.js';
import {
  applyResources,
  cgroupModeOf,
  checkControllers,
  dropUnavailableWeights,
  enableControllers,
  oomKillsOf,
  requiredControllers,
} from '../../../src/runtime/cgroups/index.js';
import { sharesToWeight } from '../../../src/runtime/cgroups/cpu.js';
import { blkioToIoWeight } from '../../../src/runtime/cgroups/io.js';
import { completeResources, mergeResources } from '../../../src/runtime/cgroups/resources.js';
import { parseDeviceRate, parseResourceFlags } from '../../../src/options/resources.js';
import { parseBytes, parseNanoCpus } from '../../../src/options/units.js';

let root: string;
const read = (p: string) => readFileSync(path.join(root, p), 'utf8');

/** A fake cgroup2 root offering `controllers`, with a container cgroup under hull-parent/ctr. */
function fakeCgroupfs(controllers: string, delegated = controllers, files: string[] = []) {
  writeFileSync(path.join(root, 'cgroup.controllers'), `${controllers}\n`);
  writeFileSync(path.join(root, 'cgroup.subtree_control'), `${delegated}\n`);
  mkdirSync(path.join(root, 'hull-parent', 'ctr'), { recursive: true });
  writeFileSync(path.join(root, 'hull-parent', 'cgroup.subtree_control'), '');
  for (const f of files) writeFileSync(path.join(root, 'hull-parent', 'ctr', f), '');
}

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'hull-cgfs-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('Docker units', () => {
  it('parses sizes as docker does (binary multiples)', () => {
    expect(parseBytes('32m', '--memory')).toBe(32 * 1024 * 1024);
    expect(parseBytes('1.5g', '--memory')).toBe(1.5 * 1024 ** 3);
    expect(parseBytes('100MiB', '--memory')).toBe(100 * 1024 * 1024);
    expect(parseBytes('4096', '--memory')).toBe(4096);
    expect(() => parseBytes('lots', '--memory')).toThrow(UsageError);
  });
  it('parses --cpus into nano CPUs', () => {
    expect(parseNanoCpus('0.5')).toBe(500_000_000);
    expect(parseNanoCpus('2')).toBe(2e9);
    expect(parseNanoCpus('.25')).toBe(250_000_000);
    expect(() => parseNanoCpus('half')).toThrow(UsageError);
  });
  it('maps shares to cpu.weight and blkio weight to io.weight as runc does', () => {
    expect(sharesToWeight(2)).toBe(1);
    expect(sharesToWeight(1024)).toBe(39);
    expect(sharesToWeight(262144)).toBe(10000);
    expect(blkioToIoWeight(10)).toBe(1);
    expect(blkioToIoWeight(500)).toBe(4950);
    expect(blkioToIoWeight(1000)).toBe(10000);
  });
});

describe('resource flags → linux.resources', () => {
  it("makes the OCI shape, with docker's default swap", () => {
    const r = completeResources(parseResourceFlags({ memory: '32m', cpus: '0.5', cpuShares: '512', pidsLimit: '20', cpusetCpus: '0', blkioWeight: '300' }, 4));
    expect(r).toEqual({
      memory: { limit: 32 << 20, swap: 64 << 20 },
      cpu: { shares: 512, quota: 50_000, period: 100_000, cpus: '0' },
      pids: { limit: 20 },
      blockIO: { weight: 300 },
    });
    expect(parseResourceFlags({})).toBeUndefined();
  });
  it('checks the flags as docker does', () => {
    expect(() => completeResources(parseResourceFlags({ memory: '4m' }))).toThrow(/minimum memory limit allowed is 6MB/);
    expect(() => completeResources(parseResourceFlags({ memorySwap: '64m' }))).toThrow(/always set the memory limit/);
    expect(() => completeResources(parseResourceFlags({ memory: '64m', memorySwap: '32m' }))).toThrow(/larger than memory limit/);
    expect(() => completeResources(parseResourceFlags({ memory: '64m', memoryReservation: '128m' }))).toThrow(/reservation/);
    expect(() => parseResourceFlags({ cpus: '9' }, 2)).toThrow(/range of CPUs is from 0.01 to 2.00/);
    expect(() => parseResourceFlags({ blkioWeight: '5' })).toThrow(/10 to 1000/);
    expect(() => parseResourceFlags({ cpusetCpus: 'a-b' })).toThrow(UsageError);
    expect(parseResourceFlags({ cpuShares: '1' })?.cpu?.shares).toBe(2); // clamped, as docker
  });
  it('parses --device-read-bps against a block device', () => {
    const stat = () => ({ isBlockDevice: () => true, rdev: (8 << 8) | 16 });
    expect(parseDeviceRate('/dev/sdb:1mb', '--device-read-bps', stat)).toEqual({ major: 8, minor: 16, rate: 1 << 20 });
    expect(() => parseDeviceRate('sdb:1mb', '--device-read-bps', stat)).toThrow(/bad format/);
    expect(() => parseDeviceRate('/dev/sdb:fast', '--device-read-bps', stat)).toThrow(/invalid rate/);
    expect(() => parseDeviceRate('/dev/null:1mb', '--device-read-bps', () => ({ isBlockDevice: () => false, rdev: 0 }))).toThrow(/not a block device/);
  });
  it('merges updates field by field, the swap default following a new limit', () => {
    const old = completeResources(parseResourceFlags({ memory: '32m', pidsLimit: '10' }));
    expect(mergeResources(old, { memory: { limit: 64 << 20 } })).toEqual({ memory: { limit: 64 << 20, swap: 128 << 20 }, pids: { limit: 10 } });
    expect(mergeResources(old, { pids: { limit: 5 } }).pids).toEqual({ limit: 5 });
  });
});

describe('the controllers on a fake cgroupfs', () => {
  it('names the controllers a request needs, with the flags', () => {
    const r = parseResourceFlags({ memory: '32m', cpus: '1', cpusetMems: '0', pidsLimit: '5' }, 4);
    expect([...requiredControllers(r)]).toEqual([
      ['cpuset', ['--cpuset-mems']],
      ['cpu', ['--cpus']],
      ['memory', ['--memory']],
      ['pids', ['--pids-limit']],
    ]);
    expect(requiredControllers(undefined).size).toBe(0);
  });
  it("writes each controller's files", () => {
    fakeCgroupfs('cpuset cpu io memory pids', undefined, ['memory.swap.max', 'io.bfq.weight']);
    const r = completeResources(
      parseResourceFlags({ memory: '32m', memoryReservation: '16m', cpus: '0.5', cpuShares: '512', cpusetCpus: '0-1', pidsLimit: '20', blkioWeight: '300' }, 4),
    );
    const rates = {
      throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
      throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 2048 }],
      throttleReadIOPSDevice: [{ major: 8, minor: 0, rate: 100 }],
      throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 50 }],
    };
    applyResources(path.join(root, 'hull-parent', 'ctr'), { ...r, blockIO: { ...r!.blockIO, ...rates } });
    const ctr = 'hull-parent/ctr/';
    expect(read(`${ctr}memory.max`)).toBe(String(32 << 20));
    expect(read(`${ctr}memory.swap.max`)).toBe(String(32 << 20));
    expect(read(`${ctr}memory.low`)).toBe(String(16 << 20));
    expect(read(`${ctr}cpu.max`)).toBe('50000 100000');
    expect(read(`${ctr}cpu.weight`)).toBe('20');
    expect(read(`${ctr}cpuset.cpus`)).toBe('0-1');
    expect(read(`${ctr}pids.max`)).toBe('20');
    expect(read(`${ctr}io.bfq.weight`)).toBe('300');
    expect(read(`${ctr}io.max`)).toBe('8:0 rbps=1048576 wbps=2048 riops=100 wiops=50');
  });
  it("takes cgroup v1's default shares (1024, in every containerd spec) as no request: nothing needed, nothing written", () => {
    expect([...requiredControllers({ cpu: { shares: 1024 } }).keys()]).toEqual([]);
    expect([...requiredControllers({ cpu: { shares: 1024, quota: 50000 } }).keys()]).toEqual(['cpu']);
    expect([...requiredControllers({ cpu: { shares: 2 } }).keys()]).toEqual(['cpu']);
  });
  it('uses io.weight without BFQ, and "max" for unlimited values', () => {
    fakeCgroupfs('io memory pids cpu');
    applyResources(path.join(root, 'hull-parent', 'ctr'), {
      blockIO: { weight: 1000 },
      pids: { limit: -1 },
      memory: { limit: 64 << 20, swap: -1 },
      cpu: { quota: -1, period: 100000 },
    });
    expect(read('hull-parent/ctr/io.weight')).toBe('default 10000');
    expect(read('hull-parent/ctr/pids.max')).toBe('max');
    expect(read('hull-parent/ctr/cpu.max')).toBe('max 100000');
  });
  it('--cpu-period and --cpu-quota: cpu.max "quota period" (the default period with a quota alone, "max" for -1)', () => {
    fakeCgroupfs('cpu');
    const ctr = path.join(root, 'hull-parent', 'ctr');
    applyResources(ctr, parseResourceFlags({ cpuPeriod: '50000', cpuQuota: '20000' }));
    expect(read('hull-parent/ctr/cpu.max')).toBe('20000 50000');
    applyResources(ctr, parseResourceFlags({ cpuQuota: '30000' }));
    expect(read('hull-parent/ctr/cpu.max')).toBe('30000 100000');
    applyResources(ctr, parseResourceFlags({ cpuPeriod: '20000', cpuQuota: '-1' }));
    expect(read('hull-parent/ctr/cpu.max')).toBe('max 20000');
    expect([...requiredControllers(parseResourceFlags({ cpuQuota: '30000' })).entries()]).toEqual([['cpu', ['--cpu-quota']]]);
    expect([...requiredControllers(parseResourceFlags({ cpuPeriod: '30000' })).entries()]).toEqual([['cpu', ['--cpu-period']]]);
  });
  it("enables the controllers in the parent's subtree_control only, never in the root's", () => {
    fakeCgroupfs('cpu memory pids');
    enableControllers(root, 'hull-parent', ['memory', 'pids']);
    expect(read('hull-parent/cgroup.subtree_control')).toBe('+memory +pids');
    expect(read('cgroup.subtree_control')).toBe('cpu memory pids\n');
  });
  it('fails before anything is made on a hybrid host, naming controller, mode and the fix', () => {
    fakeCgroupfs('hugetlb');
    const r = parseResourceFlags({ memory: '32m' });
    let err: unknown;
    try {
      checkControllers(r, root, 'hybrid');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HostUnsupportedError);
    expect((err as Error).message).toBe(
      `cgroup controller 'memory' (for --memory) not available: this host's cgroups are in hybrid mode: its controllers are on cgroup v1, and the cgroup v2 hierarchy at ${root} has only: hugetlb; boot with systemd.unified_cgroup_hierarchy=1 (cgroup v2 only) to use resource limits`,
    );
    expect(() => checkControllers(r, undefined, 'v1-only')).toThrow(/only cgroup v1.*systemd.unified_cgroup_hierarchy=1/);
    expect(() => checkControllers(undefined, undefined, 'v1-only')).not.toThrow();
  });
  it('drops a relative weight whose controller the host lacks, with a warning; keeps it where the host has it; never drops a limit', () => {
    fakeCgroupfs('memory pids');
    const asked = { cpu: { shares: 2, quota: 50_000, period: 100_000 }, blockIO: { weight: 300 }, memory: { limit: 1 << 20 } };
    const r = dropUnavailableWeights(asked, root, 'hybrid');
    expect(r.resources).toEqual({ cpu: { quota: 50_000, period: 100_000 }, blockIO: {}, memory: { limit: 1 << 20 } });
    expect(r.warnings).toEqual([
      `cpu shares 2 ignored: the cgroup v2 hierarchy at ${root} (hybrid mode) has no cpu controller (a relative weight, not a limit)`,
      `block I/O weight 300 ignored: the cgroup v2 hierarchy at ${root} (hybrid mode) has no io controller (a relative weight, not a limit)`,
    ]);
    // the quota is a limit: still refused, naming the controller and the mode
    expect(() => checkControllers(r.resources, root, 'hybrid')).toThrow(
      /cgroup controller 'cpu' \(for --cpus\) not available: this host's cgroups are in hybrid mode/,
    );
    // containerd's "no preference" shares (1024) and no weights at all: nothing to say
    expect(dropUnavailableWeights({ cpu: { shares: 1024 } }, root, 'hybrid').warnings).toEqual([]);
    expect(dropUnavailableWeights(undefined, root, 'hybrid')).toEqual({ resources: undefined, warnings: [] });
    // a host that has (and delegates) cpu keeps the weight
    rmSync(root, { recursive: true });
    mkdirSync(root);
    fakeCgroupfs('cpu io memory');
    expect(dropUnavailableWeights(asked, root, 'unified')).toEqual({ resources: asked, warnings: [] });
    // one it has but does not delegate cannot be applied either
    writeFileSync(path.join(root, 'cgroup.subtree_control'), 'memory\n');
    expect(dropUnavailableWeights({ cpu: { shares: 2 } }, root, 'unified').warnings).toHaveLength(1);
  });

  it('says so when the root does not delegate a controller it has', () => {
    fakeCgroupfs('cpu memory pids', 'cpu');
    expect(() => checkControllers(parseResourceFlags({ pidsLimit: '5' }), root, 'unified')).toThrow(
      /'pids' \(for --pids-limit\) not enabled for child cgroups.*echo '\+pids'/,
    );
  });
  it('tells the modes apart from mountinfo', () => {
    const v2 = '29 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw';
    const v1 = '32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu';
    expect(cgroupModeOf(v2)).toBe('unified');
    expect(cgroupModeOf(`${v1}\n${v2.replace('/sys/fs/cgroup ', '/sys/fs/cgroup/unified ')}`)).toBe('hybrid');
    expect(cgroupModeOf(v1)).toBe('v1-only');
  });
  it('reads oom_kill from memory.events', () => {
    expect(oomKillsOf('low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n')).toBe(1);
    expect(oomKillsOf('')).toBe(0);
  });
});
