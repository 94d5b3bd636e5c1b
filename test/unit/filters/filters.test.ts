// Docker's --filter for the list verbs (src/filters/): parsing at the edge, each verb's keys and
// their errors, and the matching of every key, against records made here.
import { describe, expect, it } from 'vitest';
import {
  type ContainerWorld,
  type FilterableImage,
  type FilterableNetwork,
  type FilterableVolume,
  type PsSelection,
  filterArgsFromJson,
  matchLabels,
  labelFilters,
  matchesPattern,
  parseContainerFilters,
  parseFilterFlags,
  parseImageFilters,
  parseNetworkFilters,
  parseVolumeFilters,
  pathMatch,
  referenceMatches,
  selectContainers,
  selectImages,
  selectNetworks,
  selectVolumes,
} from '../../../src/filters/index.js';
import type { ContainerRecord, ContainerState } from '../../../src/runtime/container-store.js';
import { displayablePorts, psJson, psPorts } from '../../../src/present/containers.js';
import { naturalCompare } from '../../../src/present/human.js';
import type { ContainerNetworkConfig } from '../../../src/network/container-config.js';
import type { MountPoint } from '../../../src/volume/resolve.js';

const args = (...flags: string[]) => parseFilterFlags(flags);

describe('filter arguments', () => {
  it("splits at the first '=', trims, lower-cases the key, keeps each value once; no '=' is Docker's CLI error", () => {
    const a = args(' Label = a=b ', 'label=a=b', 'name=x', '');
    expect([...a]).toEqual([
      ['label', ['a=b']],
      ['name', ['x']],
    ]);
    expect(() => args('dangling')).toThrow('bad format of filter (expected name=value)');
  });

  it("reads the Engine API's JSON: sets and the older lists", () => {
    expect([...filterArgsFromJson('{"label":{"a":true,"b":false},"name":["x","y"]}')]).toEqual([
      ['label', ['a']],
      ['name', ['x', 'y']],
    ]);
    expect(filterArgsFromJson('').size).toBe(0);
    expect(() => filterArgsFromJson('[1]')).toThrow('invalid filters');
  });

  it('matches as Docker: equal or a regular expression found anywhere (a broken one skipped); labels all of them', () => {
    expect(matchesPattern(['web'], 'my-web-1')).toBe(true);
    expect(matchesPattern(['^web$'], 'my-web')).toBe(false);
    expect(matchesPattern(['(', 'db'], 'db1')).toBe(true);
    expect(matchesPattern(['('], '(')).toBe(true);
    const f = labelFilters(['a', 'b=2']);
    expect(matchLabels(f, { a: '', b: '2' })).toBe(true);
    expect(matchLabels(f, { a: '', b: '3' })).toBe(false);
    expect(matchLabels(f, {})).toBe(false);
    expect(matchLabels([], {})).toBe(true);
  });

  it("globs as Go's path.Match", () => {
    expect(pathMatch('busy*', 'busybox')).toBe(true);
    expect(pathMatch('*', 'me/box')).toBe(false);
    expect(pathMatch('*/*', 'me/box')).toBe(true);
    expect(pathMatch('b?x', 'box')).toBe(true);
    expect(pathMatch('[a-c]ox', 'box')).toBe(true);
    expect(pathMatch('[^a-c]ox', 'box')).toBe(false);
    expect(pathMatch('a\\*', 'a*')).toBe(true);
    expect(pathMatch('a.c', 'abc')).toBe(false);
    expect(() => pathMatch('[a', 'a')).toThrow('syntax error in pattern');
  });
});

// ---- ps ----------------------------------------------------------------------------------

interface Made {
  id: string;
  name: string;
  state?: Partial<ContainerState>;
  labels?: Record<string, string>;
  imageId?: string;
  mounts?: Partial<MountPoint>[];
  network?: Partial<ContainerNetworkConfig>;
  created?: string;
}

