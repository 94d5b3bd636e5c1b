// Volumes end to end, as root on the host kernel: named, anonymous, bind and tmpfs mounts,
// --volumes-from, the volume verbs, in-use refusal, --rm / rm -v, concurrency, foreground and
// detached (`run -d`, through the monitor's binary plan), and images whose volume targets are
// symlinks to host paths (CVE-2024-45310 class): the host side is checked.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxLayerEntries, writeOciImage, type Entry } from '../../scripts/make-busybox-image.mjs';
import { HullEnv, canRunContainers, skipReason } from '../helpers/hull-env.js';
import { ConflictError } from '../../src/errors.js';
import { Hull } from '../../src/hull.js';
import { parseMountFlags } from '../../src/options/mounts.js';
import type { MountPoint } from '../../src/volume/resolve.js';

describe.skipIf(!canRunContainers)(`volumes (integration${skipReason})`, () => {
  let env: HullEnv;
  let hostSide: string;

  beforeAll(async () => {
    env = new HullEnv();
    await env.loadBusybox();
    hostSide = path.join(env.base, 'hostside');
    mkdirSync(hostSide);
    writeFileSync(path.join(hostSide, 'sentinel'), 'host\n');
    // An image with content at /data (owned 1000:50, mode 0750, a file 0600 owned 7:7), a VOLUME,
    // and volume targets that are symlinks to a host directory, absolute and relative.
    const hostRel = `../../../../../../../../..${hostSide}`;
    const entries: Entry[] = [
      { path: 'data/', type: 'dir', mode: 0o750, uid: 1000, gid: 50 },
      { path: 'data/hello', type: 'file', content: 'from the image\n', mode: 0o600, uid: 7, gid: 7 },
      { path: 'data/sub/', type: 'dir' },
      { path: 'data/sub/link', type: 'symlink', linkname: '../hello' },
      { path: 'declared/', type: 'dir' },
      { path: 'declared/seed', type: 'file', content: 'seed\n' },
      { path: 'abs', type: 'symlink', linkname: hostSide },
      { path: 'rel', type: 'symlink', linkname: hostRel },
      { path: 'dangling', type: 'symlink', linkname: `${hostSide}/made-through-link` },
      { path: 'file-link', type: 'symlink', linkname: `${hostSide}/file-through-link` },
    ];
    const archive = path.join(env.base, 'crafted.tar');
    await writeOciImage({
      layers: [busyboxLayerEntries(), entries],
      name: 'crafted:latest',
      outTar: archive,
      config: { config: { Cmd: ['sh'], Volumes: { '/declared': {} } } },
    });
    const r = env.cli(['load', '-i', archive]);
    expect(r.stderr).toBe('');
  }, 60_000);

  afterAll(() => {
    // Volumes are this env's own (under its --root): removed with it.
    env.destroy();
  });

  const ok = (args: string[]) => env.ok(args);
  const volumes = () => env.cli(['volume', 'ls', '-q']).stdout.split('\n').filter(Boolean).sort();
  const dataOf = (name: string) => path.join(env.root, 'volumes', name, '_data');
  const mountsOf = (container: string) => (JSON.parse(ok(['inspect', container])) as { Mounts: MountPoint[] }[])[0]!.Mounts;
  const hostUntouched = () => {
    expect(readdirSync(hostSide)).toEqual(['sentinel']);
    expect(readFileSync(path.join(hostSide, 'sentinel'), 'utf8')).toBe('host\n');
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(hostSide);
  };
  const clean = () => {
    expect(env.leftovers()).toEqual([]);
    const dir = path.join(env.root, 'volumes');
    if (existsSync(dir)) expect(readdirSync(dir).filter((n) => n.startsWith('.'))).toEqual([]);
  };

  it('a named volume keeps its data across containers; :ro is enforced (EROFS)', () => {
    ok(['run', '--rm', '-v', 'keep:/data', 'busybox', 'sh', '-c', 'echo first > /data/f']);
    expect(volumes()).toContain('keep');
    expect(ok(['run', '--rm', '-v', 'keep:/other', 'busybox', 'cat', '/other/f'])).toBe('first\n');
    const r = env.cli(['run', '--rm', '-v', 'keep:/data:ro', 'busybox', 'sh', '-c', 'cat /data/f; echo x > /data/g']);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('first\n');
    expect(r.stderr).toMatch(/Read-only file system/);
    expect(readdirSync(dataOf('keep'))).toEqual(['f']);
    // --mount readonly is the same
    const m = env.cli(['run', '--rm', '--mount', 'type=volume,src=keep,dst=/d,readonly', 'busybox', 'touch', '/d/x']);
    expect(m.code).not.toBe(0);
    expect(m.stderr).toMatch(/Read-only file system/);
    ok(['volume', 'rm', 'keep']);
    clean();
  });

  it('a new named volume is filled from the image (ownership, modes, links kept); a non-empty one is not; nocopy leaves it empty', () => {
    expect(
      ok(['run', '--rm', '-v', 'filled:/data', 'crafted', 'sh', '-c', 'cat /data/hello; readlink /data/sub/link; stat -c "%a %u:%g" /data /data/hello']),
    ).toBe('from the image\n../hello\n750 1000:50\n600 7:7\n');
    const st = statSync(dataOf('filled'));
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o750, 1000, 50]);
    expect(lstatSync(path.join(dataOf('filled'), 'sub', 'link')).isSymbolicLink()).toBe(true);
    // Changed content stays; it is not copied over again.
    ok(['run', '--rm', '-v', 'filled:/data', 'crafted', 'rm', '/data/hello']);
    expect(ok(['run', '--rm', '-v', 'filled:/data', 'crafted', 'ls', '/data'])).toBe('sub\n');
    ok(['run', '--rm', '-v', 'empty:/data:nocopy', 'crafted', 'true']);
    expect(readdirSync(dataOf('empty'))).toEqual([]);
    ok(['run', '--rm', '--mount', 'type=volume,src=empty2,dst=/data,volume-nocopy', 'crafted', 'true']);
    expect(readdirSync(dataOf('empty2'))).toEqual([]);
    ok(['volume', 'rm', 'filled', 'empty', 'empty2']);
    clean();
  });

  it('filling a volume a running container has mounted keeps it mounted there (no rename over _data)', () => {
    ok(['run', '-d', '--name', 'holder', '-v', 'shared-fill:/data:nocopy', 'busybox', 'sleep', '60']);
    expect(readdirSync(dataOf('shared-fill'))).toEqual([]);
    ok(['run', '--rm', '-v', 'shared-fill:/data', 'crafted', 'true']);
    expect(readdirSync(dataOf('shared-fill')).sort()).toEqual(['hello', 'sub']);
    // The running container still has the volume: it sees the copy, and its writes land in it.
    expect(ok(['exec', 'holder', 'sh', '-c', 'cat /data/hello; echo mine > /data/mine'])).toBe('from the image\n');
    expect(readFileSync(path.join(dataOf('shared-fill'), 'mine'), 'utf8')).toBe('mine\n');
    ok(['rm', '-f', 'holder']);
    ok(['volume', 'rm', 'shared-fill']);
    clean();
  });

  it("a bind mount shows the host's files and writes land on the host; -v makes a missing source, --mount refuses it", () => {
    const dir = path.join(env.base, 'bind-src');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'on-host'), 'hi\n');
    expect(ok(['run', '--rm', '-v', `${dir}:/b`, 'busybox', 'sh', '-c', 'cat /b/on-host; echo back > /b/from-ctr'])).toBe('hi\n');
    expect(readFileSync(path.join(dir, 'from-ctr'), 'utf8')).toBe('back\n');
    const ro = env.cli(['run', '--rm', '-v', `${dir}:/b:ro`, 'busybox', 'touch', '/b/x']);
    expect(ro.stderr).toMatch(/Read-only file system/);
    expect(existsSync(path.join(dir, 'x'))).toBe(false);
    // A single file bind.
    expect(ok(['run', '--rm', '--mount', `type=bind,src=${dir}/on-host,dst=/etc/motd,readonly`, 'busybox', 'cat', '/etc/motd'])).toBe('hi\n');
    const missing = path.join(env.base, 'made-by-v');
    ok(['run', '--rm', '-v', `${missing}:/m`, 'busybox', 'true']);
    expect(statSync(missing).isDirectory()).toBe(true);
    const notThere = path.join(env.base, 'not-there');
    const r = env.cli(['run', '--rm', '--mount', `type=bind,src=${notThere},dst=/m`, 'busybox', 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe(`hull: invalid mount config for type "bind": bind source path does not exist: ${notThere}\n`);
    expect(existsSync(notThere)).toBe(false);
    clean();
  });

  it("a read-only bind is read-only all the way down: the host's submounts under it too", () => {
    const dir = path.join(env.base, 'rro-src');
    const sub = path.join(dir, 'sub');
    mkdirSync(sub, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'hull-rro-test', sub]);
    try {
      const ro = env.cli(['run', '--rm', '-v', `${dir}:/b:ro`, 'busybox', 'sh', '-c', 'touch /b/sub/x; touch /b/y']);
      expect(ro.stderr).toBe('touch: /b/sub/x: Read-only file system\ntouch: /b/y: Read-only file system\n');
      expect(readdirSync(sub)).toEqual([]);
      // A writable bind keeps the submount writable (the recursion is real, not a lost submount).
      ok(['run', '--rm', '-v', `${dir}:/b`, 'busybox', 'touch', '/b/sub/x']);
      expect(readdirSync(sub)).toEqual(['x']);
    } finally {
      execFileSync('umount', [sub]);
    }
    clean();
  });

  it("bind propagation: rslave/rshared binds receive the host's new mounts, rprivate ones do not; nothing goes back to the host", () => {
    // A shared mount of the test's own as the source (this host's / is private).
    const src = path.join(env.base, 'prop-src');
    mkdirSync(src);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'hull-prop-test', src]);
    const sub = path.join(src, 'sub');
    try {
      execFileSync('mount', ['--make-shared', src]);
      mkdirSync(sub);
      ok([
        'run',
        '-d',
        '--name',
        'prop',
        '-v',
        `${src}:/q:rslave`,
        '--mount',
        `type=bind,src=${src},dst=/p,bind-propagation=rshared`,
        '-v',
        `${src}:/r`,
        'busybox',
        'sleep',
        '60',
      ]);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'hull-prop-sub', sub]);
      writeFileSync(path.join(sub, 'seen'), '');
      const info = ok(['exec', 'prop', 'cat', '/proc/self/mountinfo']);
      const line = (target: string) => info.split('\n').find((l) => l.split(' ')[4] === target) ?? '';
      expect(line('/q')).toMatch(/ master:\d+/);
      expect(line('/q')).not.toMatch(/ shared:/);
      expect(line('/p')).toMatch(/ shared:\d+ master:\d+/);
      expect(line('/r')).not.toMatch(/shared:|master:/);
      expect(ok(['exec', 'prop', 'sh', '-c', 'ls /q/sub; ls /p/sub; ls /r/sub'])).toBe('seen\nseen\n');
      ok(['rm', '-f', 'prop']);
    } finally {
      execFileSync('umount', [sub]);
      execFileSync('umount', [src]);
    }
    clean();
  });

  it('a tmpfs is empty and writable, --tmpfs size is a bound, --mount type=tmpfs takes size and mode', () => {
    expect(ok(['run', '--rm', '--tmpfs', '/data', 'crafted', 'sh', '-c', 'ls -A /data; echo w > /data/x && cat /data/x'])).toBe('w\n');
    const r = env.cli(['run', '--rm', '--tmpfs', '/x:size=1m', 'busybox', 'sh', '-c', 'dd if=/dev/zero of=/x/big bs=1024 count=2048 2>&1; ls -l /x/big']);
    expect(r.stdout).toMatch(/No space left on device/);
    expect(r.stdout).toMatch(/ 1048576 /);
    expect(
      ok(['run', '--rm', '--mount', 'type=tmpfs,dst=/t,tmpfs-size=65536,tmpfs-mode=0700', 'busybox', 'sh', '-c', 'stat -c %a /t; df -k /t | tail -1']),
    ).toMatch(/^700\ntmpfs\s+64\s/);
    clean();
  });

  it("--volumes-from shares another container's volumes and binds, :ro included", () => {
    const dir = path.join(env.base, 'vf-bind');
    mkdirSync(dir);
    ok(['create', '--name', 'vf-src', '-v', 'vfvol:/shared', '-v', `${dir}:/hostdir`, 'busybox', 'true']);
    ok(['run', '--rm', '--volumes-from', 'vf-src', 'busybox', 'sh', '-c', 'echo via > /shared/f; echo b > /hostdir/g']);
    expect(readFileSync(path.join(dataOf('vfvol'), 'f'), 'utf8')).toBe('via\n');
    expect(readFileSync(path.join(dir, 'g'), 'utf8')).toBe('b\n');
    const r = env.cli(['run', '--rm', '--volumes-from', 'vf-src:ro', 'busybox', 'sh', '-c', 'cat /shared/f; touch /shared/no']);
    expect(r.stdout).toBe('via\n');
    expect(r.stderr).toMatch(/Read-only file system/);
    ok(['rm', 'vf-src']);
    ok(['volume', 'rm', 'vfvol']);
    clean();
  });

  it("a volume any container uses (running or not) cannot be removed: Docker's message, exit 1; rm -f does not change that", () => {
    const id = ok(['create', '--name', 'user1', '-v', 'busy:/b', 'busybox', 'true']).trim();
    for (const args of [
      ['volume', 'rm', 'busy'],
      ['volume', 'rm', '-f', 'busy'],
    ]) {
      const r = env.cli(args);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`hull: remove busy: volume is in use - [${id}]\n`);
    }
    expect(env.cli(['volume', 'prune', '-f', '-a']).stdout).not.toContain('busy');
    const missing = env.cli(['volume', 'rm', 'no-such']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('hull: no such volume: no-such\n');
    expect(env.cli(['volume', 'rm', '-f', 'no-such']).code).toBe(0);
    ok(['rm', 'user1']);
    expect(volumes()).toContain('busy'); // a named volume outlives its container
    expect(ok(['volume', 'rm', 'busy'])).toBe('busy\n');
    clean();
  });

  it('volume create / ls / inspect / prune as Docker', () => {
    expect(ok(['volume', 'create', '--label', 'team=core', 'made'])).toBe('made\n');
    expect(ok(['volume', 'create', 'made'])).toBe('made\n'); // idempotent
    const generated = ok(['volume', 'create']).trim();
    expect(generated).toMatch(/^[0-9a-f]{64}$/);
    const [v] = JSON.parse(ok(['volume', 'inspect', 'made'])) as Record<string, unknown>[];
    expect(v).toEqual({
      CreatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      Driver: 'local',
      Labels: { team: 'core' },
      Mountpoint: dataOf('made'),
      Name: 'made',
      Options: null,
      Scope: 'local',
    });
    expect(ok(['volume', 'ls'])).toMatch(/^DRIVER\s+VOLUME NAME\n(local\s+\S+\n)+$/);
    expect(volumes()).toEqual([generated, 'made'].sort());
    // prune: anonymous unused volumes only; -a: every unused one.
    ok(['create', '--name', 'anon-user', '-v', '/anon', 'busybox', 'true']);
    const anon = mountsOf('anon-user')[0]!.Name!;
    ok(['rm', 'anon-user']); // without -v its anonymous volume stays
    expect(volumes()).toContain(anon);
    expect(ok(['volume', 'prune', '-f'])).toBe(`Deleted Volumes:\n${anon}\n\nTotal reclaimed space: 0B\n`);
    expect(volumes()).toEqual([generated, 'made'].sort());
    expect(ok(['volume', 'prune', '-f', '-a'])).toMatch(/^Deleted Volumes:\n/);
    expect(volumes()).toEqual([]);
    // What a killed hull left while making or removing a volume is never listed, and prune removes it.
    const dead = execFileSync('sh', ['-c', 'sh -c "echo \\$\\$"']).toString().trim();
    for (const leftover of [`.tmp-${dead}-aaaaaa`, `.rm-${dead}-bbbbbb`]) mkdirSync(path.join(env.root, 'volumes', leftover, '_data'), { recursive: true });
    expect(volumes()).toEqual([]);
    ok(['volume', 'prune', '-f']);
    expect(readdirSync(path.join(env.root, 'volumes'))).toEqual([]);
    const bad = env.cli(['volume', 'create', 'x!']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/invalid characters for a local volume name/);
    expect(env.cli(['volume', 'create', 'x']).stderr).toBe('hull: volume name is too short, names should be at least two alphanumeric characters\n');
    clean();
  });

  it("run --rm and rm -v remove anonymous volumes (the image's VOLUME too), never named ones", async () => {
    ok(['run', '--rm', '-v', '/scratch', '-v', 'named-stays:/n', 'crafted', 'sh', '-c', 'test -f /declared/seed && touch /scratch/x']);
    expect(volumes()).toEqual(['named-stays']);
    // Detached with --rm: the monitor's exit command removes them.
    ok(['run', '-d', '--rm', '--name', 'drm', '-v', '/scratch', 'crafted', 'true']);
    for (let i = 0; i < 200 && existsSync(path.join(env.root, 'containers')) && readdirSync(path.join(env.root, 'containers')).length > 0; i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(volumes()).toEqual(['named-stays']);
    ok(['create', '--name', 'rmv', '-v', '/scratch', 'crafted', 'true']);
    expect(volumes()).toHaveLength(3); // /scratch and the image's /declared
    const mounts = mountsOf('rmv');
    expect(mounts.map((m) => m.Destination).sort()).toEqual(['/declared', '/scratch']);
    expect(mounts.every((m) => m.Type === 'volume' && m.Driver === 'local' && m.RW)).toBe(true);
    expect(readFileSync(path.join(dataOf(mounts.find((m) => m.Destination === '/declared')!.Name!), 'seed'), 'utf8')).toBe('seed\n');
    ok(['rm', '-v', 'rmv']);
    expect(volumes()).toEqual(['named-stays']);
    ok(['volume', 'rm', 'named-stays']);
    clean();
  });

  it("detached containers (run -d, the monitor's binary plan) carry every kind of mount; inspect shows Docker's Mounts", () => {
    const dir = path.join(env.base, 'detached-bind');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'h'), 'host file\n');
    ok(['run', '-d', '--name', 'dm', '-v', 'dvol:/v', '-v', `${dir}:/b:ro`, '--tmpfs', '/t:size=1m', 'crafted', 'sleep', '60']);
    const out = ok([
      'exec',
      'dm',
      'sh',
      '-c',
      'cat /b/h; echo d > /v/f; cat /v/f; touch /t/ok && echo tmpfs-ok; touch /b/no 2>&1; grep " /t " /proc/self/mountinfo',
    ]);
    expect(out).toMatch(/^host file\nd\ntmpfs-ok\n.*Read-only file system\n.* \/t .*tmpfs.*size=1024k/s);
    expect(readFileSync(path.join(dataOf('dvol'), 'f'), 'utf8')).toBe('d\n');
    const mounts = mountsOf('dm');
    expect(mounts).toEqual([
      { Type: 'volume', Name: 'dvol', Source: dataOf('dvol'), Destination: '/v', Driver: 'local', Mode: 'z', RW: true, Propagation: '' },
      { Type: 'bind', Source: dir, Destination: '/b', Mode: 'ro', RW: false, Propagation: 'rprivate' },
      { Type: 'tmpfs', Source: '', Destination: '/t', Mode: '', RW: true, Propagation: '' },
      {
        Type: 'volume',
        Name: expect.stringMatching(/^[0-9a-f]{64}$/),
        Source: expect.any(String),
        Destination: '/declared',
        Driver: 'local',
        Mode: '',
        RW: true,
        Propagation: '',
      },
    ]);
    const host = (JSON.parse(ok(['inspect', 'dm'])) as { HostConfig: { Binds: string[]; Tmpfs: Record<string, string> } }[])[0]!.HostConfig;
    expect(host.Binds).toEqual(['dvol:/v', `${dir}:/b:ro`]);
    expect(host.Tmpfs).toEqual({ '/t': 'size=1m' });
    // A restart (a new plan through the monitor) mounts the same volume again.
    ok(['restart', '-t', '0', 'dm']);
    expect(ok(['exec', 'dm', 'sh', '-c', 'cat /v/f; cat /b/h; ls -A /t'])).toBe('d\nhost file\n');
    const used = env.cli(['volume', 'rm', 'dvol']);
    expect(used.code).toBe(1);
    ok(['rm', '-f', '-v', 'dm']);
    expect(volumes()).toEqual(['dvol']);
    ok(['volume', 'rm', 'dvol']);
    clean();
  });

  it('10 concurrent runs creating the same named volume end with one consistent volume, filled once', async () => {
    const runs = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        env.cliAsync(['run', '--rm', '-v', 'race:/data', 'crafted', 'sh', '-c', `echo ${i} > /data/c${i}; cat /data/hello`]),
      ),
    );
    for (const r of runs) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('from the image\n');
    }
    expect(volumes()).toEqual(['race']);
    const files = readdirSync(dataOf('race')).sort();
    expect(files).toEqual([...Array.from({ length: 10 }, (_, i) => `c${i}`), 'hello', 'sub'].sort());
    expect(readdirSync(path.join(env.root, 'volumes', 'race')).filter((n) => n.startsWith('.'))).toEqual([]);
    ok(['volume', 'rm', 'race']);
    clean();
  }, 120_000);

  it('volume rm racing container creation never leaves a container whose volume is gone', async () => {
    for (let i = 0; i < 8; i++) {
      const [created, removed] = await Promise.all([
        env.cliAsync(['create', '--name', `racer${i}`, '-v', 'contested:/d', 'busybox', 'true']),
        env.cliAsync(['volume', 'rm', 'contested']),
      ]);
      expect(created.code).toBe(0);
      // Either rm came first (no such volume, or removed an earlier one) and create made it again, or it was refused as in use.
      expect([0, 1]).toContain(removed.code);
      if (removed.code === 1) expect(removed.stderr).toMatch(/volume is in use|no such volume/);
      expect(volumes()).toContain('contested');
      ok(['rm', `racer${i}`]);
    }
    ok(['volume', 'rm', 'contested']);
    clean();
  }, 120_000);

  it('the library: typed mount requests, volume verbs, in-use refusal as a ConflictError', async () => {
    const hull = new Hull({ root: env.root, runRoot: env.runRoot });
    const made = await hull.createVolume('lib', { labels: { by: 'library' } });
    expect(made).toMatchObject({ Name: 'lib', Driver: 'local', Labels: { by: 'library' }, Mountpoint: dataOf('lib') });
    const r = await hull.run({
      image: 'busybox',
      cmd: ['sh', '-c', 'echo lib > /v/f; ls /t'],
      stdout: 'pipe',
      stderr: 'pipe',
      remove: true,
      cgroupParent: env.cgroupParent,
      mounts: parseMountFlags({ volume: ['lib:/v'], tmpfs: ['/t'] }),
    });
    expect(r.exitCode).toBe(0);
    expect(readFileSync(path.join(dataOf('lib'), 'f'), 'utf8')).toBe('lib\n');
    const { record: c, warnings } = await hull.createContainer({
      image: 'busybox',
      cgroupParent: env.cgroupParent,
      mounts: [{ type: 'volume', name: 'lib', target: '/v', readonly: true, noCopy: false, origin: 'mount-flag', mode: 'z' }],
    });
    expect(warnings).toEqual([]);
    await expect(hull.removeVolume('lib')).rejects.toBeInstanceOf(ConflictError);
    await hull.removeContainer(c.id);
    expect(await hull.removeVolume('lib')).toBe(true);
    expect(hull.listVolumes()).toEqual([]);
    clean();
  });

  describe('volume targets that are symlinks to host paths (CVE-2024-45310 class)', () => {
    for (const link of ['/abs', '/rel']) {
      it(`${link} -> the host directory: named, anonymous, bind and tmpfs mounts land inside the container, nothing on the host`, () => {
        const bindSrc = path.join(env.base, `bind-for${link.slice(1)}`);
        for (const [flag, spec] of [
          ['-v', `sym${link.slice(1)}:${link}`],
          ['-v', link],
          ['-v', `${bindSrc}:${link}`],
          ['--tmpfs', link],
          ['--mount', `type=volume,dst=${link}/nested/deeper`],
        ] as const) {
          const r = env.cli(['run', '--rm', flag, spec, 'crafted', 'sh', '-c', `touch ${link}/written-inside && ls ${link}`]);
          expect(r.stderr).toBe('');
          expect(r.code).toBe(0);
          expect(r.stdout).not.toContain('sentinel');
          hostUntouched();
        }
        // The named volume was not filled with the host's files, and got what was written.
        expect(readdirSync(dataOf(`sym${link.slice(1)}`))).toEqual(['written-inside']);
        expect(readdirSync(bindSrc)).toEqual(['written-inside']);
        ok(['volume', 'rm', `sym${link.slice(1)}`]);
        // Detached: the same through the monitor.
        ok(['run', '-d', '--name', 'symd', '-v', `${bindSrc}:${link}`, 'crafted', 'sleep', '60']);
        hostUntouched();
        ok(['rm', '-f', 'symd']);
        clean();
      });
    }

    it('a dangling symlink target is created inside the root, never on the host; a file bind through a link is refused', () => {
      ok(['run', '--rm', '-v', 'dang:/dangling', 'crafted', 'touch', '/dangling/in-volume']);
      expect(existsSync(path.join(hostSide, 'made-through-link'))).toBe(false);
      expect(readdirSync(dataOf('dang'))).toEqual(['in-volume']);
      hostUntouched();
      const file = path.join(env.base, 'a-file');
      writeFileSync(file, 'f\n');
      const r = env.cli(['run', '--rm', '-v', `${file}:/file-link`, 'crafted', 'true']);
      expect(r.code).toBe(125);
      expect(r.stderr).toMatch(/file-link: ELOOP/);
      expect(existsSync(path.join(hostSide, 'file-through-link'))).toBe(false);
      hostUntouched();
      ok(['volume', 'rm', 'dang']);
      clean();
    });
  });
});
