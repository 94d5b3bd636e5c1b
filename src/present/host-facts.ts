/**
 * The host facts `info` and `version` report (./system-info.ts shapes them): kernel, OS, CPUs,
 * memory, the store's file system and the cgroup version, read the way Docker's daemon reads them.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statfsSync } from 'node:fs';
import os from 'node:os';
import type { InfoFacts, VersionFacts } from './system-info.js';

const CGROUP2_SUPER_MAGIC = 0x63677270;

/** Docker's names of file system magics (moby daemon/graphdriver's FsNames), for the ones a store is likely on. */
const FS_NAMES: Readonly<Record<number, string>> = {
  0xef53: 'extfs',
  0x58465342: 'xfs',
  0x9123683e: 'btrfs',
  0x01021994: 'tmpfs',
  0x794c7630: 'overlayfs',
  0x2fc12fc1: 'zfs',
  0xf2f52010: 'f2fs',
  0x6969: 'nfs',
};

function fsType(dir: string): number | undefined {
  try {
    return statfsSync(dir).type;
  } catch {
    return undefined;
  }
}

function osRelease(): Record<string, string> {
  for (const file of ['/etc/os-release', '/usr/lib/os-release']) {
    try {
      const out: Record<string, string> = {};
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
        if (m) out[m[1] as string] = (m[2] as string).replace(/^"(.*)"$/, '$1');
      }
      return out;
    } catch {
      // the next one
    }
  }
  return {};
}

function readFlag(file: string): boolean {
  try {
    return readFileSync(file, 'utf8').trim() === '1';
  } catch {
    return false;
  }
}

/** Go's GOARCH for Node's arch (amd64 for x64). */
export function goArchOf(arch: string = process.arch): string {
  return ({ x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[arch] ?? arch;
}

export function systemFacts(store: Pick<InfoFacts, 'containers' | 'images' | 'root'>): InfoFacts {
  const rel = osRelease();
  const type = fsType(store.root) ?? fsType(os.tmpdir());
  const cgroupVersion = fsType('/sys/fs/cgroup') === CGROUP2_SUPER_MAGIC ? '2' : '1';
  const warnings: string[] = [];
  return {
    ...store,
    backingFilesystem: type === undefined ? '<unknown>' : (FS_NAMES[type] ?? `0x${type.toString(16)}`),
    cgroupVersion,
    kernelVersion: os.release(),
    operatingSystem: rel.PRETTY_NAME ?? 'Linux',
    osVersion: rel.VERSION_ID ?? '',
    architecture: os.machine(),
    ncpu: os.availableParallelism(),
    memTotal: os.totalmem(),
    name: os.hostname(),
    // Docker's ID is a key made once per daemon; hull's is derived from the host and the store, stable across runs.
    id: createHash('sha256')
      .update(`${os.hostname()}\0${store.root}`)
      .digest('hex')
      .slice(0, 48)
      .toUpperCase()
      .replace(/(.{4})(?!$)/g, '$1:'),
    systemTime: new Date().toISOString(),
    ipv4Forwarding: readFlag('/proc/sys/net/ipv4/ip_forward'),
    httpProxy: process.env.HTTP_PROXY ?? process.env.http_proxy ?? '',
    httpsProxy: process.env.HTTPS_PROXY ?? process.env.https_proxy ?? '',
    noProxy: process.env.NO_PROXY ?? process.env.no_proxy ?? '',
    warnings,
  };
}

export function versionFacts(): VersionFacts {
  return { nodeVersion: process.version, arch: goArchOf(), kernelVersion: os.release() };
}
