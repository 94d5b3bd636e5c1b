/**
 * The Engine API's archive (`docker cp` through the API, `/containers/{id}/archive`): a container
 * path's stat (Docker's ContainerPathStat), the path as a tar, and a tar extracted into a container
 * directory. Files move between the container's root and a staging directory under the store's
 * tmp/ by the rules of copy.ts (`hull cp`'s: every container path resolved inside its root, with
 * openat2 RESOLVE_IN_ROOT, so `..` and links never lead out of it). The container's lock is held
 * only while files move, never while a client reads or sends at its own pace.
 */
import { mkdirSync, type Stats } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { UsageError } from '../errors.js';
import { diffTar } from '../layer/diff.js';
import { removeTree } from '../layer/remove-tree.js';
import { extractTar } from '../layer/unpack.js';
import { uniqueName } from '../store/atomic-file.js';
import { type ContainerPathStat, copiesContents, copyFromContainer, copyToContainer, statContainerPath } from './copy.js';
import { inContainerRoot } from './container-root.js';
import { containerSpec } from './prepare.js';
import type { Runtime } from './runtime.js';
import type { RuntimeSpec } from './spec.js';
import { hostIdOf } from './userns.js';

/** Docker's ContainerPathStat as its JSON goes (mode in Go's os.FileMode bits). */
export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

/** Go's os.FileMode of a stat: the permission bits, and the type and special bits at the top. */
export function goFileMode(st: Stats): number {
  let mode = st.mode & 0o777;
  if (st.mode & 0o4000) mode |= 1 << 23; // ModeSetuid
  if (st.mode & 0o2000) mode |= 1 << 22; // ModeSetgid
  if (st.mode & 0o1000) mode |= 1 << 20; // ModeSticky
  if (st.isDirectory())
    mode |= 1 << 31; // ModeDir
  else if (st.isSymbolicLink()) mode |= 1 << 27;
  else if (st.isFIFO()) mode |= 1 << 25;
  else if (st.isSocket()) mode |= 1 << 24;
  else if (st.isBlockDevice()) mode |= 1 << 26;
  else if (st.isCharacterDevice()) mode |= (1 << 26) | (1 << 21);
  return mode >>> 0;
}

function described(found: ContainerPathStat): PathStat {
  return { name: found.name, size: found.stat.size, mode: goFileMode(found.stat), mtime: found.stat.mtime.toISOString(), linkTarget: found.linkTarget };
}

/** The header Docker sends it in: base64 of its JSON. */
export function pathStatHeader(stat: PathStat): string {
  return Buffer.from(JSON.stringify(stat)).toString('base64');
}

function staging(rt: Runtime): string {
  const dir = path.join(rt.paths.tmp, uniqueName('archive'));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** The stat of a path in a container (HEAD archive); Docker's 404 message when it is missing. */
export async function statPath(rt: Runtime, idOrName: string, p: string): Promise<PathStat> {
  return rt.locked(idOrName, (record) => inContainerRoot(rt, record, idOrName, ({ root }) => described(statContainerPath(root, p, idOrName))));
}

/**
 * A path of a container as a tar (GET archive): its entries named from the path's last
 * component (`DIR/.`: `./…`), a link as a link. The staging directory goes when the tar has been read or dropped.
 */
export async function archivePath(rt: Runtime, idOrName: string, p: string): Promise<{ stat: PathStat; tar: Readable }> {
  const dir = staging(rt);
  try {
    const stat = await rt.locked(idOrName, (record) =>
      inContainerRoot(rt, record, idOrName, async ({ root }) => {
        const found = described(statContainerPath(root, p, idOrName));
        await copyFromContainer(root, p, dir, { container: idOrName });
        return found;
      }),
    );
    const tar = diffTar(dir, copiesContents(p) ? './' : '');
    tar.once('close', () => void removeTree(dir).catch(() => undefined)); // a leftover is tmp/'s, swept with its dead owner
    return { stat, tar };
  } catch (err) {
    await removeTree(dir).catch(() => undefined);
    throw err;
  }
}

export interface ExtractOptions {
  /** Docker's noOverwriteDirNonDir: hull never replaces a directory with a non-directory or the reverse, whichever is asked. */
  noOverwriteDirNonDir: boolean;
  /** Docker's copyUIDGID (`docker cp -a`): the files to belong to the container's user; else to its root. */
  copyUIDGID: boolean;
}

/** The host ids of a container's user (its spec's process user, through its user namespace's maps when it has them). */
function hostOwner(spec: RuntimeSpec, idOrName: string): { uid: number; gid: number } {
  const { uid, gid } = spec.process.user;
  const uidMaps = spec.linux.uidMappings ?? [];
  const gidMaps = spec.linux.gidMappings ?? [];
  const hostUid = uidMaps.length > 0 ? hostIdOf(uidMaps, uid) : uid;
  const hostGid = gidMaps.length > 0 ? hostIdOf(gidMaps, gid) : gid;
  if (hostUid === undefined || hostGid === undefined) throw new UsageError(`copyUIDGID: the user ${uid}:${gid} of container ${idOrName} has no host id`);
  return { uid: hostUid, gid: hostGid };
}

/** A tar extracted into a directory of a container (PUT archive). */
export async function extractToPath(rt: Runtime, idOrName: string, p: string, tar: Readable, opts: ExtractOptions): Promise<void> {
  // Docker's order: the extraction point is checked before the archive is read.
  await rt.locked(idOrName, (record) =>
    inContainerRoot(rt, record, idOrName, ({ root }) => {
      if (!statContainerPath(root, p, idOrName).stat.isDirectory()) throw new UsageError('extraction point is not a directory');
    }),
  );
  const dir = staging(rt);
  try {
    const unpacked = path.join(dir, 'tar');
    await extractTar(tar, unpacked, { what: 'the archive' });
    await rt.locked(idOrName, (record) =>
      inContainerRoot(rt, record, idOrName, ({ root, checkWritable }) =>
        copyToContainer(`${unpacked}/.`, root, `${path.posix.join('/', p)}/`, {
          container: idOrName,
          checkWritable,
          ...(opts.copyUIDGID ? { owner: hostOwner(containerSpec(rt, record.id), idOrName) } : {}),
        }),
      ),
    );
  } finally {
    await removeTree(dir).catch(() => undefined);
  }
}
