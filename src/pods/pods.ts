/**
 * Pods (Podman's): containers that share an infra container's network, IPC and UTS namespaces
 * (PID with `share`), under one cgroup with the pod-level limits. The infra container is a hull
 * container running hull-pause from a local image (pause-image.ts); the others join its
 * namespaces as `container:<infra>` modes (members.ts), so the launch core does all the joining.
 *
 * Order, as Podman's: start = the pod's cgroup, the infra container, then the others; stop and
 * kill = the others, then infra; rm = the others (running ones only with `force`), infra, the
 * cgroup, the record. Each verb appends a pod event.
 */
import { HullError, PodRunningError, RuntimeError, UsageError } from '../errors.js';
import { objectEvent } from '../events/emit.js';
import type { CreateOptions, CreatedContainer } from '../runtime/create-options.js';
import { type ContainerRecord, randomName } from '../runtime/container-store.js';
import { ContainerCgroup, HULL_CGROUP_PARENT, cgroupHost } from '../runtime/cgroups.js';
import { checkControllers, requiredControllers } from '../runtime/cgroups/index.js';
import { completeResources } from '../runtime/cgroups/resources.js';
import type { Runtime } from '../runtime/runtime.js';
import { cgroupPids, cpuPercent, sampleCgroup, type CgroupSample } from '../runtime/stats.js';
import { validateHostname, validatePodName } from '../runtime/validate.js';
import { type ProcessTable, processTable } from '../present/processes.js';
import type { ImageStore } from '../store/image-store.js';
import type { StorePaths } from '../store/paths.js';
import { rmdirSync } from 'node:fs';
import { totalmem } from 'node:os';
import path from 'node:path';
import { type PodCreateOptions, hasNetworkOptions, podShares } from './options.js';
import { podMemberOptions, newPodName } from './members.js';
import { ensurePauseImage } from './pause-image.js';
import { type PodNetwork, type PodRecord, PodStore, newPodId } from './pod-store.js';

/** Podman's pod states. */
export type PodStatus = 'Created' | 'Running' | 'Paused' | 'Degraded' | 'Exited';

export interface PodContainer {
  id: string;
  name: string;
  /** The container's status (created, running, paused, exited, …). */
  status: string;
  infra: boolean;
}

/** A pod as `pod ls` lists it. */
export interface PodSummary {
  id: string;
  name: string;
  status: PodStatus;
  created: string;
  infraId?: string;
  labels: Record<string, string>;
  cgroup: string;
  share: string[];
  containers: PodContainer[];
}

export interface PodContainerStats extends CgroupSample {
  pod: string;
  id: string;
  name: string;
  cpuPercent: number;
}

const SIGKILL = 9;

function containerStatus(c: ContainerRecord): string {
  if (c.state.status === 'running' && c.state.paused) return 'paused';
  return c.state.status;
}

/** Podman's pod state from its containers' (the infra container's included). */
export function podStatus(statuses: readonly string[]): PodStatus {
  if (statuses.length === 0 || statuses.every((s) => s === 'created')) return 'Created';
  if (statuses.every((s) => s === 'paused')) return 'Paused';
  if (statuses.every((s) => s === 'running' || s === 'restarting')) return 'Running';
  if (statuses.some((s) => s === 'running' || s === 'restarting' || s === 'paused')) return 'Degraded';
  return 'Exited';
}

/** Oldest first. ISO 8601 times order as strings: by code unit, not localeCompare, whose first call sets up ICU's collator (~8 ms of a CLI's start). */
const byCreated = (a: ContainerRecord, b: ContainerRecord): number => (a.created < b.created ? -1 : a.created > b.created ? 1 : 0);

const live = (c: ContainerRecord) => c.state.status === 'running' || c.state.status === 'restarting';

export class Pods {
  readonly store: PodStore;

  constructor(
    private readonly paths: StorePaths,
    private readonly runtime: Runtime,
    private readonly images: ImageStore,
  ) {
    this.store = new PodStore(paths);
  }

  private event(pod: PodRecord, action: string): void {
    objectEvent(this.paths.runRoot, 'pod', action, pod.id, { name: pod.name });
  }

  /** The pod's containers, infra first, then by creation. */
  private async members(pod: PodRecord): Promise<ContainerRecord[]> {
    const all = (await this.runtime.list()).filter((c) => c.pod === pod.id);
    return all.sort((a, b) => (a.id === pod.infraId ? -1 : b.id === pod.infraId ? 1 : byCreated(a, b)));
  }

