// The policy parts of networking, without root: flags, addresses, leases, hosts/resolv.conf, nft scripts.
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadNetworkConfig } from '../../../src/network/config.js';
import { hostsHead, resolvConf, withPeers, PEERS_MARKER } from '../../../src/network/hosts.js';
import { contains, formatIp, hostRange, overlaps, parseCidr, parseIp, pickSubnet, rangeIn } from '../../../src/network/ipv4.js';
import { BridgeLeases, type LeaseOwner } from '../../../src/network/leases.js';
import { publishScript, setElements, tableScript } from '../../../src/network/nft.js';
import { publishAllSpecs } from '../../../src/network/ports.js';
import { type NetworkOptions, configuredMode, containerNetworkConfig, recordExtraHosts } from '../../../src/network/container-config.js';
import { hostsBase } from '../../../src/network/container-spec.js';
import { NetworkStore, type NetworkRecord } from '../../../src/network/store.js';
import { UsageError } from '../../../src/errors.js';

describe('-P', () => {
  it('publishes every exposed port (the record\'s "80/tcp" keys) on an ephemeral host port', () => {
    expect(publishAllSpecs(['80/tcp', '53/udp'])).toEqual([
      { proto: 'tcp', hostIp: '', hostPort: 0, containerPort: 80 },
      { proto: 'udp', hostIp: '', hostPort: 0, containerPort: 53 },
    ]);
    expect(() => publishAllSpecs(['80/sctp'])).toThrow(/invalid exposed port: 80\/sctp/);
  });
});

describe('IPv4', () => {
  it('parses, formats and ranges', () => {
    expect(formatIp(parseIp('10.88.1.2'))).toBe('10.88.1.2');
    const c = parseCidr('10.88.7.9/16');
    expect(formatIp(c.network)).toBe('10.88.0.0');
    expect(hostRange(parseCidr('10.1.2.0/24')).map(formatIp)).toEqual(['10.1.2.1', '10.1.2.254']);
    expect(contains(c, parseIp('10.88.255.1'))).toBe(true);
    expect(contains(c, parseIp('10.89.0.1'))).toBe(false);
    expect(overlaps(parseCidr('10.0.0.0/8'), parseCidr('10.5.0.0/24'))).toBe(true);
    expect(overlaps(parseCidr('10.1.0.0/24'), parseCidr('10.1.1.0/24'))).toBe(false);
    expect(() => parseIp('10.1.2.256')).toThrow(UsageError);
    expect(() => parseCidr('10.1.2.0/31')).toThrow(UsageError);
  });
});

describe('configuration', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  it('reads <root>/network.json, the environment wins, bad names are refused', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hull-netcfg-'));
    writeFileSync(path.join(dir, 'network.json'), JSON.stringify({ bridge: 'tb0', nftTable: 'hull_t' }));
    expect(loadNetworkConfig(dir, {})).toMatchObject({ bridge: 'tb0', nftTable: 'hull_t', subnet: '10.88.0.0/16', ipForward: true });
    expect(loadNetworkConfig(dir, { HULL_BRIDGE: 'eb0', HULL_IP_FORWARD: '0' })).toMatchObject({ bridge: 'eb0', ipForward: false });
    expect(() => loadNetworkConfig(dir, { HULL_BRIDGE: 'a-bridge-name-too-long' })).toThrow(UsageError);
    expect(() => loadNetworkConfig(dir, { HULL_NFT_TABLE: 'bad table' })).toThrow(UsageError);
    expect(() => loadNetworkConfig(dir, { HULL_IF_PREFIX: 'toolong' })).toThrow(UsageError);
    // The host-wide state directory of the bridges: not under the root, overridable for private tests.
    expect(loadNetworkConfig(dir, {}).stateDir).toBe('/run/hull-network');
    expect(loadNetworkConfig(dir, { HULL_NET_STATE_DIR: '/tmp/x/../net' }).stateDir).toBe('/tmp/net');
    expect(() => loadNetworkConfig(dir, { HULL_NET_STATE_DIR: 'relative' })).toThrow(UsageError);
  });
});

