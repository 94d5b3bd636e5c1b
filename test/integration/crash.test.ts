// kill -9 at every step (issue: hardening, findings 3-5): `rm -f`, `run -d`, `start` and
// hull-monitor are killed at their Nth crash point (HULL_TEST_CRASH_AT / HULL_TEST_MONITOR_CRASH_AT,
// src/runtime/crash-point.ts), for N = 1, 2, … until the command completes without reaching N.
// After each crash: `ps -a`, the names and `system check` agree (everything on disk is either a
// container ps shows or something system check reports); a container whose process runs is shown
// running; the next command finishes the job; and in the end nothing is left (mounts, netns,
// cgroups, leases, directories, processes).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HULL_BIN, HullEnv, canRunContainers, skipReason } from '../helpers/hull-env.js';
import { yieldToLoop } from '../helpers/child-process.js';

interface Crash {
  /** Killed at a crash point (its label), or undefined when the command ran to its end. */
  at: string | undefined;
  code: number | null;
  stdout: string;
  stderr: string;
}

describe.skipIf(!canRunContainers)(`kill -9 at every step (integration${skipReason})`, () => {
  let env: HullEnv;

  beforeAll(async () => {
    env = new HullEnv();
    await env.loadBusybox();
  });

  afterAll(() => env.destroy());

  /** `hull ARGS` with a crash point armed (hull's own, or the monitor's). */
  function crashing(args: string[], n: number, which: 'hull' | 'monitor' = 'hull'): Crash {
    const withParent = args[0] === 'run' ? [args[0], '--cgroup-parent', env.cgroupParent, ...args.slice(1)] : args;
    const r = spawnSync(process.execPath, [HULL_BIN, ...env.globalArgs(), ...withParent], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, [which === 'hull' ? 'HULL_TEST_CRASH_AT' : 'HULL_TEST_MONITOR_CRASH_AT']: String(n) },
    });
    const label = /hull: test crash point \d+: (.*)/.exec(r.stderr)?.[1];
    const at = which === 'hull' ? (r.signal === 'SIGKILL' ? (label ?? '?') : undefined) : undefined;
    return { at, code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** Whether any process of this env's containers (or monitors) runs. */
  const anyProcess = () => env.processes().length > 0;

  /** `system check`'s problem lines (without repair). */
  function problems(): string[] {
    const r = env.cli(['system', 'check']);
    return r.stdout
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('checked '));
  }

  /**
   * ps -a, the names and the store agree: every name and container directory on disk is a
   * container ps shows, or a problem system check reports; a name ps shows is found by inspect;
   * a container whose process runs is shown running.
   */
  function agree(context: string): void {
    const ps = env.cli(['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Names}} {{.Status}}']).stdout.trim().split('\n').filter(Boolean);
    const shown = ps.map((l) => {
      const [id, name, ...status] = l.split(' ');
      return { id: id!, name: name!, status: status.join(' ') };
    });
    const reported = problems().join('\n');
    const namesDir = path.join(env.root, 'names');
    for (const name of existsSync(namesDir) ? readdirSync(namesDir) : []) {
      const ok = shown.some((c) => c.name === name) || reported.includes(`name ${name}:`);
      expect(ok, `${context}: name ${name} is neither shown by ps nor reported by system check (${reported})`).toBe(true);
    }
    const dirs = path.join(env.root, 'containers');
    for (const entry of existsSync(dirs) ? readdirSync(dirs) : []) {
      const ok = shown.some((c) => c.id === entry) || reported.includes(entry);
      expect(ok, `${context}: container directory ${entry} is neither shown by ps nor reported by system check (${reported})`).toBe(true);
    }
    for (const c of shown) {
      const inspected = env.cli(['inspect', '-f', '{{.Name}}', c.name]);
      // One shown as "Removal In Progress" (its lock was busy: the monitor's exit command, say) is
      // finished by the next command that can take its lock, which may be this inspect.
      if (c.status === 'Removal In Progress' && inspected.code !== 0) expect(inspected.stderr, `${context}: inspect ${c.name}`).toMatch(/no such container/);
      else expect(inspected.stdout.trim(), `${context}: inspect ${c.name}`).toBe(`/${c.name}`);
      expect(
        shown.filter((o) => o.name === c.name),
        `${context}: two containers named ${c.name}`,
      ).toHaveLength(1);
    }
    if (anyProcess()) {
      expect(
        shown.some((c) => c.status.startsWith('Up')),
        `${context}: a container process runs but ps shows none running: ${ps.join('; ')}`,
      ).toBe(true);
    }
  }

  /** Everything is gone: the store agrees with itself and nothing is left on the host. */
  function nothingLeft(context: string): void {
    const reported = problems();
    expect(reported, `${context}: system check: ${reported.join('; ')}`).toEqual([]);
    expect(env.cli(['ps', '-a', '-q']).stdout, context).toBe('');
    const left = env.leftovers();
    expect(left, `${context}: left: ${left.join('; ')}`).toEqual([]);
  }

  /** Remove `name` if it exists (a finished job), with `rm -f`: exit 0, or "no such container". */
  function removeIfThere(name: string, context: string): void {
    const r = env.cli(['rm', '-f', name]);
    if (r.code !== 0) expect(r.stderr, context).toMatch(/no such container/i);
  }

  it('rm -f killed at each step: the next rm -f finishes the removal', async () => {
    const seen: string[] = [];
    for (let n = 1; n < 40; n++) {
      await yieldToLoop();
      expect(env.cli(['run', '-d', '--name', 'victim', 'busybox', 'sleep', '300']).code).toBe(0);
      const crash = crashing(['rm', '-f', 'victim'], n);
      if (crash.at === undefined) {
        expect(crash.code, crash.stderr).toBe(0);
        nothingLeft('rm -f ran to its end');
        expect(seen.length).toBeGreaterThan(5);
        return;
      }
      seen.push(crash.at);
      const context = `rm -f killed at ${n}: ${crash.at}`;
      agree(context);
      removeIfThere('victim', context);
      nothingLeft(context);
    }
    throw new Error('rm -f never ran to its end');
  });

  it('run -d killed at each step: the state is the truth (a running container is shown running), start and stop work, rm cleans up', async () => {
    const seen: string[] = [];
    for (let n = 1; n < 40; n++) {
      await yieldToLoop();
      const crash = crashing(['run', '-d', '--name', 'runner', 'busybox', 'sleep', '300'], n);
      const context = `run -d killed at ${n}: ${crash.at ?? 'none'}`;
      agree(context);
      const exists = env.cli(['inspect', 'runner']).code === 0;
      if (exists) {
        // Whatever the crash left, start brings it up (or finds it up) and stop stops it.
        const started = env.cli(['start', 'runner']);
        expect(started.code, `${context}: ${started.stderr}`).toBe(0);
        expect(env.cli(['inspect', '-f', '{{.State.Status}}', 'runner']).stdout.trim(), context).toBe('running');
        const stopped = env.cli(['stop', '-t', '1', 'runner']);
        expect(stopped.code, `${context}: ${stopped.stderr}`).toBe(0);
        expect(anyProcess(), `${context}: a process left after stop`).toBe(false);
        expect(env.cli(['inspect', '-f', '{{.State.Status}}', 'runner']).stdout.trim(), context).toBe('exited');
      }
      removeIfThere('runner', context);
      nothingLeft(context);
      if (crash.at === undefined) {
        expect(crash.code, crash.stderr).toBe(0);
        expect(seen.length).toBeGreaterThan(5);
        return;
      }
      seen.push(crash.at);
    }
    throw new Error('run -d never ran to its end');
  });

  it('start killed at each step: the next start finishes the job', async () => {
    const seen: string[] = [];
    for (let n = 1; n < 40; n++) {
      await yieldToLoop();
      expect(env.cli(['create', '--name', 'starter', 'busybox', 'sleep', '300']).code).toBe(0);
      const crash = crashing(['start', 'starter'], n);
      const context = `start killed at ${n}: ${crash.at ?? 'none'}`;
      agree(context);
      const again = env.cli(['start', 'starter']);
      expect(again.code, `${context}: ${again.stderr}`).toBe(0);
      expect(env.cli(['inspect', '-f', '{{.State.Status}}', 'starter']).stdout.trim(), context).toBe('running');
      expect(env.cli(['rm', '-f', 'starter']).code).toBe(0);
      nothingLeft(context);
      if (crash.at === undefined) {
        expect(crash.code, crash.stderr).toBe(0);
        expect(seen.length).toBeGreaterThan(4);
        return;
      }
      seen.push(crash.at);
    }
    throw new Error('start never ran to its end');
  });

  it('hull-monitor killed at each step: the next command that meets the container releases what it held', async () => {
    let completed = false;
    for (let n = 1; n < 20 && !completed; n++) {
      await yieldToLoop(); // each round is seconds of spawnSync calls
      // A container that ends by itself, so the monitor's later steps are reached.
      const r = crashing(['run', '-d', '--name', 'watched', 'busybox', 'sh', '-c', 'sleep 0.3'], n, 'monitor');
      const context = `monitor killed at ${n}`;
      // Wait for the container to end (with its monitor, or on its own).
      for (let i = 0; i < 300 && anyProcess(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(anyProcess(), `${context}: processes left`).toBe(false);
      if (r.code === 0 && env.cli(['inspect', '-f', '{{.State.Status}}', 'watched']).stdout.trim() === 'exited') {
        const status = env.cli(['inspect', '-f', '{{.State.ExitCode}}', 'watched']).stdout.trim();
        completed = status === '0'; // the monitor lived to record the real exit: the last point was passed
      }
      // `ps` is a command that meets it: afterwards nothing of the host is held any more.
      env.cli(['ps', '-a']);
      const held = env.leftovers().filter((l) => /^(mount|cgroup|netns|veth|lease|process):/.test(l));
      expect(held, `${context}: still held after ps met it`).toEqual([]);
      agree(context);
      removeIfThere('watched', context);
      nothingLeft(context);
    }
    expect(completed).toBe(true);
  });

  it('system check finds every kind of orphan a crash can leave, and --repair removes or finishes each', async () => {
    const hex = () => randomBytes(32).toString('hex');
    // A record without its name.
    expect(env.cli(['create', '--name', 'nameless', 'busybox', 'true']).code).toBe(0);
    const nameless = env.cli(['inspect', '-f', '{{.Id}}', 'nameless']).stdout.trim();
    spawnSync('rm', [path.join(env.root, 'names', 'nameless')]);
    // A name over no container, and a cgroup and run directory of that container.
    const ghost = hex();
    writeFileSync(path.join(env.root, 'names', 'ghost'), ghost);
    mkdirSync(path.join(env.cgroupRoot, env.cgroupParent, ghost), { recursive: true });
    mkdirSync(path.join(env.runRoot, 'containers', ghost), { recursive: true });
    // A directory over no record, and an interrupted create's new directory.
    const lost = hex();
    mkdirSync(path.join(env.root, 'containers', lost, 'upper', 'etc'), { recursive: true });
    mkdirSync(path.join(env.root, 'containers', `.new-${hex()}`), { recursive: true });
    // A network namespace of no container, a lease of no container, a stray lease temporary file.
    const netnsId = hex();
    const netnsFile = path.join(env.runRoot, 'netns', netnsId);
    mkdirSync(path.dirname(netnsFile), { recursive: true });
    writeFileSync(netnsFile, '');
    expect(spawnSync('unshare', [`--net=${netnsFile}`, 'true']).status).toBe(0);
    const leases = path.join(env.net.stateDir, 'bridges', env.net.bridge, 'leases');
    mkdirSync(leases, { recursive: true });
    const leaseIp = env.net.subnet.replace(/\.0\/24$/, '.250');
    writeFileSync(
      path.join(leases, leaseIp),
      JSON.stringify({ store: path.join(env.root, 'containers'), network: 'bridge', container: hex(), name: 'gone', aliases: [] }),
    );
    mkdirSync(path.join(env.net.stateDir, 'tmp'), { recursive: true });
    writeFileSync(path.join(env.net.stateDir, 'tmp', 'lease-1-abcdef'), '{}');
    // An ended container that still holds its cgroup and network (its monitor was killed; no command met it since).
    expect(env.cli(['run', '-d', '--name', 'holder', 'busybox', 'sleep', '300']).code).toBe(0);
    const monitor = env.processes().find((p) => p.comm === 'hull-monitor');
    expect(monitor).toBeDefined();
    process.kill(monitor!.pid, 'SIGKILL');
    for (let i = 0; i < 300 && env.processes().length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));

    const found = problems().join('\n');
    for (const want of [
      `its name nameless is not reserved`,
      `name ghost: its container ${ghost.slice(0, 12)} does not exist`,
      `containers/${lost}: no container has it`,
      `.new-`,
      `containers/${ghost}: no container has it`,
      `network namespace ${netnsFile}: no container has it`,
      `address ${leaseIp} on bridge ${env.net.bridge}`,
      'lease-1-abcdef',
      `cgroup ${path.join(env.cgroupRoot, env.cgroupParent, ghost)}: no container has it`,
      '(holder) is exited but still holds its cgroup or network',
    ]) {
      expect(found).toContain(want);
    }
    const repaired = env.cli(['system', 'check', '--repair']);
    expect(repaired.stdout).toMatch(/problems, repaired\n$/);
    expect(problems()).toEqual([]);
    expect(readdirSync(path.join(env.root, 'names')).sort()).toEqual(['holder', 'nameless']);
    expect(env.cli(['inspect', '-f', '{{.Id}}', 'nameless']).stdout.trim()).toBe(nameless);
    expect(existsSync(netnsFile)).toBe(false);
    expect(env.cli(['rm', 'nameless', 'holder']).code).toBe(0);
    nothingLeft('after system check --repair');
  });
});