const container = (m: Made): ContainerRecord =>
  ({
    id: m.id.padEnd(64, '0'),
    name: m.name,
    image: 'busybox',
    imageId: m.imageId ?? `sha256:${'1'.repeat(64)}`,
    created: m.created ?? '2024-01-01T00:00:00Z',
    command: ['true'],
    rootfs: { lower: [], upper: '', work: '' },
    autoRemove: false,
    cgroupParent: 'hull',
    state: { status: 'running', startedAt: '2024-01-01T00:00:01Z', ...m.state },
    ...(m.labels ? { labels: m.labels } : {}),
    ...(m.mounts ? { mounts: m.mounts } : {}),
    ...(m.network
      ? {
          network: {
            mode: 'bridge',
            networks: [],
            aliases: {},
            ports: [],
            publishAll: false,
            exposed: [],
            dns: [],
            dnsSearch: [],
            dnsOptions: [],
            ...m.network,
          },
        }
      : {}),
  }) as ContainerRecord;

// Newest first, as Hull.listContainers gives them.
const records: ContainerRecord[] = [
  container({
    id: 'f1',
    name: 'web-1',
    labels: { tier: 'web', env: 'prod' },
    network: { networks: ['front'], ports: [{ proto: 'tcp', hostIp: '', hostPort: 8080, containerPort: 80 }] },
  }),
  container({
    id: 'e2',
    name: 'web-2',
    labels: { tier: 'web' },
    state: { status: 'exited', exitCode: 3 },
    mounts: [{ Type: 'volume', Name: 'data', Source: '/v/data', Destination: '/data' }],
  }),
  container({
    id: 'd3',
    name: 'db',
    labels: { tier: 'db' },
    imageId: `sha256:${'2'.repeat(64)}`,
    network: { mode: 'host', networks: [], exposed: ['5432/tcp'] },
  }),
  container({ id: 'c4', name: 'made', state: { status: 'created', startedAt: undefined } }),
  container({ id: 'b5', name: 'paused', state: { status: 'running', paused: true }, mounts: [{ Type: 'bind', Source: '/srv', Destination: '/mnt' }] }),
  container({ id: 'b6', name: 'zero', state: { status: 'exited', exitCode: 0 } }),
];

const images: FilterableImage[] = [
  { id: `sha256:${'2'.repeat(64)}`, references: ['docker.io/library/postgres:16'], created: '2024-03-01T00:00:00Z', size: 1, repoDigests: [] },
  { id: `sha256:${'1'.repeat(64)}`, references: ['docker.io/library/busybox:latest'], created: '2024-01-01T00:00:00Z', size: 1, repoDigests: [] },
];
const world: ContainerWorld = {
  images: [
    { id: images[0]!.id, names: images[0]!.references, diffIds: ['sha256:l1', 'sha256:l2'] },
    { id: images[1]!.id, names: images[1]!.references, diffIds: ['sha256:l1'] },
  ],
  networks: [{ id: 'abc123'.padEnd(64, '0'), name: 'front' }],
};

const ps = (flags: string[], sel: Omit<PsSelection, 'filters'> = { all: true }, w: ContainerWorld = world) =>
  selectContainers(records, { ...sel, filters: parseContainerFilters(args(...flags)) }, w).map((r) => r.name);

