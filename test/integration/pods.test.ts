// Pods end to end, as root, through the CLI: an infra container (hull-pause from the image hull
// makes itself) holds the network, IPC and UTS namespaces its containers join — checked from inside
// them — `--share +pid` adds the PID namespace, a port published on the pod reaches a container's
// server from the host, and `pod rm -f` leaves nothing (mounts, cgroups, netns, links, leases, nft
// rules). Bad input makes nothing. Traffic stays on loopback and the env's private bridge.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HullEnv, canRunContainers, skipReason } from '../helpers/hull-env.js';
import { eventually, freePort, hasNetTools, httpGet, NET_TOOLS_SKIP } from '../helpers/net-checks.js';

const why = skipReason || (hasNetTools ? '' : NET_TOOLS_SKIP);

/** A busybox httpd serving `text` on port 8080 (the container's command). */
const server = (text: string) => ['sh', '-c', `mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p 8080 -h /www`];

describe.skipIf(!canRunContainers || !hasNetTools)(`pods (integration${why})`, () => {
  let env: HullEnv;

  beforeAll(async () => {
    env = new HullEnv();
    await env.loadBusybox();
  }, 60_000);

  afterAll(() => {
    env.removePods();
    env.destroy();
  });

  const ok = (args: string[]) => env.ok(args).trim();
  const nsLinks = (container: string) => ok(['exec', container, 'sh', '-c', 'for n in net ipc uts pid; do readlink /proc/self/ns/$n; done']).split('\n');

  it('two containers of a pod share the network, IPC and UTS namespaces and not the PID one; stop, start and rm -f leave nothing', async () => {
    const id = ok(['pod', 'create', '--name', 'p1', '--hostname', 'podhost', '--label', 'app=web']);
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const [listed] = JSON.parse(ok(['pod', 'ps', '--format', 'json'])) as { Id: string; Status: string; Containers: unknown[] }[];
    expect(listed).toMatchObject({ Id: id, Status: 'Created' });
    expect(listed!.Containers).toHaveLength(1); // infra, created

    ok(['run', '-d', '--pod', 'p1', '--name', 'web', 'busybox', ...server('hello-from-pod')]);
    ok(['run', '-d', '--pod', 'p1', '--name', 'side', 'busybox', 'sleep', '300']);
    // The sidecar reaches the server on localhost: one network namespace.
    const body = ok(['exec', 'side', 'sh', '-c', 'for i in $(seq 50); do wget -qO- http://127.0.0.1:8080/ && exit 0; sleep 0.1; done; exit 1']);
    expect(body).toBe('hello-from-pod');
    // One UTS namespace, named as the pod says; /etc/hostname and $HOSTNAME agree.
    expect(ok(['exec', 'side', 'hostname'])).toBe('podhost');
    expect(ok(['exec', 'web', 'sh', '-c', 'echo $HOSTNAME; cat /etc/hostname'])).toBe('podhost\npodhost');
    // From inside: net, ipc, uts the same; pid not.
    const [webNet, webIpc, webUts, webPid] = nsLinks('web');
    const [sideNet, sideIpc, sideUts, sidePid] = nsLinks('side');
    expect([sideNet, sideIpc, sideUts]).toEqual([webNet, webIpc, webUts]);
    expect(sidePid).not.toBe(webPid);
    expect(ok(['exec', 'side', 'ps', '-o', 'comm'])).not.toContain('httpd');
    // IPC: a file in the shared /dev/shm is seen by the other.
    ok(['exec', 'web', 'sh', '-c', 'echo shm > /dev/shm/x']);
    expect(ok(['exec', 'side', 'cat', '/dev/shm/x'])).toBe('shm');

    const inspect = (JSON.parse(ok(['pod', 'inspect', 'p1'])) as Record<string, unknown>[])[0]!;
    expect(inspect).toMatchObject({ Id: id, Name: 'p1', State: 'Running', Hostname: 'podhost', Labels: { app: 'web' }, NumContainers: 3 });
    expect(inspect.SharedNamespaces).toEqual(['ipc', 'net', 'uts']);
    expect(ok(['pod', 'ps'])).toMatch(/p1\s+Running\s+.*\s3\n?$/);
    expect(ok(['pod', 'top', 'p1'])).toMatch(/\/pause/);
    expect(ok(['pod', 'stats', '--no-stream', 'p1']).split('\n')).toHaveLength(4); // header, infra, web, side

    // The infra container goes only with its pod.
    const infra = inspect.InfraContainerId as string;
    const rmInfra = env.cli(['rm', '-f', infra]);
    expect(rmInfra.code).not.toBe(0);
    expect(rmInfra.stderr).toContain('is the infra container of pod');

    expect(ok(['pod', 'stop', '-t', '1', 'p1'])).toBe(id);
    expect((JSON.parse(ok(['pod', 'ps', '--format', 'json'])) as { Status: string }[])[0]!.Status).toBe('Exited');
    expect(ok(['pod', 'start', 'p1'])).toBe(id);
    expect(await eventually(async () => ok(['exec', 'side', 'wget', '-qO-', 'http://127.0.0.1:8080/']))).toBe('hello-from-pod');
    const running = env.cli(['pod', 'rm', 'p1']);
    expect(running.code).toBe(2);
    expect(running.stderr).toContain('running or paused containers cannot be removed without force');
    expect(ok(['pod', 'rm', '-f', 'p1'])).toBe(id);
    expect(ok(['ps', '-a', '-q'])).toBe('');
    expect(env.leftovers()).toEqual([]);
    const events = ok(['events', '--since', '10m', '--until', '0s', '--filter', 'type=pod', '--filter', 'pod=p1', '--format', '{{json .}}'])
      .split('\n')
      .map((l) => JSON.parse(l) as { Type: string; Action: string; Actor: { ID: string } })
      .filter((e) => e.Type === 'pod' && e.Actor.ID === id)
      .map((e) => e.Action);
    expect(events).toEqual(['create', 'stop', 'start', 'remove']);
  }, 120_000);

  it('--share +pid puts the containers in the infra PID namespace (hull-pause is its PID 1)', () => {
    ok(['pod', 'create', '--name', 'p2', '--share', '+pid']);
    ok(['run', '-d', '--pod', 'p2', '--name', 'sleeper', 'busybox', 'sleep', '300']);
    const ps = ok(['run', '--rm', '--pod', 'p2', 'busybox', 'ps', '-o', 'pid,args']);
    expect(ps).toMatch(/^\s*1\s+\/pause$/m);
    expect(ps).toContain('sleep 300');
    ok(['pod', 'rm', '-f', 'p2']);
    expect(env.leftovers()).toEqual([]);
  }, 60_000);

  it('pod pause, unpause, restart and kill act on every container of the pod', () => {
    const id = ok(['pod', 'create', '--name', 'p6']);
    ok(['run', '-d', '--pod', 'p6', '--name', 'p6a', 'busybox', 'sleep', '300']);
    const status = () =>
      (JSON.parse(ok(['pod', 'ps', '--format', 'json'])) as { Id: string; Status: string; Containers: { Status: string }[] }[]).find((p) => p.Id === id)!;
    expect(status().Status).toBe('Running');
    expect(ok(['pod', 'pause', 'p6'])).toBe(id);
    expect(status()).toMatchObject({ Status: 'Paused', Containers: [{ Status: 'paused' }, { Status: 'paused' }] });
    expect(ok(['pod', 'unpause', 'p6'])).toBe(id);
    expect(status().Status).toBe('Running');
    const before = (JSON.parse(ok(['inspect', 'p6a'])) as { State: { Pid: number } }[])[0]!.State.Pid;
    expect(ok(['pod', 'restart', '-t', '1', 'p6'])).toBe(id);
    expect(status().Status).toBe('Running');
    expect((JSON.parse(ok(['inspect', 'p6a'])) as { State: { Pid: number } }[])[0]!.State.Pid).not.toBe(before);
    expect(ok(['pod', 'kill', 'p6'])).toBe(id);
    for (let i = 0; i < 100 && status().Status !== 'Exited'; i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    expect(status().Status).toBe('Exited');
    expect(ok(['pod', 'rm', 'p6'])).toBe(id);
    expect(env.leftovers()).toEqual([]);
  }, 60_000);

  it("a port published on the pod reaches a container's server from the host; pod rm -f removes its nft rules", async () => {
    const port = await freePort();
    ok(['pod', 'create', '--name', 'p3', '-p', `127.0.0.1:${port}:8080`]);
    ok(['run', '-d', '--pod', 'p3', 'busybox', ...server('published')]);
    expect(await eventually(() => httpGet(port))).toBe('published\n');
    const rules = () => spawnSync('nft', ['list', 'table', 'ip', env.net.nftTable], { encoding: 'utf8' }).stdout;
    expect(rules()).toContain(String(port));
    ok(['pod', 'rm', '-f', 'p3']);
    expect(rules()).not.toContain(String(port));
    await expect(httpGet(port, { timeoutMs: 500 })).rejects.toThrow();
    expect(env.leftovers()).toEqual([]);
  }, 60_000);

  it('--pod new:NAME makes the pod with the container, its published port on the pod', async () => {
    const port = await freePort();
    ok(['run', '-d', '--pod', 'new:p4', '-p', `127.0.0.1:${port}:8080`, 'busybox', ...server('new-pod')]);
    expect(await eventually(() => httpGet(port))).toBe('new-pod\n');
    const inspect = (JSON.parse(ok(['pod', 'inspect', 'p4'])) as { NumContainers: number; InfraConfig: { PortBindings: Record<string, unknown> } }[])[0]!;
    expect(inspect.NumContainers).toBe(2);
    expect(Object.keys(inspect.InfraConfig.PortBindings)).toEqual(['8080/tcp']);
    ok(['pod', 'rm', '-f', 'p4']);
    expect(env.leftovers()).toEqual([]);
  }, 60_000);

  it('bad input: an unknown pod, network options on a pod container, a duplicate name, a running pod without -f; nothing is made', () => {
    const before = ok(['ps', '-a', '-q', '--no-trunc']);
    const unknown = env.cli(['run', '--pod', 'nope', 'busybox', 'true']);
    expect(unknown).toMatchObject({ code: 125, stdout: '' });
    expect(unknown.stderr).toContain('no pod with name or ID nope found: no such pod');

    ok(['pod', 'create', '--name', 'p5']);
    const refusals: [string[], string][] = [
      [
        ['-p', '8080:80'],
        'invalid config provided: published or exposed ports must be defined when the pod is created: network cannot be configured when it is shared with a pod',
      ],
      [['--network', 'none'], 'invalid config provided: networks must be defined when the pod is created'],
      [['--dns', '10.0.0.1'], 'invalid config provided: DNS options must be specified on the pod'],
      [['--add-host', 'a:10.0.0.1'], 'invalid config provided: extra host entries must be specified on the pod'],
      [['--hostname', 'h'], 'invalid config provided: cannot set hostname when joining the pod UTS namespace'],
    ];
    for (const [flags, message] of refusals) {
      const r = env.cli(['create', '--pod', 'p5', ...flags, 'busybox', 'true']);
      expect(r.code, flags.join(' ')).toBe(125);
      expect(r.stderr).toContain(message);
    }
    const dup = env.cli(['pod', 'create', '--name', 'p5']);
    expect(dup.code).toBe(125);
    expect(dup.stderr).toContain('adding pod to state: name "p5" is in use: pod already exists');
    const share = env.cli(['pod', 'create', '--share', 'bogus']);
    expect(share.code).toBe(125);
    expect(share.stderr).toContain('invalid kernel namespace to share: bogus');
    const rmUnknown = env.cli(['pod', 'rm', 'nope']);
    expect(rmUnknown.code).toBe(1);
    expect(rmUnknown.stderr).toContain('no pod with name or ID nope found');

    // Only p5's infra container was made.
    const after = ok(['ps', '-a', '-q', '--no-trunc']).split('\n').filter(Boolean);
    expect(after.filter((c) => !before.includes(c))).toHaveLength(1);
    expect(JSON.parse(ok(['pod', 'ps', '--format', 'json']))).toHaveLength(1);
    expect(ok(['pod', 'prune', '-f'])).toMatch(/^[0-9a-f]{64}$/);
    expect(ok(['pod', 'ps', '-q'])).toBe('');
    expect(env.leftovers()).toEqual([]);
  }, 60_000);
});
