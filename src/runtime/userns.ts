/**
 * User-namespace remapping: root in the container is an unprivileged uid on the host.
 *
 * `--userns-remap USER` takes USER's first ranges from /etc/subuid and /etc/subgid (as Docker's
 * daemon option does); `--uidmap CONTAINER:HOST:SIZE` / `--gidmap` give the maps directly (as
 * Podman; --gidmap defaults to the --uidmap). The flags are parsed at the edge (src/options/idmaps.ts). The maps go into the spec's linux.uidMappings /
 * gidMappings; at start hull writes them into the new process's /proc/PID/{uid,gid}_map between
 * clone3 and release.
 *
 * The image's layers belong to host root. They are shown with the container's ownership through
 * idmapped mounts: each lower directory is bind-mounted with MOUNT_ATTR_IDMAP (with a user
 * namespace of the same maps) under the container's run directory, and overlayfs is mounted over
 * those by hull (the host's root: so overlayfs can read its trusted.* xattrs, the layers' opaque
 * directories, which it cannot from inside a user namespace) at the container's root path, all
 * before clone3; the container's process inherits a copy and binds it. (The merged overlay itself
 * cannot be idmapped: overlayfs does not allow idmapped mounts of itself; it does allow idmapped
 * lower layers.) The upper and work directories are owned by the mapped root, and overlayfs
 * creates files with the caller's ids, so what the container writes is owned by its mapped uids
 * on the host. The host's copies of these mounts are detached once the container runs (its mount
 * namespace keeps its own; for detached containers hull-monitor keeps a private copy of the mounts
 * for restarts, and writes the maps itself, from the plan's idMaps step).
 */
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError, fromNodeError } from '../errors.js';
import { MNT_DETACH, sys } from '../native/index.js';
import type { RootfsLayers } from './plan.js';
import type { RuntimeSpec, SpecIdMapping } from './spec.js';

/** One range of a user-namespace map: `size` ids from `containerID` in the container are `hostID`… on the host. */
export type IdMapping = SpecIdMapping;

/** `--userns-remap USER[:GROUP]`: the first ranges of the user in /etc/subuid and of the group in /etc/subgid. */
export interface UsernsRemap {
  /** A name or numeric id in /etc/subuid (its id is looked up in /etc/passwd too). */
  user: string;
  /** Default: the user's name. */
  group?: string;
}

export interface UsernsOptions {
  usernsRemap?: UsernsRemap;
  /** The uid map of a new user namespace (`--uidmap CONTAINER:HOST:SIZE`, repeatable). */
  uidMap?: IdMapping[];
  /** The gid map; default: the uid map (and the uid map defaults to this one). */
  gidMap?: IdMapping[];
}

/** The first range of `name` (or its numeric id) in a subuid/subgid file's text. */
export function subordinateRange(text: string, name: string, id: number | undefined, file: string): SpecIdMapping {
  for (const line of text.split('\n')) {
    const [who, start, count] = line.trim().split(':');
    if (who === undefined || start === undefined || count === undefined) continue;
    if (who === name || (id !== undefined && who === String(id))) {
      return { containerID: 0, hostID: Number(start), size: Number(count) };
    }
  }
  throw new UsageError(`no subordinate id range for '${name}' in ${file} (add a line like '${name}:100000:65536')`);
}

function lookupId(file: string, name: string): number | undefined {
  try {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === name && f[2] !== undefined) return Number(f[2]);
    }
  } catch {
    // no such file: names only
  }
  return undefined;
}

export interface SubidFiles {
  subuid: string;
  subgid: string;
  passwd: string;
  group: string;
}

const HOST_FILES: SubidFiles = { subuid: '/etc/subuid', subgid: '/etc/subgid', passwd: '/etc/passwd', group: '/etc/group' };

/** The maps for the options, or undefined when the container keeps the host's user namespace. */
export function idMappings(opts: UsernsOptions, files: SubidFiles = HOST_FILES): { uid: SpecIdMapping[]; gid: SpecIdMapping[] } | undefined {
  const uidmap = opts.uidMap ?? [];
  const gidmap = opts.gidMap ?? [];
  const remap = opts.usernsRemap;
  if (remap !== undefined) {
    if (uidmap.length || gidmap.length) throw new UsageError('--userns-remap and --uidmap/--gidmap cannot be combined');
    const group = remap.group ?? remap.user;
    const shown = remap.group === undefined ? remap.user : `${remap.user}:${remap.group}`;
    const read = (f: string) => {
      try {
        return readFileSync(f, 'utf8');
      } catch (err) {
        throw new UsageError(`--userns-remap ${shown}: cannot read ${f}: ${(err as Error).message}`);
      }
    };
    return {
      uid: [subordinateRange(read(files.subuid), remap.user, lookupId(files.passwd, remap.user), files.subuid)],
      gid: [subordinateRange(read(files.subgid), group, lookupId(files.group, group), files.subgid)],
    };
  }
  if (uidmap.length === 0 && gidmap.length === 0) return undefined;
  return { uid: uidmap.length ? uidmap : gidmap, gid: gidmap.length ? gidmap : uidmap };
}

/** Puts the maps and a user namespace into the spec. */
export function applyUserns(spec: RuntimeSpec, opts: UsernsOptions): void {
  const maps = idMappings(opts);
  if (!maps) return;
  spec.linux.uidMappings = maps.uid;
  spec.linux.gidMappings = maps.gid;
  if (!spec.linux.namespaces.some((n) => n.type === 'user')) spec.linux.namespaces.unshift({ type: 'user' });
  // sysfs may only be mounted by the user namespace that owns the network namespace: sharing the
  // host's (--network host), the container gets a read-only bind of the host's /sys, as runc does.
  if (!spec.linux.namespaces.some((n) => n.type === 'network')) {
    spec.mounts = spec.mounts.map((m) =>
      m.type === 'sysfs' ? { destination: m.destination, type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] } : m,
    );
  }
}

