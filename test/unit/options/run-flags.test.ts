// Docker's run/create flags of issue 17 (src/options/): labels and label files, --ulimit, --sysctl,
// --annotation, --log-driver, --cpu-period/--cpu-quota, --memory-swappiness, --device-*-iops.
import { describe, expect, it } from 'vitest';
import { parseAnnotations } from '../../../src/options/annotations.js';
import { parseDeviceCgroupRule } from '../../../src/options/devices.js';
import { containerNetworkConfig } from '../../../src/network/container-config.js';
import { parseLabelFile, parseLabels } from '../../../src/options/labels.js';
import { parseLogDriver } from '../../../src/options/log.js';
import { parseDeviceIops, parseResourceFlags } from '../../../src/options/resources.js';
import { isNamespacedSysctl, parseSysctls } from '../../../src/options/sysctls.js';
import { parseUlimit } from '../../../src/options/ulimits.js';
import { rlimitsOf, ulimitsOf } from '../../../src/runtime/ulimits.js';
import { refused } from './refused.js';

describe('--label, --label-file', () => {
  it('K=V, a bare key (empty value), the last of a key wins; a file: one a line, blank lines and # comments skipped', () => {
    expect(parseLabels(['a=1', 'b', 'c=x=y', 'a=2'])).toEqual({ a: '2', b: '', c: 'x=y' });
    expect(parseLabelFile('# comment\n\n  k=v\r\nbare\n   # indented comment\nx=\n')).toEqual(['k=v', 'bare', 'x=']);
    expect(refused(() => parseLabels(['=v']))).toBe("invalid label '=v': the key is empty");
  });
});

describe('--ulimit', () => {
  it("name=soft[:hard] with Docker's names; the hard limit is the soft one when not given; -1 unlimited", () => {
    expect(parseUlimit('nofile=1024:2048')).toEqual({ name: 'nofile', soft: 1024, hard: 2048 });
    expect(parseUlimit('nproc=64')).toEqual({ name: 'nproc', soft: 64, hard: 64 });
    expect(parseUlimit('core=-1')).toEqual({ name: 'core', soft: -1, hard: -1 });
    expect(parseUlimit('memlock=100:-1')).toEqual({ name: 'memlock', soft: 100, hard: -1 });
    for (const name of [
      'core',
      'cpu',
      'data',
      'fsize',
      'locks',
      'memlock',
      'msgqueue',
      'nice',
      'nofile',
      'nproc',
      'rss',
      'rtprio',
      'rttime',
      'sigpending',
      'stack',
    ])
      expect(parseUlimit(`${name}=1`).name).toBe(name);
  });

  it("refuses Docker's way: an unknown name, no '=', three values, a soft above the hard, a non-number", () => {
    expect(refused(() => parseUlimit('as=1'))).toBe('invalid argument "as=1" for "--ulimit" flag: invalid ulimit type: as');
    expect(refused(() => parseUlimit('nofile'))).toBe('invalid argument "nofile" for "--ulimit" flag: invalid ulimit argument: nofile');
    expect(refused(() => parseUlimit('nofile=1:2:3'))).toMatch(/too many limit value arguments - 1:2:3/);
    expect(refused(() => parseUlimit('nofile=20:10'))).toMatch(/ulimit soft limit must be less than or equal to hard limit: 20 > 10$/);
    expect(refused(() => parseUlimit('nofile=lots'))).toMatch(/strconv.ParseInt: parsing "lots": invalid syntax/);
  });

  it("become the spec's rlimits, and inspect's Ulimits again (null when none)", () => {
    const spec = rlimitsOf([parseUlimit('nofile=1024:2048'), parseUlimit('core=-1')]);
    expect(spec).toEqual([
      { type: 'RLIMIT_NOFILE', soft: 1024, hard: 2048 },
      { type: 'RLIMIT_CORE', soft: -1, hard: -1 },
    ]);
    expect(ulimitsOf(spec)).toEqual([
      { Name: 'nofile', Soft: 1024, Hard: 2048 },
      { Name: 'core', Soft: -1, Hard: -1 },
    ]);
    expect(ulimitsOf(undefined)).toBeNull();
  });
});

describe('--sysctl', () => {
  it("takes only Docker's namespaced keys", () => {
    expect(parseSysctls(['net.ipv4.ip_forward=1', 'kernel.shmmax=100', 'fs.mqueue.msg_max=20', 'kernel.sem=1 2 3 4'])).toEqual({
      'net.ipv4.ip_forward': '1',
      'kernel.shmmax': '100',
      'fs.mqueue.msg_max': '20',
      'kernel.sem': '1 2 3 4',
    });
    for (const k of ['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.shmall', 'kernel.shmmni', 'kernel.shm_rmid_forced'])
      expect(isNamespacedSysctl(k)).toBe(true);
    expect(isNamespacedSysctl('kernel.hostname')).toBe(false);
    expect(isNamespacedSysctl('vm.swappiness')).toBe(false);
    expect(refused(() => parseSysctls(['vm.swappiness=1']))).toBe(
      `invalid argument "vm.swappiness=1" for "--sysctl" flag: sysctl 'vm.swappiness=1' is not whitelisted`,
    );
    expect(refused(() => parseSysctls(['net.ipv4.ip_forward']))).toMatch(/is not whitelisted/);
  });
});

