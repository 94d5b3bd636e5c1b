/**
 * A container's mount requests become volumes, runtime-spec mounts and the record of what is
 * mounted where (Docker's MountPoint, for inspect and for "is this volume in use"). Bind sources
 * are host paths and are resolved on the host; every TARGET stays a path inside the container,
 * resolved in its root by the native executor (openat2 RESOLVE_IN_ROOT), so nothing here looks
 * at the image's files for a target.
 */
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { UsageError, fromNodeError } from '../errors.js';
import type { SpecMount } from '../runtime/spec.js';
import { type MountRequest, type VolumesFromRequest, checkDuplicates } from './requests.js';
import { validateMountTarget } from '../runtime/validate.js';
import { ANONYMOUS_LABEL, type VolumeStore } from './store.js';

/** Docker's MountPoint (inspect's Mounts entries). */
export interface MountPoint {
  Type: 'bind' | 'volume' | 'tmpfs';
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
  /** hull: tmpfs options (for the record; Docker keeps them in HostConfig). */
  Options?: string[];
}

/** The part of another container's record `--volumes-from` reads. */
export interface MountSource {
  id: string;
  mounts?: MountPoint[];
}

export interface ResolvedMounts {
  /** In mount order (parents before children). */
  specMounts: SpecMount[];
  mountPoints: MountPoint[];
  /** Volumes to fill from the image: [volume name, container path]. */
  populate: { name: string; target: string }[];
  /** Anonymous volumes made by this resolution (to remove if the container is not made). */
  createdAnonymous: string[];
  /** HostConfig.Binds (the `-v` texts) and HostConfig.Tmpfs. */
  binds: string[];
  tmpfs: Record<string, string>;
  /** 'rslave' when a bind asks for slave or shared propagation (host mounts then reach it); else undefined. */
  rootfsPropagation?: 'rslave';
}

function specMountOf(mp: MountPoint): SpecMount {
  if (mp.Type === 'tmpfs') return { destination: mp.Destination, type: 'tmpfs', source: 'tmpfs', options: [...(mp.Options ?? [])] };
  const propagation = mp.Propagation === '' ? 'rprivate' : mp.Propagation;
  return { destination: mp.Destination, type: 'bind', source: mp.Source, options: ['rbind', propagation, ...(mp.RW ? [] : ['ro'])] };
}

const depth = (p: string) => p.split('/').filter(Boolean).length;

/**
 * Call with the volumes lock held (shared): named volumes are made on demand, anonymous ones with
 * a generated name; `getContainer` reads `--volumes-from` sources; `imageVolumes` are the image's
 * VOLUME paths (each gets an anonymous volume unless a mount covers it).
 */
export async function resolveMounts(opts: {
  requests: readonly MountRequest[];
  volumesFrom: readonly VolumesFromRequest[];
  imageVolumes: readonly string[];
  volumes: VolumeStore;
  getContainer: (idOrName: string) => Promise<MountSource>;
}): Promise<ResolvedMounts> {
  const out: ResolvedMounts = { specMounts: [], mountPoints: [], populate: [], createdAnonymous: [], binds: [], tmpfs: {} };
  checkDuplicates(opts.requests.map((r) => r.target));
  const taken = new Set(opts.requests.map((r) => r.target));
  const points: MountPoint[] = [];
  try {
    for (const r of opts.requests) {
      if (r.type === 'bind') {
        ensureBindSource(r.source, r.origin === 'volume-flag');
        points.push({ Type: 'bind', Source: r.source, Destination: r.target, Mode: r.mode, RW: !r.readonly, Propagation: r.propagation });
        if (r.spec !== undefined) out.binds.push(r.spec);
      } else if (r.type === 'volume') {
        const labels: Record<string, string> = r.name === undefined ? { [ANONYMOUS_LABEL]: '' } : {};
        const { volume, created } = opts.volumes.ensure(r.name, labels);
        if (created && r.name === undefined) out.createdAnonymous.push(volume.Name);
        points.push({
          Type: 'volume',
          Name: volume.Name,
          Source: volume.Mountpoint,
          Destination: r.target,
          Driver: 'local',
          Mode: r.mode,
          RW: !r.readonly,
          Propagation: '',
        });
        if (!r.noCopy) out.populate.push({ name: volume.Name, target: r.target });
        if (r.spec !== undefined && r.name !== undefined) out.binds.push(r.spec);
      } else {
        points.push({ Type: 'tmpfs', Source: '', Destination: r.target, Mode: '', RW: !r.readonly, Propagation: '', Options: r.options });
        if (r.origin === 'tmpfs-flag') out.tmpfs[r.target] = r.options.slice(3).join(',');
      }
    }
    // --volumes-from: the other container's volumes and binds, at the same places (explicit mounts win).
    for (const from of opts.volumesFrom) {
      const other = await opts.getContainer(from.container);
      for (const mp of other.mounts ?? []) {
        if (mp.Type === 'tmpfs' || taken.has(mp.Destination)) continue;
        taken.add(mp.Destination);
        const rw = from.readonly === undefined ? mp.RW : !from.readonly;
        points.push({ ...mp, RW: rw, Mode: from.readonly === undefined ? mp.Mode : from.readonly ? 'ro' : 'rw' });
      }
    }
    // The image's VOLUMEs: an anonymous volume each, filled from the image.
    for (const raw of opts.imageVolumes) {
      const target = validateMountTarget(raw, `image volume '${raw}'`);
      if (taken.has(target)) continue;
      taken.add(target);
      const { volume } = opts.volumes.ensure(undefined, { [ANONYMOUS_LABEL]: '' });
      out.createdAnonymous.push(volume.Name);
      points.push({ Type: 'volume', Name: volume.Name, Source: volume.Mountpoint, Destination: target, Driver: 'local', Mode: '', RW: true, Propagation: '' });
      out.populate.push({ name: volume.Name, target });
    }
  } catch (err) {
    for (const name of out.createdAnonymous) opts.volumes.discard(name);
    throw err;
  }
  // Parents before children (Docker sorts by depth); the order given otherwise.
  const order = points.map((p, i) => [p, i] as const).sort((a, b) => depth(a[0].Destination) - depth(b[0].Destination) || a[1] - b[1]);
  out.mountPoints = order.map(([p]) => p);
  out.specMounts = out.mountPoints.map(specMountOf);
  if (out.mountPoints.some((m) => /slave|shared/.test(m.Propagation))) out.rootfsPropagation = 'rslave';
  return out;
}

/** `-v` makes a missing host directory (as Docker); `--mount type=bind` refuses it. */
function ensureBindSource(source: string, create: boolean): void {
  try {
    statSync(source);
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fromNodeError(err, 'stat', source);
  }
  if (!create) throw new UsageError(`invalid mount config for type "bind": bind source path does not exist: ${source}`);
  try {
    mkdirSync(source, { recursive: true, mode: 0o755 });
  } catch (err) {
    throw fromNodeError(err, 'mkdir', source);
  }
}

/** The default mounts without those a user mount replaces (same destination), then the user's. */
export function mergeMounts(defaults: readonly SpecMount[], user: readonly SpecMount[]): SpecMount[] {
  const replaced = new Set(user.map((m) => path.posix.normalize(m.destination)));
  return [...defaults.filter((m) => !replaced.has(m.destination)), ...user];
}