describe('ps --filter', () => {
  it('refuses an unknown key and bad values with Docker words', () => {
    expect(() => parseContainerFilters(args('nope=1'))).toThrow("Invalid filter 'nope'");
    expect(() => parseContainerFilters(args('dangling=true'))).toThrow("Invalid filter 'dangling'");
    expect(() => parseContainerFilters(args('status=sleeping'))).toThrow("Invalid filter 'status=sleeping'");
    expect(() => parseContainerFilters(args('exited=x'))).toThrow('strconv.Atoi: parsing "x": invalid syntax');
    expect(() => parseContainerFilters(args('health=sick'))).toThrow('Unrecognised filter value for health: sick');
    expect(() => parseContainerFilters(args('is-task=maybe'))).toThrow("Invalid filter 'is-task=[maybe]'");
    expect(() => parseContainerFilters(args('publish=1:2'))).toThrow("filter for 'publish' should not contain ':': 1:2");
    expect(() => parseContainerFilters(args('expose=90-80'))).toThrow('error while looking up for expose 90-80: Invalid range specified for the Port: 90-80');
    expect(() => parseContainerFilters(args('publish=http'))).toThrow(
      'error while looking up for publish http: strconv.ParseUint: parsing "http": invalid syntax',
    );
    expect(() => ps(['before=ghost'])).toThrow('no such container ghost');
  });

  it('without -a: the live ones (running, paused); a status filter, -n and -l list every state', () => {
    expect(ps([], {})).toEqual(['web-1', 'db', 'paused']);
    expect(ps(['status=exited'], {})).toEqual(['web-2', 'zero']);
    expect(ps(['status=paused', 'status=created'], {})).toEqual(['made', 'paused']);
    expect(ps([], { last: 2 })).toEqual(['web-1', 'web-2']);
    expect(ps(['label=tier'], { latest: true })).toEqual(['web-1']);
    expect(ps(['label=tier=db'], { last: 2 })).toEqual(['db']);
  });

  it('name: a regular expression on the name, with or without its slash; id: a unique prefix', () => {
    expect(ps(['name=web'])).toEqual(['web-1', 'web-2']);
    expect(ps(['name=^/db$'])).toEqual(['db']);
    expect(ps(['name=^db', 'name=zero'])).toEqual(['db', 'zero']);
    expect(ps(['id=e2'])).toEqual(['web-2']);
    expect(ps(['id=b'])).toEqual([]); // b5 and b6: not unique
    expect(ps(['id=f1', 'name=db'])).toEqual([]); // different keys AND
  });

  it('label: every one given (key, or key=value); same key values AND, as Docker', () => {
    expect(ps(['label=tier=web'])).toEqual(['web-1', 'web-2']);
    expect(ps(['label=tier=web', 'label=env'])).toEqual(['web-1']);
    expect(ps(['label=nope'])).toEqual([]);
  });

  it('before / since: by name or id, in creation order, the anchor left out', () => {
    expect(ps(['before=db'])).toEqual(['made', 'paused', 'zero']);
    expect(ps(['since=db'])).toEqual(['web-1', 'web-2']);
    expect(ps([`since=${records[5]!.id}`, `before=${records[0]!.id.slice(0, 4)}`])).toEqual(['web-2', 'db', 'made', 'paused']);
    expect(ps(['since=db'], {})).toEqual(['web-1']);
  });

  it('exited: the code of containers that ran and ended; status as Docker names states', () => {
    expect(ps(['exited=3'])).toEqual(['web-2']);
    expect(ps(['exited=0'])).toEqual(['zero']); // the created one never ran
    expect(ps(['exited=0', 'exited=3'])).toEqual(['web-2', 'zero']);
    expect(ps(['status=running'])).toEqual(['web-1', 'db']);
  });

  it('health: a container without a health check is `none`; the world says the others', () => {
    expect(ps(['health=none'], {})).toEqual(['web-1', 'db', 'paused']);
    expect(ps(['health=healthy'])).toEqual([]);
    expect(ps(['health=healthy'], { all: true }, { ...world, health: (r) => (r.name === 'db' ? 'healthy' : 'none') })).toEqual(['db']);
  });

  it('ancestor: the image by name, name:tag or id prefix, and the images built on it', () => {
    expect(ps(['ancestor=postgres:16'])).toEqual(['db']);
    expect(ps(['ancestor=2222'])).toEqual(['db']);
    // postgres's layers start with busybox's: built on it.
    expect(ps(['ancestor=busybox'])).toEqual(['web-1', 'web-2', 'db', 'made', 'paused', 'zero']);
    expect(ps(['ancestor=ghost'])).toEqual([]);
  });

  it('network: by name or id prefix (host and none by name); volume: by name, bind source or destination', () => {
    expect(ps(['network=front'])).toEqual(['web-1']);
    expect(ps(['network=abc1'])).toEqual(['web-1']);
    expect(ps(['network=host'])).toEqual(['db']);
    expect(ps(['network=bridge'])).toEqual([]);
    expect(ps(['volume=data'])).toEqual(['web-2']);
    expect(ps(['volume=/mnt'])).toEqual(['paused']);
    expect(ps(['volume=/srv', 'volume=/data'])).toEqual(['web-2', 'paused']);
  });

  it('publish: host ports, expose: container ports (published or exposed); ranges and protocols', () => {
    expect(ps(['publish=8080'])).toEqual(['web-1']);
    expect(ps(['publish=8080/udp'])).toEqual([]);
    expect(ps(['publish=80'])).toEqual([]);
    expect(ps(['expose=80/tcp'])).toEqual(['web-1']);
    expect(ps(['expose=5000-6000'])).toEqual(['db']);
    expect(ps(['publish=8080', 'expose=5432'])).toEqual(['web-1', 'db']);
    // Docker lists ports of running containers only: not of one created or ended.
    const stopped = container({
      id: 'a7',
      name: 'stopped',
      state: { status: 'exited' },
      network: { ports: [{ proto: 'tcp', hostIp: '', hostPort: 9090, containerPort: 90 }], exposed: ['90/tcp'] },
    });
    const sel = { all: true, filters: parseContainerFilters(args('publish=9090', 'expose=90')) };
    expect(selectContainers([stopped], sel)).toEqual([]);
    expect(selectContainers([{ ...stopped, state: { status: 'running' } }], sel)).toHaveLength(1);
    // The live ports when the world knows them (an ephemeral host port).
    const live: ContainerWorld = { ports: (r) => (r.name === 'web-1' ? [{ hostIp: '', proto: 'tcp', hostPort: 40000, containerPort: 80 }] : []) };
    expect(ps(['publish=40000'], { all: true }, live)).toEqual(['web-1']);
  });

  it('is-task: hull runs no swarm task; isolation: no effect on Linux, as Docker', () => {
    expect(ps(['is-task=true'])).toEqual([]);
    expect(ps(['is-task=false'])).toHaveLength(6);
    expect(ps(['isolation=default'])).toHaveLength(6);
  });
});

