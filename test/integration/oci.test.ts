// The OCI runtime over bundles (src/oci/runtime.ts), driven one operation per process as
// containerd's shim drives runc: create and start are two steps (after create the container's
// process is in its namespaces and cgroup, held before execve; start comes from another process),
// a created container can be killed or deleted without ever starting, and OCI hooks run at their
// points with the state JSON on their stdin. Nothing is left behind.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuntimeSpec, SpecHooks } from '../../src/runtime/spec.js';
import { findCgroup2Mount } from '../../src/runtime/cgroups.js';
import { makeBundle } from '../helpers/oci-bundle.js';
import { PROJECT, canRunContainers, skipReason } from '../helpers/hull-env.js';

const DRIVER = path.join(PROJECT, 'test', 'helpers', 'oci-driver.mjs');
const SIGKILL = 9;

describe.skipIf(!canRunContainers)(`OCI runtime: create and start as two steps, hooks (integration${skipReason})`, () => {
  let base: string;
  let root: string;
  let cgroupRoot: string;
  let cgroupParent: string;
  let n = 0;

  beforeAll(() => {
    base = mkdtempSync(path.join(tmpdir(), 'hull-oci-'));
    root = path.join(base, 'state');
    cgroupRoot = findCgroup2Mount(readFileSync('/proc/self/mountinfo', 'utf8')) ?? '/sys/fs/cgroup';
    cgroupParent = `hull-test-${path.basename(base)}`;
  });

  afterAll(() => {
    const cg = path.join(cgroupRoot, cgroupParent);
    if (existsSync(cg)) spawnSync('rmdir', [cg]);
    rmSync(base, { recursive: true, force: true });
  });

  /** A bundle: busybox as its root, `args` as its command, its cgroup under this test's parent. */
  function bundle(args: string[], patch: (spec: RuntimeSpec) => void = () => undefined): { dir: string; id: string } {
    const id = `c${++n}-${path.basename(base).slice(-6)}`;
    const dir = path.join(base, id);
    makeBundle(dir, id, args, cgroupParent, patch);
    return { dir, id };
  }

  /**
   * One OCI operation in its own process, its stdout and stderr to `out` (or /dev/null): a created
   * container's stdio are its creator's. `stderr` is what the operation reported (the driver's
   * result file: its JSON result, or `error: …`).
   */
  function oci(verb: string, id: string, arg?: string, out = '/dev/null'): { code: number | null; stderr: string } {
    const fd = openSync(out, 'a');
    const result = path.join(base, `result-${process.pid}`);
    rmSync(result, { force: true });
    const r = spawnSync(process.execPath, [DRIVER, root, verb, id, ...(arg === undefined ? [] : [arg])], {
      stdio: ['ignore', fd, fd],
      env: { ...process.env, OCI_RESULT: result },
      timeout: 60_000,
    });
    closeSync(fd);
    return { code: r.status, stderr: existsSync(result) ? readFileSync(result, 'utf8') : `(no result: ${r.signal ?? r.status})` };
  }

  function state(id: string): { status: string; pid: number } {
    const r = oci('state', id);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stderr) as { status: string; pid: number };
  }

  const alive = (pid: number) => existsSync(`/proc/${pid}/stat`) && !/^\d+ \(.*\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

  async function until(check: () => boolean, ms = 10_000): Promise<void> {
    const end = Date.now() + ms;
    while (!check()) {
      if (Date.now() > end) throw new Error('condition not met in time');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Nothing of the container is left: its state, its cgroup, its process. */
  function nothingLeft(id: string, pid?: number): void {
    expect(existsSync(path.join(root, id))).toBe(false);
    expect(existsSync(path.join(cgroupRoot, cgroupParent, id))).toBe(false);
    if (pid !== undefined) expect(alive(pid)).toBe(false);
  }

  it('after create the process is in its namespaces and cgroup and has not reached execve; start from another process runs it', async () => {
    const { dir, id } = bundle(['sh', '-c', 'echo hello from $(hostname) as pid $$; exit 3']);
    const out = path.join(base, `${id}.out`);
    const created = oci('create', id, dir, out);
    expect(created.code, created.stderr).toBe(0);
    const { status, pid } = state(id);
    expect(status).toBe('created');
    // In its own namespaces: not the host's (the creating process has gone already).
    for (const ns of ['pid', 'mnt', 'uts', 'ipc', 'net', 'cgroup']) {
      expect(readlinkSync(`/proc/${pid}/ns/${ns}`), ns).not.toBe(readlinkSync(`/proc/self/ns/${ns}`));
    }
    // In its final cgroup, with every mount done (its root is the bundle's), but not yet execve'd:
    // it is still a copy of the node process that cloned it, and has printed nothing.
    expect(readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toContain(`/${cgroupParent}/${id}`);
    expect(readlinkSync(`/proc/${pid}/root`)).toBe('/');
    expect(readlinkSync(`/proc/${pid}/exe`)).toBe(process.execPath);
    expect(readFileSync(out, 'utf8')).toBe('');
    expect(existsSync(path.join(root, id, 'exec.fifo'))).toBe(true);

    const started = oci('start', id);
    expect(started.code, started.stderr).toBe(0);
    await until(() => !alive(pid));
    expect(readFileSync(out, 'utf8')).toBe('hello from hull as pid 1\n');
    expect(state(id).status).toBe('stopped');
    expect(oci('start', id).stderr).toMatch(/cannot start a container that has stopped/);
    expect(oci('delete', id).code).toBe(0);
    nothingLeft(id, pid);
    expect(oci('state', id).stderr).toMatch(/container does not exist/);
  });

  it('a created container can be killed, then deleted: nothing is left', async () => {
    const { dir, id } = bundle(['sh', '-c', 'echo never']);
    const out = path.join(base, `${id}.out`);
    expect(oci('create', id, dir, out).code).toBe(0);
    const { pid } = state(id);
    expect(oci('kill', id, String(SIGKILL)).code).toBe(0);
    await until(() => !alive(pid));
    expect(state(id).status).toBe('stopped');
    expect(oci('kill', id, String(SIGKILL)).stderr).toMatch(/container not running/);
    expect(oci('delete', id).code).toBe(0);
    nothingLeft(id, pid);
    expect(readFileSync(out, 'utf8')).toBe('');
  });

  it('a created container that never started can be deleted: nothing is left', () => {
    const { dir, id } = bundle(['sh', '-c', 'echo never']);
    const out = path.join(base, `${id}.out`);
    expect(oci('create', id, dir, out).code).toBe(0);
    const { pid } = state(id);
    expect(alive(pid)).toBe(true);
    expect(oci('delete', id).code).toBe(0);
    nothingLeft(id, pid);
    expect(readFileSync(out, 'utf8')).toBe('');
  });

  it('a running container is deleted only with force; a missing command fails at create, leaving nothing', async () => {
    const { dir, id } = bundle(['sleep', '100']);
    expect(oci('create', id, dir, path.join(base, `${id}.out`)).code).toBe(0);
    const { pid } = state(id);
    expect(oci('start', id).code).toBe(0);
    expect(state(id).status).toBe('running');
    expect(oci('delete', id).stderr).toMatch(/cannot delete container .* that is not stopped: running/);
    expect(oci('delete', id, 'force').code).toBe(0);
    nothingLeft(id, pid);
    const missing = bundle(['no-such-command']);
    const r = oci('create', missing.id, missing.dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/exec "no-such-command": executable file not found in \$PATH/);
    nothingLeft(missing.id);
    const bad = bundle(['true'], (spec) => {
      (spec.process.user as unknown as { uid: string }).uid = 'root';
    });
    expect(oci('create', bad.id, bad.dir).stderr).toMatch(/config\.json: process\.user\.uid: expected an integer >= 0, found "root"/);
    nothingLeft(bad.id);
  });

  it("namespaces joined by path: a network namespace made beforehand, another container's uts and ipc", async () => {
    // A persistent network namespace, bound to a file (as hull does for bridge networks).
    const netns = path.join(base, 'netns-file');
    writeFileSync(netns, '');
    expect(spawnSync('unshare', [`--net=${netns}`, 'true']).status).toBe(0);
    try {
      const donor = bundle(['sleep', '100'], (spec) => {
        spec.hostname = 'donor-host';
      });
      expect(oci('create', donor.id, donor.dir).code).toBe(0);
      const donorPid = state(donor.id).pid;
      expect(oci('start', donor.id).code).toBe(0);
      const joiner = bundle(['sh', '-c', 'for n in net uts ipc; do readlink /proc/self/ns/$n; done; hostname'], (spec) => {
        for (const n of spec.linux.namespaces) {
          if (n.type === 'network') n.path = netns;
          if (n.type === 'uts') n.path = `/proc/${donorPid}/ns/uts`;
          if (n.type === 'ipc') n.path = `/proc/${donorPid}/ns/ipc`;
        }
        delete spec.hostname; // a joined uts namespace keeps its own
      });
      const out = path.join(base, `${joiner.id}.out`);
      expect(oci('create', joiner.id, joiner.dir, out).code).toBe(0);
      const joinerPid = state(joiner.id).pid;
      expect(oci('start', joiner.id).code).toBe(0);
      await until(() => !alive(joinerPid));
      const mine = spawnSync('nsenter', [`--net=${netns}`, 'readlink', '/proc/self/ns/net'], { encoding: 'utf8' }).stdout.trim();
      expect(readFileSync(out, 'utf8')).toBe(`${mine}\n${readlinkSync(`/proc/${donorPid}/ns/uts`)}\n${readlinkSync(`/proc/${donorPid}/ns/ipc`)}\ndonor-host\n`);
      expect(oci('delete', joiner.id).code).toBe(0);
      expect(oci('delete', donor.id, 'force').code).toBe(0);
      nothingLeft(joiner.id, joinerPid);
      nothingLeft(donor.id, donorPid);
    } finally {
      spawnSync('umount', [netns]);
    }
  });

  it("no mount namespace of its own: the runtime's (its mounts below its root's bind, which delete detaches) or one joined by path", async () => {
    const mountsBelow = (dir: string) =>
      readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .filter((l) => l.split(' ')[4]?.startsWith(`${dir}/`) || l.split(' ')[4] === dir);
    const noMountNamespace = (spec: RuntimeSpec) => {
      spec.linux.namespaces = spec.linux.namespaces.filter((n) => n.type !== 'mount');
      delete spec.linux.maskedPaths;
      delete spec.linux.readonlyPaths;
    };
    // The runtime's own: the container sees its root (chroot), its /proc is mounted, and nothing stays mounted after delete.
    const shared = bundle(['sh', '-c', 'readlink /proc/self/ns/mnt; cat /etc/marker; ls /dev/null'], noMountNamespace);
    writeFileSync(path.join(shared.dir, 'rootfs', 'etc', 'marker'), 'in its root\n');
    const out = path.join(base, `${shared.id}.out`);
    const created = oci('create', shared.id, shared.dir, out);
    expect(created.code, created.stderr).toBe(0);
    const pid = state(shared.id).pid;
    expect(readlinkSync(`/proc/${pid}/ns/mnt`)).toBe(readlinkSync('/proc/self/ns/mnt'));
    expect(mountsBelow(path.join(shared.dir, 'rootfs')).length).toBeGreaterThan(2); // the bind, /proc, /dev, …
    expect(oci('start', shared.id).code).toBe(0);
    await until(() => !alive(pid));
    expect(readFileSync(out, 'utf8')).toBe(`${readlinkSync('/proc/self/ns/mnt')}\nin its root\n/dev/null\n`);
    expect(oci('delete', shared.id).code).toBe(0);
    nothingLeft(shared.id, pid);
    expect(mountsBelow(shared.dir)).toEqual([]);

    // A failed create leaves nothing mounted either; masked paths need a mount namespace (runc's rule).
    const failing = bundle(['no-such-command'], noMountNamespace);
    expect(oci('create', failing.id, failing.dir).stderr).toMatch(/no-such-command/);
    nothingLeft(failing.id);
    expect(mountsBelow(failing.dir)).toEqual([]);
    const masked = bundle(['true'], (spec) => {
      noMountNamespace(spec);
      spec.linux.maskedPaths = ['/proc/kcore'];
    });
    expect(oci('create', masked.id, masked.dir).stderr).toMatch(/unable to restrict sys entries without a private MNT namespace/);
    nothingLeft(masked.id);

    // One joined by path (another process's): the container's mounts are made there, the runtime's namespace is untouched.
    const holder = spawn('unshare', ['--mount', '--propagation', 'private', 'sleep', '100'], { stdio: 'ignore' });
    try {
      await until(() => holder.pid !== undefined && readlinkSync(`/proc/${holder.pid}/ns/mnt`) !== readlinkSync('/proc/self/ns/mnt'));
      const nsFile = `/proc/${holder.pid}/ns/mnt`;
      const joiner = bundle(['sh', '-c', 'readlink /proc/self/ns/mnt; cat /etc/marker'], (spec) => {
        for (const n of spec.linux.namespaces) if (n.type === 'mount') n.path = nsFile;
      });
      writeFileSync(path.join(joiner.dir, 'rootfs', 'etc', 'marker'), 'joined\n');
      const joinedOut = path.join(base, `${joiner.id}.out`);
      expect(oci('create', joiner.id, joiner.dir, joinedOut).code).toBe(0);
      const joinerPid = state(joiner.id).pid;
      expect(mountsBelow(joiner.dir)).toEqual([]);
      expect(oci('start', joiner.id).code).toBe(0);
      await until(() => !alive(joinerPid));
      expect(readFileSync(joinedOut, 'utf8')).toBe(`${readlinkSync(nsFile)}\njoined\n`);
      expect(oci('delete', joiner.id).code).toBe(0);
      nothingLeft(joiner.id, joinerPid);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  describe('hooks', () => {
    /** A host hook script recording its stdin (the state JSON) and its mount namespace under `out/KIND`. */
    function hostHook(out: string, kind: string, exit = 0): { path: string; args: string[]; env: string[] } {
      const script = path.join(out, `${kind}.sh`);
      writeFileSync(
        script,
        `#!/bin/sh\ncat > "$OUT/${kind}.json"\nreadlink /proc/self/ns/mnt > "$OUT/${kind}.mnt"\necho "$1" > "$OUT/${kind}.arg"\nexit ${exit}\n`,
      );
      chmodSync(script, 0o755);
      return { path: script, args: [script, `arg-of-${kind}`], env: ['PATH=/usr/bin:/bin', `OUT=${out}`] };
    }

    function hooked(args: string[], hooks: (out: string, rootfs: string) => SpecHooks) {
      const made = bundle(args, (spec) => {
        spec.annotations = { 'org.hull.test': 'yes' };
      });
      const out = path.join(base, `${made.id}-hooks`);
      mkdirSync(out);
      const file = path.join(made.dir, 'config.json');
      const spec = JSON.parse(readFileSync(file, 'utf8')) as RuntimeSpec;
      spec.hooks = hooks(out, path.join(made.dir, 'rootfs'));
      writeFileSync(file, JSON.stringify(spec));
      return { ...made, out };
    }

    const stateOf = (out: string, kind: string) => JSON.parse(readFileSync(path.join(out, `${kind}.json`), 'utf8')) as Record<string, unknown>;

    it('prestart, createRuntime, createContainer, startContainer, poststart and poststop run at their points with the state JSON', async () => {
      const { dir, id, out } = hooked(['sh', '-c', 'echo ran'], (o, rootfs) => {
        // startContainer runs in the container, after pivot_root: its path is the container's.
        writeFileSync(path.join(rootfs, 'start-hook.sh'), '#!/bin/sh\ncat > /out/startContainer.json\nreadlink /proc/self/ns/mnt > /out/startContainer.mnt\n');
        chmodSync(path.join(rootfs, 'start-hook.sh'), 0o755);
        return {
          prestart: [hostHook(o, 'prestart')],
          createRuntime: [hostHook(o, 'createRuntime')],
          createContainer: [hostHook(o, 'createContainer')],
          startContainer: [{ path: '/start-hook.sh', env: ['PATH=/bin'] }],
          poststart: [hostHook(o, 'poststart')],
          poststop: [hostHook(o, 'poststop')],
        };
      });
      expect(oci('create', id, dir, path.join(base, `${id}.out`)).code).toBe(0);
      const { pid } = state(id);
      const hostMnt = readlinkSync('/proc/self/ns/mnt');
      const containerMnt = readlinkSync(`/proc/${pid}/ns/mnt`);
      for (const kind of ['prestart', 'createRuntime', 'createContainer']) {
        expect(stateOf(out, kind)).toEqual({ ociVersion: '1.2.0', id, status: 'creating', pid, bundle: dir, annotations: { 'org.hull.test': 'yes' } });
        expect(readFileSync(path.join(out, `${kind}.arg`), 'utf8')).toBe(`arg-of-${kind}\n`);
      }
      expect(readFileSync(path.join(out, 'prestart.mnt'), 'utf8').trim()).toBe(hostMnt);
      expect(readFileSync(path.join(out, 'createRuntime.mnt'), 'utf8').trim()).toBe(hostMnt);
      expect(readFileSync(path.join(out, 'createContainer.mnt'), 'utf8').trim()).toBe(containerMnt);
      expect(existsSync(path.join(out, 'poststart.json'))).toBe(false);
      expect(oci('start', id).code).toBe(0);
      const rootfs = path.join(dir, 'rootfs');
      expect(JSON.parse(readFileSync(path.join(rootfs, 'out', 'startContainer.json'), 'utf8'))).toMatchObject({ id, status: 'created', pid });
      expect(readFileSync(path.join(rootfs, 'out', 'startContainer.mnt'), 'utf8').trim()).toBe(containerMnt);
      expect(stateOf(out, 'poststart')).toMatchObject({ id, status: 'running', pid });
      await until(() => !alive(pid));
      expect(existsSync(path.join(out, 'poststop.json'))).toBe(false);
      expect(oci('delete', id).code).toBe(0);
      expect(stateOf(out, 'poststop')).toMatchObject({ id, status: 'stopped', bundle: dir });
      nothingLeft(id, pid);
    });

    it('a failing prestart hook fails create, and nothing is left (the poststop hooks run)', () => {
      const { dir, id, out } = hooked(['sh', '-c', 'echo never'], (o) => ({ prestart: [hostHook(o, 'prestart', 3)], poststop: [hostHook(o, 'poststop')] }));
      const r = oci('create', id, dir, path.join(base, `${id}.out`));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/error running prestart hook .*prestart\.sh: exit status 3/);
      expect(stateOf(out, 'prestart')).toMatchObject({ id, status: 'creating' });
      const pid = stateOf(out, 'prestart').pid as number;
      expect(stateOf(out, 'poststop')).toMatchObject({ id, status: 'stopped' });
      nothingLeft(id, pid);
      expect(readdirSync(root)).not.toContain(id);
    });

    it('a hook past its timeout is killed and fails create', () => {
      const { dir, id } = hooked(['true'], (o) => {
        const script = path.join(o, 'slow.sh');
        writeFileSync(script, '#!/bin/sh\nexec sleep 30\n');
        chmodSync(script, 0o755);
        return { createRuntime: [{ path: script, env: ['PATH=/usr/bin:/bin'], timeout: 1 }] };
      });
      const t0 = Date.now();
      const r = oci('create', id, dir);
      expect(r.stderr).toMatch(/error running createRuntime hook .*slow\.sh: timed out after 1s/);
      expect(Date.now() - t0).toBeLessThan(10_000);
      nothingLeft(id);
    });

    it('poststop runs after a kill, at delete, with the stopped state; a failing poststop is only a warning', async () => {
      const { dir, id, out } = hooked(['sleep', '100'], (o) => ({ poststop: [hostHook(o, 'poststop', 1), hostHook(o, 'poststop2')] }));
      expect(oci('create', id, dir, path.join(base, `${id}.out`)).code).toBe(0);
      const { pid } = state(id);
      expect(oci('start', id).code).toBe(0);
      expect(oci('kill', id, String(SIGKILL)).code).toBe(0);
      await until(() => !alive(pid));
      const deleted = oci('delete', id);
      expect(deleted.code).toBe(0);
      expect(deleted.stderr).toMatch(/error running poststop hook .*poststop\.sh: exit status 1/);
      expect(stateOf(out, 'poststop')).toMatchObject({ id, status: 'stopped', pid: 0, bundle: dir });
      expect(stateOf(out, 'poststop2')).toMatchObject({ id, status: 'stopped' });
      nothingLeft(id, pid);
    });
  });
});