/** The /proc/PID/uid_map text. */
export function mapText(maps: readonly SpecIdMapping[]): string {
  return maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

/** The host id of container id `id`, or undefined when it is not mapped. */
export function hostIdOf(maps: readonly SpecIdMapping[], id: number): number | undefined {
  const m = maps.find((r) => id >= r.containerID && id < r.containerID + r.size);
  return m === undefined ? undefined : m.hostID + (id - m.containerID);
}

export function hasUserns(spec: RuntimeSpec): boolean {
  return spec.linux.namespaces.some((n) => n.type === 'user' && n.path === undefined);
}

/** Lets the container's (unprivileged) root reach `dir` by its path: adds o+x, as Docker's remapped roots are 0711. */
function allowSearch(dir: string): void {
  const mode = statSync(dir).mode & 0o7777;
  if ((mode & 0o001) === 0) chmodSync(dir, mode | 0o001);
}

/**
 * Before clone3: idmapped mounts of the lower layers under `runDir/idmap`, the upper and work
 * directories owned by the mapped root. Returns the layers to mount and the clean-up for after start.
 */
export function prepareIdmappedRootfs(
  spec: RuntimeSpec,
  rootfs: RootfsLayers,
  runDir: string,
  searchable: string[],
): { layers: RootfsLayers; detach: () => void } {
  const uid = spec.linux.uidMappings ?? [];
  const gid = spec.linux.gidMappings ?? [];
  const rootUid = hostIdOf(uid, 0);
  const rootGid = hostIdOf(gid, 0);
  if (rootUid === undefined || rootGid === undefined) throw new UsageError('a user namespace needs container uid and gid 0 mapped');
  for (const dir of searchable) allowSearch(dir);
  for (const dir of [rootfs.upper, rootfs.work]) {
    mkdirSync(dir, { recursive: true });
    chownSync(dir, rootUid, rootGid);
  }
  const base = path.join(runDir, 'idmap');
  const mounted: string[] = [];
  const detach = () => {
    for (const m of mounted.splice(0)) {
      try {
        sys.umount2(m, MNT_DETACH);
      } catch {
        // already gone
      }
    }
    removeIdmapDirs(runDir);
  };
  detachStaleMounts(runDir); // of a hull killed between here and the container's start
  const usernsFd = sys.openUserns(mapText(uid), mapText(gid));
  try {
    mkdirSync(base, { recursive: true });
    const lower = rootfs.lower.map((dir, i) => {
      const target = path.join(base, String(i));
      mkdirSync(target);
      sys.idmapMount(dir, target, usernsFd);
      mounted.push(target);
      return target;
    });
    // overlayfs mounted here, by the host's root, so that it reads its trusted.* xattrs (opaque
    // directories) in the layers; the container's process binds it in its own namespace.
    const data = `lowerdir=${lower.join(':')},upperdir=${rootfs.upper},workdir=${rootfs.work}`;
    if (data.length >= 4096) throw new UsageError(`overlay mount data is ${data.length} bytes, over the 4096-byte page limit`);
    mkdirSync(spec.root.path, { recursive: true });
    sys.mount('overlay', spec.root.path, 'overlay', 0, data);
    mounted.unshift(spec.root.path);
    return { layers: { lower, upper: rootfs.upper, work: rootfs.work }, detach };
  } catch (err) {
    detach();
    throw err;
  } finally {
    closeSync(usernsFd);
  }
}

/**
 * The idmap directories, one rmdir each: never a recursive removal, which would go down into a
 * mount that is still there (the image's layers) and delete their files.
 */
function removeIdmapDirs(runDir: string): void {
  const base = path.join(runDir, 'idmap');
  let entries: string[];
  try {
    entries = readdirSync(base);
  } catch {
    return;
  }
  for (const e of entries) rmdirQuietly(path.join(base, e));
  rmdirQuietly(base);
}

function rmdirQuietly(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // still mounted (EBUSY) or not empty: left, never removed recursively
  }
}

/**
 * Mounts hull left under a container's run directory on the host (a hull killed between
 * preparing a remapped root and starting the container): detached, deepest first, before anything
 * there is removed. Cheap when there are none: the idmap directory exists only meanwhile.
 */
export function detachStaleMounts(runDir: string): void {
  if (!existsSync(path.join(runDir, 'idmap'))) return;
  const prefix = `${runDir}/`;
  const points: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const field = line.split(' ')[4];
    if (field === undefined) continue;
    const point = field.replace(/\\(\d{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
    if (point.startsWith(prefix)) points.push(point);
  }
  for (const p of points.sort((a, b) => b.length - a.length)) {
    try {
      sys.umount2(p, MNT_DETACH);
    } catch {
      // gone meanwhile
    }
  }
  removeIdmapDirs(runDir);
}

/** After clone3, before release: the maps of the new process's user namespace. */
export function writeIdMaps(pid: number, spec: RuntimeSpec): void {
  for (const [file, maps] of [
    ['uid_map', spec.linux.uidMappings],
    ['gid_map', spec.linux.gidMappings],
  ] as const) {
    try {
      writeFileSync(`/proc/${pid}/${file}`, mapText(maps ?? []));
    } catch (err) {
      throw fromNodeError(err, 'write', `/proc/${pid}/${file}`);
    }
  }
}