describe("ps's fields", () => {
  it("PORTS as Docker's DisplayablePorts: by container port, ranges grouped first, then mappings to other host ports", () => {
    const p = (ip: string, privatePort: number, publicPort = 0, type = 'tcp') => ({ ip, privatePort, publicPort, type });
    expect(displayablePorts([])).toBe('');
    expect(displayablePorts([p('0.0.0.0', 80, 8080), p('', 5432)])).toBe('5432/tcp, 0.0.0.0:8080->80/tcp');
    expect(displayablePorts([p('', 7001), p('', 7000), p('', 7002, 0, 'udp'), p('', 7004)])).toBe('7000-7001/tcp, 7004/tcp, 7002/udp');
    expect(displayablePorts([p('0.0.0.0', 90, 90), p('0.0.0.0', 91, 91)])).toBe('0.0.0.0:90-91->90-91/tcp');
    const web = records[0]!;
    expect(psPorts(web, web.network!.ports)).toEqual([p('0.0.0.0', 80, 8080)]);
    expect(psPorts(records[1]!, [])).toEqual([]);
  });

  it('Labels sorted, Networks, Mounts (cut at 15), LocalVolumes, State (paused)', () => {
    const long = container({
      id: 'a8',
      name: 'long',
      labels: { b: '2', a: '1' },
      state: { status: 'running', paused: true },
      mounts: [
        { Type: 'volume', Name: 'a-very-long-volume-name', Source: '/v', Destination: '/d', Driver: 'local' },
        { Type: 'bind', Source: '/srv', Destination: '/s' },
      ],
      network: { networks: ['front', 'back'] },
    });
    expect(psJson(long)).toMatchObject({ Labels: 'a=1,b=2', Networks: 'front,back', Mounts: 'a-very-long-vo…,/srv', LocalVolumes: '1', State: 'paused' });
    expect(psJson(records[2]!).Networks).toBe('host');
  });
});

