/**
 * Local volumes: `<root>/volumes/<name>/{volume.json,_data/}` (Docker's layout). A volume appears
 * whole or not at all: it is made in a private temporary directory and renamed into place, so two
 * hulls creating the same name at once end with one volume (the loser finds the winner's).
 *
 * Locking (flock, so a killed holder releases it): `<root>/locks/volumes`
 *   shared     creating volumes, and a container's creation from its volumes until its record is
 *              written (so a volume cannot be removed between being chosen and being recorded)
 *   exclusive  rm and prune (which decide "in use" from the containers' records)
 * and `<root>/volumes/<name>/populate.lock` while an empty volume is filled from an image.
 */
import { objectEvent } from '../events/emit.js';
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, lstatSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { ConflictError, UsageError, VolumeNotFoundError, fromNodeError } from '../errors.js';
import { listDir, readText } from '../files.js';
import { type LockHandle, type LockMode, acquireLock, nativeFlock } from '../store/lock.js';
import type { StorePaths } from '../store/paths.js';
import { isStorableName, validateVolumeName } from '../runtime/validate.js';

/** Docker's label on anonymous volumes. */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

export interface VolumeRecord {
  Name: string;
  Driver: 'local';
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string>;
  Options: Record<string, string> | null;
  Scope: 'local';
}

/**
 * The local driver's options hull honours: a bind volume (`type=none`, `o=bind`, `device=DIR`: an
 * existing host directory, Docker's "named bind"). Mount options of other file systems (tmpfs, nfs,
 * a block device) are refused naming them: hull mounts nothing for a volume.
 */
export function checkDriverOptions(options: Record<string, string>): void {
  for (const k of Object.keys(options))
    if (!['type', 'o', 'device'].includes(k)) throw new UsageError(`volume option ${k} is not supported by hull (local bind volumes only)`);
  const o = (options.o ?? '').split(',').filter(Boolean);
  if (options.type !== 'none' || !o.includes('bind') || o.some((x) => x !== 'bind' && x !== 'rbind'))
    throw new UsageError(
      `volume options type=${options.type ?? ''} o=${options.o ?? ''} are not supported by hull: only a bind volume (type=none, o=bind, device=DIR)`,
    );
  const device = options.device;
  if (device === undefined || !path.isAbsolute(device)) throw new UsageError('a bind volume needs device=DIR, an absolute path');
  let dir = false;
  try {
    dir = statSync(device).isDirectory();
  } catch {
    dir = false;
  }
  if (!dir) throw new UsageError(`failed to mount local volume: mount ${device}: no such directory`);
}

/** Who uses a volume: the ids of containers whose records name it. */
export type UsersOf = (name: string) => Promise<string[]>;

export class VolumeStore {
  readonly dir: string;
  private readonly lockFile: string;

  private readonly runRoot: string;

  constructor(paths: StorePaths) {
    this.runRoot = paths.runRoot;
    this.dir = path.join(paths.root, 'volumes');
    this.lockFile = path.join(paths.root, 'locks', 'volumes');
  }

  lock(mode: LockMode): Promise<LockHandle> {
    return acquireLock(this.lockFile, mode, nativeFlock);
  }

  volumeDir(name: string): string {
    return path.join(this.dir, name);
  }

  dataDir(name: string): string {
    return path.join(this.dir, name, '_data');
  }

  /** The volume, or undefined. */
  read(name: string): VolumeRecord | undefined {
    if (!isStorableName(name)) return undefined; // a name that cannot be stored is not found (no ENAMETOOLONG)
    const text = readText(path.join(this.volumeDir(name), 'volume.json'));
    if (text === undefined) return undefined;
    const stored = JSON.parse(text) as Omit<VolumeRecord, 'Mountpoint' | 'Driver' | 'Scope'>;
    return {
      CreatedAt: stored.CreatedAt,
      Driver: 'local',
      Labels: stored.Labels ?? {},
      // A bind volume's data is its device's (containers mount it there, and copy-up fills it); dockerd would show `_data` with the device mounted on it.
      Mountpoint: stored.Options?.device ?? this.dataDir(name),
      Name: name,
      Options: stored.Options ?? null,
      Scope: 'local',
    };
  }

  get(name: string): VolumeRecord {
    const v = this.read(name);
    if (!v) throw new VolumeNotFoundError(name);
    return v;
  }

  list(): VolumeRecord[] {
    const out: VolumeRecord[] = [];
    for (const name of listDir(this.dir)) {
      const v = this.read(name);
      if (v) out.push(v);
    }
    return out.sort((a, b) => a.Name.localeCompare(b.Name));
  }