  private summary(pod: PodRecord, members: readonly ContainerRecord[]): PodSummary {
    const containers = members.map((c) => ({ id: c.id, name: c.name, status: containerStatus(c), infra: c.id === pod.infraId }));
    return {
      id: pod.id,
      name: pod.name,
      status: podStatus(containers.map((c) => c.status)),
      created: pod.created,
      ...(pod.infraId !== undefined ? { infraId: pod.infraId } : {}),
      labels: pod.labels,
      cgroup: pod.cgroup,
      share: pod.share,
      containers,
    };
  }

  /** `pod create`: the record, and the infra container (created, not started: Podman's). */
  async create(opts: PodCreateOptions): Promise<PodRecord> {
    const share = podShares(opts);
    if (opts.name !== undefined) validatePodName(opts.name);
    if (opts.hostname !== undefined) validateHostname(opts.hostname);
    if (hasNetworkOptions(opts) && !share.includes('net')) throw new UsageError('you must share the network namespace to set network options on a pod');
    if (opts.hostname !== undefined && !share.includes('uts')) throw new UsageError('you must share the UTS namespace to set a hostname on a pod');
    const resources = completeResources(opts.resources && structuredClone(opts.resources));
    if (requiredControllers(resources).size > 0) {
      const host = cgroupHost();
      checkControllers(resources, host.root, host.mode);
    }
    const pause = opts.infra === false ? undefined : await ensurePauseImage(this.paths, this.images);
    return this.store.locked('exclusive', async () => {
      const taken = new Set(this.store.list().map((p) => p.name));
      if (opts.name !== undefined && taken.has(opts.name)) throw new UsageError(`adding pod to state: name "${opts.name}" is in use: pod already exists`);
      let name = opts.name;
      for (let attempt = 0; name === undefined || taken.has(name); attempt++) name = attempt < 8 ? randomName() : `${randomName()}${attempt}`;
      const id = newPodId();
      const cgroupParent = opts.cgroupParent ?? HULL_CGROUP_PARENT;
      const network: PodNetwork = {
        ...(opts.network !== undefined ? { mode: opts.network } : {}),
        ports: opts.ports ?? [],
        publishAll: opts.publishAll ?? false,
        dns: opts.dns ?? [],
        dnsSearch: opts.dnsSearch ?? [],
        dnsOptions: opts.dnsOptions ?? [],
        extraHosts: opts.extraHosts ?? [],
        ...(opts.ip !== undefined ? { ip: opts.ip } : {}),
        ...(opts.macAddress !== undefined ? { macAddress: opts.macAddress } : {}),
      };
      const pod: PodRecord = {
        id,
        name,
        created: new Date().toISOString(),
        labels: { ...opts.labels },
        hostname: opts.hostname ?? name,
        share,
        cgroupParent,
        cgroup: `${cgroupParent}/pod-${id}`,
        ...(resources ? { resources } : {}),
        network,
      };
      if (pause !== undefined) {
        const { record } = await this.runtime.create(this.infraOptions(pod, pause));
        pod.infraId = record.id;
      }
      try {
        await this.store.save(pod);
      } catch (err) {
        if (pod.infraId !== undefined) await this.runtime.remove(pod.infraId, { force: true }).catch(() => undefined);
        throw err;
      }
      this.event(pod, 'create');
      return pod;
    });
  }

  /** The infra container: hull-pause holding the namespaces the pod shares, with the pod's network. */
  private infraOptions(pod: PodRecord, image: string): CreateOptions {
    const shares = new Set(pod.share);
    const n = pod.network;
    return {
      image,
      name: `${pod.id.slice(0, 12)}-infra`,
      pod: pod.id,
      cgroupParent: pod.cgroup,
      ...(shares.has('uts') ? { hostname: pod.hostname } : {}),
      ...(shares.has('ipc') ? { ipc: { mode: 'shareable' as const } } : {}),
      ...(shares.has('net')
        ? {
            ...(n.mode !== undefined ? { network: n.mode } : {}),
            ports: n.ports,
            publishAll: n.publishAll,
            dns: n.dns,
            dnsSearch: n.dnsSearch,
            dnsOptions: n.dnsOptions,
            extraHosts: n.extraHosts,
            ...(n.ip !== undefined ? { ip: n.ip } : {}),
            ...(n.macAddress !== undefined ? { macAddress: n.macAddress } : {}),
          }
        : { network: { mode: 'none' as const } }),
      labels: { 'io.hull.pod.infra': 'true' },
    };
  }