// ---- images ------------------------------------------------------------------------------

describe('images --filter', () => {
  const list: FilterableImage[] = [
    { id: `sha256:${'c'.repeat(64)}`, references: [], created: '2024-04-01T00:00:00Z', size: 1, repoDigests: [] },
    {
      id: `sha256:${'b'.repeat(64)}`,
      references: ['docker.io/me/app:1', 'docker.io/me/app:2'],
      created: '2024-03-01T00:00:00Z',
      size: 1,
      repoDigests: [],
      labels: { v: '2' },
    },
    {
      id: `sha256:${'a'.repeat(64)}`,
      references: ['docker.io/library/busybox:latest', 'localhost:5000/busybox:1'],
      created: '2024-01-01T00:00:00Z',
      size: 1,
      repoDigests: [],
      labels: {},
    },
  ];
  const select = (...flags: string[]) => selectImages(list, parseImageFilters(args(...flags))).map((i) => [i.id.slice(7, 8), ...i.references]);

  it('refuses unknown keys and dangling values other than true and false', () => {
    expect(() => parseImageFilters(args('name=x'))).toThrow("Invalid filter 'name'");
    expect(() => parseImageFilters(args('dangling=1'))).toThrow("Invalid filter 'dangling=[1]'");
    expect(() => select('before=ghost')).toThrow('No such image: ghost');
    expect(() => select('reference=[')).toThrow('syntax error in pattern');
  });

  it('dangling: true only untagged images, false only named ones', () => {
    expect(select('dangling=true')).toEqual([['c']]);
    expect(select('dangling=false').map((r) => r[0])).toEqual(['b', 'a']);
    expect(select('dangling=false', 'dangling=true')).toEqual([['c']]);
  });

  it('reference: globs on the familiar name with and without its tag; only the names that match are kept', () => {
    expect(select('reference=busybox')).toEqual([['a', 'docker.io/library/busybox:latest']]);
    expect(select('reference=*/busybox:*')).toEqual([['a', 'localhost:5000/busybox:1']]);
    expect(select('reference=me/app:2')).toEqual([['b', 'docker.io/me/app:2']]);
    expect(select('reference=me/*', 'reference=busybox:latest').map((r) => r[0])).toEqual(['b', 'a']);
    expect(select('reference=nothing')).toEqual([]);
    expect(referenceMatches('busy*:lat*', 'docker.io/library/busybox:latest')).toBe(true);
  });

  it('reference: the repo digests are kept by the same patterns as the names (a tag of another repository shows none)', () => {
    const digest = `sha256:${'d'.repeat(64)}`;
    const tagged: FilterableImage = {
      ...list[2]!,
      references: ['docker.io/library/busybox:latest', 'docker.io/mine/box:2'],
      repoDigests: [`docker.io/library/busybox@${digest}`],
    };
    const kept = (pattern: string) => selectImages([tagged], parseImageFilters(args(`reference=${pattern}`))).map((i) => [...i.references, ...i.repoDigests]);
    expect(kept('mine/box')).toEqual([['docker.io/mine/box:2']]);
    expect(kept('busybox')).toEqual([['docker.io/library/busybox:latest', `docker.io/library/busybox@${digest}`]]);
  });

  it('label, before and since (by name or id, on creation times)', () => {
    expect(select('label=v=2').map((r) => r[0])).toEqual(['b']);
    expect(select('label=v=3')).toEqual([]);
    expect(select('before=me/app:1').map((r) => r[0])).toEqual(['a']);
    expect(select('since=busybox').map((r) => r[0])).toEqual(['c', 'b']);
    expect(select(`since=${'a'.repeat(6)}`, 'before=cccc').map((r) => r[0])).toEqual(['b']);
  });
});

// ---- volumes and networks ----------------------------------------------------------------

