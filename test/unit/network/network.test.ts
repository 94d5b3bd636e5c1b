// The policy parts of networking, without root: flags, addresses, leases, hosts/resolv.conf, nft scripts.
import { mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadNetworkConfig } from '../../../src/network/config.js';
import { hostsHead, resolvConf, withPeers, PEERS_MARKER } from '../../../src/network/hosts.js';
import { contains, formatIp, hostRange, overlaps, parseCidr, parseIp } from '../../../src/network/ipv4.js';
import { publishScript, tableScript } from '../../../src/network/nft.js';
import { parseExpose, parsePublish, publishAllSpecs } from '../../../src/network/ports.js';
import { NetworkStore, type NetworkRecord } from '../../../src/network/store.js';
import { UsageError } from '../../../src/errors.js';

describe('-p / --expose', () => {
  it('parses Docker\'s publish forms', () => {
    expect(parsePublish('127.0.0.1:8080:80')).toEqual([{ proto: 'tcp', hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80 }]);
    expect(parsePublish('8080:80/udp')).toEqual([{ proto: 'udp', hostIp: '', hostPort: 8080, containerPort: 80 }]);
    expect(parsePublish('80')).toEqual([{ proto: 'tcp', hostIp: '', hostPort: 0, containerPort: 80 }]);
    expect(parsePublish('127.0.0.1::80')).toEqual([{ proto: 'tcp', hostIp: '127.0.0.1', hostPort: 0, containerPort: 80 }]);
    expect(parsePublish('0.0.0.0:9000-9001:5000-5001')).toEqual([
      { proto: 'tcp', hostIp: '', hostPort: 9000, containerPort: 5000 },
      { proto: 'tcp', hostIp: '', hostPort: 9001, containerPort: 5001 },
    ]);
  });
  it('refuses malformed specs', () => {
    for (const bad of ['', '70000:80', '80:0', 'a:80', '1.2.3:80:80', '80/sctp', '9000-9002:80-81', '8080:80/tcp/x']) {
      expect(() => parsePublish(bad), bad).toThrow(UsageError);
    }
  });
  it('expose ranges and -P', () => {
    expect(parseExpose('8000-8002/udp')).toEqual(['8000/udp', '8001/udp', '8002/udp']);
    expect(publishAllSpecs(['80/tcp', '53/udp'])).toEqual([
      { proto: 'tcp', hostIp: '', hostPort: 0, containerPort: 80 },
      { proto: 'udp', hostIp: '', hostPort: 0, containerPort: 53 },
    ]);
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
  });
});

describe('IPAM leases', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const net = (): NetworkRecord => ({ name: 'n', id: 'a'.repeat(64), driver: 'bridge', subnet: '10.9.9.0/29', gateway: '10.9.9.1', bridge: 'b', created: '' });
  const owner = (c: string) => ({ container: c.repeat(64), name: c, aliases: [] });

  it('gives each container its own address, skips the gateway, goes round before reusing, and is full when full', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hull-ipam-'));
    const containers = path.join(dir, 'containers');
    for (const c of 'abcdefg') mkdirSync(path.join(containers, c.repeat(64)), { recursive: true });
    const store = new NetworkStore(dir, containers);
    store.add(net());
    const a = store.allocate(net(), owner('a'));
    const b = store.allocate(net(), owner('b'));
    expect([a, b]).toEqual(['10.9.9.2', '10.9.9.3']);
    store.release('n', a, 'a'.repeat(64));
    // Not reused at once: the next one is after the last given.
    expect(store.allocate(net(), owner('c'))).toBe('10.9.9.4');
    expect(store.allocate(net(), owner('d'))).toBe('10.9.9.5');
    expect(store.allocate(net(), owner('e'))).toBe('10.9.9.6');
    expect(store.allocate(net(), owner('f'))).toBe('10.9.9.2'); // round again
    expect(() => store.allocate(net(), owner('g'))).toThrow(/no free address/);
    // Release by another owner does nothing.
    store.release('n', b, 'c'.repeat(64));
    expect(store.leases('n').map((l) => l.ip).sort()).toEqual(['10.9.9.2', '10.9.9.3', '10.9.9.4', '10.9.9.5', '10.9.9.6']);
    expect(readdirSync(store.leaseDir('n')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('takes over a lease whose container is gone (a crash between lease and record)', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hull-ipam-'));
    const containers = path.join(dir, 'containers');
    mkdirSync(path.join(containers, 'b'.repeat(64)), { recursive: true });
    const store = new NetworkStore(dir, containers);
    const small: NetworkRecord = { ...net(), subnet: '10.9.9.0/30' }; // one usable address besides the gateway
    store.add(small);
    expect(store.allocate(small, owner('a'))).toBe('10.9.9.2'); // 'a' has no container directory
    expect(store.allocate(small, owner('b'))).toBe('10.9.9.2');
    expect(store.leases('n')[0]!.container).toBe('b'.repeat(64));
  });

  it('a wanted address must be free and in the subnet', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hull-ipam-'));
    const containers = path.join(dir, 'containers');
    for (const c of 'ab') mkdirSync(path.join(containers, c.repeat(64)), { recursive: true });
    const store = new NetworkStore(dir, containers);
    store.add(net());
    expect(store.allocate(net(), owner('a'), '10.9.9.5')).toBe('10.9.9.5');
    expect(() => store.allocate(net(), owner('b'), '10.9.9.5')).toThrow(/in use/);
    expect(() => store.allocate(net(), owner('b'), '10.9.8.5')).toThrow(/not usable/);
    expect(() => store.allocate(net(), owner('b'), '10.9.9.1')).toThrow(/not usable/);
  });
});

