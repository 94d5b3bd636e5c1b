// Health checks (issue 17): --health-* flags and the image's HEALTHCHECK, run on their schedule by
// the container's checker through exec, shown by ps and inspect, with health_status events; as root.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HullEnv, canRunContainers, skipReason } from '../helpers/hull-env.js';

interface Health {
  Status: string;
  FailingStreak: number;
  Log: { Start: string; End: string; ExitCode: number; Output: string }[];
}
interface Inspected {
  Name: string;
  State: { Status: string; Health?: Health };
  Config: { Healthcheck?: Record<string, unknown>; Shell?: string[] };
}

describe.skipIf(!canRunContainers)(`health checks (integration${skipReason})`, () => {
  let env: HullEnv;

  beforeAll(async () => {
    env = new HullEnv();
    await env.loadBusybox();
  });
  afterAll(() => env.destroy());

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const ok = (args: string[]) => {
    const r = env.cli(args);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r.stdout;
  };
  const inspect = (id: string) => (JSON.parse(ok(['inspect', id])) as Inspected[])[0]!;
  /** Polls inspect until `check` holds (generous: two cores shared with others). */
  async function until(id: string, check: (i: Inspected) => boolean, ms = 30_000): Promise<Inspected> {
    const end = Date.now() + ms;
    for (;;) {
      const i = inspect(id);
      if (check(i)) return i;
      if (Date.now() > end) throw new Error(`condition not met in time; last state ${JSON.stringify(i.State)}`);
      await sleep(100);
    }
  }
  const status = (id: string) => ok(['ps', '-a', '--filter', /^[0-9a-f]{64}$/.test(id) ? `id=${id}` : `name=${id}`, '--format', '{{.Status}}']).trim();
  const checkers = () => env.processes().filter((p) => p.comm !== 'hull-monitor' && p.comm !== 'sleep');
  /** The checkers of stopped containers go on their own, soon. */
  async function noCheckersLeft(): Promise<void> {
    const end = Date.now() + 10_000;
    while (checkers().length > 0 && Date.now() < end) await sleep(100);
    expect(checkers()).toEqual([]);
  }

  it('a failing check makes the container unhealthy, a passing one healthy again; ps, inspect and events show it', async () => {
    const since = String(Math.floor(Date.now() / 1000) - 1);
    const flags = ['--health-cmd', 'test -f /tmp/ok', '--health-interval', '200ms', '--health-retries', '2', '--health-start-period', '6s'];
    const id = ok(['run', '-d', ...flags, 'busybox', 'sleep', '300']).trim();
    const first = inspect(id);
    expect(first.Config.Healthcheck).toEqual({ Test: ['CMD-SHELL', 'test -f /tmp/ok'], Interval: 200e6, Retries: 2, StartPeriod: 6e9 });
    expect(first.State.Health).toMatchObject({ Status: 'starting', FailingStreak: 0 });
    expect(status(id)).toMatch(/^Up .* \(health: starting\)$/);
    expect(ok(['ps', '-q', '--no-trunc', '--filter', 'health=starting'])).toContain(id);
    // Within the start period, failures are recorded but not counted.
    const failedEarly = await until(id, (i) => (i.State.Health?.Log.length ?? 0) >= 2);
    expect(failedEarly.State.Health).toMatchObject({ Status: 'starting', FailingStreak: 0 });

    const bad = await until(id, (i) => i.State.Health?.Status === 'unhealthy');
    expect(bad.State.Health!.FailingStreak).toBeGreaterThanOrEqual(2);
    expect(bad.State.Health!.Log.every((r) => r.ExitCode === 1 && r.Output === '')).toBe(true);
    expect(status(id)).toMatch(/^Up .* \(unhealthy\)$/);
    expect(ok(['ps', '-q', '--no-trunc', '--filter', 'health=unhealthy'])).toContain(id);
    expect(ok(['ps', '-q', '--no-trunc', '--filter', 'health=healthy'])).not.toContain(id);

    ok(['exec', id, 'touch', '/tmp/ok']);
    const good = await until(id, (i) => i.State.Health?.Status === 'healthy');
    expect(good.State.Health!.FailingStreak).toBe(0);
    expect(good.State.Health!.Log.at(-1)!.ExitCode).toBe(0);
    expect(status(id)).toMatch(/^Up .* \(healthy\)$/);
    // The last five results are kept.
    await until(id, (i) => i.State.Health!.Log.length === 5);
    await sleep(600);
    expect(inspect(id).State.Health!.Log.length).toBe(5);

    // Events: a health_status only at each change; each probe is an exec, with Docker 20.10's exec events.
    const events = ok([
      'events',
      '--since',
      since,
      '--until',
      String(Math.ceil(Date.now() / 1000) + 1),
      '--filter',
      `container=${id}`,
      '--format',
      '{{.Action}}',
    ])
      .split('\n')
      .filter((l) => l !== '');
    expect(events.filter((a) => a.startsWith('health_status'))).toEqual(['health_status: unhealthy', 'health_status: healthy']);
    const filtered = ok([
      'events',
      '--since',
      since,
      '--until',
      String(Math.ceil(Date.now() / 1000)),
      '--filter',
      'event=health_status',
      '--format',
      '{{.Action}} {{.Actor.Attributes.name}}',
    ]);
    const name = inspect(id).Name.slice(1);
    expect(filtered.trim().split('\n')).toEqual([`health_status: unhealthy ${name}`, `health_status: healthy ${name}`]);
    expect(events).toContain('exec_create: /bin/sh -c test -f /tmp/ok');
    expect(events).toContain('exec_start: /bin/sh -c test -f /tmp/ok');

    // A restart: starting again, the earlier results kept; its checker is the new start's.
    ok(['restart', '-t', '0', id]);
    const restarted = inspect(id).State.Health!;
    expect(restarted.Status).toBe('starting');
    expect(restarted.FailingStreak).toBe(0);
    expect(restarted.Log.length).toBe(5);
    await until(id, (i) => i.State.Health?.Status === 'healthy');

    // Stopped: no more checks, no checker left; inspect keeps the last health, ps shows the exit.
    ok(['stop', '-t', '0', id]);
    await noCheckersLeft();
    const stopped = inspect(id).State.Health!;
    await sleep(600);
    expect(inspect(id).State.Health).toEqual(stopped);
    expect(status(id)).toMatch(/^Exited \(137\)/);
    ok(['rm', id]);
  }, 120_000);

  it("honours the image's HEALTHCHECK (the flags over it one by one), and --no-healthcheck disables it", async () => {
    env.buildImage('hc-image', 'FROM busybox\nHEALTHCHECK --interval=200ms --timeout=5s --retries=4 CMD ["/bin/sh", "-c", "echo fine"]\n');
    const id = ok(['run', '-d', 'hc-image', 'sleep', '300']).trim();
    expect(inspect(id).Config.Healthcheck).toEqual({ Test: ['CMD', '/bin/sh', '-c', 'echo fine'], Interval: 200e6, Timeout: 5e9, Retries: 4 });
    const healthy = await until(id, (i) => i.State.Health?.Status === 'healthy');
    expect(healthy.State.Health!.Log[0]!.Output).toBe('fine\n');
    ok(['rm', '-f', id]);

    // CMD-SHELL runs under the image's SHELL (Docker's getShell).
    env.buildImage('hc-shell', 'FROM busybox\nSHELL ["/bin/echo", "shell:"]\nHEALTHCHECK --interval=200ms CMD hello\n');
    const shelled = ok(['run', '-d', 'hc-shell', 'sleep', '300']).trim();
    expect(inspect(shelled).Config).toMatchObject({ Healthcheck: { Test: ['CMD-SHELL', 'hello'], Interval: 200e6 }, Shell: ['/bin/echo', 'shell:'] });
    const echoed = await until(shelled, (i) => i.State.Health?.Status === 'healthy');
    expect(echoed.State.Health!.Log[0]!.Output).toBe('shell: hello\n');
    ok(['rm', '-f', shelled]);

    const over = ok(['create', '--health-retries', '7', '--health-cmd', 'true', 'hc-image', 'sleep', '300']).trim();
    expect(inspect(over).Config.Healthcheck).toEqual({ Test: ['CMD-SHELL', 'true'], Interval: 200e6, Timeout: 5e9, Retries: 7 });
    expect(inspect(over).State.Health).toBeUndefined(); // created, never started: no health yet (Docker's)
    expect(ok(['ps', '-a', '-q', '--no-trunc', '--filter', 'health=none'])).toContain(over);
    // commit: the container's health check is the new image's (Docker's).
    ok(['commit', over, 'hc-committed']);
    const image = (JSON.parse(ok(['image', 'inspect', 'hc-committed'])) as { Config: { Healthcheck?: unknown } }[])[0]!;
    expect(image.Config.Healthcheck).toEqual({ Test: ['CMD-SHELL', 'true'], Interval: 200e6, Timeout: 5e9, Retries: 7 });
    ok(['rm', over]);

    const off = ok(['run', '-d', '--no-healthcheck', 'hc-image', 'sleep', '300']).trim();
    // As Docker's merge: NONE, with the image's other fields kept beside it.
    expect(inspect(off).Config.Healthcheck).toEqual({ Test: ['NONE'], Interval: 200e6, Timeout: 5e9, Retries: 4 });
    await sleep(800);
    expect(inspect(off).State.Health).toBeUndefined();
    expect(status(off)).toMatch(/^Up [^(]*$/);
    await noCheckersLeft();
    ok(['rm', '-f', off]);
  }, 120_000);

  it('a restart by its policy starts the checks over; its last end stops them', async () => {
    const since = String(Math.floor(Date.now() / 1000) - 1);
    const flags = ['--restart', 'on-failure:1', '--health-cmd', 'true', '--health-interval', '200ms'];
    const id = ok(['run', '-d', ...flags, 'busybox', 'sh', '-c', 'sleep 5; exit 3']).trim();
    await until(id, (i) => i.State.Health?.Status === 'healthy');
    const ended = await until(id, (i) => i.State.Status === 'exited', 60_000);
    expect(ended.State.Health!.Status).toBe('healthy');
    await noCheckersLeft();
    const events = ok([
      'events',
      '--since',
      since,
      '--until',
      String(Math.ceil(Date.now() / 1000) + 1),
      '--filter',
      `container=${id}`,
      '--format',
      '{{.Action}}',
    ])
      .split('\n')
      .filter((a) => a === 'start' || a.startsWith('health_status') || a.startsWith('die'));
    // Back to starting at the restart (no event for that, as Docker's), then healthy again: one event per run.
    expect(events).toEqual(['start', 'health_status: healthy', 'die', 'start', 'health_status: healthy', 'die']);
    ok(['rm', id]);
  }, 90_000);

  it('runs no checks while the container is paused, and goes on after unpause', async () => {
    const id = ok(['run', '-d', '--health-cmd', 'true', '--health-interval', '200ms', 'busybox', 'sleep', '300']).trim();
    await until(id, (i) => i.State.Health?.Status === 'healthy');
    ok(['pause', id]);
    expect(status(id)).toMatch(/^Up .* \(Paused\)$/);
    await sleep(500); // a result on its way is written
    const frozen = inspect(id).State.Health!.Log.at(-1)!.Start;
    await sleep(1000);
    expect(inspect(id).State.Health!.Log.at(-1)!.Start).toBe(frozen);
    ok(['unpause', id]);
    await until(id, (i) => i.State.Health!.Log.at(-1)!.Start !== frozen);
    ok(['rm', '-f', id]);
  }, 60_000);

  it("a check that runs past its timeout fails with Docker's text", async () => {
    const id = ok([
      'run',
      '-d',
      '--health-cmd',
      'sleep 30',
      '--health-timeout',
      '300ms',
      '--health-interval',
      '200ms',
      '--health-retries',
      '1',
      'busybox',
      'sleep',
      '300',
    ]).trim();
    const bad = await until(id, (i) => i.State.Health?.Status === 'unhealthy');
    expect(bad.State.Health!.Log[0]).toMatchObject({ ExitCode: -1, Output: 'Health check exceeded timeout (300ms)' });
    const r = bad.State.Health!.Log[0]!;
    expect(Date.parse(r.End) - Date.parse(r.Start)).toBeGreaterThanOrEqual(290);
    ok(['rm', '-f', id]);
  }, 60_000);

  it('runs the checks of a foreground container in its hull, until it exits', async () => {
    const child = env.spawnCli(['run', '--name', 'hc-fg', '--health-cmd', 'true', '--health-interval', '200ms', 'busybox', 'sleep', '6']);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const end = Date.now() + 20_000;
    while (env.cli(['inspect', 'hc-fg']).code !== 0 && Date.now() < end) await sleep(100);
    const healthy = await until('hc-fg', (i) => i.State.Health?.Status === 'healthy');
    expect(healthy.State.Status).toBe('running');
    expect(status('hc-fg')).toMatch(/\(healthy\)$/);
    expect(await exited).toBe(0);
    const after = inspect('hc-fg').State.Health!;
    await sleep(600);
    expect(inspect('hc-fg').State.Health).toEqual(after);
    ok(['rm', 'hc-fg']);
  }, 60_000);

  it('refuses invalid health flags with exit 125 and Docker’s message, creating nothing', () => {
    const cases: [string[], string][] = [
      [['--no-healthcheck', '--health-cmd', 'true'], '--no-healthcheck conflicts with --health-* options'],
      [['--health-interval', '-1s'], '--health-interval cannot be negative'],
      [['--health-timeout', '-2s'], '--health-timeout cannot be negative'],
      [['--health-retries', '-1'], '--health-retries cannot be negative'],
      [['--health-start-period', '-1s'], '--health-start-period cannot be negative'],
      [['--health-interval', '500us'], 'Interval in Healthcheck cannot be less than 1ms'],
      [['--health-timeout', '10ns'], 'Timeout in Healthcheck cannot be less than 1ms'],
      [['--health-start-period', '1us'], 'StartPeriod in Healthcheck cannot be less than 1ms'],
      [['--health-interval', 'soon'], 'invalid argument "soon" for "--health-interval" flag: time: invalid duration "soon"'],
      [['--health-retries', 'x'], 'invalid argument "x" for "--health-retries" flag: strconv.ParseInt: parsing "x": invalid syntax'],
    ];
    for (const [flags, message] of cases) {
      for (const verb of ['run', 'create']) {
        const r = env.cli([verb, ...flags, 'busybox', 'true']);
        expect([verb, flags, r.code, r.stderr.trim()]).toEqual([verb, flags, 125, `hull: ${message}`]);
      }
    }
    expect(ok(['ps', '-a', '-q'])).toBe('');
  });
});
