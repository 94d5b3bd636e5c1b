/**
 * Resource limits on cgroup v2: which controllers a request needs, whether this host's cgroup2
 * hierarchy has them (checked before anything is made), enabling them in the cgroup parent's
 * cgroup.subtree_control (the parent holds no processes: the no-internal-processes rule), and
 * writing the limit files into the container's cgroup before its first process is cloned into it.
 * One file per controller: memory.ts, cpu.ts, cpuset.ts, pids.ts, io.ts.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HostUnsupportedError, SystemError, fromNodeError } from '../../errors.js';
import type { SpecResources } from '../spec.js';
import type { Controller, ControllerName } from './controller.js';
import { cpu } from './cpu.js';
import { cpuset } from './cpuset.js';
import { io } from './io.js';
import { memory } from './memory.js';
import { pids } from './pids.js';

export const CONTROLLERS: readonly Controller[] = [cpuset, cpu, io, memory, pids];

export type CgroupMode = 'unified' | 'hybrid' | 'v1-only';

/** The host's cgroup mode from mountinfo text: v2 only, v2 beside v1 controllers, or v1 only. */
export function cgroupModeOf(mountinfo: string): CgroupMode {
  let v1 = false;
  let v2 = false;
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const fstype = line.slice(sep + 3).split(' ')[0];
    if (fstype === 'cgroup2') v2 = true;
    else if (fstype === 'cgroup') v1 = true;
  }
  return !v2 ? 'v1-only' : v1 ? 'hybrid' : 'unified';
}

/** The controllers `resources` needs, each with the flags that asked for it. */
export function requiredControllers(resources: SpecResources | undefined): Map<ControllerName, string[]> {
  const out = new Map<ControllerName, string[]>();
  if (!resources) return out;
  for (const c of CONTROLLERS) {
    const flags = c.requestedBy(resources);
    if (flags.length > 0) out.set(c.name, flags);
  }
  return out;
}

