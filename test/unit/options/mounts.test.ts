// -v / --mount / --tmpfs / --volumes-from parsing (Docker's rules and messages), and how the
// requests become runtime-spec mounts and plan steps. No root, no addon.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { MS, buildPlan, rootPropagationFlags } from '../../../src/runtime/plan.js';
import { buildSpec } from '../../../src/runtime/specconv.js';
import { parseMountFlag, parseMountFlags, parseTmpfsFlag, parseVolumeFlag, parseVolumesFrom } from '../../../src/options/mounts.js';
import { mergeMounts, resolveMounts } from '../../../src/volume/resolve.js';
import { ANONYMOUS_LABEL, VolumeStore } from '../../../src/volume/store.js';
import { storePaths } from '../../../src/store/paths.js';

function usageError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error('no error thrown');
}

describe('-v', () => {
  it('HOST:CTR is a recursive, rprivate bind; :ro makes it read-only; z/Z and propagation are accepted', () => {
    expect(parseVolumeFlag('/srv/data:/data')).toEqual({
      type: 'bind',
      source: '/srv/data',
      target: '/data',
      readonly: false,
      propagation: 'rprivate',
      origin: 'volume-flag',
      mode: '',
      spec: '/srv/data:/data',
    });
    expect(parseVolumeFlag('/srv/data/:/data/:ro')).toMatchObject({ type: 'bind', source: '/srv/data', target: '/data', readonly: true, mode: 'ro' });
    expect(parseVolumeFlag('/a:/b:rw,z')).toMatchObject({ readonly: false, mode: 'rw,z' });
    expect(parseVolumeFlag('/a:/b:Z,ro,rshared')).toMatchObject({ readonly: true, propagation: 'rshared' });
    for (const p of ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave']) expect(parseVolumeFlag(`/a:/b:${p}`)).toMatchObject({ propagation: p });
  });

  it('NAME:CTR is a named volume, CTR alone an anonymous one; nocopy is kept', () => {
    expect(parseVolumeFlag('cache:/var/cache')).toEqual({
      type: 'volume',
      name: 'cache',
      target: '/var/cache',
      readonly: false,
      noCopy: false,
      origin: 'volume-flag',
      mode: 'z',
      spec: 'cache:/var/cache',
    });
    expect(parseVolumeFlag('cache:/c:ro,nocopy')).toMatchObject({ name: 'cache', readonly: true, noCopy: true });
    const anon = parseVolumeFlag('/scratch');
    expect(anon).toMatchObject({ type: 'volume', target: '/scratch', readonly: false });
    expect('name' in anon).toBe(false);
  });

  it('refuses every malformed specification with a clear message', () => {
    expect(usageError(() => parseVolumeFlag(''))).toBe("invalid volume specification: ''");
    expect(usageError(() => parseVolumeFlag(':/x'))).toBe("invalid volume specification: ':/x'");
    expect(usageError(() => parseVolumeFlag('/a:/b:ro:x'))).toBe("invalid volume specification: '/a:/b:ro:x'");
    expect(usageError(() => parseVolumeFlag('/data:ro'))).toBe("invalid volume specification: '/data:ro'");
    expect(usageError(() => parseVolumeFlag('/a:'))).toBe("invalid volume specification: '/a:'");
    expect(usageError(() => parseVolumeFlag('/a:/b:'))).toMatch(/^invalid mode/);
    expect(usageError(() => parseVolumeFlag('/a:/b:rx'))).toMatch(/^invalid mode: rx/);
    expect(usageError(() => parseVolumeFlag('/a:/b:ro,rw'))).toMatch(/^invalid mode: ro,rw .*at most once/);
    expect(usageError(() => parseVolumeFlag('/a:/b:shared,slave'))).toMatch(/at most once/);
    expect(usageError(() => parseVolumeFlag('/a:relative'))).toMatch(/mount path must be absolute/);
    expect(usageError(() => parseVolumeFlag('/a:/'))).toMatch(/destination can't be '\/'/);
    expect(usageError(() => parseVolumeFlag('/a:/b:nocopy'))).toMatch(/nocopy applies to volumes/);
    expect(usageError(() => parseVolumeFlag('/a:/proc'))).toMatch(/\/proc cannot be mounted because it is located inside "\/proc"/);
    expect(usageError(() => parseTmpfsFlag('/proc/sys'))).toMatch(/located inside "\/proc"/);
    expect(parseVolumeFlag('/a:/process')).toMatchObject({ target: '/process' });
    expect(usageError(() => parseVolumeFlag('vol:/b:rshared'))).toMatch(/propagation mode applies to bind mounts/);
    // Docker's local driver: one character is "too short" before any character check.
    expect(usageError(() => parseVolumeFlag('x:/b'))).toBe('volume name is too short, names should be at least two alphanumeric characters');
    expect(usageError(() => parseVolumeFlag('bad$name:/b'))).toMatch(/invalid characters/);
    expect(usageError(() => parseVolumeFlag('./rel:/b'))).toMatch(/use absolute path/);
    expect(usageError(() => parseVolumeFlag('relative'))).toMatch(/must be absolute/);
  });
});

describe('--mount', () => {
  it('bind, volume and tmpfs with their options; aliases src/dst/destination/ro', () => {
    expect(parseMountFlag('type=bind,source=/h,target=/c')).toEqual({
      type: 'bind',
      source: '/h',
      target: '/c',
      readonly: false,
      propagation: 'rprivate',
      origin: 'mount-flag',
      mode: '',
    });
    expect(parseMountFlag('type=bind,src=/h,dst=/c,readonly,bind-propagation=rslave')).toMatchObject({ readonly: true, propagation: 'rslave' });
    expect(parseMountFlag('type=bind,src=/h,destination=/c,ro=false')).toMatchObject({ readonly: false });
    expect(parseMountFlag('source=myvol,target=/v')).toMatchObject({ type: 'volume', name: 'myvol', noCopy: false });
    expect(parseMountFlag('type=volume,target=/v,volume-nocopy')).toMatchObject({ type: 'volume', noCopy: true });
    expect(parseMountFlag('type=volume,src=v1,dst=/v,readonly=true')).toMatchObject({ readonly: true });
    expect(parseMountFlag('type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1770')).toEqual({
      type: 'tmpfs',
      target: '/t',
      readonly: false,
      options: ['noexec', 'nosuid', 'nodev', 'size=1048576', 'mode=1770'],
      origin: 'mount-flag',
    });
  });

  it('refuses every malformed --mount with a clear message', () => {
    expect(usageError(() => parseMountFlag('type=bind,source=/h'))).toMatch(/target is required/);
    expect(usageError(() => parseMountFlag('type=bind,target=/c'))).toMatch(/field Source must not be empty/);
    expect(usageError(() => parseMountFlag('type=bind,source=rel,target=/c'))).toMatch(/'rel' mount path must be absolute/);
    expect(usageError(() => parseMountFlag('type=nfs,target=/c'))).toMatch(/unsupported mount type 'nfs'/);
    expect(usageError(() => parseMountFlag('type=bind,source=/h,target=/c,bogus=1'))).toMatch(/unexpected key 'bogus'/);
    expect(usageError(() => parseMountFlag('type,target=/c'))).toBe("invalid field 'type' must be a key=value pair");
    expect(usageError(() => parseMountFlag('type=bind,source=/h,target=/c,,'))).toMatch(/empty field/);
    expect(usageError(() => parseMountFlag('target=/a,dst=/b'))).toMatch(/given twice/);
    expect(usageError(() => parseMountFlag('type=bind,source=/h,target=/c,readonly=maybe'))).toMatch(/invalid value for readonly/);
    expect(usageError(() => parseMountFlag('type=bind,source=/h,target=/c,bind-propagation=sideways'))).toMatch(/invalid bind-propagation/);
    expect(usageError(() => parseMountFlag('type=bind,source=/h,target=/c,volume-nocopy'))).toMatch(/volume-nocopy applies to volume mounts only/);
    expect(usageError(() => parseMountFlag('type=volume,target=/c,bind-propagation=shared'))).toMatch(/bind-propagation applies to bind mounts only/);
    expect(usageError(() => parseMountFlag('type=volume,target=/c,tmpfs-size=1m'))).toMatch(/tmpfs-size applies to tmpfs mounts only/);
    expect(usageError(() => parseMountFlag('type=tmpfs,source=x,target=/c'))).toMatch(/Source must not be specified/);
    expect(usageError(() => parseMountFlag('type=tmpfs,target=/c,tmpfs-size=lots'))).toMatch(/invalid size for tmpfs-size/);
    expect(usageError(() => parseMountFlag('type=tmpfs,target=/c,tmpfs-mode=999'))).toMatch(/tmpfs-mode must be octal/);
    expect(usageError(() => parseMountFlag('type=volume,source=a b,target=/c'))).toMatch(/invalid characters/);
    expect(usageError(() => parseMountFlag('type=tmpfs,target=/'))).toMatch(/destination can't be '\/'/);
    expect(usageError(() => parseMountFlag('type=volume,target=/c,volume-driver=nfs'))).toMatch(/only the local volume driver/);
  });
});

describe('--tmpfs and --volumes-from', () => {
  it("--tmpfs CTR[:opts] with Docker's defaults (noexec, nosuid, nodev) before the given options", () => {
    expect(parseTmpfsFlag('/run')).toEqual({ type: 'tmpfs', target: '/run', readonly: false, options: ['noexec', 'nosuid', 'nodev'], origin: 'tmpfs-flag' });
    expect(parseTmpfsFlag('/x:size=1m,mode=700,exec')).toMatchObject({ options: ['noexec', 'nosuid', 'nodev', 'size=1m', 'mode=700', 'exec'] });
    expect(parseTmpfsFlag('/x:ro')).toMatchObject({ readonly: true });
    expect(usageError(() => parseTmpfsFlag('x'))).toMatch(/must be absolute/);
    expect(usageError(() => parseTmpfsFlag('/x:size=big'))).toMatch(/size takes bytes/);
    expect(usageError(() => parseTmpfsFlag('/x:mode=rwx'))).toMatch(/mode must be octal/);
    expect(usageError(() => parseTmpfsFlag('/x:bind'))).toMatch(/invalid tmpfs option 'bind'/);
    expect(usageError(() => parseTmpfsFlag('/x:lowerdir=/etc'))).toMatch(/invalid tmpfs option 'lowerdir=\/etc'/);
  });

  it('--volumes-from NAME[:ro|rw]', () => {
    expect(parseVolumesFrom('web')).toEqual({ container: 'web' });
    expect(parseVolumesFrom('web:ro')).toEqual({ container: 'web', readonly: true });
    expect(parseVolumesFrom('web:rw')).toEqual({ container: 'web', readonly: false });
    expect(usageError(() => parseVolumesFrom('web:rx'))).toMatch(/invalid mode for volumes-from: rx/);
    expect(usageError(() => parseVolumesFrom(':ro'))).toMatch(/use CONTAINER/);
    expect(usageError(() => parseVolumesFrom('a:ro:x'))).toMatch(/use CONTAINER/);
  });

  it('one destination twice is refused', () => {
    expect(usageError(() => parseMountFlags({ volume: ['/a:/x'], tmpfs: ['/x/'] }))).toBe('Duplicate mount point: /x');
  });
});

describe('resolveMounts → spec mounts → plan', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it("makes volumes, records Docker's MountPoints, sorts parents first, and the plan binds them inside the root", async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hull-vol-unit-'));
    const volumes = new VolumeStore(storePaths(path.join(dir, 'root'), path.join(dir, 'run')));
    const hostDir = path.join(dir, 'made-by-v');
    const r = await resolveMounts({
      requests: parseMountFlags({
        volume: [`${hostDir}:/srv/a/b:ro`, 'named:/srv', '/anon'],
        tmpfs: ['/t:size=1m'],
        mount: ['type=volume,src=nc,dst=/nc,volume-nocopy'],
      }),
      volumesFrom: [{ container: 'other', readonly: true }],
      imageVolumes: ['/srv', '/img'],
      volumes,
      getContainer: async (c) => {
        expect(c).toBe('other');
        return {
          id: 'x',
          mounts: [
            { Type: 'bind', Source: '/from', Destination: '/shared', Mode: '', RW: true, Propagation: 'rprivate' },
            { Type: 'tmpfs', Source: '', Destination: '/not-shared', Mode: '', RW: true, Propagation: '' },
          ],
        };
      },
    });
    // -v made the missing host directory.
    expect(statSync(hostDir).isDirectory()).toBe(true);
    const names = volumes.list().map((v) => v.Name);
    expect(names).toContain('named');
    expect(names).toContain('nc');
    const anonymous = volumes.list().filter((v) => ANONYMOUS_LABEL in v.Labels);
    expect(anonymous).toHaveLength(2); // /anon and the image's /img (its /srv is covered by `named`)
    expect(r.createdAnonymous.sort()).toEqual(anonymous.map((v) => v.Name).sort());
    expect(r.mountPoints.map((m) => m.Destination)).toEqual(['/srv', '/anon', '/nc', '/t', '/shared', '/img', '/srv/a/b']);
    expect(r.mountPoints.find((m) => m.Destination === '/srv')).toEqual({
      Type: 'volume',
      Name: 'named',
      Source: volumes.dataDir('named'),
      Destination: '/srv',
      Driver: 'local',
      Mode: 'z',
      RW: true,
      Propagation: '',
    });
    expect(r.mountPoints.find((m) => m.Destination === '/shared')).toMatchObject({ Type: 'bind', Source: '/from', RW: false, Mode: 'ro' });
    expect(r.populate.map((p) => p.target).sort()).toEqual(['/anon', '/img', '/srv']);
    expect(r.binds).toEqual([`${hostDir}:/srv/a/b:ro`, 'named:/srv']);
    expect(r.tmpfs).toEqual({ '/t': 'size=1m' });

    // The spec: default /dev/shm etc. kept, user mounts after them.
    const spec = buildSpec({ image: { config: { Cmd: ['sh'] } }, user: { uid: 0, gid: 0, additionalGids: [], home: '/' }, hostname: 'h', rootfsPath: '/r' });
    spec.mounts = mergeMounts(spec.mounts, r.specMounts);
    expect(spec.mounts.find((m) => m.destination === '/srv/a/b')).toEqual({
      destination: '/srv/a/b',
      type: 'bind',
      source: hostDir,
      options: ['rbind', 'rprivate', 'ro'],
    });
    expect(spec.mounts.find((m) => m.destination === '/t')).toEqual({
      destination: '/t',
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['noexec', 'nosuid', 'nodev', 'size=1m'],
    });

    const steps = buildPlan(spec, { lower: ['/l/B', '/l/A'], upper: '/u', work: '/w' }, { createCwd: false, isFile: () => false });
    const bind = steps.find((s) => s.op === 'mount' && s.target === '/srv/a/b');
    expect(bind).toMatchObject({ source: hostDir, fstype: '', inRoot: true, create: 'dir', flags: MS.BIND | MS.REC | MS.PRIVATE | MS.RDONLY });
    const tmpfs = steps.find((s) => s.op === 'mount' && s.target === '/t');
    expect(tmpfs).toMatchObject({ fstype: 'tmpfs', inRoot: true, data: 'size=1m', flags: MS.NOEXEC | MS.NOSUID | MS.NODEV });
    const vol = steps.find((s) => s.op === 'mount' && s.target === '/srv');
    expect(vol).toMatchObject({ source: volumes.dataDir('named'), inRoot: true, flags: MS.BIND | MS.REC | MS.PRIVATE });
    // Parents are mounted before their children, all before pivot_root.
    const targets = steps.filter((s) => s.op === 'mount').map((s) => (s as { target: string }).target);
    expect(targets.indexOf('/srv')).toBeLessThan(targets.indexOf('/srv/a/b'));
    expect(steps.findIndex((s) => s.op === 'pivotRoot')).toBeGreaterThan(steps.indexOf(bind!));
  });

  it('slave or shared binds make the root rslave (host mounts reach them, nothing goes back); the default stays rprivate', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hull-vol-unit-'));
    const volumes = new VolumeStore(storePaths(path.join(dir, 'root'), path.join(dir, 'run')));
    const resolve = (volume: string[]) =>
      resolveMounts({ requests: parseMountFlags({ volume }), volumesFrom: [], imageVolumes: [], volumes, getContainer: async () => ({ id: 'x' }) });
    expect((await resolve([`${dir}:/a`])).rootfsPropagation).toBeUndefined();
    expect((await resolve([`${dir}:/a:rslave`])).rootfsPropagation).toBe('rslave');
    expect((await resolve([`${dir}:/a:shared`])).rootfsPropagation).toBe('rslave');
    expect(rootPropagationFlags(undefined)).toBe(MS.REC | MS.PRIVATE);
    expect(rootPropagationFlags('rslave')).toBe(MS.REC | MS.SLAVE);
    // shared: private until pivot_root, then the container's root a peer group of its own (never the host's)
    expect(rootPropagationFlags('rshared')).toBe(MS.REC | MS.PRIVATE);
    expect(() => rootPropagationFlags('everywhere')).toThrow(/not supported/);
    const shared = buildSpec({ image: { config: { Cmd: ['sh'] } }, user: { uid: 0, gid: 0, additionalGids: [], home: '/' }, hostname: 'h', rootfsPath: '/r' });
    shared.linux.rootfsPropagation = 'rshared';
    const steps = buildPlan(shared, { lower: ['/l/B', '/l/A'], upper: '/u', work: '/w' }, { createCwd: false, isFile: () => false });
    const pivot = steps.findIndex((st) => st.op === 'pivotRoot');
    expect(steps[pivot + 1]).toMatchObject({ op: 'mount', target: '/', flags: MS.SHARED | MS.REC, inRoot: false });
    const spec = buildSpec({ image: { config: { Cmd: ['sh'] } }, user: { uid: 0, gid: 0, additionalGids: [], home: '/' }, hostname: 'h', rootfsPath: '/r' });
    spec.linux.rootfsPropagation = 'rslave';
    expect(buildPlan(spec, { lower: ['/l/B', '/l/A'], upper: '/u', work: '/w' }, { createCwd: false, isFile: () => false })[0]).toMatchObject({
      op: 'mount',
      target: '/',
      flags: MS.REC | MS.SLAVE,
    });
  });

  it('a user mount replaces the default mount at the same place (--tmpfs /dev/shm)', () => {
    const spec = buildSpec({ image: { config: { Cmd: ['sh'] } }, user: { uid: 0, gid: 0, additionalGids: [], home: '/' }, hostname: 'h', rootfsPath: '/r' });
    const merged = mergeMounts(spec.mounts, [{ destination: '/dev/shm', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] }]);
    expect(merged.filter((m) => m.destination === '/dev/shm')).toEqual([{ destination: '/dev/shm', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] }]);
  });

  it('--mount type=bind of a missing host path fails and makes nothing; a failed resolution removes the anonymous volumes it made', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hull-vol-unit-'));
    const volumes = new VolumeStore(storePaths(path.join(dir, 'root'), path.join(dir, 'run')));
    const missing = path.join(dir, 'missing');
    await expect(
      resolveMounts({
        requests: parseMountFlags({ volume: ['/anon'], mount: [`type=bind,source=${missing},target=/m`] }),
        volumesFrom: [],
        imageVolumes: [],
        volumes,
        getContainer: async () => ({ id: 'x' }),
      }),
    ).rejects.toThrow(`invalid mount config for type "bind": bind source path does not exist: ${missing}`);
    expect(statSync(missing, { throwIfNoEntry: false })).toBeUndefined();
    expect(volumes.list()).toEqual([]);
    expect(readdirSync(volumes.dir).filter((n) => !n.startsWith('.'))).toEqual([]);
  });

  it('volume names: concurrent ensure() of one name ends with one volume', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hull-vol-unit-'));
    const volumes = new VolumeStore(storePaths(path.join(dir, 'root'), path.join(dir, 'run')));
    const first = volumes.ensure('same');
    const second = volumes.ensure('same');
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.volume).toEqual(first.volume);
    expect(readdirSync(volumes.dir)).toEqual(['same']);
  });
});
