// The Engine API (`hull system service`) driven by Debian's docker-compose 1.29 and its Python Docker
// SDK (python3-docker), on a private socket over a private hull root (test/helpers/engine-api.ts):
// a three-service project on a user network, then the SDK's containers, networks and volumes; the
// server is stopped by pid and everything removed.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CommandResult, DOCKER, EngineApiServer, hasDocker, hasPythonSdk, message } from '../helpers/engine-api.js';
import { HullEnv, canRunContainers, skipReason } from '../helpers/hull-env.js';
import { withIpForwarding } from '../helpers/net-checks.js';

const COMPOSE = '/usr/bin/docker-compose';
const hasCompose = existsSync(COMPOSE);

describe.skipIf(!canRunContainers || !hasDocker)(
  `Engine API: docker-compose and the Python SDK (integration${skipReason}${hasDocker ? '' : '; skipped: needs /usr/bin/docker (docker.io)'})`,
  () => {
    let env: HullEnv;
    let api: EngineApiServer;
    let project: string;

    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    beforeAll(async () => {
      env = new HullEnv();
      await env.loadBusybox();
      api = new EngineApiServer(env);
      await api.start();
      project = path.join(env.base, 'project');
      mkdirSync(project, { recursive: true });
    }, 60_000);

    afterAll(async () => {
      await api?.destroy();
    });

    describe.skipIf(!hasCompose)(`docker-compose 1.29${hasCompose ? '' : ' (skipped: needs /usr/bin/docker-compose)'}`, () => {
      const compose = (args: string[], timeout = 120_000): CommandResult => {
        const r = spawnSync(COMPOSE, ['--ansi', 'never', '-p', 'hullc', ...args], {
          cwd: project,
          encoding: 'utf8',
          timeout,
          // compose's exec runs the `docker` first on PATH: Debian's (20.10), its pair, not another version.
          env: { ...api.clientEnv(), PATH: `${bin}:${process.env.PATH}`, COMPOSE_HTTP_TIMEOUT: '120' },
        });
        return { code: r.status, stdout: r.stdout, stderr: r.stderr };
      };
      const ids = (): Record<string, string> => {
        const out: Record<string, string> = {};
        const ps = api.docker([
          'ps',
          '-a',
          '--filter',
          'label=com.docker.compose.project=hullc',
          '--format',
          '{{.ID}} {{.Label "com.docker.compose.service"}}',
        ]);
        for (const line of ps.stdout.trim().split('\n').filter(Boolean)) {
          const [id, service] = line.split(' ');
          out[service!] = id!;
        }
        return out;
      };
      // `build:` needs POST /build (the Engine API's images part): with it served the worker is built from a Dockerfile; on a server
      // without it the worker runs busybox and the build's own step says it was skipped. Probed at the start (404 "page not found": not served).
      let buildServed = false;
      let bin: string;
      const file = (workerMode: string) => `
version: "2.4"
services:
  data:
    image: busybox
    cgroup_parent: ${env.cgroupParent}
    command: ["sh", "-c", "echo stored-$$(hostname) > /data/item; sleep 1; touch /tmp/ready; exec httpd -f -p 80 -h /data"]
    volumes: ["store:/data"]
    networks: [app]
    labels: { tier: data }
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 1s
      timeout: 2s
      retries: 30
  web:
    image: busybox
    cgroup_parent: ${env.cgroupParent}
    command: ["sh", "-c", "mkdir -p /www && echo hello-$$GREETING > /www/index.html && exec httpd -f -p 8080 -h /www"]
    environment: { GREETING: compose }
    ports: ["127.0.0.1::8080"]
    networks: { app: { aliases: [frontend] } }
    labels: { tier: web }
    depends_on: { data: { condition: service_healthy } }
  worker:
${buildServed ? '    build: { context: ./worker }\n    image: hullc-worker:dev' : '    image: busybox'}
    cgroup_parent: ${env.cgroupParent}
    command: ["sh", "-c", "echo worker-$$MODE; exec sleep 3600"]
    stop_grace_period: 1s
    environment: { MODE: ${workerMode} }
    networks: [app]
    labels: { tier: worker }
    depends_on: [web]
networks:
  app: {}
volumes:
  store: {}
`;

      beforeAll(async () => {
        buildServed = (await api.request('POST', '/build')).status !== 404;
        bin = path.join(env.base, 'bin');
        mkdirSync(bin, { recursive: true });
        symlinkSync(DOCKER, path.join(bin, 'docker'));
        mkdirSync(path.join(project, 'worker'), { recursive: true });
        writeFileSync(path.join(project, 'worker', 'Dockerfile'), 'FROM busybox\nLABEL made-by=compose-build\nRUN echo built-by-hull > /built\n');
      });

      afterAll(() => {
        // A failed step leaves the project: take it down through the server, so the env's teardown finds only what is its own.
        if (existsSync(path.join(project, 'docker-compose.yml'))) compose(['down', '-v', '-t', '1']);
      });

      it('up -d: the network, the volume, three services in order (data healthy before web), ps and logs', () => {
        writeFileSync(path.join(project, 'docker-compose.yml'), file('one'));
        const up = compose(['up', '-d']);
        expect(up.code, up.stderr).toBe(0);
        expect(Object.keys(ids()).sort()).toEqual(['data', 'web', 'worker']);
        expect(api.docker(['network', 'ls', '--format', '{{.Name}}']).stdout.split('\n')).toContain('hullc_app');
        expect(api.docker(['volume', 'ls', '--format', '{{.Name}}']).stdout.split('\n')).toContain('hullc_store');
        // web waited for data's health check: data was healthy before web started.
        const when = (c: string, f: string) => Date.parse(api.docker(['inspect', '--format', f, c]).stdout.trim());
        expect(api.docker(['inspect', '--format', '{{.State.Health.Status}}', 'hullc_data_1']).stdout.trim()).toBe('healthy');
        expect(when('hullc_web_1', '{{.State.StartedAt}}')).toBeGreaterThanOrEqual(when('hullc_data_1', '{{(index .State.Health.Log 0).End}}'));
        expect(
          api.docker(['inspect', '--format', '{{.Config.Labels.tier}} {{index .Config.Labels "com.docker.compose.service"}}', 'hullc_web_1']).stdout.trim(),
        ).toBe('web web');
        const ps = compose(['ps']);
        expect(ps.code, ps.stderr).toBe(0);
        for (const n of ['hullc_data_1', 'hullc_web_1', 'hullc_worker_1']) expect(ps.stdout).toMatch(new RegExp(`${n} .* Up`));
        expect(ps.stdout).toMatch(/hullc_data_1 .* Up \(healthy\)/);
        expect(ps.stdout).toMatch(/127\.0\.0\.1:\d+->8080\/tcp/);
        const logs = compose(['logs', '--no-color', 'worker']);
        expect(logs.code, logs.stderr).toBe(0);
        expect(logs.stdout).toMatch(/worker_1 +\| worker-one/);
      });

      it('DNS by service name and alias on the network, the named volume, and the published port', async () => {
        const inWorker = (cmd: string) => api.docker(['exec', 'hullc_worker_1', 'sh', '-c', cmd]);
        expect(inWorker('ping -c 1 -W 2 data').code).toBe(0);
        expect(inWorker('wget -q -O - http://web:8080/').stdout).toBe('hello-compose\n');
        expect(inWorker('wget -q -O - http://frontend:8080/').stdout).toBe('hello-compose\n');
        // The volume holds what data wrote there, served by data's httpd.
        expect(inWorker('wget -q -O - http://data/item').stdout).toMatch(/^stored-[0-9a-f]{12}\n$/);
        const port = compose(['port', 'web', '8080']);
        expect(port.stdout.trim()).toMatch(/^127\.0\.0\.1:\d+$/);
        const res = await fetch(`http://${port.stdout.trim()}/`);
        expect(await res.text()).toBe('hello-compose\n');
      });

      it('exec: output and exit code', () => {
        const cat = compose(['exec', '-T', 'web', 'cat', '/www/index.html']);
        expect(cat.stdout).toBe('hello-compose\n');
        expect(cat.code).toBe(0);
        const env = compose(['exec', '-T', 'worker', 'sh', '-c', 'echo $MODE; exit 4']);
        expect(env.stdout).toBe('one\n');
        expect(env.code).toBe(4);
      });

      it('build: the worker image made through POST /build', (ctx) => {
        if (!buildServed) {
          console.warn('skipped: POST /build is not served by this server (the Engine API build is on the api-images branch); the worker runs busybox');
          ctx.skip();
        }
        expect(compose(['exec', '-T', 'worker', 'cat', '/built']).stdout).toBe('built-by-hull\n');
        expect(api.docker(['image', 'inspect', '--format', '{{index .Config.Labels "made-by"}}', 'hullc-worker:dev']).stdout.trim()).toBe('compose-build');
      });

      it('up -d again recreates nothing; a changed environment recreates only that service', () => {
        const before = ids();
        const again = compose(['up', '-d']);
        expect(again.code, again.stderr).toBe(0);
        expect(again.stderr).not.toMatch(/Recreating/);
        expect(ids()).toEqual(before);

        writeFileSync(path.join(project, 'docker-compose.yml'), file('two'));
        const changed = compose(['up', '-d']);
        expect(changed.code, changed.stderr).toBe(0);
        expect(changed.stderr).toMatch(/Recreating hullc_worker_1/);
        const after = ids();
        expect(after.data).toBe(before.data);
        expect(after.web).toBe(before.web);
        expect(after.worker).not.toBe(before.worker);
        expect(compose(['exec', '-T', 'worker', 'sh', '-c', 'echo $MODE']).stdout).toBe('two\n');
        // The new worker is on the network under its service name too.
        expect(api.docker(['exec', 'hullc_web_1', 'ping', '-c', '1', '-W', '2', 'worker']).code).toBe(0);
      });

      it('down -v: nothing left (containers, network, volume, and nothing of them on the host)', () => {
        const down = compose(['down', '-v', '-t', '1']);
        expect(down.code, down.stderr).toBe(0);
        expect(ids()).toEqual({});
        expect(api.docker(['network', 'ls', '--format', '{{.Name}}']).stdout.split('\n')).not.toContain('hullc_app');
        expect(api.docker(['volume', 'ls', '-q']).stdout).toBe('');
        expect(env.leftovers()).toEqual([]);
      });
    });

    describe('networks and volumes through the API', () => {
      afterAll(() => {
        api.docker(['rm', '-f', 'ipc1']);
        for (const n of ['ipnet', 'other', 'lonely', 'kept']) api.docker(['network', 'rm', n]);
        api.docker(['volume', 'prune', '-f']);
      });

      it('network create with IPAM (subnet, gateway, ip-range), labels, internal and options; refusals name what hull cannot do', async () => {
        const subnet = env.privateSubnet(3);
        const base = subnet.slice(0, subnet.lastIndexOf('.'));
        const made = api.docker([
          'network',
          'create',
          '--subnet',
          subnet,
          '--gateway',
          `${base}.254`,
          '--ip-range',
          `${base}.128/26`,
          '--internal',
          '--label',
          'team=api',
          '-o',
          'com.docker.network.driver.mtu=1500',
          'ipnet',
        ]);
        expect(made.stderr).toBe('');
        const [net] = JSON.parse(api.docker(['network', 'inspect', 'ipnet']).stdout) as Record<string, unknown>[];
        expect(net).toMatchObject({
          Name: 'ipnet',
          Driver: 'bridge',
          Scope: 'local',
          Internal: true,
          IPAM: { Driver: 'default', Config: [{ Subnet: subnet, Gateway: `${base}.254`, IPRange: `${base}.128/26` }] },
          Labels: { team: 'api' },
          Options: { 'com.docker.network.driver.mtu': '1500' },
          Containers: {},
        });
        // Internal: hull's nft table drops what is forwarded into or out of the network's bridge.
        const bridge = (JSON.parse(env.cli(['network', 'inspect', 'ipnet']).stdout) as { Options: Record<string, string> }[])[0]!.Options[
          'com.docker.network.bridge.name'
        ]!;
        expect(spawnSync('nft', ['list', 'set', 'ip', env.net.nftTable, 'internal'], { encoding: 'utf8' }).stdout).toContain(`"${bridge}"`);

        const refused = (args: string[], text: RegExp) => {
          const r = api.docker(['network', 'create', ...args, 'nope']);
          expect(r.code).toBe(1);
          expect(r.stderr).toMatch(text);
        };
        refused(['--driver', 'macvlan'], /network driver macvlan is not supported by hull \(bridge only\)/);
        refused(['-o', 'com.docker.network.bridge.enable_icc=false'], /network option com.docker.network.bridge.enable_icc=false is not supported by hull/);
        refused(
          ['-o', 'com.docker.network.bridge.host_binding_ipv4=127.0.0.1'],
          /network option com.docker.network.bridge.host_binding_ipv4 is not supported by hull/,
        );
        refused(['--ipv6'], /EnableIPv6 is not supported by hull/);
        // The CLI checks a range outside the subnet itself: the server's own answer, through the API.
        const outside = await api.request(
          'POST',
          '/networks/create',
          JSON.stringify({ Name: 'nope', IPAM: { Config: [{ Subnet: env.privateSubnet(4), IPRange: '192.168.250.0/24' }] } }),
          { 'Content-Type': 'application/json' },
        );
        expect(outside.status).toBe(400);
        expect(message(outside)).toMatch(/ip-range 192.168.250.0\/24 must be inside the network's subnet/);
        refused(
          ['--subnet', env.privateSubnet(4), '--aux-address', `x=${env.privateSubnet(4).replace(/0\/24$/, '9')}`],
          /AuxiliaryAddresses is not supported by hull/,
        );
        expect(api.docker(['network', 'create', 'ipnet']).stderr).toMatch(/network with name ipnet already exists/);
        expect(api.docker(['network', 'ls', '-q', '--filter', 'name=nope']).stdout).toBe('');
      });

      it('list and inspect with filters; a container on the network gets an address of the range; connect with an address and aliases; disconnect (force); prune', async () => {
        const subnet = env.privateSubnet(3);
        const base = subnet.slice(0, subnet.lastIndexOf('.'));
        expect(api.docker(['network', 'create', '--subnet', env.privateSubnet(5), 'other']).stderr).toBe('');
        expect(api.docker(['network', 'create', '--label', 'team=api', '--label', 'temp=1', 'lonely']).stderr).toBe('');
        const ls = (filter: string) => api.docker(['network', 'ls', '--format', '{{.Name}}', '--filter', filter]).stdout.trim().split('\n').sort();
        expect(ls('label=team=api')).toEqual(['ipnet', 'lonely']);
        expect(ls('label=temp')).toEqual(['lonely']);
        expect(ls('name=ipn')).toEqual(['ipnet']);
        expect(ls('driver=bridge')).toEqual(expect.arrayContaining(['ipnet', 'lonely', 'other']));
        const byFilter = await api.request(
          'GET',
          `/networks?filters=${encodeURIComponent(JSON.stringify({ label: { 'team=api': true }, type: { custom: true } }))}`,
        );
        expect(byFilter.status).toBe(200);
        expect((JSON.parse(byFilter.body) as { Name: string }[]).map((n) => n.Name).sort()).toEqual(['ipnet', 'lonely']);
        const badFilter = await api.request('GET', `/networks?filters=${encodeURIComponent(JSON.stringify({ colour: { red: true } }))}`);
        expect(badFilter.status).toBe(400);

        expect(api.run(['run', '-d', '--name', 'ipc1', '--network', 'ipnet', '--network-alias', 'first', 'busybox', 'sleep', '60']).stderr).toBe('');
        const ipOn = (net: string) => api.docker(['inspect', '--format', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, 'ipc1']).stdout.trim();
        const ip = ipOn('ipnet');
        const last = Number(ip.split('.')[3]);
        expect(ip.startsWith(`${base}.`) && last >= 128 && last <= 191).toBe(true);

        const otherBase = env.privateSubnet(5).replace(/\.0\/24$/, '');
        const connect = api.docker(['network', 'connect', '--ip', `${otherBase}.77`, '--alias', 'second', 'other', 'ipc1']);
        expect(connect.stderr).toBe('');
        expect(ipOn('other')).toBe(`${otherBase}.77`);
        expect(api.docker(['inspect', '--format', '{{json (index .NetworkSettings.Networks "other").IPAMConfig}}', 'ipc1']).stdout.trim()).toBe(
          `{"IPv4Address":"${otherBase}.77"}`,
        );
        expect(api.docker(['exec', 'ipc1', 'ip', '-4', '-o', 'addr']).stdout).toContain(`${otherBase}.77/24`);
        const [other] = JSON.parse(api.docker(['network', 'inspect', 'other']).stdout) as { Containers: Record<string, Record<string, string>> }[];
        const id = api.docker(['inspect', '--format', '{{.Id}}', 'ipc1']).stdout.trim();
        expect(other!.Containers[id]).toMatchObject({ Name: 'ipc1', IPv4Address: `${otherBase}.77/24`, EndpointID: expect.stringMatching(/^[0-9a-f]{64}$/) });
        expect(api.docker(['inspect', '--format', '{{json (index .NetworkSettings.Networks "other").Aliases}}', 'ipc1']).stdout.trim()).toBe('["second"]');
        // An address outside the network, and one already taken.
        expect(api.docker(['network', 'connect', '--ip', '192.168.250.9', 'lonely', 'ipc1']).stderr).toMatch(
          /address 192.168.250.9 is not usable in network lonely/,
        );

        expect(api.docker(['network', 'disconnect', 'other', 'ipc1']).code).toBe(0);
        expect(api.docker(['network', 'disconnect', 'other', 'ipc1']).stderr).toMatch(/is not connected to network other/);
        expect(api.docker(['network', 'disconnect', '--force', 'other', 'ipc1']).code).toBe(0);
        expect(api.docker(['inspect', '--format', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}', 'ipc1']).stdout.trim()).toBe('ipnet');

        // The env's pool has one /24 (lonely has it): kept names its own subnet.
        expect(api.docker(['network', 'create', '--subnet', env.privateSubnet(7), '--label', 'keep=yes', 'kept']).code).toBe(0);
        const pruned = await api.request('POST', `/networks/prune?filters=${encodeURIComponent(JSON.stringify({ label: { 'team=api': true } }))}`);
        expect(pruned.status).toBe(200);
        // ipnet is in use: only lonely goes; other and kept are not labelled so.
        expect(JSON.parse(pruned.body)).toEqual({ NetworksDeleted: ['lonely'] });
        expect(api.docker(['network', 'prune', '-f', '--filter', 'label!=keep']).stdout).toContain('other');
        expect(ls('driver=bridge')).toEqual(expect.arrayContaining(['ipnet', 'kept']));
        expect(api.docker(['rm', '-f', 'ipc1']).code).toBe(0);
        expect(api.docker(['network', 'rm', 'ipnet', 'kept']).code).toBe(0);
      });

      it('an internal network: its containers reach each other, not a host beyond the bridge that a container of another network reaches', async () => {
        // "Beyond the bridge": a network namespace this test makes, on a veth of its own, serving HTTP; the host routes (and hull masquerades) to it.
        const tag = randomBytes(3).toString('hex');
        const ns = `hullint-${tag}`;
        const far = env.privateSubnet(8).replace(/\.0\/24$/, '');
        const sh = (cmd: string) => spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
        expect(sh(`ip netns add ${ns} && ip link add hi${tag} type veth peer name hn${tag} netns ${ns}`).stderr).toBe('');
        let server: ChildProcess | undefined;
        try {
          sh(`ip addr add ${far}.1/24 dev hi${tag} && ip link set hi${tag} up`);
          sh(`ip -n ${ns} addr add ${far}.2/24 dev hn${tag} && ip -n ${ns} link set hn${tag} up && ip -n ${ns} link set lo up`);
          server = spawn('ip', ['netns', 'exec', ns, '/usr/bin/python3', '-m', 'http.server', '8099', '--bind', `${far}.2`], { stdio: 'ignore' });
          for (let i = 0; i < 100 && sh(`ip netns exec ${ns} ss -ltn`).stdout.indexOf(':8099') < 0; i++) await sleep(50);
          expect(api.docker(['network', 'create', '--internal', '--subnet', env.privateSubnet(9), 'walled']).code).toBe(0);
          expect(api.docker(['network', 'create', '--subnet', env.privateSubnet(10), 'open']).code).toBe(0);
          for (const [name, net] of [
            ['in1', 'walled'],
            ['in2', 'walled'],
            ['out1', 'open'],
          ])
            expect(api.run(['run', '-d', '--name', name!, '--network', net!, 'busybox', 'sleep', '60']).code).toBe(0);
          const fetchFrom = (c: string) => api.docker(['exec', c, 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${far}.2 8099 | head -n 1`]);
          // The host routes to the far namespace only with forwarding on (the envs leave the host's ip_forward as it is).
          await withIpForwarding(() => {
            expect(fetchFrom('out1').stdout).toMatch(/^HTTP\/1.0 200 OK/);
            expect(fetchFrom('in1').stdout).toBe('');
          });
          expect(api.docker(['exec', 'in1', 'ping', '-c', '1', '-W', '2', 'in2']).code).toBe(0);
        } finally {
          if (server?.pid !== undefined) process.kill(server.pid, 'SIGTERM');
          api.docker(['rm', '-f', 'in1', 'in2', 'out1']);
          api.docker(['network', 'rm', 'walled', 'open']);
          sh(`ip link del hi${tag}; ip netns del ${ns}`);
        }
      });

      it('volumes: create with labels and the local driver, list with filters, inspect, remove (force), prune with filters', async () => {
        expect(api.docker(['volume', 'create', '--label', 'team=api', '--label', 'temp=1', 'v1']).stdout.trim()).toBe('v1');
        expect(api.docker(['volume', 'create', '--driver', 'local', '--label', 'team=api', 'v2']).stdout.trim()).toBe('v2');
        const anon = await api.request('POST', '/volumes/create', JSON.stringify({ Labels: { anon: 'yes' } }), { 'Content-Type': 'application/json' });
        expect(anon.status).toBe(201);
        const anonName = (JSON.parse(anon.body) as { Name: string }).Name;
        expect(anonName).toMatch(/^[0-9a-f]{64}$/);
        expect(api.docker(['volume', 'create', '--driver', 'nfs', 'v3']).stderr).toMatch(/volume driver nfs is not supported by hull \(local only\)/);
        expect(api.docker(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', 'v3']).stderr).toMatch(
          /volume options type=tmpfs o= are not supported by hull: only a bind volume/,
        );
        expect(api.docker(['volume', 'create', '-o', 'type=none', '-o', 'o=bind', '-o', `device=${env.base}/nowhere`, 'v3']).stderr).toMatch(
          /no such directory/,
        );
        expect(api.docker(['volume', 'ls', '-q', '--filter', 'name=v3']).stdout).toBe('');
        // A bind volume (DriverOpts type=none, o=bind, device=DIR): the container's writes land in DIR, which outlives the volume.
        const device = path.join(env.base, 'bound');
        mkdirSync(device);
        expect(api.docker(['volume', 'create', '-o', 'type=none', '-o', 'o=bind', '-o', `device=${device}`, 'bvol']).stderr).toBe('');
        expect(api.docker(['volume', 'inspect', '--format', '{{.Options.device}} {{.Mountpoint}}', 'bvol']).stdout.trim()).toBe(`${device} ${device}`);
        expect(api.run(['run', '--rm', '--network', 'none', '-v', 'bvol:/data', 'busybox', 'sh', '-c', 'echo kept > /data/f']).code).toBe(0);
        expect(readFileSync(path.join(device, 'f'), 'utf8')).toBe('kept\n');
        expect(api.docker(['volume', 'rm', 'bvol']).stdout.trim()).toBe('bvol');
        expect(readFileSync(path.join(device, 'f'), 'utf8')).toBe('kept\n');

        const [v1] = JSON.parse(api.docker(['volume', 'inspect', 'v1']).stdout) as Record<string, unknown>[];
        expect(v1).toMatchObject({
          Name: 'v1',
          Driver: 'local',
          Scope: 'local',
          Labels: { team: 'api', temp: '1' },
          Mountpoint: expect.stringContaining('/v1/'),
        });
        expect(api.docker(['volume', 'inspect', 'nothing']).stderr).toMatch(/no such volume: nothing/i);

        expect(api.run(['run', '-d', '--name', 'volc', '--network', 'none', '-v', 'v2:/data', 'busybox', 'sleep', '60']).code).toBe(0);
        const ls = (filter: string) => api.docker(['volume', 'ls', '-q', '--filter', filter]).stdout.trim().split('\n').filter(Boolean).sort();
        expect(ls('label=team=api')).toEqual(['v1', 'v2']);
        expect(ls('label=temp')).toEqual(['v1']);
        expect(ls('name=v')).toEqual(['v1', 'v2']);
        expect(ls('dangling=true')).toEqual([anonName, 'v1'].sort());
        expect(ls('dangling=false')).toEqual(['v2']);
        expect(ls('driver=local')).toEqual([anonName, 'v1', 'v2'].sort());

        expect(api.docker(['volume', 'rm', 'v2']).stderr).toMatch(/volume is in use/);
        expect(api.docker(['volume', 'rm', '-f', 'missing']).code).toBe(0);
        expect((await api.request('DELETE', '/volumes/missing')).status).toBe(404);
        const pruned = await api.request('POST', `/volumes/prune?filters=${encodeURIComponent(JSON.stringify({ label: { temp: true } }))}`);
        expect(pruned.status).toBe(200);
        expect(JSON.parse(pruned.body)).toMatchObject({ VolumesDeleted: ['v1'], SpaceReclaimed: expect.any(Number) });
        expect(api.docker(['volume', 'prune', '-f', '--filter', 'label!=anon']).stdout).not.toContain(anonName);
        expect(api.docker(['volume', 'prune', '-f']).stdout).toContain(anonName);
        expect(api.docker(['rm', '-f', 'volc']).code).toBe(0);
        expect(api.docker(['volume', 'rm', 'v2']).stdout.trim()).toBe('v2');
        expect(api.docker(['volume', 'ls', '-q']).stdout).toBe('');
      });
    });

    describe.skipIf(!hasPythonSdk)(`Python Docker SDK${hasPythonSdk ? '' : ' (skipped: needs python3-docker)'}`, () => {
      it('containers.run (detached and with remove), a logs stream, exec_run, networks and volumes', () => {
        const script = `
import docker, json
c = docker.DockerClient(base_url='${api.dockerHost}', version='1.41')
out = {}
out['removed'] = c.containers.run('busybox', ['sh', '-c', 'echo hello-sdk'], remove=True, cgroup_parent='${env.cgroupParent}', network_mode='none').decode()
net = c.networks.create('sdknet', driver='bridge', labels={'made': 'sdk'}, ipam=docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet='${env.privateSubnet(6)}')]))
vol = c.volumes.create('sdkvol', labels={'made': 'sdk'})
d = c.containers.run('busybox', ['sh', '-c', 'for i in 1 2 3; do echo line$i; sleep 0.1; done; cat /data/seed 2>/dev/null; exec sleep 30'], detach=True,
                     cgroup_parent='${env.cgroupParent}', name='sdkbox', volumes={'sdkvol': {'bind': '/data', 'mode': 'rw'}})
got = b''
for chunk in d.logs(stream=True, follow=True):
    got += chunk
    if b'line3' in got:
        break
out['stream'] = got.decode()
r = d.exec_run(['sh', '-c', 'echo in-exec > /data/seed; cat /data/seed; exit 5'])
out['exec'] = [r.exit_code, r.output.decode()]
out['networks'] = sorted(n.name for n in c.networks.list(filters={'label': 'made=sdk'}))
peer = c.containers.run('busybox', ['sleep', '30'], detach=True, cgroup_parent='${env.cgroupParent}', network='sdknet', name='sdkpeer')
net.connect(d, aliases=['boxalias'])
net.reload()
out['net_containers'] = sorted(v['Name'] for v in net.attrs['Containers'].values())
out['alias'] = peer.exec_run(['ping', '-c', '1', '-W', '2', 'boxalias']).exit_code
out['volumes'] = [v.name for v in c.volumes.list(filters={'label': 'made=sdk'})]
out['volume_driver'] = c.volumes.get('sdkvol').attrs['Driver']
d.remove(force=True)
peer.remove(force=True)
net.remove()
vol.remove()
out['left_networks'] = [n.name for n in c.networks.list(names=['sdknet'])]
out['left_volumes'] = [v.name for v in c.volumes.list(filters={'name': 'sdkvol'})]
print(json.dumps(out))
`;
        const r = spawnSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8', timeout: 90_000 });
        expect(r.stderr).toBe('');
        const out = JSON.parse(r.stdout) as Record<string, unknown>;
        expect(out).toEqual({
          removed: 'hello-sdk\n',
          stream: 'line1\nline2\nline3\n',
          exec: [5, 'in-exec\n'],
          networks: ['sdknet'],
          net_containers: ['sdkbox', 'sdkpeer'],
          alias: 0,
          volumes: ['sdkvol'],
          volume_driver: 'local',
          left_networks: [],
          left_volumes: [],
        });
      });
    });
  },
);