describe('/etc/hosts and resolv.conf', () => {
  it('writes the own names, extra hosts, and a replaceable peers part', () => {
    const head = hostsHead({ hostname: 'box', ips: ['10.1.0.2'], extra: ['db.local:10.0.0.7'] });
    expect(head).toContain('127.0.0.1\tlocalhost\n');
    expect(head).toContain('10.0.0.7\tdb.local\n');
    expect(head.endsWith('10.1.0.2\tbox\n')).toBe(true);
    const one = withPeers(head, [{ ip: '10.1.0.3', names: ['srv', 'db', 'abc'] }]);
    expect(one).toBe(`${head}${PEERS_MARKER}\n10.1.0.3\tsrv db abc\n`);
    expect(withPeers(one, [])).toBe(head);
    expect(withPeers(one, [{ ip: '10.1.0.4', names: ['x'] }])).toBe(`${head}${PEERS_MARKER}\n10.1.0.4\tx\n`);
  });
  it('drops loopback nameservers; --dns, --dns-search, --dns-option replace the host\'s', () => {
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
    expect(s.indexOf('add rule ip hull_x forward ct status dnat accept')).toBeLessThan(s.indexOf('add rule ip hull_x forward iifname . oifname @isolated drop'));
  });
  it('ports become map elements: by host address or on every address', () => {
    expect(publishScript('t', [
      { proto: 'tcp', hostIp: '127.0.0.1', hostPort: 8080, containerIp: '10.88.0.2', containerPort: 80 },
      { proto: 'udp', hostIp: '', hostPort: 53, containerIp: '10.88.0.2', containerPort: 5353 },
    ])).toBe('add element ip t ports_ip { 127.0.0.1 . tcp . 8080 : 10.88.0.2 . 80 }\nadd element ip t ports_any { udp . 53 : 10.88.0.2 . 5353 }\n');
  });
});

describe('the plan joins a network namespace hull made', () => {
  it('setns is the first step; the clone makes no network namespace of its own; lo is not touched', async () => {
    const { buildPlan, namespacesOf } = await import('../../../src/runtime/plan.js');
    const { buildSpec } = await import('../../../src/runtime/specconv.js');
    const { flattenStep } = await import('../../../src/runtime/plan-codec.js');
    const spec = buildSpec({ image: { config: { Cmd: ['sh'] } }, user: { uid: 0, gid: 0, additionalGids: [], home: '/root' }, hostname: 'box', rootfsPath: '/r' });
    const ns = spec.linux.namespaces.find((n) => n.type === 'network')!;
    ns.path = '/run/hull/netns/abc';
    expect(namespacesOf(spec).net).toBe(false);
    const steps = buildPlan(spec, { lower: ['/l/A'], upper: '/u', work: '/w' }, { createCwd: false, isFile: () => false });
    expect(steps[0]).toEqual({ op: 'setns', path: '/run/hull/netns/abc', nstype: 0x40000000 });
    expect(steps.some((s) => s.op === 'loopbackUp')).toBe(false);
    expect(flattenStep(steps[0]!).s[0]).toBe('/run/hull/netns/abc');
    // Other namespaces by path are still refused.
    spec.linux.namespaces.find((n) => n.type === 'ipc')!.path = '/proc/1/ns/ipc';
    expect(() => namespacesOf(spec)).toThrow(/not supported/);
  });
});
