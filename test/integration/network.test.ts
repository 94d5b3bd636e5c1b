// Networking end to end, as root: bridge + veth + IPAM, published ports through nft, user
// networks with names, none/host modes, leak counting over many cycles, and the host left as it
// was. Every test uses its env's private bridge, interface prefix, nft table and 10.2xx.x.0/24
// subnets (test/helpers/hull-env.ts); traffic stays on loopback and on those networks.
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HULL_BIN, HullEnv, canRunContainers, skipReason } from '../helpers/hull-env.js';
import { runAsync } from '../helpers/child-process.js';
import { eventually, freePort, hasNetTools, httpGet, NET_TOOLS_SKIP, withIpForwarding } from '../helpers/net-checks.js';
import { Hull } from '../../src/hull.js';

const why = skipReason || (hasNetTools ? '' : NET_TOOLS_SKIP);

describe.skipIf(!canRunContainers || !hasNetTools)(`networking (integration${why})`, () => {
  let env: HullEnv;

  beforeAll(async () => {
    env = new HullEnv();
    await env.loadBusybox();
  });
  afterAll(() => env?.destroy());

  const ok = (args: string[]) => env.ok(args);
  const gateway = () => env.net.subnet.replace(/0\/24$/, '1');
  const httpd = (page: string) => ['sh', '-c', `mkdir -p /www && echo ${page} > /www/index.html && exec httpd -f -p 80 -h /www`];

  it('a published port on 127.0.0.1 serves busybox httpd to the host; without -p loopback cannot reach it', async () => {
    const port = await freePort();
    ok(['run', '-d', '--name', 'web', '-p', `127.0.0.1:${port}:80`, 'busybox', ...httpd('hello-web')]);
    expect(await eventually(() => httpGet(port))).toBe('hello-web\n');
    expect(ok(['port', 'web']).trim()).toBe(`80/tcp -> 127.0.0.1:${port}`);
    const inspected = JSON.parse(ok(['inspect', 'web'])) as {
      NetworkSettings: { IPAddress: string; Ports: Record<string, unknown> };
      HostConfig: { NetworkMode: string };
    }[];
    expect(inspected[0]!.HostConfig.NetworkMode).toBe('bridge');
    expect(inspected[0]!.NetworkSettings.Ports['80/tcp']).toEqual([{ HostIp: '127.0.0.1', HostPort: String(port) }]);
    const ip = inspected[0]!.NetworkSettings.IPAddress;
    expect(ip.startsWith(env.net.subnet.replace(/0\/24$/, ''))).toBe(true);
    // Published on 127.0.0.1 only: the bridge's own address does not forward it.
    await expect(httpGet(port, { host: gateway(), timeoutMs: 1000 })).rejects.toThrow();
    ok(['rm', '-f', 'web']);
    await expect(httpGet(port, { timeoutMs: 1000 })).rejects.toThrow();

    const port2 = await freePort();
    ok(['run', '-d', '--name', 'web2', 'busybox', ...httpd('unpublished')]);
    const ip2 = (JSON.parse(ok(['inspect', 'web2'])) as { NetworkSettings: { IPAddress: string } }[])[0]!.NetworkSettings.IPAddress;
    expect(await eventually(() => httpGet(80, { host: ip2 }))).toBe('unpublished\n'); // it does serve, on its own address
    await expect(httpGet(port2, { timeoutMs: 1000 })).rejects.toThrow();
    await expect(httpGet(80, { timeoutMs: 1000 })).rejects.toThrow();
    ok(['rm', '-f', 'web2']);
    expect(env.leftovers()).toEqual([]);
  });

  it("a port published on every address is reached on loopback and on another host address (the bridge's); -P publishes EXPOSEd ports", async () => {
    const port = await freePort();
    ok(['run', '-d', '--name', 'any', '-p', `${port}:80`, '--expose', '81', '-P', 'busybox', ...httpd('any-address')]);
    expect(await eventually(() => httpGet(port))).toBe('any-address\n');
    expect(await httpGet(port, { host: gateway() })).toBe('any-address\n');
    const lines = ok(['port', 'any']).trim().split('\n').sort();
    expect(lines).toHaveLength(3); // 80 on the given port and on a random one (-P), 81 on a random one
    expect(lines.some((l) => l === `80/tcp -> 0.0.0.0:${port}`)).toBe(true);
    expect(lines.some((l) => /^81\/tcp -> 0\.0\.0\.0:\d+$/.test(l))).toBe(true);
    ok(['rm', '-f', 'any']);
    expect(env.leftovers()).toEqual([]);
  });

  it('two containers on a user network reach each other by name and alias over TCP; --add-host, --dns, --hostname', () => {
    const subnet = env.privateSubnet(2);
    ok(['network', 'create', '--subnet', subnet, 'appnet']);
    const ls = ok(['network', 'ls']);
    expect(ls).toContain('appnet');
    ok(['run', '-d', '--name', 'srv', '--network', 'appnet', '--network-alias', 'db', 'busybox', 'nc', '-ll', '-p', '5000', '-e', 'echo', 'pong']);
    ok(['run', '-d', '--name', 'www', '--network', 'appnet', 'busybox', ...httpd('by-name')]);
    // srv was running when www came: its bind-mounted /etc/hosts was updated in place (same inode).
    expect(ok(['exec', 'srv', 'cat', '/etc/hosts'])).toMatch(/\twww [0-9a-f]{12}\n/);
    const out = ok([
      'run',
      '--rm',
      '--network',
      'appnet',
      '--add-host',
      'extra.test:10.1.2.3',
      '--dns',
      '10.9.9.9',
      '-h',
      'client',
      'busybox',
      'sh',
      '-c',
      'nc -w 3 srv 5000 </dev/null; nc -w 3 db 5000 </dev/null; wget -qO- http://www/; grep extra.test /etc/hosts; grep nameserver /etc/resolv.conf; hostname',
    ]);
    expect(out.split('\n')).toEqual(['pong', 'pong', 'by-name', '10.1.2.3\textra.test', 'nameserver 10.9.9.9', 'client', '']);
    // The server's hosts file learnt the client while it ran and forgot it after.
    const inspected = JSON.parse(ok(['network', 'inspect', 'appnet'])) as {
      Containers: Record<string, { Name: string }>;
      IPAM: { Config: { Subnet: string }[] };
    }[];
    expect(inspected[0]!.IPAM.Config[0]!.Subnet).toBe(subnet);
    expect(
      Object.values(inspected[0]!.Containers)
        .map((c) => c.Name)
        .sort(),
    ).toEqual(['srv', 'www']);
    // In use: not removable.
    expect(env.cli(['network', 'rm', 'appnet']).code).not.toBe(0);
    ok(['rm', '-f', 'srv', 'www']);
    ok(['network', 'rm', 'appnet']);
    expect(env.leftovers()).toEqual([]);
  });

  it("user networks are isolated from each other (as Docker's); a published port is reached from any of them", async () => {
    const port = await freePort();
    ok(['network', 'create', '--subnet', env.privateSubnet(7), 'neta']);
    ok(['network', 'create', '--subnet', env.privateSubnet(8), 'netb']);
    ok(['run', '-d', '--name', 'srva', '--network', 'neta', '-p', `${port}:80`, 'busybox', ...httpd('on-a')]);
    const ipA = (JSON.parse(ok(['inspect', 'srva'])) as { NetworkSettings: { IPAddress: string } }[])[0]!.NetworkSettings.IPAddress;
    const gatewayB = (JSON.parse(ok(['network', 'inspect', 'netb'])) as { IPAM: { Config: { Gateway: string }[] } }[])[0]!.IPAM.Config[0]!.Gateway;
    // busybox's `wget -T` crashes (SIGSEGV), so `timeout` bounds it; busybox's timeout runs the
    // program in its own process, which would be PID 1 and deaf to SIGTERM without --init.
    const fetch = (net: string, url: string) => env.cli(['run', '--rm', '--init', '--network', net, 'busybox', 'timeout', '3', 'wget', '-qO-', url]);
    // Forwarding on for the test (restored after): without it no packet crosses bridges anyway,
    // and the isolation rule would be untested.
    try {
      await withIpForwarding(async () => {
        // The server is up once a container on its own network gets the page.
        expect(
          await eventually(async () => {
            const r = fetch('neta', `http://${ipA}/`);
            if (r.code !== 0) throw new Error(r.stderr);
            return r.stdout;
          }),
        ).toBe('on-a\n');
        const across = fetch('netb', `http://${ipA}/`);
        expect(across.code).not.toBe(0);
        expect(across.stdout).toBe('');
        // The published port, through the host's address on netb's side: allowed (ct status dnat).
        expect(fetch('netb', `http://${gatewayB}:${port}/`).stdout).toBe('on-a\n');
      });
    } finally {
      env.cli(['rm', '-f', 'srva']);
      env.cli(['network', 'rm', 'neta', 'netb']);
    }
    expect(env.leftovers()).toEqual([]);
  });

  it('network prune (and system prune) removes the networks no container uses (after confirming, or with -f), and their bridges', () => {
    ok(['network', 'create', '--subnet', env.privateSubnet(5), 'kept']);
    ok(['network', 'create', '--subnet', env.privateSubnet(6), 'unused']);
    const bridgeOf = (name: string) =>
      (JSON.parse(ok(['network', 'inspect', name])) as { Options: Record<string, string> }[])[0]!.Options['com.docker.network.bridge.name']!;
    const unusedBridge = bridgeOf('unused');
    expect(spawnSync('ip', ['link', 'show', unusedBridge]).status).toBe(0);
    ok(['run', '-d', '--name', 'user', '--network', 'kept', 'busybox', 'sleep', '60']);
    // No answer to the question (stdin is empty): nothing is removed.
    const declined = env.cli(['network', 'prune'], { input: '' });
    expect(declined.code).toBe(0);
    expect(declined.stdout).toContain('Are you sure you want to continue?');
    expect(ok(['network', 'ls'])).toContain('unused');
    expect(ok(['network', 'prune', '-f'])).toBe('Deleted Networks:\nunused\n');
    expect(spawnSync('ip', ['link', 'show', unusedBridge]).status).not.toBe(0);
    expect(ok(['network', 'ls'])).toContain('kept');
    ok(['rm', '-f', 'user']);
    // system prune takes unused networks too, as Docker's does.
    expect(ok(['system', 'prune', '-f'])).toContain('Deleted Networks:\nkept\n');
    expect(ok(['network', 'prune', '-f'])).toBe('');
    expect(env.leftovers()).toEqual([]);
  });

  it('network connect gives a running container a second interface; disconnect takes it away', () => {
    ok(['network', 'create', '--subnet', env.privateSubnet(3), 'side']);
    ok(['run', '-d', '--name', 'multi', 'busybox', 'sleep', '60']);
    ok(['network', 'connect', 'side', 'multi']);
    expect(ok(['exec', 'multi', 'ip', '-o', '-4', 'addr'])).toContain(env.privateSubnet(3).replace(/0\/24$/, ''));
    ok(['network', 'disconnect', 'side', 'multi']);
    expect(ok(['exec', 'multi', 'ip', '-o', '-4', 'addr'])).not.toContain(env.privateSubnet(3).replace(/0\/24$/, ''));
    ok(['rm', '-f', 'multi']);
    ok(['network', 'rm', 'side']);
    expect(env.leftovers()).toEqual([]);
  });

  it('rm of a container whose hull was killed (-9) releases its address, namespace and published port', async () => {
    const port = await freePort();
    const child = env.spawnCli(['run', '--name', 'crashed', '-p', `127.0.0.1:${port}:80`, 'busybox', ...httpd('soon-gone')]);
    expect(await eventually(() => httpGet(port))).toBe('soon-gone\n');
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('close', resolve));
    expect(env.leases()).toHaveLength(1); // nobody released it: the hull that would have is gone
    ok(['rm', '-f', 'crashed']);
    expect(env.leases()).toEqual([]);
    expect(spawnSync('nft', ['list', 'map', 'ip', env.net.nftTable, 'ports_ip'], { encoding: 'utf8' }).stdout).not.toContain(String(port));
    expect(env.leftovers()).toEqual([]);
  });

  it('a detached container that ends by itself gives back its address and port; start takes them again', async () => {
    const port = await freePort();
    ok(['run', '-d', '--name', 'brief', '-p', `127.0.0.1:${port}:80`, 'busybox', 'sleep', '1']);
    const map = () => spawnSync('nft', ['list', 'map', 'ip', env.net.nftTable, 'ports_ip'], { encoding: 'utf8' }).stdout;
    await eventually(async () => {
      if (env.leases().length > 0 || map().includes(String(port))) throw new Error('not released yet');
    });
    expect(ok(['ps', '-a', '--format', 'json'])).toContain('brief');
    ok(['start', 'brief']);
    expect(env.leases()).toHaveLength(1);
    expect(map()).toContain(String(port));
    ok(['rm', '-f', 'brief']);
    expect(env.leftovers()).toEqual([]);
  });

  it("--network container:NAME shares the other container's namespace; a restart keeps the address", async () => {
    ok(['run', '-d', '--name', 'base', '--restart', 'always', 'busybox', 'sh', '-c', 'sleep 1; exit 3']);
    const inspect = () =>
      (JSON.parse(ok(['inspect', 'base'])) as { RestartCount: number; State: { Running: boolean }; NetworkSettings: { IPAddress: string } }[])[0]!;
    const first = inspect().NetworkSettings.IPAddress;
    expect(first).not.toBe('');
    await eventually(async () => {
      const i = inspect();
      if (i.RestartCount < 1 || !i.State.Running) throw new Error('not restarted yet');
    }, 10_000);
    expect(inspect().NetworkSettings.IPAddress).toBe(first);
    const seen = ok(['run', '--rm', '--network', 'container:base', 'busybox', 'ip', '-o', '-4', 'addr', 'show', 'eth0']);
    expect(seen).toContain(`${first}/24`);
    ok(['rm', '-f', 'base']);
    expect(env.leftovers()).toEqual([]);
  });

  it("a container reaches a server on the host bridge's gateway address", async () => {
    ok(['run', '--rm', 'busybox', 'true']); // the env's bridge exists from the first bridge container on
    const server = net.createServer((s) => s.end('hello-from-host\n'));
    await new Promise<void>((resolve) => server.listen(0, gateway(), resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      // Asynchronously: this process's event loop serves the connection.
      const r = await env.cliAsync(['run', '--rm', 'busybox', 'nc', '-w', '3', gateway(), String(port)]);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('hello-from-host\n');
    } finally {
      server.close();
    }
  });

  it("--network none has only lo; --network host sees the host's links", () => {
    const none = ok(['run', '--rm', '--network', 'none', 'busybox', 'ip', '-o', 'link']).trim().split('\n');
    expect(none.map((l) => l.split(':')[1]!.trim())).toEqual(['lo']);
    const host = ok(['run', '--rm', '--network', 'host', 'busybox', 'ip', '-o', 'link'])
      .trim()
      .split('\n')
      .map((l) => l.split(':')[1]!.trim().replace(/@.*/, ''));
    const ours = readdirSync('/sys/class/net');
    // Links may come and go beside us (other suites); most of the host's are there, and no container-only eth0.
    expect(host.filter((l) => ours.includes(l)).length).toBeGreaterThan(Math.min(ours.length, host.length) / 2);
    expect(host).toContain('lo');
    const bridge = ok(['run', '--rm', 'busybox', 'ip', '-o', 'link'])
      .trim()
      .split('\n')
      .map((l) => l.split(':')[1]!.trim().replace(/@.*/, ''));
    expect(bridge).toEqual(['lo', 'eth0']);
  });

  it("published ports under --network host: discarded with Docker's warning on stderr (run, run -d, create); the library returns it", async () => {
    const warning = 'WARNING: Published ports are discarded when using host network mode\n';
    const fg = env.cli(['run', '--rm', '--network', 'host', '-p', '8080:80', 'busybox', 'echo', 'ran']);
    expect(fg).toMatchObject({ code: 0, stdout: 'ran\n', stderr: warning });
    const created = env.cli(['create', '--network', 'host', '-P', '--expose', '80', 'busybox', 'true']);
    expect(created.code).toBe(0);
    expect(created.stderr).toBe(warning);
    const d = env.cli(['run', '-d', '--network', 'host', '-p', '53:53/udp', 'busybox', 'true']);
    expect(d.code).toBe(0);
    expect(d.stderr).toBe(warning);
    expect(ok(['inspect', '--format', '{{json .HostConfig.PortBindings}} {{.HostConfig.NetworkMode}}', d.stdout.trim()])).toBe('{} host\n');
    // No warning where none is due.
    expect(env.cli(['run', '--rm', '--network', 'host', 'busybox', 'true']).stderr).toBe('');
    const hull = new Hull({ root: env.root, runRoot: env.runRoot });
    const lib = await hull.createContainer({
      image: 'busybox',
      cmd: ['true'],
      network: { mode: 'host' },
      ports: [{ proto: 'tcp', hostIp: '', hostPort: 8081, containerPort: 80 }],
      cgroupParent: env.cgroupParent,
    });
    expect(lib.warnings).toEqual(['Published ports are discarded when using host network mode']);
    const run = await hull.run({ image: 'busybox', cmd: ['true'], remove: true, network: { mode: 'host' }, publishAll: true, cgroupParent: env.cgroupParent });
    expect(run).toMatchObject({ exitCode: 0, warnings: ['Published ports are discarded when using host network mode'] });
    for (const id of [created.stdout.trim(), d.stdout.trim(), lib.record.id]) ok(['rm', '-f', id]);
  });

  it(`${process.env.HULL_NET_CYCLES ?? 200} run/remove cycles with a published port leak no veth, address, nft element or lease`, async () => {
    const cycles = Number(process.env.HULL_NET_CYCLES ?? 200);
    ok(['run', '--rm', 'busybox', 'true']);
    const table = () => spawnSync('nft', ['list', 'table', 'ip', env.net.nftTable], { encoding: 'utf8' }).stdout;
    const addrs = () =>
      spawnSync('ip', ['-o', 'addr'], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter((l) => l.includes(env.net.ifPrefix))
        .map((l) => l.replace(' tentative', ''));
    expect(env.leftovers()).toEqual([]); // also waits for the kernel to delete the last veth pair
    const before = { links: env.links().sort(), addrs: addrs(), table: table(), leases: env.leases() };
    expect(before.leases).toEqual([]);
    // Batches of concurrent runs: the lock and the leases are exercised, and it finishes in time.
    const batch = 4;
    for (let i = 0; i < cycles; i += batch) {
      const runs = [];
      for (let j = 0; j < batch && i + j < cycles; j++)
        runs.push(env.cliAsync(['run', '--rm', '-p', `127.0.0.1:${40000 + ((i + j) % 1000)}:80`, 'busybox', 'true']));
      for (const r of await Promise.all(runs)) expect([r.code, r.stderr]).toEqual([0, '']);
    }
    expect(env.leftovers()).toEqual([]);
    expect({ links: env.links().sort(), addrs: addrs(), table: table(), leases: env.leases() }).toEqual(before);
  }, 600_000);

  it('removing the last container and the network leaves the host exactly as before (ip link, ip addr, nft ruleset)', async () => {
    // In a network namespace of the test's own, so that other suites' links cannot change the picture.
    const hull = `${process.execPath} ${HULL_BIN} ${env.globalArgs().join(' ')}`;
    const script = [
      'set -e',
      'ip link set lo up',
      'snap() { ip -o link | sed "s/ link\\/.*//"; ip -o addr | sed "s/ tentative//"; nft list ruleset; }',
      'snap > $D/before',
      `${hull} network create --subnet ${env.privateSubnet(4)} exact >/dev/null`,
      `${hull} run -d --name e1 --cgroup-parent ${env.cgroupParent} --network exact -p 127.0.0.1:18081:80 busybox sleep 60 >/dev/null`,
      `${hull} run --rm --cgroup-parent ${env.cgroupParent} --network exact busybox ping -c 1 -W 2 e1 >/dev/null`,
      `${hull} rm -f e1 >/dev/null`,
      `${hull} network rm exact >/dev/null`,
      'for i in $(seq 100); do snap > $D/after; cmp -s $D/before $D/after && break; sleep 0.05; done',
      'diff $D/before $D/after',
    ].join('\n');
    const r = await runAsync('unshare', ['--net', 'sh', '-c', script], { env: { ...process.env, D: env.base } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(env.leftovers()).toEqual([]);
  });
});
