// Pod-level limits on a real unified cgroup v2 hierarchy, inside the vm tier's guest: the limits
// given to `pod create` land in the pod's cgroup, its containers' cgroups are under it, and an
// allocation above the pod's memory limit in one of them is OOM-killed.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HullEnv } from '../helpers/hull-env.js';

const inGuest = process.env.HULL_VM_GUEST === '1';

describe.skipIf(!inGuest)('pod-level limits (vm tier)', () => {
  let env: HullEnv;
  beforeAll(async () => {
    env = new HullEnv();
    await env.loadBusybox();
  });
  afterAll(() => env.destroy());

  const ok = async (args: string[]) => {
    const r = await env.cliAsync(args);
    expect(r.stderr, `hull ${args.join(' ')}`).toBe('');
    expect(r.code, `hull ${args.join(' ')}`).toBe(0);
    return r.stdout.trim();
  };

  it("--memory, --cpus and --pids-limit of pod create are the pod cgroup's; its containers are in it; one over the pod's memory is OOM-killed", async () => {
    const id = await ok(['pod', 'create', '--name', 'lim', '--memory', '48m', '--cpus', '0.5', '--pids-limit', '64']);
    await ok(['run', '-d', '--pod', 'lim', '--name', 'sleeper', 'busybox', 'sleep', '300']);
    const podDir = path.join(env.cgroupRoot, env.cgroupParent, `pod-${id}`);
    const read = (file: string) => readFileSync(path.join(podDir, file), 'utf8').trim();
    expect(read('memory.max')).toBe(String(48 * 1024 * 1024));
    expect(read('cpu.max')).toBe('50000 100000');
    expect(read('pids.max')).toBe('64');
    // The container's process is below the pod's cgroup.
    const pid = (JSON.parse(await ok(['inspect', 'sleeper'])) as { State: { Pid: number } }[])[0]!.State.Pid;
    expect(readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toContain(`/${env.cgroupParent}/pod-${id}/`);
    // 100 MB in a pod of 48 MB: killed (busybox tail holds a line without a newline in memory).
    const r = await env.cliAsync(['run', '--pod', 'lim', 'busybox', 'sh', '-c', 'head -c 100m /dev/zero | tail > /dev/null']);
    expect(r.code).toBe(137);
    await ok(['pod', 'rm', '-f', 'lim']);
    expect(env.leftovers()).toEqual([]);
  }, 300_000);
});
