// `hull events`: the events log (src/events/) written by every process that changes state, read and
// followed by another (issue 17, acceptance 2), as root on the host kernel.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HULL_BIN, HullEnv, canRunContainers, skipReason } from '../helpers/hull-env.js';

interface Ev {
  status?: string;
  id?: string;
  from?: string;
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: string;
  time: number;
  timeNano: number;
}

describe.skipIf(!canRunContainers)(`hull events (integration${skipReason})`, () => {
  let env: HullEnv;

  beforeAll(async () => {
    env = new HullEnv();
    await env.loadBusybox();
  });
  afterAll(() => env.destroy());

  const lines = (text: string): Ev[] =>
    text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Ev);

  /** `hull events ARGS` as a child process: its output so far, and a function that ends it (SIGINT) and gives the rest. */
  function follow(args: string[], env2: NodeJS.ProcessEnv = {}) {
    const child = spawn(process.execPath, [HULL_BIN, ...env.globalArgs(), 'events', ...args], { env: { ...process.env, ...env2 } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return {
      output: () => out,
      async stop(): Promise<{ code: number | null; stdout: string; stderr: string }> {
        child.kill('SIGINT');
        const code = await exited;
        return { code, stdout: out, stderr: err };
      },
      exited,
    };
  }
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  async function until(check: () => boolean, ms = 20_000): Promise<void> {
    const end = Date.now() + ms;
    while (!check()) {
      if (Date.now() > end) throw new Error('condition not met in time');
      await sleep(50);
    }
  }

  it('follows, in order, the create/start/die/destroy of a labelled container run by another process, its labels in Actor.Attributes', async () => {
    const f = follow(['--filter', 'label=app=x', '--format', '{{json .}}']);
    await sleep(800); // the follower is watching
    const other = env.cli(['run', '--rm', '-l', 'app=y', 'busybox', 'true']); // filtered out
    expect(other.code).toBe(0);
    const r = env.cli(['run', '--rm', '-l', 'app=x', '-l', 'tier=web', '--name', 'labelled', 'busybox', 'sh', '-c', 'exit 3']);
    expect(r.code).toBe(3);
    await until(() => f.output().split('\n').length > 4);
    const { code, stdout } = await f.stop();
    expect(code).toBe(0);
    const evs = lines(stdout);
    expect(evs.map((e) => e.Action)).toEqual(['create', 'start', 'die', 'destroy']);
    const id = evs[0]!.Actor.ID;
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    for (const e of evs) {
      expect(e).toMatchObject({ Type: 'container', status: e.Action, id, from: 'busybox', scope: 'local', Actor: { ID: id } });
      expect(e.Actor.Attributes).toMatchObject({ app: 'x', tier: 'web', name: 'labelled', image: 'busybox' });
      expect(e.time).toBe(Math.floor(e.timeNano / 1e9));
    }
    expect(evs[2]!.Actor.Attributes.exitCode).toBe('3');
    // Docker's field order in {{json .}}
    expect(Object.keys(JSON.parse(stdout.split('\n')[0]!) as object)).toEqual(['status', 'id', 'from', 'Type', 'Action', 'Actor', 'scope', 'time', 'timeNano']);
  });

  it('counts exactly 20 of each of create, start, die and destroy with 20 concurrent run --rm (nothing lost or doubled)', async () => {
    const f = follow(['--filter', 'label=batch=20', '--format', '{{.Action}} {{.Actor.ID}}']);
    await sleep(800);
    const runs = await Promise.all(Array.from({ length: 20 }, () => env.cliAsync(['run', '--rm', '-l', 'batch=20', 'busybox', 'true'])));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    await until(() => f.output().split('\n').length > 80);
    await sleep(300); // a doubled line would come now
    const { stdout } = await f.stop();
    const rows = stdout.split('\n').filter((l) => l !== '');
    const count = (action: string) => rows.filter((l) => l.startsWith(`${action} `)).length;
    expect([count('create'), count('start'), count('die'), count('destroy')]).toEqual([20, 20, 20, 20]);
    expect(new Set(rows).size).toBe(80);
    // per container, in order
    const byId = new Map<string, string[]>();
    for (const l of rows) {
      const [action, id] = l.split(' ') as [string, string];
      byId.set(id, [...(byId.get(id) ?? []), action]);
    }
    expect(byId.size).toBe(20);
    for (const actions of byId.values()) expect(actions).toEqual(['create', 'start', 'die', 'destroy']);
  });

  it("logs a detached container's die from its monitor, and stop/kill/pause/unpause/rename/restart/exec", async () => {
    const since = String(Date.now() / 1000);
    const id = env.cli(['run', '-d', '--name', 'ev-d', '-l', 'd=1', 'busybox', 'sleep', '60']).stdout.trim();
    expect(env.cli(['pause', 'ev-d']).code).toBe(0);
    expect(env.cli(['unpause', 'ev-d']).code).toBe(0);
    expect(env.cli(['exec', 'ev-d', 'sh', '-c', 'exit 4']).code).toBe(4);
    expect(env.cli(['rename', 'ev-d', 'ev-d2']).code).toBe(0);
    expect(env.cli(['restart', '-t', '1', 'ev-d2']).code).toBe(0);
    expect(env.cli(['kill', 'ev-d2']).code).toBe(0);
    await until(() => env.cli(['inspect', '-f', '{{.State.Status}}', 'ev-d2']).stdout.trim() === 'exited');
    expect(env.cli(['rm', 'ev-d2']).code).toBe(0);
    const r = env.cli([
      'events',
      '--since',
      since,
      '--until',
      String(Date.now() / 1000 + 0.2),
      '--filter',
      `container=${id.slice(0, 12)}`,
      '--format',
      '{{json .}}',
    ]);
    expect(r.stderr).toBe('');
    const evs = lines(r.stdout);
    expect(evs.map((e) => e.Action.replace(/:.*/, ''))).toEqual([
      'create',
      'start',
      'pause',
      'unpause',
      'exec_create',
      'exec_start',
      'exec_die',
      'rename',
      'kill', // SIGTERM: sleep as pid 1 ignores it
      'kill', // SIGKILL after the timeout
      'die',
      'stop',
      'start',
      'restart',
      'kill',
      'die',
      'destroy',
    ]);
    const at = (action: string, n = 0) => evs.filter((e) => e.Action === action)[n]!;
    expect(evs[4]!.Action).toBe('exec_create: sh -c exit 4');
    expect(at('exec_die').Actor.Attributes).toMatchObject({ exitCode: '4', execID: evs[4]!.Actor.Attributes.execID });
    expect(at('rename').Actor.Attributes).toMatchObject({ name: 'ev-d2', oldName: 'ev-d' });
    expect(at('kill', 0).Actor.Attributes.signal).toBe('15');
    expect(at('kill', 1).Actor.Attributes.signal).toBe('9');
    expect(at('kill', 2).Actor.Attributes.signal).toBe('9');
    expect(at('die', 0).Actor.Attributes).toMatchObject({ exitCode: '137', name: 'ev-d2', image: 'busybox', d: '1' });
    expect(at('die', 1).Actor.Attributes.exitCode).toBe('137');
    // Docker's default text line
    const text = env.cli(['events', '--since', since, '--until', '0s', '--filter', `container=ev-d2`, '--filter', 'event=rename']).stdout;
    expect(text).toMatch(
      new RegExp(`^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{9}Z container rename ${id} \\(d=1, image=busybox, name=ev-d2, oldName=ev-d\\)\\n$`),
    );
  });

  it("logs a detached container's start and die in order from its monitor, a restart policy's too", async () => {
    const since = String(Date.now() / 1000);
    const id = env.cli(['run', '-d', '--restart', 'on-failure:2', 'busybox', 'false']).stdout.trim();
    await until(() => env.cli(['inspect', '-f', '{{.State.Status}} {{.RestartCount}}', id]).stdout.trim() === 'exited 2');
    expect(env.cli(['rm', id]).code).toBe(0);
    const r = env.cli([
      'events',
      '--since',
      since,
      '--until',
      '0s',
      '--filter',
      `container=${id}`,
      '--format',
      '{{.Action}}{{if eq .Action "die"}} {{.Actor.Attributes.exitCode}}{{end}}',
    ]);
    expect(r.stdout.trim().split('\n')).toEqual(['create', 'start', 'die 1', 'start', 'die 1', 'start', 'die 1', 'destroy']);
  });

  it('networks (create, connect, disconnect, destroy), volumes (create, mount, unmount, destroy) and images (tag, untag), with the filters of each', async () => {
    const since = String(Date.now() / 1000);
    expect(env.cli(['network', 'create', 'evnet']).code).toBe(0);
    expect(env.cli(['volume', 'create', 'evvol']).code).toBe(0);
    expect(env.cli(['create', '--name', 'ev-n', 'busybox', 'true']).code).toBe(0);
    expect(env.cli(['network', 'connect', 'evnet', 'ev-n']).code).toBe(0);
    expect(env.cli(['network', 'disconnect', 'evnet', 'ev-n']).code).toBe(0);
    expect(env.cli(['rm', 'ev-n']).code).toBe(0);
    expect(env.cli(['run', '--rm', '--network', 'none', '-v', 'evvol:/data', 'busybox', 'true']).code).toBe(0);
    expect(env.cli(['network', 'rm', 'evnet']).code).toBe(0);
    expect(env.cli(['volume', 'rm', 'evvol']).code).toBe(0);
    expect(env.cli(['tag', 'busybox', 'evimg:1']).code).toBe(0);
    expect(env.cli(['rmi', 'evimg:1']).code).toBe(0);
    const until = String(Date.now() / 1000 + 0.1);
    const q = (...filters: string[]) =>
      lines(env.cli(['events', '--since', since, '--until', until, '--format', '{{json .}}', ...filters.flatMap((f) => ['--filter', f])]).stdout);

    const net = q('type=network');
    expect(net.map((e) => e.Action)).toEqual(['create', 'connect', 'disconnect', 'destroy']);
    expect(net.every((e) => e.Actor.Attributes.name === 'evnet' && e.Actor.Attributes.type === 'bridge' && e.status === undefined)).toBe(true);
    expect(net[1]!.Actor.Attributes.container).toMatch(/^[0-9a-f]{64}$/);
    expect(q('network=evnet').map((e) => e.Action)).toEqual(['create', 'connect', 'disconnect', 'destroy']);
    expect(q('network=evnet', 'event=connect', 'event=disconnect').map((e) => e.Action)).toEqual(['connect', 'disconnect']);

    const vol = q('volume=evvol');
    expect(vol.map((e) => e.Action)).toEqual(['create', 'mount', 'unmount', 'destroy']);
    expect(vol[1]!.Actor.Attributes).toMatchObject({ driver: 'local', destination: '/data' });
    expect(q('type=volume', 'event=mount').length).toBe(1);

    const img = q('type=image');
    expect(img.map((e) => [e.Action, e.Actor.Attributes.name])).toEqual([
      ['tag', 'evimg:1'],
      ['untag', 'evimg:1'],
    ]);
    expect(img[0]!.Actor.ID).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(q('image=evimg:1').map((e) => e.Action)).toEqual(['tag', 'untag']);
    expect(q('image=evimg').map((e) => e.Action)).toEqual(['tag', 'untag']);
    // image= matches a container's image too; type and event AND; container= by name
    expect(q('image=busybox', 'type=container', 'event=create').length).toBe(2);
    expect(q('container=ev-n').map((e) => e.Action)).toEqual(['create', 'destroy']);
    // repeated keys OR, different keys AND
    const destroyed = q('type=container', 'type=network', 'event=destroy');
    expect(new Set(destroyed.map((e) => e.Type))).toEqual(new Set(['container', 'network']));
    expect(destroyed.every((e) => e.Action === 'destroy')).toBe(true);
  });

  it("commit (the container's, after the new image's tag), import (the image's, after its tag), and a detached container's volume mount and unmount at each start and end, from its monitor", async () => {
    const since = String(Date.now() / 1000);
    expect(env.cli(['create', '--name', 'ev-c', 'busybox', 'true']).code).toBe(0);
    const image = env.cli(['commit', '-m', 'snap', 'ev-c', 'evcommit:1']).stdout.trim();
    expect(image).toMatch(/^sha256:[0-9a-f]{64}$/);
    const tar = env.cli(['export', '-o', path.join(env.base, 'ev.tar'), 'ev-c']);
    expect(tar.code).toBe(0);
    const imported = env.cli(['import', path.join(env.base, 'ev.tar'), 'evimport:1']).stdout.trim();
    expect(imported).toMatch(/^sha256:[0-9a-f]{64}$/);
    const vid = env.cli(['run', '-d', '--network', 'none', '--restart', 'on-failure:1', '-v', 'evdet:/data', 'busybox', 'false']).stdout.trim();
    await until(() => env.cli(['inspect', '-f', '{{.State.Status}} {{.RestartCount}}', vid]).stdout.trim() === 'exited 1');
    expect(env.cli(['rm', '-v', 'ev-c', vid]).code).toBe(0);
    expect(env.cli(['volume', 'rm', 'evdet']).code).toBe(0);
    expect(env.cli(['rmi', 'evcommit:1', 'evimport:1']).code).toBe(0);
    const to = String(Date.now() / 1000 + 0.1);
    const q = (...filters: string[]) =>
      lines(env.cli(['events', '--since', since, '--until', to, '--format', '{{json .}}', ...filters.flatMap((f) => ['--filter', f])]).stdout);

    const commit = q('event=commit');
    expect(commit).toHaveLength(1);
    expect(commit[0]!).toMatchObject({ Type: 'container', Actor: { Attributes: { comment: 'snap', imageID: image, imageRef: 'evcommit:1', name: 'ev-c' } } });
    expect(
      q('type=image', 'event=tag', 'event=import', 'event=untag').map((e) => [
        e.Action,
        e.Actor.ID === image ? 'c' : e.Actor.ID === imported ? 'i' : '?',
        e.Actor.Attributes.name,
      ]),
    ).toEqual([
      ['tag', 'c', 'evcommit:1'],
      ['tag', 'i', 'evimport:1'],
      ['import', 'i', imported],
      ['untag', 'c', 'evcommit:1'],
      ['untag', 'i', 'evimport:1'],
    ]);
    // The container's tag comes before its commit (Docker's order).
    const both = q('event=tag', 'event=commit', 'image=evcommit:1');
    expect(both.map((e) => e.Action)).toEqual(['tag']); // image= matches the image's events; the commit is the container's
    const all = lines(env.cli(['events', '--since', since, '--until', to, '--format', '{{json .}}']).stdout);
    expect(all.findIndex((e) => e.Action === 'tag')).toBeLessThan(all.findIndex((e) => e.Action === 'commit'));

    // The detached container: mount before each start, unmount after each die (a restart is a second start).
    const det = lines(env.cli(['events', '--since', since, '--until', to, '--format', '{{json .}}']).stdout).filter(
      (e) => e.Actor.ID === vid || (e.Type === 'volume' && e.Actor.ID === 'evdet'),
    );
    expect(det.map((e) => `${e.Type} ${e.Action}`)).toEqual([
      'volume create',
      'container create',
      'volume mount',
      'container start',
      'container die',
      'volume unmount',
      'volume mount',
      'container start',
      'container die',
      'volume unmount',
      'container destroy',
      'volume destroy',
    ]);
    expect(det[2]!.Actor.Attributes).toMatchObject({ container: vid, destination: '/data', driver: 'local' });
    expect(det[5]!.Actor.Attributes).toEqual({ container: vid, driver: 'local' });
  });

  it('--since and --until select by time; --until in the future follows until then', async () => {
    const t0 = Date.now() / 1000;
    env.cli(['volume', 'create', 'evt1']);
    await sleep(50);
    const t1 = Date.now() / 1000;
    env.cli(['volume', 'create', 'evt2']);
    await sleep(50);
    const t2 = Date.now() / 1000;
    env.cli(['volume', 'rm', 'evt1', 'evt2']);
    const names = (since: number | string, until: number | string) =>
      env
        .cli(['events', '--since', String(since), '--until', String(until), '--filter', 'type=volume', '--format', '{{.Action}} {{.Actor.ID}}'])
        .stdout.trim()
        .split('\n')
        .filter((l) => l !== '');
    expect(names(t0, t1)).toEqual(['create evt1']);
    expect(names(t1, t2)).toEqual(['create evt2']);
    expect(names(t0, t2)).toEqual(['create evt1', 'create evt2']);
    expect(names(new Date(t1 * 1000).toISOString(), '0s')).toEqual(['create evt2', 'destroy evt1', 'destroy evt2']);
    expect(names('1m', '0s').slice(-2)).toEqual(['destroy evt1', 'destroy evt2']);
    // a future --until: follows, sees a later event, then stops on its own
    const start = Date.now();
    const f = follow(['--until', String(Date.now() / 1000 + 2.5), '--filter', 'volume=evt3', '--format', '{{.Action}}']);
    await sleep(800);
    env.cli(['volume', 'create', 'evt3']);
    const code = await f.exited;
    expect(code).toBe(0);
    expect(Date.now() - start).toBeGreaterThan(2000);
    expect(f.output()).toBe('create\n');
    env.cli(['volume', 'rm', 'evt3']);
    expect(env.cli(['events', '--filter', 'nope=1']).stderr).toMatch(/invalid filter 'nope'/);
    const bad = env.cli(['events', '--since', 'yesterday']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/invalid value for --since\/--until: "yesterday"/);
  });

  it('rotates under many concurrent writers, and a follower loses and doubles nothing across rotations', async () => {
    const small = { HULL_EVENTS_MAX_BYTES: '4096' };
    const f = follow(['--filter', 'label=rot=1', '--format', '{{.Action}} {{.Actor.ID}}'], small);
    await sleep(800);
    const runs = await Promise.all(
      Array.from({ length: 12 }, () => env.cliAsync(['run', '--rm', '-l', 'rot=1', '-l', `pad=${'p'.repeat(300)}`, 'busybox', 'true'], { env: small })),
    );
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    await until(() => f.output().split('\n').length > 48);
    await sleep(300);
    const { stdout } = await f.stop();
    const rows = stdout.split('\n').filter((l) => l !== '');
    expect(rows.length).toBe(48);
    expect(new Set(rows).size).toBe(48);
    const dir = path.join(env.runRoot, 'events');
    expect(readdirSync(dir).sort()).toEqual(['events.log', 'events.log.1', 'rotate.lock']);
    // bounded: the current file is at most the limit plus the lines written while one rotated
    expect(statSync(path.join(dir, 'events.log')).size).toBeLessThan(4096 + 12 * 4096);
    for (const l of readFileSync(path.join(dir, 'events.log.1'), 'utf8')
      .split('\n')
      .filter((x) => x !== ''))
      JSON.parse(l);
  });
});
