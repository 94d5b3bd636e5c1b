// A pod's options (src/pods/options.ts: Podman's --share), what a container in a pod may set and
// what it gets of the pod (src/pods/members.ts), the pod's state from its containers', and
// `pod create`'s flags (src/cli/commands/pod.ts).
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { DEFAULT_SHARE, parseShare, podShares } from '../../../src/pods/options.js';
import { newPodName, podMemberOptions } from '../../../src/pods/members.js';
import type { PodRecord } from '../../../src/pods/pod-store.js';
import { podStatus } from '../../../src/pods/pods.js';
import { podCreateOptions } from '../../../src/cli/commands/pod.js';
import { matchesEvent, parseEventFilters } from '../../../src/events/filter.js';

const pod = (over: Partial<PodRecord> = {}): PodRecord => ({
  id: 'a'.repeat(64),
  name: 'p',
  created: '2026-01-01T00:00:00.000Z',
  labels: {},
  hostname: 'podhost',
  share: ['ipc', 'net', 'uts'],
  infraId: 'b'.repeat(64),
  cgroupParent: 'hull',
  cgroup: `hull/pod-${'a'.repeat(64)}`,
  network: { ports: [], publishAll: false, dns: [], dnsSearch: [], dnsOptions: [], extraHosts: [] },
  ...over,
});

describe('--share', () => {
  it('is a list, none, or +NS added to the default', () => {
    expect(DEFAULT_SHARE).toEqual(['ipc', 'net', 'uts']);
    expect(parseShare('net')).toEqual(['net']);
    expect(parseShare('uts,net,ipc,pid')).toEqual(['ipc', 'net', 'pid', 'uts']);
    expect(parseShare('+pid')).toEqual(['ipc', 'net', 'pid', 'uts']);
    expect(parseShare('none')).toEqual([]);
  });

  it("refuses what Podman refuses, and the cgroup namespace hull cannot join, in Podman's words", () => {
    expect(() => parseShare('bogus')).toThrow(new UsageError('invalid kernel namespace to share: bogus. Options are: cgroup, ipc, net, pid, uts or none'));
    expect(() => parseShare('none,net')).toThrow(/cannot share namespace none with other namespaces/);
    expect(() => parseShare('cgroup')).toThrow(/cgroup namespace .* not supported/);
  });

  it('shares nothing without an infra container, and refuses a share then', () => {
    expect(podShares({})).toEqual(['ipc', 'net', 'uts']);
    expect(podShares({ infra: false })).toEqual([]);
    expect(() => podShares({ infra: false, share: ['net'] })).toThrow(/without an infra container/);
  });
});

describe('a container in a pod', () => {
  it('joins the shared namespaces of the infra container, its hostname the pod’s, its cgroup under the pod’s', () => {
    const infra = 'b'.repeat(64);
    const opts = podMemberOptions({ image: 'busybox', pod: 'p', ports: [], dns: [], extraHosts: [] }, pod());
    expect(opts).toMatchObject({
      image: 'busybox',
      pod: 'a'.repeat(64),
      cgroupParent: `hull/pod-${'a'.repeat(64)}`,
      network: { mode: 'container', container: infra },
      ipc: { mode: 'container', container: infra },
      uts: { mode: 'container', container: infra },
      hostname: 'podhost',
    });
    expect(opts.pid).toBeUndefined();
    expect(podMemberOptions({ image: 'x', pod: 'p' }, pod({ share: ['ipc', 'net', 'pid', 'uts'] })).pid).toEqual({ mode: 'container', container: infra });
    // Without infra: only the pod and its cgroup.
    const bare = podMemberOptions(
      { image: 'x', pod: 'p', hostname: 'mine', ports: [{ proto: 'tcp', hostIp: '', hostPort: 1, containerPort: 2 }] },
      pod({ share: [], infraId: undefined }),
    );
    expect(bare).toMatchObject({ hostname: 'mine', cgroupParent: `hull/pod-${'a'.repeat(64)}` });
    expect(bare.network).toBeUndefined();
  });

  it("may not set what the pod owns (Podman's messages), but empty lists are no setting", () => {
    const cases: [Parameters<typeof podMemberOptions>[0], RegExp][] = [
      [
        { image: 'x', ports: [{ proto: 'tcp', hostIp: '', hostPort: 80, containerPort: 80 }] },
        /^invalid config provided: published or exposed ports must be defined when the pod is created: network cannot be configured when it is shared with a pod$/,
      ],
      [{ image: 'x', publishAll: true }, /published or exposed ports must be defined when the pod is created/],
      [{ image: 'x', network: { mode: 'none' } }, /^invalid config provided: networks must be defined when the pod is created: network cannot/],
      [{ image: 'x', dns: ['10.0.0.1'] }, /DNS options must be specified on the pod/],
      [{ image: 'x', extraHosts: [{ host: 'a', ip: '10.0.0.1' }] }, /extra host entries must be specified on the pod/],
      [{ image: 'x', ip: '10.0.0.9' }, /static ip addresses must be defined when the pod is created/],
      [{ image: 'x', hostname: 'h' }, /^invalid config provided: cannot set hostname when joining the pod UTS namespace$/],
      [{ image: 'x', cgroupParent: 'elsewhere' }, /cgroup parent of a container in a pod/],
      [{ image: 'x', ipc: { mode: 'host' } }, /IPC namespace/],
    ];
    for (const [opts, message] of cases) expect(() => podMemberOptions(opts, pod()), JSON.stringify(opts)).toThrow(message);
    expect(() => podMemberOptions({ image: 'x', ports: [], dns: [], dnsSearch: [], extraHosts: [], publishAll: false }, pod())).not.toThrow();
    // A pod that does not share the network leaves it to the container.
    expect(podMemberOptions({ image: 'x', network: { mode: 'none' } }, pod({ share: ['ipc'] })).network).toEqual({ mode: 'none' });
  });

  it('--pod new:NAME names a new pod', () => {
    expect(newPodName('new:web')).toBe('web');
    expect(newPodName('web')).toBeUndefined();
    expect(() => newPodName('new:')).toThrow(UsageError);
  });
});