describe('--annotation, --log-driver', () => {
  it('annotations K=V (bare: empty); the log drivers hull has', () => {
    expect(parseAnnotations(['a=b', 'c', 'org.x/y=1=2'])).toEqual({ a: 'b', c: '', 'org.x/y': '1=2' });
    expect(refused(() => parseAnnotations(['=x']))).toMatch(/the key is empty/);
    expect(parseLogDriver(undefined)).toBe('json-file');
    expect(parseLogDriver('json-file')).toBe('json-file');
    expect(parseLogDriver('local')).toBe('local');
    expect(parseLogDriver('none')).toBe('none');
    expect(refused(() => parseLogDriver('syslog'))).toMatch(/^failed to create container: logger: no log driver named 'syslog' is registered/);
  });
});

describe('--cpu-period, --cpu-quota, --memory-swappiness, --device-read-iops, --device-write-iops', () => {
  it('cpu.max from the period and quota; 0 is not set, -1 (or 0) quota is no limit', () => {
    expect(parseResourceFlags({ cpuPeriod: '50000', cpuQuota: '25000' })).toEqual({ cpu: { period: 50000, quota: 25000 } });
    expect(parseResourceFlags({ cpuQuota: '-1' })).toEqual({ cpu: { quota: -1 } });
    expect(parseResourceFlags({ cpuPeriod: '0' })).toBeUndefined();
  });

  it("refuses Docker's way: out of range, and together with --cpus", () => {
    expect(refused(() => parseResourceFlags({ cpuPeriod: '999' }))).toBe(
      'CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)',
    );
    expect(refused(() => parseResourceFlags({ cpuPeriod: '1000001' }))).toMatch(/CPU cfs period/);
    expect(refused(() => parseResourceFlags({ cpuQuota: '999' }))).toBe('CPU cfs quota can not be less than 1ms (i.e. 1000)');
    expect(refused(() => parseResourceFlags({ cpus: '1', cpuPeriod: '100000' }))).toBe('Conflicting options: Nano CPUs and CPU Period cannot both be set');
    expect(refused(() => parseResourceFlags({ cpus: '1', cpuQuota: '100000' }))).toBe('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
    expect(refused(() => parseResourceFlags({ cpuQuota: 'x' }))).toMatch(/invalid argument "x" for "--cpu-quota" flag/);
  });

  it('swappiness 0..100 (-1: not set)', () => {
    expect(parseResourceFlags({ memorySwappiness: '60' })).toEqual({ memory: { swappiness: 60 } });
    expect(parseResourceFlags({ memorySwappiness: '-1' })).toBeUndefined();
    expect(refused(() => parseResourceFlags({ memorySwappiness: '101' }))).toBe('Invalid value: 101, valid memory swappiness range is 0-100');
    expect(refused(() => parseResourceFlags({ memorySwappiness: '-2' }))).toMatch(/valid memory swappiness range is 0-100/);
  });

  it('iops per block device: /dev/X:N', () => {
    const sda = () => ({ isBlockDevice: () => true, rdev: (8 << 8) | 16 });
    expect(parseDeviceIops('/dev/sdb:1000', '--device-read-iops', sda)).toEqual({ major: 8, minor: 16, rate: 1000 });
    expect(refused(() => parseDeviceIops('/dev/sdb:1kb', '--device-read-iops', sda))).toBe(
      'invalid rate for device: /dev/sdb:1kb. The correct format is <device-path>:<number>. Number must be a positive integer',
    );
    expect(refused(() => parseDeviceIops('sdb:10', '--device-write-iops', sda))).toMatch(/^bad format for --device-write-iops: sdb:10/);
    const file = () => ({ isBlockDevice: () => false, rdev: 0 });
    expect(refused(() => parseDeviceIops('/dev/null:10', '--device-write-iops', file))).toBe('--device-write-iops: /dev/null is not a block device');
  });
});

describe('--device-cgroup-rule, --mac-address', () => {
  it("device rules in Docker's format (* for any number)", () => {
    expect(parseDeviceCgroupRule('c 1:3 rwm')).toEqual({ allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' });
    expect(parseDeviceCgroupRule('b 8:* r')).toEqual({ allow: true, type: 'b', major: 8, minor: -1, access: 'r' });
    expect(parseDeviceCgroupRule('a *:* m')).toEqual({ allow: true, type: 'a', major: -1, minor: -1, access: 'm' });
    for (const bad of ['c 1:3', 'x 1:3 r', 'c 1:3 rx', 'c a:3 r', ' c 1:3 r'])
      expect(refused(() => parseDeviceCgroupRule(bad))).toBe(
        `invalid argument "${bad}" for "--device-cgroup-rule" flag: invalid device cgroup format '${bad}'`,
      );
  });

  it('a MAC address only on a bridge network, well formed and not multicast', () => {
    const lookup = { defaultMode: { mode: 'bridge' as const }, networkName: (n: string) => n };
    expect(containerNetworkConfig({ macAddress: '02:42:AC:11:00:02' }, [], lookup).config.macAddress).toBe('02:42:ac:11:00:02');
    expect(containerNetworkConfig({ network: { mode: 'network', network: 'app' }, macAddress: '02:42:ac:11:00:02' }, [], lookup).config.macAddress).toBe(
      '02:42:ac:11:00:02',
    );
    expect(refused(() => containerNetworkConfig({ network: { mode: 'none' }, macAddress: '02:42:ac:11:00:02' }, [], lookup))).toBe(
      'conflicting options: mac-address and the network mode',
    );
    expect(refused(() => containerNetworkConfig({ network: { mode: 'host' }, macAddress: '02:42:ac:11:00:02' }, [], lookup))).toMatch(
      /mac-address and the network mode/,
    );
    expect(refused(() => containerNetworkConfig({ macAddress: '02:42:ac:11:00' }, [], lookup))).toBe('02:42:ac:11:00 is not a valid mac address');
    expect(refused(() => containerNetworkConfig({ macAddress: '01:00:5e:00:00:01' }, [], lookup))).toMatch(/multicast/);
  });
});
