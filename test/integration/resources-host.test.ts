// Resource limits on this (host) kernel: where its cgroup v2 hierarchy lacks a controller (hybrid
// or v1-only hosts) a request for it fails before anything is made; runs without limits work.
// On a unified host with the controllers these requests succeed instead (the vm tier proves them).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findCgroup2Mount } from '../../src/runtime/cgroups.js';
import { cgroupModeOf } from '../../src/runtime/cgroups/index.js';
import { HullEnv, canRunContainers, skipReason } from '../helpers/hull-env.js';

const mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
const mode = cgroupModeOf(mountinfo);
const cgroup2 = findCgroup2Mount(mountinfo);
const rootControllers = (() => {
  try {
    return readFileSync(path.join(cgroup2 ?? '/nonexistent', 'cgroup.controllers'), 'utf8')
      .trim()
      .split(/\s+/);
  } catch {
    return [];
  }
})();
const lacksMemory = !rootControllers.includes('memory');

describe.skipIf(!canRunContainers || !lacksMemory)(`resource limits on a host without the memory controller in cgroup v2 (integration${skipReason})`, () => {
  let env: HullEnv;
  beforeAll(async () => {
    env = new HullEnv();
    await env.loadBusybox();
  });
  afterAll(() => env.destroy());

  it('fails `run --memory` with one clear line naming the controller, the mode and the fix, exit 125, leaving nothing', () => {
    const r = env.cli(['run', '--rm', '--name', 'limited', '--memory', '32m', 'busybox', 'true']);
    expect(r.code).toBe(125);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("cgroup controller 'memory' (for --memory) not available");
    expect(lines[0]).toContain(mode === 'hybrid' ? 'hybrid mode' : mode === 'v1-only' ? 'only cgroup v1' : 'unified');
    expect(lines[0]).toContain('systemd.unified_cgroup_hierarchy=1');
    expect(env.leftovers()).toEqual([]);
    // nothing was made, not even the name
    expect(env.cli(['ps', '-a', '-q']).stdout).toBe('');
  });

  it('fails `create` with several limits the same way, naming each controller', () => {
    const r = env.cli(['create', '--memory', '32m', '--pids-limit', '20', '--cpus', '0.5', 'busybox', 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/'cpu' \(for --cpus\), 'memory' \(for --memory\), 'pids' \(for --pids-limit\) not available/);
    expect(env.leftovers()).toEqual([]);
  });

  it('rejects malformed limits as usage errors before looking at the host', () => {
    const r = env.cli(['run', '--rm', '--memory', 'lots', 'busybox', 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/invalid argument "lots" for "--memory" flag/);
    expect(env.leftovers()).toEqual([]);
  });

  it('still runs containers without limits', () => {
    const r = env.cli(['run', '--rm', 'busybox', 'sh', '-c', 'echo ok']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('ok\n');
    const insp = env.cli(['run', '--name', 'kept', 'busybox', 'true']);
    expect(insp.code).toBe(0);
    const [{ State: state }] = JSON.parse(env.cli(['inspect', 'kept']).stdout) as [{ State: { OOMKilled: boolean } }];
    expect(state.OOMKilled).toBe(false);
    expect(env.cli(['rm', 'kept']).code).toBe(0);
    expect(env.leftovers()).toEqual([]);
  });

  it('fails `update` of a container the same way, and leaves it as it was', () => {
    const id = env.cli(['create', 'busybox', 'true']).stdout.trim();
    const r = env.cli(['update', '--memory', '64m', id]);
    expect(r.code).toBe(1); // docker update's code for a container it could not update
    expect(r.stderr).toContain("cgroup controller 'memory' (for --memory) not available");
    expect(env.cli(['rm', id]).code).toBe(0);
    expect(env.leftovers()).toEqual([]);
  });
});