describe("a pod's state", () => {
  it("is Podman's, from its containers' (infra's included)", () => {
    expect(podStatus([])).toBe('Created');
    expect(podStatus(['created', 'created'])).toBe('Created');
    expect(podStatus(['running', 'running'])).toBe('Running');
    expect(podStatus(['paused', 'paused'])).toBe('Paused');
    expect(podStatus(['running', 'exited'])).toBe('Degraded');
    expect(podStatus(['running', 'created'])).toBe('Degraded');
    expect(podStatus(['exited', 'created'])).toBe('Exited');
  });
});

describe('pod create flags', () => {
  const base = { label: [], infra: true, publish: [], dns: [], dnsSearch: [], dnsOption: [], addHost: [], deviceReadBps: [], deviceWriteBps: [] };

  it('become PodCreateOptions', () => {
    expect(podCreateOptions({ ...base })).toEqual({ infra: true });
    expect(
      podCreateOptions({
        ...base,
        name: 'p',
        label: ['a=b'],
        hostname: 'h',
        share: '+pid',
        publish: ['127.0.0.1:8080:80'],
        dns: ['10.0.0.1'],
        addHost: ['db:10.0.0.2'],
        cgroupParent: '/top',
        memory: '64m',
      }),
    ).toEqual({
      name: 'p',
      labels: { a: 'b' },
      hostname: 'h',
      share: ['ipc', 'net', 'pid', 'uts'],
      infra: true,
      ports: [{ proto: 'tcp', hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80 }],
      dns: ['10.0.0.1'],
      extraHosts: [{ host: 'db', ip: '10.0.0.2' }],
      cgroupParent: 'top',
      resources: expect.objectContaining({ memory: expect.objectContaining({ limit: 64 * 1024 * 1024 }) }) as unknown,
    });
  });

  it('--infra takes a boolean', () => {
    expect(podCreateOptions({ ...base, infra: 'false' }).infra).toBe(false);
    expect(() => podCreateOptions({ ...base, infra: 'maybe' })).toThrow(/invalid argument "maybe" for "--infra" flag/);
  });
});

describe('pod events', () => {
  it('are filtered by type=pod and pod=NAME|ID', () => {
    const ev = (type: 'pod' | 'container', name: string) => ({
      Type: type,
      Action: 'create',
      Actor: { ID: `${name}-id`, Attributes: { name } },
      scope: 'local' as const,
      time: 0,
      timeNano: 0n,
    });
    const filters = parseEventFilters(['type=pod', 'pod=p1']);
    expect(matchesEvent(filters, ev('pod', 'p1'))).toBe(true);
    expect(matchesEvent(filters, ev('pod', 'p2'))).toBe(false);
    expect(matchesEvent(filters, ev('container', 'p1'))).toBe(false);
  });
});