  /**
   * The volume `name` (made if missing; a name is generated when undefined). Call with the volumes
   * lock held (shared or exclusive). `created` says whether this call made it.
   */
  ensure(name: string | undefined, labels: Record<string, string> = {}, options?: Record<string, string>): { volume: VolumeRecord; created: boolean } {
    const finalName = name ?? randomBytes(32).toString('hex');
    validateVolumeName(finalName);
    const existing = this.read(finalName);
    if (existing) return { volume: existing, created: false };
    mkdirSync(this.dir, { recursive: true, mode: 0o701 });
    const temp = path.join(this.dir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      mkdirSync(temp, { mode: 0o701 });
      mkdirSync(path.join(temp, '_data'), { mode: 0o755 });
      chmodSync(path.join(temp, '_data'), 0o755); // not subject to the umask
      const record = { CreatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), Labels: labels, Options: options ?? null };
      const file = path.join(temp, 'volume.json');
      writeFileSync(file, JSON.stringify(record, null, 2) + '\n', { mode: 0o600 });
      const fd = openSync(file, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      try {
        renameSync(temp, this.volumeDir(finalName));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw err;
        rmSync(temp, { recursive: true, force: true });
        // Another hull made it meanwhile: theirs is the volume.
        const theirs = this.read(finalName);
        if (!theirs) throw new ConflictError(`volume ${finalName} exists but has no volume.json (a damaged volume directory: ${this.volumeDir(finalName)})`);
        return { volume: theirs, created: false };
      }
      const dirFd = openSync(this.dir, 'r');
      try {
        fsyncSync(dirFd);
      } finally {
        closeSync(dirFd);
      }
    } catch (err) {
      rmSync(temp, { recursive: true, force: true });
      throw fromNodeError(err, 'create volume', this.volumeDir(finalName));
    }
    objectEvent(this.runRoot, 'volume', 'create', finalName, { driver: 'local' });
    return { volume: this.get(finalName), created: true };
  }

  /** `volume create`: idempotent, as Docker's (the existing volume is returned). `options`: the local driver's, checked by checkDriverOptions. */
  async create(name: string | undefined, labels: Record<string, string> = {}, options?: Record<string, string>): Promise<VolumeRecord> {
    if (name !== undefined) validateVolumeName(name); // before the lock: a bad name makes nothing
    if (options !== undefined) checkDriverOptions(options);
    const lock = await this.lock('shared');
    try {
      return this.ensure(name, labels, options).volume;
    } finally {
      lock.release();
    }
  }

  /**
   * Remove a volume no container uses. Call with the volumes lock held exclusively.
   * In use: Docker's message, naming the containers.
   */
  async removeLocked(name: string, usersOf: UsersOf, opts: { force?: boolean } = {}): Promise<boolean> {
    if (!this.read(name)) {
      if (opts.force) return false;
      throw new VolumeNotFoundError(name);
    }
    const users = await usersOf(name);
    if (users.length > 0) throw new ConflictError(`remove ${name}: volume is in use - [${users.join(', ')}]`);
    this.destroy(name);
    return true;
  }

  async remove(name: string, usersOf: UsersOf, opts: { force?: boolean } = {}): Promise<boolean> {
    const lock = await this.lock('exclusive');
    try {
      return await this.removeLocked(name, usersOf, opts);
    } finally {
      lock.release();
    }
  }

  /** `volume prune`: unused anonymous volumes (with `all`, every unused volume). Returns names and bytes freed. */
  async prune(usersOf: UsersOf, opts: { all?: boolean; keep?: (v: VolumeRecord) => boolean } = {}): Promise<{ volumes: string[]; reclaimed: number }> {
    const lock = await this.lock('exclusive');
    try {
      this.removeStaleTemps();
      const out: string[] = [];
      let reclaimed = 0;
      for (const v of this.list()) {
        if (!opts.all && !(ANONYMOUS_LABEL in v.Labels)) continue;
        if (opts.keep && !opts.keep(v)) continue;
        if ((await usersOf(v.Name)).length > 0) continue;
        reclaimed += treeSize(this.dataDir(v.Name));
        this.destroy(v.Name);
        out.push(v.Name);
      }
      return { volumes: out, reclaimed };
    } finally {
      lock.release();
    }
  }

  /** Delete a volume this process has just made and no record names yet (no lock, no checks). */
  discard(name: string): void {
    if (this.read(name)) this.destroy(name);
  }

  /** Delete the volume's directory: renamed out of the way first, so a half-deleted volume is never seen. */
  private destroy(name: string): void {
    const dir = this.volumeDir(name);
    const trash = path.join(this.dir, `.rm-${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      renameSync(dir, trash);
      rmSync(trash, { recursive: true, force: true });
    } catch (err) {
      throw fromNodeError(err, 'remove volume', dir);
    }
    objectEvent(this.runRoot, 'volume', 'destroy', name, { driver: 'local' });
  }

  /** What a killed hull left: temporaries of processes that are gone. */
  private removeStaleTemps(): void {
    for (const entry of listDir(this.dir)) {
      const m = /^\.(?:tmp|rm)-(\d+)-/.exec(entry);
      if (!m) continue;
      try {
        process.kill(Number(m[1]), 0);
        continue; // its maker still runs
      } catch {
        rmSync(path.join(this.dir, entry), { recursive: true, force: true });
      }
    }
  }
}

/** Bytes in a tree (file sizes; directories and links count nothing). */
export function treeSize(dir: string): number {
  let total = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    const p = path.join(dir, name);
    try {
      const st = lstatSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) total += treeSize(p);
      else if (st.isFile()) total += st.size;
    } catch {
      // gone meanwhile
    }
  }
  return total;
}
