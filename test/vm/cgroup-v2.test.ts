// Inside the vm tier's guest: a real unified cgroup v2 hierarchy with every controller, which the
// CI host (hybrid mode) does not have. These tests prove the tier itself and hull's cgroup life
// cycle there; resource limits (issue 5) build on it.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hull } from '../../src/hull.js';
import { HullEnv } from '../helpers/hull-env.js';

const inGuest = process.env.HULL_VM_GUEST === '1';

describe.skipIf(!inGuest)('cgroup v2 in the vm tier (runs only inside the guest: scripts/vm/run-vm-tests.mjs)', () => {
  let env: HullEnv;
  let hull: Hull;
  beforeAll(async () => {
    env = new HullEnv();
    await env.loadBusybox();
    hull = new Hull({ root: env.root, runRoot: env.runRoot });
  });
  afterAll(() => env.destroy());

  it('has the unified hierarchy with the resource controllers', () => {
    expect(env.cgroupRoot).toBe('/sys/fs/cgroup');
    const controllers = readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8').trim().split(' ');
    for (const c of ['cpu', 'io', 'memory', 'pids']) expect(controllers).toContain(c);
  });

  it('puts a container in its own cgroup for its life, and removes it after', async () => {
    const running = await hull.start({
      image: 'busybox',
      remove: true,
      cgroupParent: env.cgroupParent,
      stdout: 'pipe',
      stderr: 'pipe',
      cmd: ['sh', '-c', 'cat /proc/self/cgroup; sleep 1'],
    });
    const dir = path.join(env.cgroupRoot, env.cgroupParent, running.id);
    expect(existsSync(dir)).toBe(true);
    expect(readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').trim().split('\n')).toContain(String(running.pid));
    const out: Buffer[] = [];
    running.stdout!.on('data', (d: Buffer) => out.push(d));
    expect(await running.wait()).toBe(0);
    // The container's cgroup namespace is rooted at its own cgroup.
    expect(Buffer.concat(out).toString()).toBe('0::/\n');
    expect(existsSync(dir)).toBe(false);
    expect(env.leftovers()).toEqual([]);
  });
});