  /**
   * A container made in a pod (`--pod NAME|ID`, or `new:NAME` which makes the pod first, with the
   * container's network options moved to it as Podman's does): `make` creates it from the options
   * the pod gives it, holding the pods' lock shared so the pod cannot go meanwhile.
   */
  async createMember(opts: CreateOptions, make: (opts: CreateOptions) => Promise<CreatedContainer>): Promise<CreatedContainer> {
    const fresh = newPodName(opts.pod ?? '');
    let memberOpts = opts;
    if (fresh !== undefined) {
      const pod = await this.create({
        name: fresh,
        ...(opts.network !== undefined ? { network: opts.network } : {}),
        ...(opts.ports !== undefined ? { ports: opts.ports } : {}),
        ...(opts.publishAll !== undefined ? { publishAll: opts.publishAll } : {}),
        ...(opts.dns !== undefined ? { dns: opts.dns } : {}),
        ...(opts.dnsSearch !== undefined ? { dnsSearch: opts.dnsSearch } : {}),
        ...(opts.dnsOptions !== undefined ? { dnsOptions: opts.dnsOptions } : {}),
        ...(opts.extraHosts !== undefined ? { extraHosts: opts.extraHosts } : {}),
        ...(opts.hostname !== undefined ? { hostname: opts.hostname } : {}),
      });
      const { network: _n, ports: _p, publishAll: _a, dns: _d, dnsSearch: _s, dnsOptions: _o, extraHosts: _e, hostname: _h, ...rest } = opts;
      memberOpts = { ...rest, pod: pod.id };
      try {
        return await this.createMemberLocked(memberOpts, make);
      } catch (err) {
        await this.remove(pod.id, { force: true }).catch(() => undefined);
        throw err;
      }
    }
    return this.createMemberLocked(memberOpts, make);
  }

  private createMemberLocked(opts: CreateOptions, make: (opts: CreateOptions) => Promise<CreatedContainer>): Promise<CreatedContainer> {
    return this.store.locked('shared', async () => {
      const pod = this.store.get(opts.pod ?? '');
      return make(podMemberOptions(opts, pod));
    });
  }

  /** Before a container of a pod starts: the pod's cgroup and its infra container, as `pod start` makes them. */
  async prepareMember(record: ContainerRecord): Promise<void> {
    if (record.pod === undefined) return;
    const pod = this.store.read(record.pod);
    if (pod === undefined || pod.infraId === undefined || pod.infraId === record.id) return;
    const infra = await this.runtime.get(pod.infraId);
    if (live(infra)) return;
    await this.startInfra(pod);
  }

  private async startInfra(pod: PodRecord): Promise<void> {
    await this.ensureCgroup(pod);
    if (pod.infraId !== undefined) {
      const infra = await this.runtime.get(pod.infraId);
      if (!live(infra)) await this.runtime.startDetached(pod.infraId);
    }
  }

  /** The pod by name or id. */
  get(nameOrId: string): PodRecord {
    return this.store.get(nameOrId);
  }

  /** `pod start`: the cgroup, infra, then each container not running. Returns the pod. */
  async start(nameOrId: string): Promise<PodRecord> {
    return this.store.locked('shared', async () => {
      const pod = this.store.get(nameOrId);
      await this.startInfra(pod);
      const failures: string[] = [];
      for (const c of await this.members(pod)) {
        if (c.id === pod.infraId || live(c)) continue;
        try {
          await this.runtime.startDetached(c.id);
        } catch (err) {
          if (!(err instanceof HullError)) throw err;
          failures.push(`starting container ${c.id}: ${err.message}`);
        }
      }
      this.event(pod, 'start');
      if (failures.length > 0) throw new RuntimeError(`starting some containers of pod ${pod.id}:\n${failures.join('\n')}`);
      return pod;
    });
  }

  /** The pod's cgroup with its limits, before any of its containers starts (a container's start only makes its parent directory). */
  private async ensureCgroup(pod: PodRecord): Promise<void> {
    if (requiredControllers(pod.resources).size === 0) return;
    const root = cgroupHost().root;
    if (root === undefined) return;
    const name = pod.cgroup.slice(pod.cgroupParent.length + 1);
    const cgroup = ContainerCgroup.existing(root, name, pod.cgroupParent) ?? (await ContainerCgroup.create(root, name, pod.cgroupParent));
    cgroup.applyResources(root, pod.cgroupParent, pod.resources);
  }