function readWords(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

/** The controllers the cgroup2 hierarchy at `root` offers its child cgroups: in cgroup.controllers and delegated (subtree_control). */
function usableControllers(root: string | undefined): string[] {
  if (root === undefined) return [];
  const delegated = readWords(path.join(root, 'cgroup.subtree_control'));
  return readWords(path.join(root, 'cgroup.controllers')).filter((c) => delegated.includes(c));
}

/**
 * Relative weights (cpu shares → cpu.weight, the block I/O weight → io.weight) ask for a share of
 * what is contended, not for a limit: where the host's cgroup2 hierarchy lacks their controller they
 * are dropped, each with a warning for the runtime's log, as Docker drops shares on a kernel without
 * them (containerd's CRI gives every pod sandbox cpu shares 2, and a hybrid host has no cpu controller
 * in v2). Hard limits (memory, pids, cpu quota, cpuset, I/O throttles) are never dropped:
 * checkControllers refuses them. Returns the resources to apply (the same object when nothing was dropped).
 */
export function dropUnavailableWeights(
  resources: SpecResources | undefined,
  root: string | undefined,
  mode: CgroupMode,
): { resources: SpecResources | undefined; warnings: string[] } {
  if (!resources) return { resources, warnings: [] };
  const usable = usableControllers(root);
  const where = `the cgroup v2 hierarchy${root === undefined ? '' : ` at ${root}`} (${mode} mode) has no`;
  const warnings: string[] = [];
  let out = resources;
  if (cpu.requestedBy(resources).includes('--cpu-shares') && !usable.includes('cpu')) {
    const { shares, ...rest } = resources.cpu!;
    out = { ...out, cpu: rest };
    warnings.push(`cpu shares ${shares} ignored: ${where} cpu controller (a relative weight, not a limit)`);
  }
  if (resources.blockIO?.weight !== undefined && !usable.includes('io')) {
    const { weight, ...rest } = resources.blockIO;
    out = { ...out, blockIO: rest };
    warnings.push(`block I/O weight ${weight} ignored: ${where} io controller (a relative weight, not a limit)`);
  }
  return { resources: out, warnings };
}

/**
 * Throws, naming the controller(s), the host's mode and what to change, when the cgroup2
 * hierarchy at `root` (undefined: none mounted) cannot give the container what it asks for.
 */
export function checkControllers(resources: SpecResources | undefined, root: string | undefined, mode: CgroupMode): void {
  const needed = requiredControllers(resources);
  if (needed.size === 0) return;
  const available = root === undefined ? [] : readWords(path.join(root, 'cgroup.controllers'));
  const missing = [...needed].filter(([name]) => !available.includes(name));
  const what = (list: [string, string[]][]) => list.map(([name, flags]) => `'${name}' (for ${flags.join(', ')})`).join(', ');
  if (missing.length > 0) {
    const plural = missing.length > 1 ? 's' : '';
    const has = available.length > 0 ? available.join(' ') : 'none';
    const why =
      mode === 'hybrid'
        ? `this host's cgroups are in hybrid mode: its controllers are on cgroup v1, and the cgroup v2 hierarchy at ${root} has only: ${has}; boot with systemd.unified_cgroup_hierarchy=1 (cgroup v2 only) to use resource limits`
        : mode === 'v1-only'
          ? 'this host has only cgroup v1 (no cgroup v2 hierarchy is mounted); boot with systemd.unified_cgroup_hierarchy=1 to use resource limits'
          : `this host's unified cgroup v2 hierarchy at ${root} offers only: ${has}; enable the controller in the kernel (or in the cgroup.subtree_control above hull's)`;
    throw new HostUnsupportedError(`cgroup controller${plural} ${what(missing)} not available: ${why}`);
  }
  // The root's subtree_control is not hull's to change (systemd, or whoever mounted it, decides).
  const delegated = readWords(path.join(root!, 'cgroup.subtree_control'));
  const notDelegated = [...needed].filter(([name]) => !delegated.includes(name));
  if (notDelegated.length > 0) {
    const list = notDelegated.map(([n]) => `+${n}`).join(' ');
    throw new HostUnsupportedError(
      `cgroup controller${notDelegated.length > 1 ? 's' : ''} ${what(notDelegated)} not enabled for child cgroups of ${root}: enable ${notDelegated.length > 1 ? 'them' : 'it'} there (echo '${list}' > ${path.join(root!, 'cgroup.subtree_control')})`,
    );
  }
}

/**
 * Enable `controllers` in cgroup.subtree_control of each cgroup from the first below `root` down
 * to `parent` (hull's, made by ContainerCgroup.create); none of them holds processes.
 */
export function enableControllers(root: string, parent: string, controllers: Iterable<ControllerName>): void {
  const wanted = [...controllers];
  if (wanted.length === 0) return;
  let dir = root;
  for (const part of parent.split('/').filter(Boolean)) {
    dir = path.join(dir, part);
    const file = path.join(dir, 'cgroup.subtree_control');
    const enabled = readWords(file);
    const add = wanted.filter((c) => !enabled.includes(c));
    if (add.length === 0) continue;
    try {
      writeFileSync(file, add.map((c) => `+${c}`).join(' '));
    } catch (err) {
      const e = fromNodeError(err, 'write', file);
      if (e instanceof SystemError && e.errno === 'EBUSY') {
        throw new SystemError(
          'write',
          file,
          'EBUSY',
          `cannot enable ${add.join(' ')}: the cgroup holds processes (the no-internal-processes rule); use a --cgroup-parent with none`,
        );
      }
      throw e;
    }
  }
}

/** Write the limit files of `resources` into the container's cgroup `dir`. */
export function applyResources(dir: string, resources: SpecResources | undefined): void {
  if (!resources) return;
  const has = (file: string) => existsSync(path.join(dir, file));
  for (const c of CONTROLLERS) {
    for (const [file, value] of c.files(resources, has)) {
      const p = path.join(dir, file);
      try {
        writeFileSync(p, value);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
        throw new SystemError('write', p, code, `value ${JSON.stringify(value)}`);
      }
    }
  }
}

export { oomKillsOf } from './memory.js';
