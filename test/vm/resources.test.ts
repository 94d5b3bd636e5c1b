// Resource limits on a real unified cgroup v2 hierarchy (issue 5), inside the vm tier's guest.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HullEnv } from '../helpers/hull-env.js';

const inGuest = process.env.HULL_VM_GUEST === '1';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!inGuest)('cgroup v2 resource limits (vm tier)', () => {
  let env: HullEnv;
  beforeAll(async () => {
    env = new HullEnv();
    await env.loadBusybox();
  });
  afterAll(() => env.destroy());

  const cg = (id: string, file: string) => readFileSync(path.join(env.cgroupRoot, env.cgroupParent, id, file), 'utf8').trim();
  /** The fields of `hull inspect`'s output these tests read. */
  interface Inspected {
    State: { Status: string; Paused: boolean; OOMKilled: boolean; ExitCode: number };
    HostConfig: { Memory: number };
    GraphDriver: { Data: { UpperDir: string } };
  }
  const inspect = async (name: string): Promise<Inspected> => {
    const [found] = JSON.parse((await env.cliAsync(['inspect', name])).stdout) as Inspected[];
    if (!found) throw new Error(`hull inspect ${name} printed no container`);
    return found;
  };
  const cleanUp = async (...names: string[]) => {
    for (const n of names) await env.cliAsync(['rm', '-f', n]);
    expect(env.leftovers()).toEqual([]);
  };

  it('--memory 32m: a 100 MB allocation is OOM-killed, OOMKilled true, exit 137 (foreground run)', async () => {
    // busybox tail holds all of its input in memory when it has no newline
    const r = await env.cliAsync(['run', '--name', 'oom', '--memory', '32m', 'busybox', 'sh', '-c', 'head -c 100m /dev/zero | tail > /dev/null']);
    expect(r.code).toBe(137);
    const s = await inspect('oom');
    expect(s.State.OOMKilled).toBe(true);
    expect(s.State.ExitCode).toBe(137);
    expect(s.HostConfig.Memory).toBe(32 << 20);
    // Docker's events: oom, then die.
    expect((await env.cliAsync(['events', '--since', '0', '--until', '0s', '--filter', 'container=oom', '--format', '{{.Action}}'])).stdout).toBe(
      'create\nstart\noom\ndie\n',
    );
    await cleanUp('oom');
  });

  it('--memory 64m: a 40 MB allocation survives, OOMKilled false', async () => {
    const r = await env.cliAsync(['run', '--name', 'fits', '--memory', '64m', 'busybox', 'sh', '-c', 'head -c 40m /dev/zero | tail | wc -c']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(String(40 << 20));
    expect((await inspect('fits')).State.OOMKilled).toBe(false);
    await cleanUp('fits');
  });

  it('--memory 32m detached: the monitor records OOMKilled and exit 137, and logs the oom event', async () => {
    const r = await env.cliAsync(['run', '-d', '--name', 'oomd', '--memory', '32m', 'busybox', 'sh', '-c', 'head -c 100m /dev/zero | tail > /dev/null']);
    expect(r.code).toBe(0);
    expect((await env.cliAsync(['wait', 'oomd'])).stdout.trim()).toBe('137');
    const s = await inspect('oomd');
    expect(s.State.OOMKilled).toBe(true);
    expect(s.State.ExitCode).toBe(137);
    // From the monitor: oom, then die.
    expect((await env.cliAsync(['events', '--since', '0', '--until', '0s', '--filter', 'container=oomd', '--format', '{{.Action}}'])).stdout).toBe(
      'create\nstart\noom\ndie\n',
    );
    await cleanUp('oomd');
  });

  it('--pids-limit 20: the 21st process cannot be forked, the container survives', async () => {
    // A subshell forks sleeps until the kernel refuses (busybox sh then gives up, status 2); pid 1,
    // the outer sh, carries on with builtins only (read, echo: no fork).
    const script =
      '(for i in $(seq 1 30); do sleep 60 & done) 2>/dev/null; echo "forks=$?"; read n < /sys/fs/cgroup/pids.current; ' +
      'read e < /sys/fs/cgroup/pids.events; echo "current=$n"; echo "events=$e"; echo survived; exit 0';
    const r = await env.cliAsync(['run', '--rm', '--pids-limit', '20', 'busybox', 'sh', '-c', script]);
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(/^forks=2$/m); // the fork loop failed
    expect(Number(/^current=(\d+)$/m.exec(out)?.[1])).toBeLessThanOrEqual(20);
    expect(Number(/^current=(\d+)$/m.exec(out)?.[1])).toBeGreaterThanOrEqual(18);
    expect(Number(/^events=max (\d+)$/m.exec(out)?.[1])).toBeGreaterThanOrEqual(1); // refused forks
    expect(out).toMatch(/^survived$/m);
    expect(env.leftovers()).toEqual([]);
  });

  it('writes cpu, cpuset, memory and pids limits into the cgroup files; update changes them while it runs', async () => {
    const id = (
      await env.cliAsync([
        'run',
        '-d',
        '--name',
        'limits',
        '--cpus',
        '0.5',
        '--cpu-shares',
        '512',
        '--cpuset-cpus',
        '0',
        '--memory',
        '64m',
        '--memory-reservation',
        '32m',
        '--pids-limit',
        '50',
        'busybox',
        'sleep',
        '120',
      ])
    ).stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(cg(id, 'cpu.max')).toBe('50000 100000');
    expect(cg(id, 'cpu.weight')).toBe(String(1 + Math.floor((510 * 9999) / 262142)));
    expect(cg(id, 'cpuset.cpus')).toBe('0');
    expect(cg(id, 'memory.max')).toBe(String(64 << 20));
    expect(cg(id, 'memory.low')).toBe(String(32 << 20));
    expect(cg(id, 'pids.max')).toBe('50');
    // the parent enables what its children need; it holds no process itself
    expect(readFileSync(path.join(env.cgroupRoot, env.cgroupParent, 'cgroup.subtree_control'), 'utf8')).toMatch(/cpuset.*cpu.*memory.*pids/);
    expect(readFileSync(path.join(env.cgroupRoot, env.cgroupParent, 'cgroup.procs'), 'utf8')).toBe('');
    // the container sees its own limits
    expect((await env.cliAsync(['exec', 'limits', 'cat', '/sys/fs/cgroup/cpu.max'])).stdout.trim()).toBe('50000 100000');
    const u = await env.cliAsync(['update', '--memory', '128m', '--pids-limit', '30', '--cpus', '1', 'limits']);
    expect(u.stderr).toBe('');
    expect(u.code).toBe(0);
    expect(cg(id, 'memory.max')).toBe(String(128 << 20));
    expect(cg(id, 'pids.max')).toBe('30');
    expect(cg(id, 'cpu.max')).toBe('100000 100000');
    expect((await inspect('limits')).HostConfig.Memory).toBe(128 << 20);
    await cleanUp('limits');
  });

  it('--cpus 0.5: a busy loop gets about 1.5 s of CPU time in 3 s (cpu.stat)', async () => {
    const id = (await env.cliAsync(['run', '-d', '--name', 'busy', '--cpus', '0.5', 'busybox', 'sh', '-c', 'while :; do :; done'])).stdout.trim();
    const usage = () => Number(/^usage_usec (\d+)$/m.exec(cg(id, 'cpu.stat'))![1]);
    await sleep(1000);
    const u0 = usage();
    const t0 = process.hrtime.bigint();
    await sleep(3000);
    const used = (usage() - u0) / 1e6;
    const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
    const expected = elapsed * 0.5;
    expect(used).toBeGreaterThan(expected * 0.8);
    expect(used).toBeLessThan(expected * 1.2);
    await cleanUp('busy');
  });

  it('pause stops a counter loop, unpause resumes it; stats --no-stream matches the cgroup files; top lists its processes', async () => {
    const id = (
      await env.cliAsync([
        'run',
        '-d',
        '--name',
        'counter',
        '--memory',
        '64m',
        '--pids-limit',
        '100',
        'busybox',
        'sh',
        '-c',
        'i=0; while :; do i=$((i+1)); echo $i > /tmp/count; sleep 0.1; done',
      ])
    ).stdout.trim();
    try {
      const upper = (await inspect('counter')).GraphDriver.Data.UpperDir;
      const count = () => Number(readFileSync(path.join(upper, 'tmp', 'count'), 'utf8').trim() || 0);
      await sleep(1500);
      expect((await env.cliAsync(['pause', 'counter'])).code).toBe(0);
      expect(cg(id, 'cgroup.freeze')).toBe('1');
      const s = (await inspect('counter')).State;
      expect(s.Status).toBe('paused');
      expect(s.Paused).toBe(true);
      const frozenAt = count();
      await sleep(1500);
      expect(count()).toBe(frozenAt);
      expect((await env.cliAsync(['pause', 'counter'])).stderr).toMatch(/already paused/);
      expect((await env.cliAsync(['unpause', 'counter'])).code).toBe(0);
      await sleep(1500);
      expect(count()).toBeGreaterThan(frozenAt);
      expect((await inspect('counter')).State.Status).toBe('running');

      const st = await env.cliAsync(['stats', '--no-stream', '--format', 'json', 'counter']);
      expect(st.stderr).toBe('');
      const j = JSON.parse(st.stdout.trim()) as Record<string, string>;
      expect(j.Name).toBe('counter');
      expect(j.ID).toBe(id.slice(0, 12));
      expect(j.MemUsage).toMatch(/ \/ 64MiB$/);
      // pids.current counts the loop's sh and its sleep of the moment (1 or 2)
      expect(Number(j.PIDs)).toBeGreaterThanOrEqual(1);
      expect(Number(j.PIDs)).toBeLessThanOrEqual(2);
      expect(j.CPUPerc).toMatch(/^\d+\.\d\d%$/);
      const table = (await env.cliAsync(['stats', '--no-stream', 'counter'])).stdout;
      expect(table).toMatch(/^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT/);
      const top = (await env.cliAsync(['top', 'counter'])).stdout;
      expect(top).toMatch(/^UID\s+PID\s+PPID\s+CMD/);
      expect(top).toContain('sh -c i=0;');
    } finally {
      await cleanUp('counter');
    }
  });

  it('stats of the library: memory and pids as the cgroup files say', async () => {
    const { Hull } = await import('../../src/hull.js');
    const hull = new Hull({ root: env.root, runRoot: env.runRoot });
    const id = (await env.cliAsync(['run', '-d', '--name', 'quiet', '--memory', '48m', '--pids-limit', '10', 'busybox', 'sleep', '120'])).stdout.trim();
    try {
      const st = await hull.containerStats('quiet', 200);
      expect(st.memoryLimit).toBe(48 << 20);
      expect(st.memoryLimit).toBe(Number(cg(id, 'memory.max')));
      const current = Number(cg(id, 'memory.current'));
      expect(Math.abs(st.memoryCurrent - current)).toBeLessThanOrEqual(current * 0.1);
      expect(st.pids).toBe(Number(cg(id, 'pids.current')));
      expect(st.pids).toBe(1);
      expect(st.cpuPercent).toBeLessThan(50);
    } finally {
      await cleanUp('quiet');
    }
  });
});
