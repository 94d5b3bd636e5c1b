// Two stores on one host (two --root/--run-root pairs) configured with the same networking — the
// same bridge, subnet, nft table and state directory, as two `hull --root` on one host are with the
// defaults — made by this test so that they collide on purpose. A bridge and the nft table are
// host-wide, so the stores must share the bridge's addresses and never take away each other's
// bridge, rules or published ports. Everything is private to the test (its env's bridge, 10.2xx
// subnets, nft table, state directory) and removed after; traffic stays on loopback and the bridge.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hull } from '../../src/hull.js';
import { contains, formatIp, parseCidr, parseIp } from '../../src/network/ipv4.js';
import { networkOrphans } from '../../src/network/manager.js';
import { storePaths } from '../../src/store/paths.js';
import { HullEnv, canRunContainers, skipReason } from '../helpers/hull-env.js';
import { eventually, freePort, hasNetTools, httpGet, NET_TOOLS_SKIP } from '../helpers/net-checks.js';

const why = skipReason || (hasNetTools ? '' : NET_TOOLS_SKIP);

describe.skipIf(!canRunContainers || !hasNetTools)(`two stores on one host share the bridge, its addresses and the nft table (integration${why})`, () => {
  let a: HullEnv;
  let b: HullEnv;

  beforeAll(async () => {
    a = new HullEnv();
    b = new HullEnv({ shareNetworkWith: a });
    await Promise.all([a.loadBusybox(), b.loadBusybox()]);
  });
  afterAll(() => {
    try {
      b?.destroy();
    } finally {
      a?.destroy();
    }
  });

  const ok = (env: HullEnv, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}) => {
    const r = env.cli(args, opts);
    expect(r.stderr, `hull ${args.join(' ')}`).toBe('');
    expect(r.code, `hull ${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r.stdout;
  };
  const ipOf = (env: HullEnv, name: string) =>
    (JSON.parse(ok(env, ['inspect', name])) as { NetworkSettings: { IPAddress: string } }[])[0]!.NetworkSettings.IPAddress;
  const httpd = (page: string) => ['sh', '-c', `mkdir -p /www && echo ${page} > /www/index.html && exec httpd -f -p 80 -h /www`];
  const linkExists = (name: string) => existsSync(`/sys/class/net/${name}`);
  const tableBridges = () => spawnSync('nft', ['list', 'set', 'ip', a.net.nftTable, 'bridges'], { encoding: 'utf8' }).stdout;

  it("detached containers of both stores get different addresses; each store's published port is served; one store ending its containers leaves the other's port and the bridge", async () => {
    expect(a.net).toEqual(b.net); // the collision is on purpose
    expect(a.root).not.toBe(b.root);
    const [portA, portB, portBrief] = [await freePort(), await freePort(), await freePort()];
    // At once: both stores lease on the same bridge under the host-wide lock.
    const [ra, rb] = await Promise.all([
      a.cliAsync(['run', '-d', '--name', 'wa', '-p', `127.0.0.1:${portA}:80`, 'busybox', ...httpd('from-a')]),
      b.cliAsync(['run', '-d', '--name', 'wb', '-p', `127.0.0.1:${portB}:80`, 'busybox', ...httpd('from-b')]),
    ]);
    expect(ra.stderr).toBe('');
    expect(rb.stderr).toBe('');
    const ipA = ipOf(a, 'wa');
    const ipB = ipOf(b, 'wb');
    expect(ipA).not.toBe(ipB);
    const subnet = parseCidr(a.net.subnet);
    expect(contains(subnet, parseIp(ipA)) && contains(subnet, parseIp(ipB))).toBe(true);
    expect(a.leases()).toEqual([`bridge/${ipA}`]);
    expect(b.leases()).toEqual([`bridge/${ipB}`]);
    expect(await eventually(() => httpGet(portA))).toBe('from-a\n');
    expect(await eventually(() => httpGet(portB))).toBe('from-b\n');
    // One bridge: a container of one store reaches the other store's container directly.
    expect(ok(a, ['run', '--rm', 'busybox', 'wget', '-qO-', `http://${ipB}/`])).toBe('from-b\n');

    // A container of A that ends by itself (its monitor releases its address and port) ...
    ok(a, ['run', '-d', '--name', 'brief', '-p', `127.0.0.1:${portBrief}:80`, 'busybox', 'sleep', '1']);
    await eventually(async () => {
      if (a.leases().length !== 1) throw new Error('not released yet');
    });
    // ... and A's last one removed, then A's default network removed (as an operator's clean-up does).
    ok(a, ['rm', '-f', 'wa', 'brief']);
    expect(a.leases()).toEqual([]);
    await expect(httpGet(portA, { timeoutMs: 1000 })).rejects.toThrow();
    await new Hull({ root: a.root, runRoot: a.runRoot }).removeDefaultNetwork();
    // B's container is still on the bridge: the bridge, the table and B's port stay.
    expect(linkExists(a.net.bridge)).toBe(true);
    expect(tableBridges()).toContain(a.net.bridge);
    expect(await httpGet(portB)).toBe('from-b\n');
    expect(b.leases()).toEqual([`bridge/${ipB}`]);
    // A starts again on the bridge B keeps: its default network comes back with the same bridge and pool.
    const again = /inet ([\d.]+)\//.exec(ok(a, ['run', '--rm', 'busybox', 'ip', '-o', '-4', 'addr', 'show', 'eth0']))?.[1];
    expect(again).toBeDefined();
    expect(contains(subnet, parseIp(again!))).toBe(true);
    expect(again).not.toBe(ipB);
    expect(await httpGet(portB)).toBe('from-b\n');

    // No container of any store on it: the bridge and the table go with a default network's removal.
    ok(b, ['rm', '-f', 'wb']);
    await expect(httpGet(portB, { timeoutMs: 1000 })).rejects.toThrow();
    await new Hull({ root: a.root, runRoot: a.runRoot }).removeDefaultNetwork();
    expect(linkExists(a.net.bridge)).toBe(false);
    expect(a.nftTable()).toBe(false);
    await new Hull({ root: b.root, runRoot: b.runRoot }).removeDefaultNetwork(); // its record only
    expect(b.leftovers()).toEqual([]);
    expect(a.leftovers()).toEqual([]);
    expect(readdirSync(path.join(a.net.stateDir, 'bridges'))).toEqual([]);
  });

  it("user networks of two stores made at once get different subnets and bridges; a subnet of another store's network is refused", async () => {
    // One pool of two /24s for both stores: one each.
    const base = parseCidr(a.privateSubnet(9));
    const pool = `${formatIp((base.network & ~0x1ff) >>> 0)}/23`;
    const env = { ...process.env, HULL_SUBNET_POOL: pool };
    const [ra, rb] = await Promise.all([a.cliAsync(['network', 'create', 'na'], { env }), b.cliAsync(['network', 'create', 'nb'], { env })]);
    expect(ra.stderr).toBe('');
    expect(rb.stderr).toBe('');
    type Inspected = { IPAM: { Config: { Subnet: string }[] }; Options: Record<string, string> }[];
    const na = (JSON.parse(ok(a, ['network', 'inspect', 'na'])) as Inspected)[0]!;
    const nb = (JSON.parse(ok(b, ['network', 'inspect', 'nb'])) as Inspected)[0]!;
    const [subA, subB] = [na.IPAM.Config[0]!.Subnet, nb.IPAM.Config[0]!.Subnet];
    expect(subA).not.toBe(subB);
    expect([subA, subB].every((s) => contains(parseCidr(pool), parseCidr(s).network))).toBe(true);
    const [brA, brB] = [na.Options['com.docker.network.bridge.name']!, nb.Options['com.docker.network.bridge.name']!];
    expect(brA).not.toBe(brB);
    expect(linkExists(brA) && linkExists(brB)).toBe(true);
    // The pool is used up by the two stores together.
    const full = a.cli(['network', 'create', 'nc'], { env });
    expect(full.code).not.toBe(0);
    expect(full.stderr).toContain('no free /24');
    // An explicit subnet that another store's network has.
    const clash = b.cli(['network', 'create', '--subnet', subA, 'nd']);
    expect(clash.code).not.toBe(0);
    expect(clash.stderr).toContain(`overlaps ${subA} of bridge ${brA}`);
    // Containers of both stores on their networks at once; removing A's network keeps B's in the table.
    ok(a, ['run', '-d', '--name', 'ca', '--network', 'na', 'busybox', 'sleep', '60']);
    ok(b, ['run', '-d', '--name', 'cb', '--network', 'nb', 'busybox', 'sleep', '60']);
    ok(a, ['rm', '-f', 'ca']);
    ok(a, ['network', 'rm', 'na']);
    expect(linkExists(brA)).toBe(false);
    expect(tableBridges()).toContain(brB);
    expect(tableBridges()).not.toContain(brA);
    ok(b, ['rm', '-f', 'cb']);
    ok(b, ['network', 'rm', 'nb']);
    expect(linkExists(brB)).toBe(false);
    expect(a.nftTable()).toBe(false);
    expect(b.leftovers()).toEqual([]);
    expect(a.leftovers()).toEqual([]);
  });

  it('a store configured with the bridge at another subnet, or another bridge at the same subnet, is refused and leaves nothing', () => {
    ok(a, ['run', '-d', '--name', 'holder', 'busybox', 'sleep', '60']);
    const otherSubnet = b.privateSubnet(10);
    const sameBridgeOtherSubnet = b.cli(['run', '--rm', 'busybox', 'true'], { env: { ...process.env, HULL_SUBNET: otherSubnet } });
    expect(sameBridgeOtherSubnet.code).toBe(125);
    expect(sameBridgeOtherSubnet.stderr).toContain(`bridge ${a.net.bridge} exists with ${a.net.subnet}`);
    const otherBridge = `${a.net.ifPrefix}9`;
    const otherBridgeSameSubnet = b.cli(['run', '--rm', 'busybox', 'true'], { env: { ...process.env, HULL_BRIDGE: otherBridge } });
    expect(otherBridgeSameSubnet.code).toBe(125);
    expect(otherBridgeSameSubnet.stderr).toContain(`overlaps ${a.net.subnet} of bridge ${a.net.bridge}`);
    expect(linkExists(otherBridge)).toBe(false);
    // With the shared configuration it works, beside A's container.
    expect(ok(b, ['run', '--rm', 'busybox', 'echo', 'fine'])).toBe('fine\n');
    ok(a, ['rm', '-f', 'holder']);
    expect(b.leftovers()).toEqual([]);
    expect(a.leftovers()).toEqual([]);
  });

  it('forwarding: a store that turns net.ipv4.ip_forward on turns it off again with its last bridge (and leaves it alone when it was on)', async () => {
    const forwarding = () => readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
    const before = forwarding();
    const c = new HullEnv();
    try {
      await c.loadBusybox();
      const config = path.join(c.root, 'network.json');
      writeFileSync(config, JSON.stringify({ ...JSON.parse(readFileSync(config, 'utf8')), ipForward: true, defaultNetwork: 'bridge' }));
      ok(c, ['run', '--rm', 'busybox', 'true']);
      expect(linkExists(c.net.bridge)).toBe(true);
      expect(forwarding()).toBe('1');
      await new Hull({ root: c.root, runRoot: c.runRoot }).removeDefaultNetwork();
      expect(linkExists(c.net.bridge)).toBe(false);
      expect(c.nftTable()).toBe(false);
      expect(forwarding()).toBe(before);
    } finally {
      c.destroy();
    }
  });

  it('a container started by an older hull (its lease kept in the store) keeps its address: the lease moves host-wide', () => {
    ok(a, ['run', '-d', '--name', 'old', 'busybox', 'sleep', '60']);
    const id = ok(a, ['inspect', '--format', '{{.Id}}', 'old']).trim();
    const ip = ipOf(a, 'old');
    // As the older hull left it: <root>/networks/bridge/leases/<ip>, and no host-wide lease.
    const bridgeState = path.join(a.net.stateDir, 'bridges', a.net.bridge);
    rmSync(bridgeState, { recursive: true });
    mkdirSync(path.join(a.root, 'networks', 'bridge', 'leases'), { recursive: true });
    writeFileSync(path.join(a.root, 'networks', 'bridge', 'leases', ip), JSON.stringify({ container: id, name: 'old', aliases: [] }));
    // The next address given would be its, were its lease not found.
    mkdirSync(bridgeState, { recursive: true });
    writeFileSync(path.join(bridgeState, 'last'), `${formatIp(parseIp(ip) - 1)}\n`);
    // Both stores' next containers get other addresses.
    expect(ipOf(a, 'old')).toBe(ip);
    ok(a, ['run', '-d', '--name', 'new', 'busybox', 'sleep', '60']);
    ok(b, ['run', '-d', '--name', 'other', 'busybox', 'sleep', '60']);
    expect(new Set([ip, ipOf(a, 'new'), ipOf(b, 'other')]).size).toBe(3);
    expect(a.leases().sort()).toEqual([`bridge/${ip}`, `bridge/${ipOf(a, 'new')}`].sort());
    expect(existsSync(path.join(a.root, 'networks', 'bridge', 'leases'))).toBe(false);
    ok(a, ['rm', '-f', 'old', 'new']);
    ok(b, ['rm', '-f', 'other']);
    expect(a.leases()).toEqual([]);
    expect(b.leftovers()).toEqual([]);
    expect(a.leftovers()).toEqual([]);
  });

  it("system check's look at networking: a lease whose container is gone and a killed writer's temporary file are found, then removed", async () => {
    ok(a, ['run', '-d', '--name', 'doomed', 'busybox', 'sleep', '60']);
    const id = ok(a, ['inspect', '--format', '{{.Id}}', 'doomed']).trim();
    const paths = storePaths(a.root, a.runRoot);
    expect(await networkOrphans(paths)).toEqual([]); // a running container's lease is no orphan
    ok(a, ['rm', '-f', 'doomed']);
    // What a crash leaves: a lease for a container that no longer exists, and a killed writer's temporary lease file.
    const leases = path.join(a.net.stateDir, 'bridges', a.net.bridge, 'leases');
    mkdirSync(leases, { recursive: true });
    const ip = formatIp(parseCidr(a.net.subnet).network + 200);
    writeFileSync(path.join(leases, ip), JSON.stringify({ store: paths.containers, network: 'bridge', container: id, name: 'doomed', aliases: [] }));
    mkdirSync(path.join(a.net.stateDir, 'tmp'), { recursive: true });
    writeFileSync(path.join(a.net.stateDir, 'tmp', 'lease-4194304-0123456789ab'), '{}');
    const found = await networkOrphans(paths);
    expect(found.map((o) => [o.kind, path.basename(o.path), o.removed]).sort()).toEqual([
      ['lease', ip, false],
      ['tmp', 'lease-4194304-0123456789ab', false],
    ]);
    expect(a.leases()).toEqual([`bridge/${ip}`]);
    expect((await networkOrphans(paths, { repair: true })).every((o) => o.removed)).toBe(true);
    expect(a.leases()).toEqual([]);
    expect(await networkOrphans(storePaths(b.root, b.runRoot))).toEqual([]);
    expect(a.leftovers()).toEqual([]);
  });
});