describe('IPAM leases (host-wide, per bridge)', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const net = (): NetworkRecord => ({ name: 'n', id: 'a'.repeat(64), driver: 'bridge', subnet: '10.9.9.0/29', gateway: '10.9.9.1', bridge: 'b', created: '' });
  /** A store's containers directory with these containers in it. */
  const store = (name: string, ids: string) => {
    const containers = path.join(dir, name, 'containers');
    mkdirSync(containers, { recursive: true });
    for (const c of ids) mkdirSync(path.join(containers, c.repeat(64)));
    return containers;
  };
  const owner = (s: string, c: string): LeaseOwner => ({ store: s, network: 'n', container: c.repeat(64), name: c, aliases: [] });
  const setup = () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hull-ipam-'));
    return new BridgeLeases(path.join(dir, 'state'));
  };

  it('gives each container its own address, skips the gateway, goes round before reusing, and is full when full', () => {
    const leases = setup();
    const s = store('a', 'abcdefg');
    const a = leases.allocate(net(), owner(s, 'a'));
    const b = leases.allocate(net(), owner(s, 'b'));
    expect([a, b]).toEqual(['10.9.9.2', '10.9.9.3']);
    leases.release('b', a, s, 'a'.repeat(64));
    // Not reused at once: the next one is after the last given.
    expect(leases.allocate(net(), owner(s, 'c'))).toBe('10.9.9.4');
    expect(leases.allocate(net(), owner(s, 'd'))).toBe('10.9.9.5');
    expect(leases.allocate(net(), owner(s, 'e'))).toBe('10.9.9.6');
    expect(leases.allocate(net(), owner(s, 'f'))).toBe('10.9.9.2'); // round again
    expect(() => leases.allocate(net(), owner(s, 'g'))).toThrow(/no free address/);
    // Release by another owner does nothing.
    leases.release('b', b, s, 'c'.repeat(64));
    expect(
      leases
        .leases('b')
        .map((l) => l.ip)
        .sort(),
    ).toEqual(['10.9.9.2', '10.9.9.3', '10.9.9.4', '10.9.9.5', '10.9.9.6']);
    expect(readdirSync(path.join(leases.dir, 'tmp'))).toEqual([]);
    expect(leases.orphans(false)).toEqual([]);
  });

  it('--ip-range: addresses come from the range (its first and last included, not the subnet broadcast); one asked for may be outside it', () => {
    const leases = setup();
    const s = store('a', 'abcde');
    const ranged = (): NetworkRecord => ({ ...net(), subnet: '10.9.9.0/24', gateway: '10.9.9.1', ipRange: '10.9.9.252/30' });
    expect(rangeIn(parseCidr('10.9.9.0/24'), parseCidr('10.9.9.252/30')).map(formatIp)).toEqual(['10.9.9.252', '10.9.9.254']);
    expect(rangeIn(parseCidr('10.9.9.0/24'), parseCidr('10.9.9.0/30')).map(formatIp)).toEqual(['10.9.9.1', '10.9.9.3']);
    expect([leases.allocate(ranged(), owner(s, 'a')), leases.allocate(ranged(), owner(s, 'b')), leases.allocate(ranged(), owner(s, 'c'))]).toEqual([
      '10.9.9.252',
      '10.9.9.253',
      '10.9.9.254',
    ]);
    expect(() => leases.allocate(ranged(), owner(s, 'd'))).toThrow(/no free address/);
    expect(leases.allocate(ranged(), owner(s, 'd'), '10.9.9.7')).toBe('10.9.9.7');
    expect(() => leases.allocate(ranged(), owner(s, 'e'), '10.9.9.1')).toThrow(UsageError);
    expect(() => leases.checkWanted(ranged(), '10.9.8.7')).toThrow(/address 10.9.8.7 is not usable in network n/);
  });

  it("two stores on one bridge share its pool: different addresses; one store cannot release the other's", () => {
    const leases = setup();
    // The same container ids in both stores: only (store, container) names an owner.
    const s1 = store('one', 'ab');
    const s2 = store('two', 'ab');
    const got = [
      leases.allocate(net(), owner(s1, 'a')),
      leases.allocate(net(), owner(s2, 'a')),
      leases.allocate(net(), owner(s1, 'b')),
      leases.allocate(net(), owner(s2, 'b')),
    ];
    expect(new Set(got).size).toBe(4);
    expect(got).toEqual(['10.9.9.2', '10.9.9.3', '10.9.9.4', '10.9.9.5']);
    leases.release('b', got[0]!, s2, 'a'.repeat(64)); // s2's 'a' holds got[1], not got[0]
    expect(leases.leases('b')).toHaveLength(4);
    expect(leases.leases('b').find((l) => l.ip === got[1])).toMatchObject({ store: s2, container: 'a'.repeat(64), network: 'n' });
    // A wanted address held by the other store is refused.
    expect(() => leases.allocate(net(), owner(s1, 'a'), got[1])).toThrow(/in use/);
    // Another bridge is another pool.
    expect(leases.allocate({ ...net(), bridge: 'c' }, owner(s1, 'a'))).toBe('10.9.9.2');
    // The bridge is in use while any store's container holds an address; gone from the store, the lease is taken over.
    rmSync(path.join(s1, 'a'.repeat(64)), { recursive: true });
    rmSync(path.join(s1, 'b'.repeat(64)), { recursive: true });
    expect(leases.live('b').map((l) => l.ip)).toEqual([got[1], got[3]]);
    leases.release('b', got[1]!, s2, 'a'.repeat(64));
    leases.release('b', got[3]!, s2, 'b'.repeat(64));
    expect(leases.live('b')).toEqual([]);
  });

  it('takes over a lease whose container is gone from its store (a crash between lease and record, a deleted store)', () => {
    const leases = setup();
    const s1 = store('one', '');
    const s2 = store('two', 'b');
    const small: NetworkRecord = { ...net(), subnet: '10.9.9.0/30' }; // one usable address besides the gateway
    expect(leases.allocate(small, owner(s1, 'a'))).toBe('10.9.9.2'); // 'a' has no container directory in s1
    expect(leases.allocate(small, owner(s2, 'b'))).toBe('10.9.9.2');
    expect(leases.leases('b')[0]!.store).toBe(s2);
    expect(() => leases.allocate(small, owner(s1, 'a'))).toThrow(/no free address/);
    rmSync(path.join(dir, 'two'), { recursive: true }); // the whole store
    expect(leases.allocate(small, owner(s1, 'a'))).toBe('10.9.9.2');
  });

  it('a wanted address must be free and in the subnet', () => {
    const leases = setup();
    const s = store('a', 'ab');
    expect(leases.allocate(net(), owner(s, 'a'), '10.9.9.5')).toBe('10.9.9.5');
    expect(() => leases.allocate(net(), owner(s, 'b'), '10.9.9.5')).toThrow(/in use/);
    expect(() => leases.allocate(net(), owner(s, 'b'), '10.9.8.5')).toThrow(/not usable/);
    expect(() => leases.allocate(net(), owner(s, 'b'), '10.9.9.1')).toThrow(/not usable/);
  });

  it("orphans: leases whose container is gone and a killed writer's temporary file are listed, then removed with repair; live ones stay", () => {
    const leases = setup();
    const s = store('a', 'ab');
    const kept = leases.allocate(net(), owner(s, 'a'));
    const lost = leases.allocate(net(), owner(s, 'b'));
    rmSync(path.join(s, 'b'.repeat(64)), { recursive: true });
    // What `run -d` killed between writing its temporary lease and linking it leaves.
    writeFileSync(path.join(leases.dir, 'tmp', 'lease-4194304-0123456789ab'), JSON.stringify(owner(s, 'c')));
    // An unreadable lease is taken for a set-up in progress until it is old.
    const damaged = path.join(leases.leaseDir('b'), '10.9.9.6');
    writeFileSync(damaged, '{');
    const found = leases.orphans(false);
    expect(found.map((o) => [o.kind, path.basename(o.path), o.removed]).sort()).toEqual([
      ['lease', lost, false],
      ['tmp', 'lease-4194304-0123456789ab', false],
    ]);
    expect(found.find((o) => o.kind === 'lease')!.message).toContain(`container ${'b'.repeat(12)} (b) does not exist in ${s}`);
    expect(readdirSync(path.join(leases.dir, 'tmp'))).toHaveLength(1); // listing removes nothing
    utimesSync(damaged, new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
    const repaired = leases.orphans(true);
    expect(repaired.map((o) => [o.kind, path.basename(o.path), o.removed]).sort()).toEqual([
      ['lease', lost, true],
      ['lease', '10.9.9.6', true],
      ['tmp', 'lease-4194304-0123456789ab', true],
    ]);
    expect(readdirSync(leases.leaseDir('b'))).toEqual([kept]);
    expect(readdirSync(path.join(leases.dir, 'tmp'))).toEqual([]);
    expect(leases.orphans(true)).toEqual([]);
  });

  it("records the address a bridge was made with; forget removes the bridge's state", () => {
    const leases = setup();
    expect(leases.record('b')).toBeUndefined();
    leases.setRecord({ bridge: 'b', subnet: '10.9.9.0/29', gateway: '10.9.9.1' });
    leases.setRecord({ bridge: 'c', subnet: '10.9.10.0/24', gateway: '10.9.10.1' });
    expect(
      leases
        .records()
        .map((r) => r.bridge)
        .sort(),
    ).toEqual(['b', 'c']);
    leases.allocate(net(), owner(store('a', 'a'), 'a'));
    leases.forget('b');
    expect(leases.records().map((r) => r.bridge)).toEqual(['c']);
    expect(leases.leases('b')).toEqual([]);
    expect(() => leases.record('../x')).toThrow(UsageError);
  });

  it("a store's own orphans: stray temporary files and an older hull's per-network leases of removed containers", async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hull-ipam-'));
    const containers = store('a', 'a');
    const ns = new NetworkStore(dir, containers);
    ns.add(net());
    const legacy = path.join(ns.dir, 'n', 'leases');
    mkdirSync(legacy);
    writeFileSync(path.join(legacy, '10.9.9.2'), JSON.stringify({ container: 'a'.repeat(64), name: 'a', aliases: [] }));
    writeFileSync(path.join(legacy, '10.9.9.3'), JSON.stringify({ container: 'b'.repeat(64), name: 'b', aliases: [] }));
    writeFileSync(path.join(legacy, `${'b'.repeat(64)}.0a1b2c3d.tmp`), '{}');
    writeFileSync(path.join(ns.dir, 'n', 'network.json.0a1b2c3d.tmp'), '{');
    const names = (o: { path: string }[]) => o.map((x) => path.relative(ns.dir, x.path)).sort();
    expect(names(ns.orphans(false))).toEqual(['n/leases/10.9.9.3', `n/leases/${'b'.repeat(64)}.0a1b2c3d.tmp`, 'n/network.json.0a1b2c3d.tmp']);
    expect(names(ns.orphans(true))).toHaveLength(3);
    expect(readdirSync(legacy)).toEqual(['10.9.9.2']); // its container exists: left
    expect(ns.orphans(true)).toEqual([]);
    expect(ns.list().map((n) => n.name)).toEqual(['n']);
  });

  it("an older hull's per-network leases of existing containers move to the bridge's, once", () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hull-ipam-'));
    const containers = store('a', 'ab');
    const ns = new NetworkStore(dir, containers);
    ns.add(net());
    const legacy = path.join(ns.dir, 'n', 'leases');
    mkdirSync(legacy);
    writeFileSync(path.join(legacy, '10.9.9.4'), JSON.stringify({ container: 'a'.repeat(64), name: 'a', aliases: ['x'] }));
    writeFileSync(path.join(legacy, '10.9.9.5'), JSON.stringify({ container: 'c'.repeat(64), name: 'c', aliases: [] })); // gone
    writeFileSync(path.join(ns.dir, 'n', 'last'), '10.9.9.5\n');
    expect(ns.takeLegacyLeases('n')).toEqual([{ ip: '10.9.9.4', container: 'a'.repeat(64), name: 'a', aliases: ['x'] }]);
    expect(readdirSync(path.join(ns.dir, 'n'))).toEqual(['network.json']);
    expect(ns.takeLegacyLeases('n')).toEqual([]);
  });
});

