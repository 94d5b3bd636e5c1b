// Namespaces that are the host's or another container's (`--pid`, `--ipc`, `--uts`, `--cgroupns`),
// checked from inside the container against the host's and the donor's namespace files.
import { readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HullEnv, canRunContainers, skipReason } from '../helpers/hull-env.js';

describe.skipIf(!canRunContainers)(`namespaces: own, the host's, another container's (integration${skipReason})`, () => {
  let env: HullEnv;

  beforeAll(async () => {
    env = new HullEnv();
    await env.loadBusybox();
  });

  afterAll(() => {
    expect(env.leftovers()).toEqual([]);
    env.destroy();
  });

  const run = (...args: string[]) => env.cli(['run', '--rm', '--network', 'none', ...args]);
  const host = (ns: string) => readlinkSync(`/proc/self/ns/${ns}`);

  it("--pid host: the host's pid namespace (and its processes); the default: its own", () => {
    const r = run('--pid', 'host', 'busybox', 'sh', '-c', 'readlink /proc/self/ns/pid; ps -o pid | wc -l');
    expect(r.code, r.stderr).toBe(0);
    const [ns, count] = r.stdout.trim().split('\n');
    expect(ns).toBe(host('pid'));
    expect(Number(count)).toBeGreaterThan(10);
    expect(run('busybox', 'readlink', '/proc/self/ns/pid').stdout.trim()).not.toBe(host('pid'));
  });

  it("--uts host: the host's hostname; with -h it is refused; --cgroupns host: the host's cgroup namespace", () => {
    const r = run('--uts', 'host', 'busybox', 'sh', '-c', 'readlink /proc/self/ns/uts; hostname');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${host('uts')}\n${hostname()}\n`);
    expect(run('--uts', 'host', '-h', 'x', 'busybox', 'true').stderr).toBe('hull: conflicting options: hostname and the UTS mode\n');
    expect(run('--cgroupns', 'host', 'busybox', 'readlink', '/proc/self/ns/cgroup').stdout.trim()).toBe(host('cgroup'));
    expect(run('--cgroupns', 'private', 'busybox', 'readlink', '/proc/self/ns/cgroup').stdout.trim()).not.toBe(host('cgroup'));
  });

  it("--pid container:X and --ipc container:X: the donor's processes, IPC namespace and /dev/shm; a private IPC cannot be joined", () => {
    const donor = env.cli([
      'run',
      '-d',
      '--network',
      'none',
      '--name',
      'donor',
      '--ipc',
      'shareable',
      'busybox',
      'sh',
      '-c',
      'echo from-donor > /dev/shm/x; exec sleep 300',
    ]);
    expect(donor.code, donor.stderr).toBe(0);
    const pid = env.cli(['inspect', '-f', '{{.State.Pid}}', 'donor']).stdout.trim();
    for (let i = 0; i < 100 && run('--ipc', 'container:donor', 'busybox', 'cat', '/dev/shm/x').stdout === ''; i++)
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    const r = run(
      '--pid',
      'container:donor',
      '--ipc',
      'container:donor',
      'busybox',
      'sh',
      '-c',
      'readlink /proc/self/ns/pid; readlink /proc/self/ns/ipc; cat /dev/shm/x; ps -o pid,comm | grep " sleep"; echo written > /dev/shm/y',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${readlinkSync(`/proc/${pid}/ns/pid`)}\n${readlinkSync(`/proc/${pid}/ns/ipc`)}\nfrom-donor\n    1 sleep\n`);
    expect(env.cli(['exec', 'donor', 'cat', '/dev/shm/y']).stdout).toBe('written\n');
    expect(env.cli(['inspect', '-f', '{{.HostConfig.IpcMode}}', 'donor']).stdout.trim()).toBe('shareable');
    expect(env.cli(['run', '-d', '--network', 'none', '--name', 'private', 'busybox', 'sleep', '300']).code).toBe(0);
    expect(run('--ipc', 'container:private', 'busybox', 'true').stderr).toBe('hull: non-shareable IPC (hint: use --ipc shareable for the donor container)\n');
    expect(env.cli(['stop', '-t', '0', 'donor']).code).toBe(0);
    expect(run('--pid', 'container:donor', 'busybox', 'true').stderr).toMatch(/cannot join PID of a non running container/);
    expect(env.cli(['rm', '-f', 'donor', 'private']).code).toBe(0);
  });
});
