// `hull cp` on containers that are not running (created, exited): their root as the next start
// will see it (the overlay plus their volumes and binds), mounted under the run root for the copy
// only; read-only rootfs and volumes refused with Docker's messages; paths kept inside the root; the
// container's lock held meanwhile; a mount a killed cp left found by `hull system check`.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HullEnv, canRunContainers, skipReason } from '../helpers/hull-env.js';

describe.skipIf(!canRunContainers)(`cp on stopped containers (integration${skipReason})`, () => {
  let env: HullEnv;
  let host: string;

  beforeAll(async () => {
    env = new HullEnv();
    await env.loadBusybox();
    host = path.join(env.base, 'host');
    mkdirSync(host);
  });
  afterAll(() => env.destroy());

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  /** Mounts at or below the env's run root (a cp's root must not outlive it). */
  const runRootMounts = () =>
    readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((l) => l.split(' ')[4]?.startsWith(env.runRoot));
  const id = (name: string) => env.ok(['inspect', '-f', '{{.Id}}', name]).trim();
  /** `hull cp` that must fail: its stderr. */
  const refused = (args: string[]): string => {
    const r = env.cli(['cp', ...args]);
    expect(r.code, r.stderr).not.toBe(0);
    return r.stderr;
  };
  function clean(): void {
    expect(runRootMounts()).toEqual([]);
    expect(env.leftovers()).toEqual([]);
  }

  it('create, cp a file and a directory in, start: the container sees them; nothing stays mounted', () => {
    writeFileSync(path.join(host, 'app.conf'), 'setting=1\n');
    mkdirSync(path.join(host, 'tree', 'sub'), { recursive: true });
    writeFileSync(path.join(host, 'tree', 'sub', 'x'), 'deep\n', { mode: 0o750 });
    env.ok(['create', '--name', 'fresh', '--network', 'none', 'busybox', 'sh', '-c', 'cat /etc/app.conf /tmp/tree/sub/x; stat -c %a /tmp/tree/sub/x']);
    env.ok(['cp', path.join(host, 'app.conf'), 'fresh:/etc/app.conf']);
    env.ok(['cp', path.join(host, 'tree'), 'fresh:/tmp/']);
    expect(runRootMounts()).toEqual([]);
    // Written into the container's own layer (its upper directory), as a started container would have.
    expect(readFileSync(path.join(env.root, 'containers', id('fresh'), 'upper', 'etc', 'app.conf'), 'utf8')).toBe('setting=1\n');
    expect(env.ok(['start', '-a', 'fresh'])).toBe('setting=1\ndeep\n750\n');
    // Exited: cp out and in again; the next start sees the new file.
    env.ok(['cp', 'fresh:/tmp/tree', path.join(host, 'back')]);
    expect(readFileSync(path.join(host, 'back', 'sub', 'x'), 'utf8')).toBe('deep\n');
    writeFileSync(path.join(host, 'app.conf'), 'setting=2\n');
    env.ok(['cp', path.join(host, 'app.conf'), 'fresh:/etc/']);
    expect(env.ok(['start', '-a', 'fresh'])).toBe('setting=2\ndeep\n750\n');
    env.ok(['rm', 'fresh']);
    clean();
  });

  it("cp out of an exited container: a file and a directory it wrote; a missing path is Docker's message", () => {
    env.ok(['run', '--name', 'builder', '--network', 'none', 'busybox', 'sh', '-c', 'mkdir -p /out/bin && echo built > /out/result && echo tool > /out/bin/t']);
    expect(env.ok(['inspect', '-f', '{{.State.Status}}', 'builder'])).toBe('exited\n');
    env.ok(['cp', 'builder:/out/result', path.join(host, 'result')]);
    expect(readFileSync(path.join(host, 'result'), 'utf8')).toBe('built\n');
    env.ok(['cp', 'builder:/out', path.join(host, 'out')]);
    expect(readdirSync(path.join(host, 'out')).sort()).toEqual(['bin', 'result']);
    expect(readFileSync(path.join(host, 'out', 'bin', 't'), 'utf8')).toBe('tool\n');
    const missing = env.cli(['cp', 'builder:/out/none', host]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/Could not find the file \/out\/none in container builder/);
    env.ok(['rm', 'builder']);
    clean();
  });

  it('cp into a volume or bind target of a created container lands in the volume (not under it, in the upper dir); a read-only volume is refused', () => {
    const bindDir = path.join(host, 'bind');
    mkdirSync(bindDir);
    env.ok([
      'create',
      '--name',
      'vols',
      '--network',
      'none',
      '-v',
      'cpvol:/data',
      '-v',
      `${bindDir}:/srv/bound`,
      '-v',
      'cpro:/ro:ro',
      '--tmpfs',
      '/scratch',
      'busybox',
      'true',
    ]);
    writeFileSync(path.join(host, 'f'), 'in-volume\n');
    env.ok(['cp', path.join(host, 'f'), 'vols:/data/']);
    env.ok(['cp', path.join(host, 'f'), 'vols:/srv/bound/g']);
    expect(readFileSync(path.join(bindDir, 'g'), 'utf8')).toBe('in-volume\n');
    const upper = path.join(env.root, 'containers', id('vols'), 'upper');
    expect(existsSync(path.join(upper, 'data', 'f'))).toBe(false);
    expect(existsSync(path.join(upper, 'srv', 'bound', 'g'))).toBe(false);
    // Another container with the volume sees the file; so does this one's own start.
    expect(env.ok(['run', '--rm', '--network', 'none', '-v', 'cpvol:/v', 'busybox', 'cat', '/v/f'])).toBe('in-volume\n');
    // A read-only volume: reads work, writes are Docker's refusal (under it too).
    env.ok(['run', '--rm', '--network', 'none', '-v', 'cpro:/w', 'busybox', 'sh', '-c', 'mkdir /w/sub && echo ro-data > /w/r']);
    env.ok(['cp', 'vols:/ro/r', path.join(host, 'r')]);
    expect(readFileSync(path.join(host, 'r'), 'utf8')).toBe('ro-data\n');
    expect(refused([path.join(host, 'f'), 'vols:/ro/'])).toMatch(/mounted volume is marked read-only/);
    expect(refused([path.join(host, 'f'), 'vols:/ro/sub/f'])).toMatch(/mounted volume is marked read-only/);
    expect(env.ok(['run', '--rm', '--network', 'none', '-v', 'cpro:/w', 'busybox', 'ls', '/w'])).toBe('r\nsub\n');
    env.ok(['rm', '-v', 'vols']);
    env.ok(['volume', 'rm', 'cpvol', 'cpro']);
    clean();
  });

  it("a read-only rootfs: reads work, writes refused with Docker's message, a writable volume in it still takes files (stopped and running alike)", () => {
    env.ok(['create', '--name', 'rofs', '--read-only', '--network', 'none', '-v', 'rwvol:/w', 'busybox', 'sh', '-c', 'cat /w/f; sleep 30']);
    expect(refused([path.join(host, 'f'), 'rofs:/tmp/'])).toMatch(/container rootfs is marked read-only/);
    expect(refused([path.join(host, 'f'), 'rofs:/etc/new'])).toMatch(/container rootfs is marked read-only/);
    env.ok(['cp', path.join(host, 'f'), 'rofs:/w/']);
    env.ok(['cp', 'rofs:/etc/passwd', path.join(host, 'passwd')]);
    expect(readFileSync(path.join(host, 'passwd'), 'utf8')).toMatch(/^root:/);
    expect(existsSync(path.join(env.root, 'containers', id('rofs'), 'upper', 'tmp', 'f'))).toBe(false);
    env.ok(['start', 'rofs']);
    expect(refused([path.join(host, 'f'), 'rofs:/tmp/'])).toMatch(/container rootfs is marked read-only/);
    env.ok(['cp', path.join(host, 'f'), 'rofs:/w/again']);
    expect(env.ok(['exec', 'rofs', 'cat', '/w/again'])).toBe('in-volume\n');
    expect(env.ok(['logs', 'rofs'])).toBe('in-volume\n');
    env.ok(['rm', '-f', '-v', 'rofs']);
    env.ok(['volume', 'rm', 'rwvol']);
    clean();
  });

  it("a remapped container (--uidmap): what a cp copies up from the image keeps its mapped owner, so the container's root still owns /etc", () => {
    const hostRoot = 231072;
    chmodSync(env.base, 0o711); // the remapped root searches its way to its layers (as in security.test.ts)
    env.ok([
      'create',
      '--name',
      'remapped',
      '--network',
      'none',
      '--uidmap',
      `0:${hostRoot}:65536`,
      'busybox',
      'sh',
      '-c',
      'stat -c %u:%g /etc; cat /etc/app.conf; touch /etc/x && echo writable',
    ]);
    writeFileSync(path.join(host, 'remapped.conf'), 'in-volume\n');
    env.ok(['cp', path.join(host, 'remapped.conf'), 'remapped:/etc/app.conf']);
    expect(runRootMounts()).toEqual([]);
    const etc = path.join(env.root, 'containers', id('remapped'), 'upper', 'etc');
    expect(readFileSync(path.join(etc, 'app.conf'), 'utf8')).toBe('in-volume\n');
    expect(spawnSync('stat', ['-c', '%u', etc], { encoding: 'utf8' }).stdout.trim()).toBe(String(hostRoot)); // copied up through the idmapped layer
    expect(env.ok(['start', '-a', 'remapped'])).toBe('0:0\nin-volume\nwritable\n');
    env.ok(['rm', 'remapped']);
    clean();
  });

  it("'..' and a symlink to / cannot leave a stopped container's root", () => {
    const marker = `hull-cp-stopped-${path.basename(env.base)}`;
    writeFileSync(path.join(host, marker), 'inside\n');
    symlinkSync('/', path.join(host, 'escape'));
    env.ok(['create', '--name', 'vault', '--network', 'none', 'busybox', 'true']);
    env.ok(['cp', path.join(host, 'escape'), 'vault:/']); // copied as a link: /escape -> / in the container
    env.ok(['cp', path.join(host, marker), 'vault:/etc/mark']);
    for (const p of ['/escape/etc/mark', '/../../../../etc/mark', '/escape/../../etc/mark']) {
      const to = path.join(host, `got-${p.replace(/\W/g, '_')}`);
      env.ok(['cp', `vault:${p}`, to]);
      expect(readFileSync(to, 'utf8'), p).toBe('inside\n');
    }
    // The host's own file by its host path is not in the container.
    expect(env.cli(['cp', `vault:/../../..${path.join(host, marker)}`, path.join(host, 'nope')]).code).toBe(1);
    // Writes through the link and through ../ land in the container's /tmp, never the host's.
    for (const p of ['vault:/escape/tmp/', 'vault:/../../../tmp/']) {
      env.ok(['cp', path.join(host, marker), p]);
      expect(existsSync(`/tmp/${marker}`)).toBe(false);
    }
    env.ok(['cp', `vault:/tmp/${marker}`, path.join(host, 'from-tmp')]);
    expect(readFileSync(path.join(host, 'from-tmp'), 'utf8')).toBe('inside\n');
    expect(readlinkSync(path.join(env.root, 'containers', id('vault'), 'upper', 'escape'))).toBe('/');
    env.ok(['rm', 'vault']);
    clean();
  });

  it("a start waits for a stopped container's cp (its lock), then sees the whole file", async () => {
    const big = path.join(host, 'big');
    const size = 128 * 1024 * 1024;
    writeFileSync(big, Buffer.alloc(size, 7));
    env.ok(['create', '--name', 'waiter', '--network', 'none', 'busybox', 'sh', '-c', 'wc -c < /big']);
    const copying = env.cliAsync(['cp', big, 'waiter:/big']);
    const point = path.join(env.runRoot, 'cp', id('waiter'));
    // The cp has its root mounted (it holds the lock): now a start.
    for (let i = 0; i < 2000 && !runRootMounts().some((l) => l.split(' ')[4] === point); i++) await sleep(5);
    expect(runRootMounts().some((l) => l.split(' ')[4] === point)).toBe(true);
    const starting = env.cliAsync(['start', '-a', 'waiter']);
    const [cp, start] = await Promise.all([copying, starting]);
    expect(cp).toMatchObject({ code: 0, stderr: '' });
    expect(start).toMatchObject({ code: 0, stderr: '' });
    expect(start.stdout.trim()).toBe(String(size));
    env.ok(['rm', 'waiter']);
    clean();
  });

  it('a mount a killed cp left is found by system check, detached by --repair (and by the next cp of that container)', () => {
    env.ok(['create', '--name', 'crashed', '--network', 'none', 'busybox', 'true']);
    const point = path.join(env.runRoot, 'cp', id('crashed'));
    mkdirSync(point, { recursive: true });
    expect(spawnSync('mount', ['-t', 'tmpfs', 'hull-test', point]).status).toBe(0); // what a cp killed between mount and unmount leaves
    const check = env.cli(['system', 'check']);
    expect(check.code).toBe(1);
    expect(check.stdout).toContain(`mount ${point}: the root of container ${id('crashed').slice(0, 12)}, left mounted by a killed cp`);
    const repair = env.cli(['system', 'check', '--repair']);
    expect(repair.stdout).toContain('left mounted by a killed cp — unmounted');
    expect(runRootMounts()).toEqual([]);
    expect(env.ok(['system', 'check'])).toMatch(/no problems/);
    // The next cp of the container detaches a stale one itself (it holds the lock: nothing uses it).
    mkdirSync(point, { recursive: true });
    expect(spawnSync('mount', ['-t', 'tmpfs', 'hull-test', point]).status).toBe(0);
    env.ok(['cp', 'crashed:/etc/passwd', path.join(host, 'passwd2')]);
    expect(readFileSync(path.join(host, 'passwd2'), 'utf8')).toMatch(/^root:/);
    env.ok(['rm', 'crashed']);
    clean();
  });
});
