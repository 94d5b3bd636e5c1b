/**
 * cgroup v2 for containers: find the cgroup2 mount in /proc/self/mountinfo, give each container
 * its own cgroup under an absolute hull parent (never below hull's own cgroup), remove it after.
 * cgroup v2 is files; no native code is needed here. Only cgroups hull created are written.
 */
import { constants, openSync } from 'node:fs';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { readFile, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HostUnsupportedError, UsageError, fromNodeError } from '../errors.js';
import { type CgroupMode, applyResources, cgroupModeOf, enableControllers, oomKillsOf, requiredControllers } from './cgroups/index.js';
import type { SpecResources } from './spec.js';

export const HULL_CGROUP_PARENT = 'hull';

/** The mount point of the cgroup2 hierarchy, from mountinfo text (fields per proc(5)). */
export function findCgroup2Mount(mountinfo: string): string | undefined {
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const [fstype] = line.slice(sep + 3).split(' ');
    if (fstype !== 'cgroup2') continue;
    const fields = line.slice(0, sep).split(' ');
    const mountPoint = fields[4];
    if (mountPoint !== undefined) return mountPoint.replace(/\\(\d{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
  }
  return undefined;
}

export interface CgroupHost {
  /** The cgroup2 mount point; undefined on a v1-only host. */
  root: string | undefined;
  mode: CgroupMode;
}

const SELF_MOUNTINFO = '/proc/self/mountinfo';
let ownHost: CgroupHost | undefined;

/**
 * The cgroup2 mount and the host's cgroup mode. This process's mountinfo is read once (hull never
 * mounts or moves cgroup hierarchies, and a start asks at several points); another file each time.
 */
export function cgroupHost(mountinfoPath = SELF_MOUNTINFO): CgroupHost {
  if (mountinfoPath === SELF_MOUNTINFO && ownHost !== undefined) return ownHost;
  const mountinfo = readFileSync(mountinfoPath, 'utf8');
  const host = { root: findCgroup2Mount(mountinfo), mode: cgroupModeOf(mountinfo) };
  if (mountinfoPath === SELF_MOUNTINFO) ownHost = host;
  return host;
}

export function requireCgroup2(host: CgroupHost): string {
  if (host.root === undefined) {
    throw new HostUnsupportedError('no cgroup2 hierarchy is mounted (hull needs cgroup v2: mount it, or boot with systemd.unified_cgroup_hierarchy=1)');
  }
  return host.root;
}

export async function cgroup2Root(mountinfoPath = '/proc/self/mountinfo'): Promise<string> {
  return requireCgroup2(cgroupHost(mountinfoPath));
}

/** A container's cgroup: created before the container, removed after it. */
export class ContainerCgroup {
  private constructor(readonly path: string) {}

  /** mkdir `<cgroup2>/<parent>/<id>`. `parent` is relative to the cgroup2 root (absolute in cgroup terms). */
  static async create(cgroupRoot: string, id: string, parent = HULL_CGROUP_PARENT): Promise<ContainerCgroup> {
    const parentDir = path.join(cgroupRoot, parent);
    // '' is the root itself (an OCI bundle's top-level cgroupsPath); anything else stays below it.
    if (parent !== '' && !parentDir.startsWith(cgroupRoot + path.sep)) throw new UsageError(`invalid cgroup parent: ${parent}`);
    const dir = path.join(parentDir, id);
    for (let attempt = 0; ; attempt++) {
      try {
        mkdirSync(parentDir, { recursive: true });
        mkdirSync(dir);
        return new ContainerCgroup(dir);
      } catch (err) {
        // ENOENT: a concurrent hull removed the (then empty) parent between the two mkdirs.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 5) throw fromNodeError(err, 'mkdir', dir);
      }
    }
  }

  /** The container's cgroup if it exists (left behind by a hull that was killed), else undefined. */
  static existing(cgroupRoot: string, id: string, parent = HULL_CGROUP_PARENT): ContainerCgroup | undefined {
    const dir = path.join(cgroupRoot, parent, id);
    return existsSync(dir) ? new ContainerCgroup(dir) : undefined;
  }

  /** An O_DIRECTORY fd for clone3's CLONE_INTO_CGROUP; the caller closes it. */
  openFd(): number {
    try {
      return openSync(this.path, constants.O_RDONLY | constants.O_DIRECTORY);
    } catch (err) {
      throw fromNodeError(err, 'open', this.path);
    }
  }

  /**
   * Enable the controllers `resources` needs in the cgroup parent(s) below `root`, and write its
   * limit files into this cgroup (before any process is in it).
   */
  applyResources(root: string, parent: string, resources: SpecResources | undefined): void {
    const needed = requiredControllers(resources);
    if (needed.size === 0) return;
    enableControllers(root, parent, needed.keys());
    applyResources(this.path, resources);
  }

  /** How many of its processes the OOM killer killed (memory.events oom_kill; 0 without the memory controller). */
  oomKills(): number {
    try {
      return oomKillsOf(readFileSync(path.join(this.path, 'memory.events'), 'utf8'));
    } catch {
      return 0;
    }
  }

  /** Whether cgroup.freeze is set (`pause`). */
  frozen(): boolean {
    try {
      return readFileSync(path.join(this.path, 'cgroup.freeze'), 'utf8').trim() === '1';
    } catch {
      return false;
    }
  }

  /** Freeze or thaw every process in the cgroup (cgroup.freeze); resolves once the kernel says it is done. */
  async setFrozen(frozen: boolean, limitMs = 10_000): Promise<void> {
    const file = path.join(this.path, 'cgroup.freeze');
    try {
      await writeFile(file, frozen ? '1' : '0');
    } catch (err) {
      throw fromNodeError(err, 'write', file);
    }
    const deadline = Date.now() + limitMs;
    for (;;) {
      const events = await readFile(path.join(this.path, 'cgroup.events'), 'utf8').catch(() => '');
      if (new RegExp(`^frozen ${frozen ? 1 : 0}$`, 'm').test(events) || !/^populated 1$/m.test(events)) return;
      if (Date.now() > deadline)
        throw new HostUnsupportedError(`${this.path}: the cgroup did not become ${frozen ? 'frozen' : 'thawed'} within ${limitMs / 1000}s`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async populated(): Promise<boolean> {
    const events = await readFile(path.join(this.path, 'cgroup.events'), 'utf8').catch(() => 'populated 0');
    return /^populated 1$/m.test(events);
  }

  /**
   * Kill whatever is left (cgroup.kill, Linux >= 5.14) and rmdir. Processes of a pid namespace
   * whose init has exited are killed by the kernel, but may take a moment to leave the cgroup.
   */
  async remove(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        // Off the event loop: a cgroup's rmdir can take milliseconds in the kernel.
        await rmdir(this.path);
        // The parent goes too once its last container is gone (hull made it; it leaves no trace).
        await removeIfEmpty(path.dirname(this.path));
        return;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return;
        if (code !== 'EBUSY' || attempt >= 200) throw fromNodeError(err, 'rmdir', this.path);
      }
      if (attempt === 0) await writeFile(path.join(this.path, 'cgroup.kill'), '1').catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, Math.min(1 + attempt, 10)));
    }
  }
}

/** rmdir a cgroup that may still hold other containers' cgroups (then it stays). */
async function removeIfEmpty(dir: string): Promise<void> {
  try {
    await rmdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EBUSY' && code !== 'ENOENT') throw fromNodeError(err, 'rmdir', dir);
  }
}