describe('subnet selection', () => {
  const c = (t: string) => parseCidr(t);
  it('takes the first /24 of the pool that no network of any store and no host route overlaps', () => {
    expect(pickSubnet('10.89.0.0/16', [])).toBe('10.89.0.0/24');
    expect(pickSubnet('10.89.0.0/16', [c('10.89.0.0/24'), c('10.89.1.0/24')])).toBe('10.89.2.0/24');
    // A wider route (another store's /16 default bridge, a VPN's /20) takes every /24 in it.
    expect(pickSubnet('10.89.0.0/16', [c('10.89.0.0/20')])).toBe('10.89.16.0/24');
    // A smaller one takes its whole /24.
    expect(pickSubnet('10.89.0.0/16', [c('10.89.0.128/25')])).toBe('10.89.1.0/24');
    expect(pickSubnet('10.89.4.0/23', [c('10.89.4.0/24')])).toBe('10.89.5.0/24');
    expect(() => pickSubnet('10.89.4.0/23', [c('10.89.4.0/24'), c('10.89.5.0/24')])).toThrow(/no free \/24/);
    expect(() => pickSubnet('10.89.4.0/25', [])).toThrow(/smaller than a \/24/);
  });
});

describe('/etc/hosts and resolv.conf', () => {
  it('writes the own names, extra hosts, and a replaceable peers part', () => {
    const head = hostsHead({ hostname: 'box', ips: ['10.1.0.2'], extra: [{ host: 'db.local', ip: '10.0.0.7' }] });
    expect(head).toContain('127.0.0.1\tlocalhost\n');
    expect(head).toContain('10.0.0.7\tdb.local\n');
    expect(head.endsWith('10.1.0.2\tbox\n')).toBe(true);
    const one = withPeers(head, [{ ip: '10.1.0.3', names: ['srv', 'db', 'abc'] }]);
    expect(one).toBe(`${head}${PEERS_MARKER}\n10.1.0.3\tsrv db abc\n`);
    expect(withPeers(one, [])).toBe(head);
    expect(withPeers(one, [{ ip: '10.1.0.4', names: ['x'] }])).toBe(`${head}${PEERS_MARKER}\n10.1.0.4\tx\n`);
  });
  it("drops loopback nameservers; --dns, --dns-search, --dns-option replace the host's", () => {
    const host = 'nameserver 127.0.0.53\nnameserver 192.168.1.1\nsearch lan\noptions edns0\n';
    expect(resolvConf(host, { dns: [], search: [], options: [] })).toBe('nameserver 192.168.1.1\nsearch lan\noptions edns0\n');
    expect(resolvConf(host, { dns: ['10.9.9.9'], search: ['ex.com'], options: ['ndots:2'] })).toBe('nameserver 10.9.9.9\nsearch ex.com\noptions ndots:2\n');
    expect(resolvConf('nameserver 127.0.0.1\n', { dns: [], search: [], options: [] })).toBe('nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  });
});

describe('nft scripts', () => {
  it('one table with DNAT maps and masquerade rules, re-made idempotently (flush before the rules)', () => {
    const s = tableScript('hull_x');
    expect(s.indexOf('flush chain ip hull_x postrouting')).toBeLessThan(s.indexOf('add rule ip hull_x postrouting'));
    expect(s).toContain('dnat ip to ip daddr . meta l4proto . th dport map @ports_ip');
    expect(s).toContain('oifname @bridges ip saddr 127.0.0.0/8 masquerade');
    // Isolation between networks: published ports first, then the pairs of bridges.
    expect(s.indexOf('add rule ip hull_x forward ct status dnat accept')).toBeLessThan(
      s.indexOf('add rule ip hull_x forward iifname . oifname @isolated drop'),
    );
    // --internal: nothing forwarded in or out of those bridges, published ports included.
    expect(s).toContain('add set ip hull_x internal { type ifname; }');
    for (const rule of ['iifname @internal oifname != @internal drop', 'oifname @internal iifname != @internal drop'])
      expect(s.indexOf(`add rule ip hull_x forward ${rule}`)).toBeLessThan(s.indexOf('add rule ip hull_x forward ct status dnat accept'));
  });
  it('ports become map elements: by host address or on every address', () => {
    expect(
      publishScript('t', [
        { proto: 'tcp', hostIp: '127.0.0.1', hostPort: 8080, containerIp: '10.88.0.2', containerPort: 80 },
        { proto: 'udp', hostIp: '', hostPort: 53, containerIp: '10.88.0.2', containerPort: 5353 },
      ]),
    ).toBe('add element ip t ports_ip { 127.0.0.1 . tcp . 8080 : 10.88.0.2 . 80 }\nadd element ip t ports_any { udp . 53 : 10.88.0.2 . 5353 }\n');
  });
  it("reads the bridges of every store from the table's set (nft -j output)", () => {
    const meta = { metainfo: { version: '1.0.6', json_schema_version: 1 } };
    const set = (elem?: unknown) =>
      JSON.stringify({
        nftables: [meta, { set: { family: 'ip', name: 'bridges', table: 't', type: 'ifname', handle: 1, ...(elem === undefined ? {} : { elem }) } }],
      });
    expect(setElements(set(['hull0', 'hull-0a1b2c3d']))).toEqual(['hull0', 'hull-0a1b2c3d']);
    expect(setElements(set('hull0'))).toEqual(['hull0']);
    expect(setElements(set())).toEqual([]);
  });
});

describe('the plan joins a network namespace hull made', () => {
  it('setns is the first step; the clone makes no network namespace of its own; lo is not touched', async () => {
    const { buildPlan, namespacesOf } = await import('../../../src/runtime/plan.js');
    const { buildSpec } = await import('../../../src/runtime/specconv.js');
    const { flattenStep } = await import('../../../src/runtime/plan-codec.js');
    const spec = buildSpec({
      image: { config: { Cmd: ['sh'] } },
      user: { uid: 0, gid: 0, additionalGids: [], home: '/root' },
      hostname: 'box',
      rootfsPath: '/r',
    });
    const ns = spec.linux.namespaces.find((n) => n.type === 'network')!;
    ns.path = '/run/hull/netns/abc';
    expect(namespacesOf(spec).net).toBe(false);
    const steps = buildPlan(spec, { lower: ['/l/A'], upper: '/u', work: '/w' }, { createCwd: false, isFile: () => false });
    expect(steps[0]).toEqual({ op: 'setns', path: '/run/hull/netns/abc', nstype: 0x40000000 });
    expect(steps.some((s) => s.op === 'loopbackUp')).toBe(false);
    expect(flattenStep(steps[0]!).s[0]).toBe('/run/hull/netns/abc');
    // Any other namespace by path is joined the same way; a pid namespace before the clone (joinedBeforeClone).
    spec.linux.namespaces.find((n) => n.type === 'ipc')!.path = '/proc/1/ns/ipc';
    expect(namespacesOf(spec).ipc).toBe(false);
    const again = buildPlan(spec, { lower: ['/l/A'], upper: '/u', work: '/w' }, { createCwd: false, isFile: () => false });
    expect(again.filter((s) => s.op === 'setns').map((s) => (s as { nstype: number }).nstype)).toEqual([0x40000000, 0x08000000]);
  });
});

describe("a container's network config from typed options (container-config.ts)", () => {
  const lookup = { defaultMode: { mode: 'bridge' as const }, networkName: (n: string) => (n === 'abc123' ? 'backend' : n) };
  const config = (opts: NetworkOptions, exposed: string[] = []) => containerNetworkConfig(opts, exposed, lookup);

  it("each mode: its record mode and networks; the store's default when none is given", () => {
    expect(config({}).config).toMatchObject({ mode: 'bridge', networks: ['bridge'], aliases: {} });
    expect(config({ network: { mode: 'network', network: 'abc123' }, networkAliases: ['api'] }).config).toMatchObject({
      mode: 'backend',
      networks: ['backend'],
      aliases: { backend: ['api'] },
    });
    expect(config({ network: { mode: 'container', container: 'f00d' } }).config).toMatchObject({ mode: 'container:f00d', networks: [] });
    expect(config({ network: { mode: 'none' } }).config).toMatchObject({ mode: 'none', networks: [] });
    expect(containerNetworkConfig({}, [], { ...lookup, defaultMode: configuredMode('none') }).config.mode).toBe('none');
    expect(configuredMode('default')).toEqual({ mode: 'bridge' });
    expect(configuredMode('backend')).toEqual({ mode: 'network', network: 'backend' });
  });

  it("Docker's conflicts, with its messages", () => {
    const ports = [{ proto: 'tcp' as const, hostIp: '', hostPort: 80, containerPort: 80 }];
    expect(() => config({ network: { mode: 'none' }, ports })).toThrow('conflicting options: port publishing and the container type network mode (none)');
    expect(() => config({ network: { mode: 'container', container: 'x' }, publishAll: true })).toThrow(/container type network mode \(container:x\)/);
    expect(() => config({ networkAliases: ['a'] })).toThrow('network-scoped aliases are only supported for user-defined networks');
    expect(() => config({ network: { mode: 'container', container: 'x' }, dns: ['1.1.1.1'] })).toThrow(
      'conflicting options: dns and the network mode container:',
    );
    expect(() => config({ network: { mode: 'container', container: 'x' }, extraHosts: [{ host: 'a', ip: '1.2.3.4' }] })).toThrow(
      /dns and the network mode container:/,
    );
    expect(() => config({ ip: '10.0.0.2' })).toThrow('user specified IP address is supported on user defined networks only');
    expect(() => config({ network: { mode: 'host' }, ip: '10.0.0.2' })).toThrow(/user defined networks only/);
  });

  it('host mode discards published ports with a warning it returns', () => {
    const d = config({ network: { mode: 'host' }, publishAll: true, ports: [{ proto: 'udp', hostIp: '', hostPort: 53, containerPort: 53 }] });
    expect(d.warnings).toEqual(['Published ports are discarded when using host network mode']);
    expect(d.config).toMatchObject({ mode: 'host', ports: [], publishAll: false, exposed: ['53/udp'] });
  });

  it("exposed ports: the image's, --expose and the published ones, each once", () => {
    const d = config(
      {
        exposed: [
          { port: 80, proto: 'tcp' },
          { port: 53, proto: 'udp' },
        ],
        ports: [{ proto: 'tcp', hostIp: '', hostPort: 0, containerPort: 80 }],
      },
      ['80/tcp', '443/tcp'],
    );
    expect(d.config.exposed).toEqual(['80/tcp', '443/tcp', '53/udp']);
  });

  it("extra hosts: typed in the record; an older hull's NAME:IP texts still read", () => {
    const d = config({
      extraHosts: [
        { host: 'db', ip: '10.0.0.7' },
        { host: 'gw', ip: 'host-gateway' },
      ],
    });
    expect(recordExtraHosts(d.config)).toEqual([
      { host: 'db', ip: '10.0.0.7' },
      { host: 'gw', ip: 'host-gateway' },
    ]);
    const legacy = { ...d.config, extraHosts: undefined, addHosts: ['old:10.1.1.1', 'gw:host-gateway'] };
    expect(recordExtraHosts(legacy)).toEqual([
      { host: 'old', ip: '10.1.1.1' },
      { host: 'gw', ip: 'host-gateway' },
    ]);
    expect(hostsBase(legacy, 'box', () => '10.88.0.1').extra).toEqual([
      { host: 'old', ip: '10.1.1.1' },
      { host: 'gw', ip: '10.88.0.1' },
    ]);
  });
});