describe('volume ls --filter', () => {
  const vols: FilterableVolume[] = [
    { Name: 'data', Driver: 'local', Labels: { team: 'core' } },
    { Name: 'cache', Driver: 'local', Labels: {} },
    { Name: '0123abcd', Driver: 'local', Labels: { 'com.docker.volume.anonymous': '' } },
  ];
  const used = new Set(['data']);
  const select = async (...flags: string[]) => (await selectVolumes(vols, parseVolumeFilters(args(...flags)), async (n) => used.has(n))).map((v) => v.Name);

  it("refuses unknown keys and bad dangling values (Docker's words)", () => {
    expect(() => parseVolumeFilters(args('label!=a'))).toThrow("Invalid filter 'label!'");
    expect(() => parseVolumeFilters(args('dangling=yes'))).toThrow("Invalid filter 'dangling=[yes]'");
  });

  it('name (a regular expression), driver, label, dangling (1/0 too)', async () => {
    expect(await select('name=a')).toEqual(['data', 'cache', '0123abcd']);
    expect(await select('name=^c')).toEqual(['cache']);
    expect(await select('driver=local', 'label=team=core')).toEqual(['data']);
    expect(await select('driver=nfs')).toEqual([]);
    expect(await select('dangling=true')).toEqual(['cache', '0123abcd']);
    expect(await select('dangling=0')).toEqual(['data']);
    expect(await select('label=com.docker.volume.anonymous')).toEqual(['0123abcd']);
  });
});

describe('network ls --filter', () => {
  const nets: FilterableNetwork[] = [
    { id: 'aa'.repeat(32), name: 'bridge', driver: 'bridge' },
    { id: 'bb'.repeat(32), name: 'front', driver: 'bridge', labels: { app: 'web' } },
    { id: 'cc'.repeat(32), name: 'back', driver: 'bridge' },
    { id: '', name: 'host', driver: 'host' },
    { id: '', name: 'none', driver: 'null' },
  ];
  const select = (...flags: string[]) => selectNetworks(nets, parseNetworkFilters(args(...flags)), (n) => n.name === 'front').map((n) => n.name);

  it("refuses unknown keys and bad values with Docker's words", () => {
    expect(() => parseNetworkFilters(args('ancestor=x'))).toThrow("Invalid filter 'ancestor'");
    expect(() => parseNetworkFilters(args('type=mine'))).toThrow("invalid filter: 'type'='mine'");
    expect(() => parseNetworkFilters(args('dangling=yes'))).toThrow(`invalid value for filter 'dangling', must be "true" (or "1"), or "false" (or "0")`);
    expect(() => parseNetworkFilters(args('dangling=true', 'dangling=false'))).toThrow('got more than one value for filter key "dangling"');
  });

  it('name and id (regular expressions), driver, label, scope', () => {
    expect(select('name=o')).toEqual(['front', 'host', 'none']);
    expect(select('id=^bb')).toEqual(['front']);
    expect(select('driver=bridge', 'name=^b')).toEqual(['bridge', 'back']);
    expect(select('label=app=web')).toEqual(['front']);
    expect(select('scope=local')).toHaveLength(5);
    expect(select('scope=swarm')).toEqual([]);
  });

  it('type: builtin (bridge, host, none) or custom; dangling: custom networks nothing uses', () => {
    expect(select('type=builtin')).toEqual(['bridge', 'host', 'none']);
    expect(select('type=custom')).toEqual(['front', 'back']);
    expect(select('type=custom', 'type=builtin')).toHaveLength(5);
    expect(select('dangling=true')).toEqual(['back']);
    expect(select('dangling=0')).toEqual(['bridge', 'front', 'host', 'none']);
  });
});

describe('list order', () => {
  it("volume ls and network ls by name as Docker's CLI (sortorder.NaturalLess)", () => {
    expect(['net10', 'net2', 'Net', 'bridge', 'net02', 'host', 'a-b'].sort(naturalCompare)).toEqual(['Net', 'a-b', 'bridge', 'host', 'net2', 'net02', 'net10']);
  });
});
