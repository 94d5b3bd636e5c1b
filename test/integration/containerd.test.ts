// The containerd harness (test/helpers/containerd.ts) proven with Debian's runc: a private daemon
// touches no default path and leaves nothing when stopped, even with a task still running; both
// archive forms of the busybox test image import; a `#!/usr/bin/env node` script works as
// --runc-binary; and the runtime checks of test/helpers/ctr-checks.ts pass with runc (the same
// checks hull-runc runs).
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxImage, hasBusybox } from '../helpers/busybox-image.js';
import { BUSYBOX_REF, cgroupRoots, containerdSkipReason, nodeRuntimeWrapper, startContainerd } from '../helpers/containerd.js';
import { sharedContainerd } from '../helpers/shared-containerd.js';
import { cleanUp, ctrRuntimeChecks, waitStatus } from '../helpers/ctr-checks.js';

const RUNC = '/usr/sbin/runc';
const skip =
  containerdSkipReason || (!hasBusybox() ? '; skipped: needs busybox-static' : !existsSync(RUNC) ? '; skipped: needs runc (scripts/install-deps.sh test)' : '');

const alive = (pid: number): boolean => {
  try {
    return !/^\d+ \(.*\) [ZX] /s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

/** Paths a process holds open (files, directories, bound sockets show as socket:[…]). */
const openPaths = (pid: number): string[] =>
  readdirSync(`/proc/${pid}/fd`)
    .map((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        return '';
      }
    })
    .filter((p) => p.startsWith('/'));

describe.skipIf(skip !== '')(`containerd for the tests: private paths, nothing left behind (integration${skip})`, () => {
  it('a private containerd uses no default path, and stop() removes a running task, its shim, mounts and cgroups', async () => {
    const defaults = ['/run/containerd', '/var/lib/containerd', '/opt/containerd'];
    const existed = defaults.filter((p) => existsSync(p));
    const t0 = performance.now();
    const ctd = await startContainerd();
    const startMs = performance.now() - t0;
    let stopped = false;
    try {
      expect(ctd.running()).toBe(true);
      // both forms busybox-image.ts makes: the OCI layout tar keeps its name (io.containerd.image.name in
      // its index), the docker-archive its RepoTags; `ref` adds a name
      const image = await busyboxImage();
      expect(await ctd.importImage(image.ociTar)).toEqual([BUSYBOX_REF]);
      expect(await ctd.importImage(image.dockerArchive, 'hull.test/busybox-docker:1')).toEqual([BUSYBOX_REF, 'hull.test/busybox-docker:1']);
      const ls = await ctd.ctr(['images', 'ls', '-q']);
      expect(ls.stdout.split('\n').filter(Boolean).sort()).toEqual([BUSYBOX_REF, 'hull.test/busybox-docker:1']);

      const run = await ctd.ctr(['run', '--detach', '--runc-binary', RUNC, 'hull.test/busybox-docker:1', 'left', 'sleep', '1000']);
      expect(run.code, run.stderr).toBe(0);
      const pid = await waitStatus(ctd, 'left', 'RUNNING');
      const shims = ctd.shims();
      expect(shims).toHaveLength(1);
      expect(ctd.mounts().some((m) => m.includes(`/${ctd.namespace}/left/rootfs`))).toBe(true);
      // what the daemon and its shim hold open lies in its directory (the shim's socket dir /run/containerd/s is
      // that directory's run/, bound there in the daemon's mount namespace), never in a default path
      const held = [ctd.pid, ...shims].flatMap(openPaths).filter((p) => !p.startsWith('/dev/'));
      expect(held.filter((p) => !p.startsWith(`${ctd.dir}/`) && !p.startsWith('/run/containerd/'))).toEqual([]);
      for (const d of defaults) if (!existed.includes(d)) expect(existsSync(d), d).toBe(false);

      const found = await ctd.stop();
      stopped = true;
      // what stop() found still there, before it cleaned up: all of the running task's traces
      expect(found).toContain('container: left');
      expect([...new Set(found.map((l) => l.split(':')[0]))].sort()).toEqual([
        'cgroup',
        'container',
        'mount',
        'process',
        'runc state',
        'shim',
        'snapshot',
        'task',
      ]);
      expect([ctd.pid, pid, ...shims].filter(alive)).toEqual([]);
      expect(existsSync(ctd.dir)).toBe(false);
      expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(ctd.dir);
      expect(cgroupRoots().filter((r) => existsSync(path.join(r, ctd.namespace)))).toEqual([]);
      expect(defaults.filter((p) => existsSync(p))).toEqual(existed);
      console.log(`containerd answered ${startMs.toFixed(0)} ms after spawn`);
    } finally {
      if (!stopped) await ctd.stop();
    }
  });

  describe('a Node script as --runc-binary (what hull-runc is)', () => {
    let base: string;
    let passThrough: string;
    const prefix = `noderuntime-${process.pid}-`;

    beforeAll(async () => {
      base = mkdtempSync(path.join(tmpdir(), 'hull-ctd-rt-'));
      // runc's arguments logged, then runc itself with the same stdio (console socket and pid file are paths)
      passThrough = path.join(base, 'runc-pass.cjs');
      writeFileSync(
        passThrough,
        [
          '#!/usr/bin/env node',
          "const { spawnSync } = require('node:child_process');",
          `require('node:fs').appendFileSync(${JSON.stringify(path.join(base, 'calls.log'))}, process.argv.slice(2).join(' ') + '\\n');`,
          `const r = spawnSync(${JSON.stringify(RUNC)}, process.argv.slice(2), { stdio: 'inherit' });`,
          'process.exit(r.status ?? 137);',
          '',
        ].join('\n'),
      );
      chmodSync(passThrough, 0o755);
      await sharedContainerd().importImage((await busyboxImage()).ociTar);
    });

    afterAll(async () => {
      const left = await cleanUp(sharedContainerd(), prefix);
      rmSync(base, { recursive: true, force: true });
      expect(left).toEqual([]);
    });

    it('the shim runs a #!/usr/bin/env node script directly, and through a /bin/sh wrapper', async () => {
      const ctd = sharedContainerd();
      for (const [i, runtime] of [passThrough, nodeRuntimeWrapper(base, passThrough)].entries()) {
        const id = `${prefix}${i}`;
        const r = await ctd.ctr(['run', '--rm', '--runc-binary', runtime, BUSYBOX_REF, id, 'echo', 'via-node']);
        expect(r.stdout).toBe('via-node\n');
        expect(r.code).toBe(0);
        const calls = readFileSync(path.join(base, 'calls.log'), 'utf8')
          .split('\n')
          .filter((l) => l.endsWith(` ${id}`));
        // runc's global flags first, then the operation
        expect(calls.map((c) => c.replace(/^--root \S+ --log \S+ --log-format json /, '').split(' ')[0])).toEqual(['create', 'start', 'delete', 'delete']);
        expect(calls[0]).toMatch(new RegExp(`^--root /run/containerd/runc/${ctd.namespace} .* create --bundle \\S+/${id} --pid-file \\S+/init.pid ${id}$`));
      }
    });
  });
});

ctrRuntimeChecks({ name: 'runc', runtime: () => RUNC, skip });