  /** `pod stop`: the containers (at once, each with its stop signal and `timeoutSeconds`), then infra. */
  async stop(nameOrId: string, timeoutSeconds?: number): Promise<PodRecord> {
    return this.store.locked('shared', async () => {
      const pod = this.store.get(nameOrId);
      const members = await this.members(pod);
      await this.each(
        members.filter((c) => c.id !== pod.infraId && live(c)),
        (c) => this.runtime.stop(c.id, timeoutSeconds),
      );
      const infra = members.find((c) => c.id === pod.infraId);
      if (infra && live(infra)) await this.runtime.stop(infra.id, timeoutSeconds);
      this.event(pod, 'stop');
      return pod;
    });
  }

  /** `pod restart`: stop, then start. */
  async restart(nameOrId: string, timeoutSeconds?: number): Promise<PodRecord> {
    await this.stop(nameOrId, timeoutSeconds);
    const pod = await this.start(nameOrId);
    this.event(pod, 'restart');
    return pod;
  }

  /** `pod kill`: the signal to each running container, the others first. */
  async kill(nameOrId: string, signal = SIGKILL): Promise<PodRecord> {
    return this.store.locked('shared', async () => {
      const pod = this.store.get(nameOrId);
      const running = (await this.members(pod)).filter(live).reverse();
      if (running.length === 0) throw new UsageError(`no containers in pod ${pod.id} are running`);
      await this.each(running, (c) => this.runtime.kill(c.id, signal));
      this.event(pod, 'kill');
      return pod;
    });
  }

  /** `pod pause` / `pod unpause`: freeze or thaw every running container of the pod. */
  async pause(nameOrId: string, frozen: boolean): Promise<PodRecord> {
    return this.store.locked('shared', async () => {
      const pod = this.store.get(nameOrId);
      const running = (await this.members(pod)).filter((c) => live(c) && (c.state.paused ?? false) !== frozen);
      await this.each(running, (c) => (frozen ? this.runtime.pause(c.id) : this.runtime.unpause(c.id)));
      this.event(pod, frozen ? 'pause' : 'unpause');
      return pod;
    });
  }

