// Docker's --filter through the CLI on every list verb (ps, images, volume ls, network ls) and the
// prune verbs' own keys, with Docker's error texts and exit status 1 for a bad key or value.
// Containers are created, not run, where the filter does not need a process.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HullEnv, canRunContainers, skipReason } from '../helpers/hull-env.js';

describe.skipIf(!canRunContainers)(`--filter on the list and prune verbs (integration${skipReason})`, () => {
  let env: HullEnv;
  const ids: Record<string, string> = {};
  // A host port unlikely to be taken on a shared machine.
  const hostPort = 20000 + (process.pid % 20000);

  const ok = (args: string[]): string => {
    const r = env.cli(args);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r.stdout;
  };
  const fails = (args: string[], message: string): void => {
    const r = env.cli(args);
    expect(r.stderr).toBe(`hull: ${message}\n`);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
  };
  const lines = (args: string[]): string[] => ok(args).split('\n').filter(Boolean);
  const names = (...filters: string[]): string[] => lines(['ps', '-a', '--format', '{{.Names}}', ...filters.flatMap((f) => ['--filter', f])]);

  beforeAll(async () => {
    env = new HullEnv();
    await env.loadBusybox();
    ok(['network', 'create', '--label', 'app=web', 'front']);
    ok(['volume', 'create', '--label', 'team=core', 'data']);
    ok(['volume', 'create', 'spare']);
    // Oldest first: creation order is what before/since follow.
    expect(env.cli(['run', '--name', 'exited', '--network', 'none', '-l', 'tier=batch', 'busybox', 'sh', '-c', 'exit 3']).code).toBe(3);
    ids.web = ok([
      'create',
      '--name',
      'web',
      '-l',
      'tier=web',
      '-l',
      'env=prod',
      '--network',
      'front',
      '-p',
      '8080:80',
      '-v',
      'data:/data',
      'busybox',
      'true',
    ]).trim();
    ids.db = ok(['create', '--name', 'db', '-l', 'tier=db', '--network', 'none', '--expose', '5432', '-v', `${env.base}:/host`, 'busybox', 'true']).trim();
    ids.up = ok(['run', '-d', '--name', 'up', '--network', 'front', '-p', `${hostPort}:80`, '--expose', '5432', 'busybox', 'sleep', '60']).trim();
    const tar = path.join(env.base, 'fs.tar');
    ok(['export', '-o', tar, 'db']);
    ids.dangling = ok(['import', tar]).trim();
    ids.labelled = ok(['import', '-c', 'LABEL v=2', tar, 'me/app:1']).trim();
    ok(['tag', 'me/app:1', 'me/app:2']);
  });

  afterAll(() => {
    for (const c of ['exited', 'web', 'db', 'up']) env.cli(['rm', '-f', c]);
    env.cli(['network', 'rm', 'front']);
    env.cli(['volume', 'rm', 'data', 'spare']);
    expect(env.leftovers()).toEqual([]);
    env.destroy();
  });

  it('ps: name, id, label, status, exited; running only without -a, except with a status filter', () => {
    expect(lines(['ps', '--format', '{{.Names}}'])).toEqual(['up']);
    expect(names('name=^/?(web|db)$')).toEqual(['db', 'web']);
    expect(names('name=e')).toEqual(['web', 'exited']);
    expect(names(`id=${ids.web!.slice(0, 6)}`)).toEqual(['web']);
    expect(names('label=tier=web', 'label=env')).toEqual(['web']);
    expect(names('label=tier')).toEqual(['db', 'web', 'exited']);
    expect(lines(['ps', '--filter', 'status=created', '--format', '{{.Names}} {{.Label "tier"}} {{.Labels}}'])).toEqual([
      'db db tier=db',
      'web web env=prod,tier=web',
    ]);
    expect(names('status=running')).toEqual(['up']);
    expect(names('exited=3')).toEqual(['exited']);
    expect(names('exited=0')).toEqual([]);
    expect(lines(['ps', '-q', '--filter', 'name=up', '--no-trunc'])).toEqual([ids.up]);
  });

  it('ps: before and since by name or id, ancestor, network, volume, publish, expose, health, is-task, isolation', () => {
    expect(names('before=db')).toEqual(['web', 'exited']);
    expect(names(`since=${ids.web}`)).toEqual(['up', 'db']);
    expect(names('since=exited', 'before=up')).toEqual(['db', 'web']);
    expect(names('ancestor=busybox')).toEqual(['up', 'db', 'web', 'exited']);
    expect(names('ancestor=me/app:1')).toEqual([]);
    expect(names('network=front')).toEqual(['up', 'web']);
    expect(names(`network=${ok(['network', 'inspect', '-f', '{{.Id}}', 'front']).trim().slice(0, 8)}`)).toEqual(['up', 'web']);
    expect(names('network=none')).toEqual(['db', 'exited']);
    expect(names('volume=data')).toEqual(['web']);
    expect(names('volume=/host', 'volume=/data')).toEqual(['db', 'web']);
    // Ports: of running containers only, as Docker's list (web's -p and db's --expose wait for a start).
    expect(names(`publish=${hostPort}/tcp`)).toEqual(['up']);
    expect(names(`publish=${hostPort - 1}-${hostPort + 1}`)).toEqual(['up']);
    expect(names('publish=8080')).toEqual([]);
    expect(names('expose=5432')).toEqual(['up']);
    expect(names('expose=80', 'expose=5432/udp')).toEqual(['up']);
    expect(lines(['ps', '--format', '{{.Names}}|{{.Ports}}|{{.Networks}}|{{.Mounts}}|{{.LocalVolumes}}', '-a'])).toEqual([
      `up|5432/tcp, 0.0.0.0:${hostPort}->80/tcp|front||0`,
      `db||none|${env.base.length > 15 ? `${env.base.slice(0, 14)}…` : env.base}|0`,
      'web||front|data|1',
      'exited||none||0',
    ]);
    expect(ok(['ps'])).toContain(`   5432/tcp, 0.0.0.0:${hostPort}->80/tcp   up\n`);
    expect(names('health=none')).toEqual(['up', 'db', 'web', 'exited']);
    expect(names('health=healthy')).toEqual([]);
    expect(names('is-task=true')).toEqual([]);
    expect(names('is-task=false', 'isolation=default')).toHaveLength(4);
  });

  it("ps: Docker's errors, exit status 1", () => {
    fails(['ps', '--filter', 'nope=1'], "Invalid filter 'nope'");
    fails(['ps', '--filter', 'status=sleeping'], "Invalid filter 'status=sleeping'");
    fails(['ps', '--filter', 'health=sick'], 'Unrecognised filter value for health: sick');
    fails(['ps', '--filter', 'exited=x'], 'strconv.Atoi: parsing "x": invalid syntax');
    fails(['ps', '--filter', 'publish=1:80'], "filter for 'publish' should not contain ':': 1:80");
    fails(['ps', '--filter', 'before=ghost'], 'no such container ghost');
    fails(['ps', '--filter', 'status'], 'bad format of filter (expected name=value)');
  });

  it('images: dangling, label, reference (and the positional), before, since', () => {
    const rows = (...args: string[]) => lines(['images', '--format', '{{.Repository}}:{{.Tag}}', ...args]);
    expect(rows('--filter', 'dangling=true')).toEqual(['<none>:<none>']);
    expect(lines(['images', '-q', '--filter', 'dangling=true'])).toEqual([ids.dangling!.slice(7, 19)]);
    expect(rows('--filter', 'dangling=false').sort()).toEqual(['busybox:latest', 'me/app:1', 'me/app:2']);
    expect(rows('--filter', 'label=v=2').sort()).toEqual(['me/app:1', 'me/app:2']);
    expect(rows('--filter', 'reference=me/*:2')).toEqual(['me/app:2']);
    expect(rows('--filter', 'reference=busy*', '--filter', 'reference=me/app')).toEqual(['me/app:1', 'me/app:2', 'busybox:latest']);
    expect(rows('me/app:1')).toEqual(['me/app:1']);
    expect(rows('--filter', 'since=busybox').sort()).toEqual(['<none>:<none>', 'me/app:1', 'me/app:2']);
    expect(rows('--filter', `before=${ids.dangling}`)).toEqual(['busybox:latest']);
    fails(['images', '--filter', 'name=x'], "Invalid filter 'name'");
    fails(['images', '--filter', 'dangling=yes'], "Invalid filter 'dangling=[yes]'");
    fails(['images', '--filter', 'since=ghost:1'], 'No such image: ghost:1');
  });

  it('volume ls: name, driver, label, dangling', () => {
    const vols = (...filters: string[]) => lines(['volume', 'ls', '-q', ...filters.flatMap((f) => ['--filter', f])]).sort();
    expect(vols('name=^d')).toEqual(['data']);
    expect(vols('driver=local')).toEqual(['data', 'spare']);
    expect(vols('label=team=core')).toEqual(['data']);
    expect(vols('dangling=true')).toEqual(['spare']);
    expect(vols('dangling=false', 'driver=local')).toEqual(['data']);
    expect(lines(['volume', 'ls', '--filter', 'label=team', '--format', '{{.Name}} {{.Label "team"}}'])).toEqual(['data core']);
    fails(['volume', 'ls', '--filter', 'until=1h'], "Invalid filter 'until'");
    fails(['volume', 'ls', '--filter', 'dangling=maybe'], "Invalid filter 'dangling=[maybe]'");
  });

  it('network ls: name, id, driver, label, type, dangling, scope; host and none are builtin', () => {
    const nets = (...filters: string[]) => lines(['network', 'ls', '--format', '{{.Name}}', ...filters.flatMap((f) => ['--filter', f])]);
    const frontId = ok(['network', 'inspect', '-f', '{{.Id}}', 'front']).trim();
    expect(nets('name=^fr')).toEqual(['front']);
    expect(nets(`id=${frontId.slice(0, 10)}`)).toEqual(['front']);
    expect(lines(['network', 'ls', '-q', '--no-trunc', '--filter', 'label=app=web'])).toEqual([frontId]);
    expect(nets('driver=null')).toEqual(['none']);
    expect(nets('type=custom')).toEqual(['front']);
    expect(nets('type=builtin')).toEqual(expect.arrayContaining(['host', 'none']));
    expect(nets('type=builtin')).not.toContain('front');
    expect(nets('dangling=true')).toEqual([]); // up holds an address on front
    expect(nets('dangling=false')).toContain('front');
    expect(nets('scope=local', 'name=front')).toEqual(['front']);
    fails(['network', 'ls', '--filter', 'type=mine'], "invalid filter: 'type'='mine'");
    fails(['network', 'ls', '--filter', 'ancestor=x'], "Invalid filter 'ancestor'");
  });

  it('the prune verbs take the keys Docker takes there', () => {
    fails(['container', 'prune', '-f', '--filter', 'name=x'], "Invalid filter 'name'");
    fails(['volume', 'prune', '-f', '--filter', 'until=1h'], "Invalid filter 'until'");
    fails(['network', 'prune', '-f', '--filter', 'dangling=true'], "Invalid filter 'dangling'");
    fails(['image', 'prune', '-f', '--filter', 'dangling=maybe'], "Invalid filter 'dangling=[maybe]'");
    // Volumes: label / label! (spare has no label: kept by label=team, pruned otherwise with -a).
    expect(ok(['volume', 'prune', '-f', '-a', '--filter', 'label=team'])).toBe('Total reclaimed space: 0B\n');
    expect(ok(['network', 'prune', '-f', '--filter', 'label!=app=web'])).toBe('');
    expect(ok(['network', 'prune', '-f', '--filter', 'until=1h'])).toBe('');
    expect(ok(['container', 'prune', '-f', '--filter', 'label=tier=nothing'])).toBe('Total reclaimed space: 0B\n');
    fails(['system', 'prune', '-f', '--filter', 'dangling=true'], "Invalid filter 'dangling'");
    expect(ok(['system', 'prune', '-f', '--filter', 'label=tier=nothing'])).toBe('Total reclaimed space: 0B\n');
    expect(names()).toHaveLength(4);
    expect(lines(['volume', 'ls', '-q']).sort()).toEqual(['data', 'spare']);
    expect(lines(['network', 'ls', '--format', '{{.Name}}', '--filter', 'type=custom'])).toEqual(['front']);
    // Images: dangling=false is -a (named images too), here only those label= keeps.
    const pruned = ok(['image', 'prune', '-f', '--filter', 'dangling=false', '--filter', 'label=v=2']);
    expect(pruned).toMatch(/^Deleted Images:\nuntagged: me\/app:[12]\nuntagged: me\/app:[12]\n/);
    expect(pruned).toContain(`deleted: ${ids.labelled}\n`);
    expect(lines(['images', '--format', '{{.Repository}}']).sort()).toEqual(['<none>', 'busybox']);
  });
});
