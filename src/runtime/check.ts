/**
 * `hull system check`, the containers' part: what a command killed halfway (kill -9, a crash, a
 * reboot) can leave, found and, with `repair`, finished or removed. Every finding is something no
 * command in progress holds: a container's lock that is free over no record means the create or
 * rm that held it was killed (see ContainerStore.abandoned).
 *
 *   container   a removal that was interrupted (the tombstone); an ended container that still
 *               holds its cgroup or network; a record whose name is missing or given to another
 *   name        a name over no container
 *   directory   a container directory, new directory or run directory over no record
 *   netns       a network namespace mount of no container
 *   cgroup      a container cgroup (under a parent hull uses) of no container of this store's (a parent
 *               may be shared by several stores: only a cgroup this store knows the id of is its own)
 *   lease, tmp  an address lease of no container, a stray lease temporary file (src/network)
 *   mount       a stopped container's root mounted for a copy (`<runRoot>/cp/<id>`, container-root.ts)
 *               by a hull killed during `cp`: its container's lock is free, so no copy is using it
 */
import { existsSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import type { StorePaths } from '../store/paths.js';
import { listDir } from '../files.js';
import { ContainerCgroup, HULL_CGROUP_PARENT, cgroupHost } from './cgroups.js';
import { type ContainerRecord, type ContainerStore, tryExistingLock } from './container-store.js';
import { type RemovalParts, finishRemoval, holdsResources, releaseResources } from './removal.js';
import { detachStaleMounts } from './userns.js';
import { mountsBelow, unmountBelow } from '../store/mounts-below.js';
import { copyMountPoint } from './container-root.js';

export type ContainerProblemKind = 'container' | 'name' | 'directory' | 'netns' | 'cgroup' | 'lease' | 'tmp' | 'mount';

export interface ContainerProblem {
  readonly kind: ContainerProblemKind;
  /** The container id, name, or path concerned. */
  readonly subject: string;
  readonly message: string;
  /** What repair did about it, when it ran. */
  repaired?: string;
}

export interface ContainerCheckResult {
  problems: ContainerProblem[];
  checked: { containers: number; names: number };
}

const HEX_ID_RE = /^[0-9a-f]{64}$/;

/** Runs `fn` with the container's lock if it is free now; false when another command holds it. */
async function whileLocked(containers: ContainerStore, id: string, fn: () => Promise<void>): Promise<boolean> {
  const lock = tryExistingLock(path.join(containers.dir(id), 'lock'));
  if (lock === 'busy') return false;
  try {
    await fn();
  } finally {
    if (lock !== 'missing') lock.release();
  }
  return true;
}

export async function checkContainers(paths: StorePaths, parts: RemovalParts, options: { repair: boolean }): Promise<ContainerCheckResult> {
  const { containers, network } = parts;
  const problems: ContainerProblem[] = [];
  const repair = async (problem: ContainerProblem, what: string, action: () => Promise<unknown>) => {
    problems.push(problem);
    if (!options.repair) return;
    await action();
    problem.repaired = what;
  };

  // Records, and what their containers hold.
  const records = new Map<string, ContainerRecord>();
  for (const id of containers.ids()) {
    const record = containers.read(id);
    if (record) records.set(id, record);
  }
  const names = containers.names();
  for (const record of records.values()) {
    const short = record.id.slice(0, 12);
    if (record.state.status === 'removing') {
      await repair({ kind: 'container', subject: record.id, message: `container ${short} (${record.name}): its removal was interrupted` }, 'removed', () =>
        whileLocked(containers, record.id, () => finishRemoval(parts, record)),
      );
      records.delete(record.id);
      continue;
    }
    const named = names.find((n) => n.name === record.name);
    if (named?.id !== record.id) {
      const why = named === undefined ? 'is not reserved' : `is reserved for ${named.id.slice(0, 12)}`;
      await repair({ kind: 'container', subject: record.id, message: `container ${short}: its name ${record.name} ${why}` }, 'name reserved again', () =>
        whileLocked(containers, record.id, () => containers.reclaimName(record)),
      );
    }
    const running = record.state.status === 'running' || record.state.status === 'restarting';
    if (!running && holdsResources(parts, record)) {
      await repair(
        {
          kind: 'container',
          subject: record.id,
          message: `container ${short} (${record.name}) is ${record.state.status} but still holds its cgroup or network`,
        },
        'released',
        () => whileLocked(containers, record.id, () => releaseResources(parts, record)),
      );
    }
  }

  // Names over no container.
  for (const { name, id } of names) {
    if (records.has(id) || !containers.abandoned(id)) continue;
    await repair({ kind: 'name', subject: name, message: `name ${name}: its container ${id.slice(0, 12)} does not exist` }, 'removed', () =>
      containers.dropOrphanName(name),
    );
  }

  // Directories over no record: the store's, interrupted creates' (.new-ID), the run root's.
  for (const entry of listDir(paths.containers)) {
    const id = entry.replace(/^\.new-/, '');
    if (!HEX_ID_RE.test(id) || records.has(id)) continue;
    const dir = path.join(paths.containers, entry);
    if (entry.startsWith('.new-')) {
      const lock = tryExistingLock(path.join(dir, 'lock'));
      if (lock === 'busy') continue;
      if (lock !== 'missing') lock.release();
      await repair({ kind: 'directory', subject: dir, message: `directory ${dir}: an interrupted create's` }, 'removed', async () =>
        rmSync(dir, { recursive: true, force: true }),
      );
      continue;
    }
    if (!containers.abandoned(id)) continue;
    await repair({ kind: 'directory', subject: dir, message: `directory ${dir}: no container has it` }, 'removed', async () => containers.dropLeftovers(id));
  }
  for (const id of listDir(paths.runContainers)) {
    if (!HEX_ID_RE.test(id) || records.has(id) || existsSync(containers.dir(id))) continue;
    const dir = path.join(paths.runContainers, id);
    await repair({ kind: 'directory', subject: dir, message: `directory ${dir}: no container has it` }, 'removed', async () => {
      detachStaleMounts(dir);
      rmSync(dir, { recursive: true, force: true });
    });
  }

  // A stopped container's root a killed `cp` left mounted (a copy in progress holds the container's lock).
  for (const id of listDir(path.join(paths.runRoot, 'cp'))) {
    const dir = copyMountPoint(paths.runRoot, id);
    if (!HEX_ID_RE.test(id) || mountsBelow(dir).length === 0) continue;
    const lock = tryExistingLock(path.join(containers.dir(id), 'lock'));
    if (lock === 'busy') continue;
    try {
      await repair(
        { kind: 'mount', subject: dir, message: `mount ${dir}: the root of container ${id.slice(0, 12)}, left mounted by a killed cp` },
        'unmounted',
        async () => {
          unmountBelow(dir);
          rmdirSync(dir);
        },
      );
    } finally {
      if (lock !== 'missing') lock.release();
    }
  }

  // Network namespaces, addresses and cgroups of no container.
  for (const id of listDir(path.join(paths.runRoot, 'netns'))) {
    if (records.has(id) || !containers.abandoned(id)) continue;
    await repair({ kind: 'netns', subject: network.netnsPath(id), message: `network namespace ${network.netnsPath(id)}: no container has it` }, 'removed', () =>
      network.tearDown(id),
    );
  }
  for (const orphan of await network.orphans({ repair: options.repair })) {
    problems.push({ kind: orphan.kind, subject: orphan.path, message: orphan.message, ...(orphan.removed ? { repaired: 'removed' } : {}) });
  }
  const cgroupRoot = cgroupHost().root;
  if (cgroupRoot !== undefined) {
    const parents = new Set([HULL_CGROUP_PARENT, ...[...records.values()].map((r) => r.cgroupParent)]);
    for (const parent of parents) {
      const dir = path.join(cgroupRoot, parent);
      if (!dir.startsWith(cgroupRoot + path.sep) || !existsSync(dir)) continue;
      for (const id of readdirSync(dir)) {
        // A parent (hull's default one) may hold other stores' containers: only this store's leftovers.
        const ours = existsSync(containers.dir(id)) || existsSync(containers.runDir(id)) || existsSync(network.netnsPath(id)) || names.some((n) => n.id === id);
        if (!HEX_ID_RE.test(id) || records.has(id) || !ours || !containers.abandoned(id)) continue;
        await repair({ kind: 'cgroup', subject: path.join(dir, id), message: `cgroup ${path.join(dir, id)}: no container has it` }, 'removed', async () =>
          ContainerCgroup.existing(cgroupRoot, id, parent)?.remove(),
        );
      }
    }
  }
  return { problems, checked: { containers: records.size, names: names.length } };
}