  /** Run `fn` on each container at once; the first failure is thrown once all have ended. */
  private async each(list: readonly ContainerRecord[], fn: (c: ContainerRecord) => Promise<void>): Promise<void> {
    const results = await Promise.allSettled(list.map(fn));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /**
   * `pod rm`: its containers, infra, its cgroup and its record. A running (or paused) container is
   * removed only with `force` (killed first); without, nothing is removed. Returns the pod's id.
   */
  async remove(nameOrId: string, opts: { force?: boolean } = {}): Promise<string> {
    return this.store.locked('exclusive', async () => {
      const pod = this.store.get(nameOrId);
      const members = await this.members(pod);
      if (!opts.force) {
        const busy = members.find(live);
        if (busy) {
          throw new PodRunningError(
            `pod ${pod.id} has containers that are not ready to be removed: cannot remove container ${busy.id} as it is running - running or paused containers cannot be removed without force: container state improper`,
          );
        }
      }
      // The others first, side by side (each has its own lock and monitor), then infra: it holds the namespaces they are in.
      await this.each(
        members.filter((c) => c.id !== pod.infraId),
        (c) => this.runtime.remove(c.id, { force: true }),
      );
      const infra = members.find((c) => c.id === pod.infraId);
      if (infra) await this.runtime.remove(infra.id, { force: true });
      await this.removeCgroup(pod);
      this.store.remove(pod.id);
      this.event(pod, 'remove');
      return pod.id;
    });
  }

  /** The pod's cgroup, and its parent once empty (hull made it, as a container's parent: it leaves no trace). */
  private async removeCgroup(pod: PodRecord): Promise<void> {
    const root = cgroupHost().root;
    if (root === undefined) return;
    await ContainerCgroup.existing(root, pod.cgroup.slice(pod.cgroupParent.length + 1), pod.cgroupParent)?.remove();
    const parent = path.join(root, pod.cgroupParent);
    if (!parent.startsWith(root + path.sep)) return;
    try {
      rmdirSync(parent);
    } catch {
      // still holds other cgroups, or already gone
    }
  }

  /** `pod prune`: every pod none of whose containers runs. Returns their ids. */
  async prune(): Promise<string[]> {
    const removed: string[] = [];
    for (const p of await this.list()) {
      if (p.status !== 'Exited' && p.status !== 'Created') continue;
      try {
        removed.push(await this.remove(p.id));
      } catch (err) {
        if (!(err instanceof HullError)) throw err; // started or removed meanwhile
      }
    }
    return removed;
  }

  /** `pod ls`: every pod, newest first. */
  async list(): Promise<PodSummary[]> {
    const containers = await this.runtime.list();
    return this.store.list().map((pod) =>
      this.summary(
        pod,
        containers.filter((c) => c.pod === pod.id).sort((a, b) => (a.id === pod.infraId ? -1 : b.id === pod.infraId ? 1 : byCreated(a, b))),
      ),
    );
  }

  /** `pod inspect`: Podman's shape. */
  async inspect(nameOrId: string): Promise<Record<string, unknown>> {
    const pod = this.store.get(nameOrId);
    const s = this.summary(pod, await this.members(pod));
    const n = pod.network;
    const infra = pod.infraId !== undefined ? await this.runtime.get(pod.infraId).catch(() => undefined) : undefined;
    return {
      Id: pod.id,
      Name: pod.name,
      Created: pod.created,
      State: s.status,
      Hostname: pod.share.includes('uts') ? pod.hostname : '',
      Labels: pod.labels,
      CreateCgroup: true,
      CgroupParent: pod.cgroupParent,
      CgroupPath: pod.cgroup,
      CreateInfra: pod.infraId !== undefined,
      ...(pod.infraId !== undefined ? { InfraContainerId: pod.infraId } : {}),
      ...(pod.infraId !== undefined
        ? {
            InfraConfig: {
              PortBindings: portBindings(n),
              HostNetwork: n.mode?.mode === 'host',
              StaticIP: n.ip ?? '',
              StaticMAC: n.macAddress ?? '',
              NoManageResolvConf: false,
              DNSServer: n.dns,
              DNSSearch: n.dnsSearch,
              DNSOption: n.dnsOptions,
              NoManageHosts: false,
              HostAdd: n.extraHosts.map((h) => `${h.host}:${h.ip}`),
              Networks: infra?.network?.networks ?? [],
              NetworkOptions: null,
            },
          }
        : {}),
      SharedNamespaces: pod.share,
      NumContainers: s.containers.length,
      Containers: s.containers.map((c) => ({ Id: c.id, Name: c.name, State: c.status })),
      ...(pod.resources?.cpu ? { CPUQuota: pod.resources.cpu.quota ?? 0, CPUPeriod: pod.resources.cpu.period ?? 0 } : {}),
      ...(pod.resources?.memory?.limit !== undefined ? { MemoryLimit: pod.resources.memory.limit } : {}),
    };
  }

  /** `pod top`: the processes of every running container of the pod (host pids). */
  async top(nameOrId: string): Promise<ProcessTable> {
    const pod = this.store.get(nameOrId);
    const running = (await this.members(pod)).filter(live);
    if (running.length === 0) throw new UsageError(`pod ${pod.id} is not running`);
    const pids: number[] = [];
    for (const c of running) pids.push(...cgroupPids((await this.runtime.cgroupDir(c.id)).dir));
    return processTable(pids);
  }

  /** `pod stats`: each running container of the pods (all pods when none is named), two samples `intervalMs` apart. */
  async stats(namesOrIds: readonly string[], intervalMs = 500): Promise<PodContainerStats[]> {
    const pods = namesOrIds.length === 0 ? this.store.list() : namesOrIds.map((p) => this.store.get(p));
    const targets: { pod: string; record: ContainerRecord; dir: string }[] = [];
    for (const pod of pods) {
      for (const c of (await this.members(pod)).filter(live)) {
        try {
          targets.push({ pod: pod.id, record: c, dir: (await this.runtime.cgroupDir(c.id)).dir });
        } catch (err) {
          if (!(err instanceof HullError)) throw err; // ended meanwhile
        }
      }
    }
    const first = targets.map((t) => sampleCgroup(t.dir, totalmem()));
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    return targets.map((t, i) => {
      const sample = sampleCgroup(t.dir, totalmem());
      return { pod: t.pod, id: t.record.id, name: t.record.name, cpuPercent: cpuPercent(first[i]!, sample), ...sample };
    });
  }
}

/** Podman's InfraConfig.PortBindings: "80/tcp" → [{HostIp, HostPort}]. */
function portBindings(n: PodNetwork): Record<string, { HostIp: string; HostPort: string }[]> {
  const out: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of n.ports) {
    const key = `${p.containerPort}/${p.proto}`;
    (out[key] ??= []).push({ HostIp: p.hostIp, HostPort: p.hostPort === 0 ? '' : String(p.hostPort) });
  }
  return out;
}
