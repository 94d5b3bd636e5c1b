/**
 * A container made in a pod: its options checked against what the pod owns (Podman's
 * SpecGenerator.Validate words: the network, published ports, DNS and extra hosts are the pod's;
 * its hostname is the pod's when it shares the UTS namespace) and then pointed at the pod — the
 * shared namespaces as `container:<infra>` modes, its cgroup under the pod's.
 */
import { UsageError } from '../errors.js';
import type { CreateOptions } from '../runtime/create-options.js';
import type { PodRecord } from './pod-store.js';

const SHARED_NETWORK = 'network cannot be configured when it is shared with a pod';

function refuse(what: string, tail = SHARED_NETWORK): never {
  throw new UsageError(`invalid config provided: ${what}${tail ? `: ${tail}` : ''}`);
}

/** The options of a container in `pod` (`opts.pod` names it; nothing else of `opts` changes). */
export function podMemberOptions(opts: CreateOptions, pod: PodRecord): CreateOptions {
  const shares = new Set(pod.infraId === undefined ? [] : pod.share);
  if (opts.cgroupParent !== undefined) refuse("the cgroup parent of a container in a pod is the pod's cgroup", '');
  if (shares.has('net')) {
    if (opts.network !== undefined) refuse('networks must be defined when the pod is created');
    if ((opts.ports?.length ?? 0) > 0 || opts.publishAll) refuse('published or exposed ports must be defined when the pod is created');
    if ((opts.extraHosts?.length ?? 0) > 0) refuse('extra host entries must be specified on the pod');
    if ((opts.dns?.length ?? 0) > 0 || (opts.dnsSearch?.length ?? 0) > 0 || (opts.dnsOptions?.length ?? 0) > 0)
      refuse('DNS options must be specified on the pod');
    if (opts.ip !== undefined) refuse('static ip addresses must be defined when the pod is created');
    if (opts.macAddress !== undefined) refuse('MAC addresses must be defined when the pod is created');
    if ((opts.networkAliases?.length ?? 0) > 0) refuse('network aliases must be defined when the pod is created');
  }
  if (shares.has('uts')) {
    if (opts.hostname !== undefined) refuse('cannot set hostname when joining the pod UTS namespace', '');
    if (opts.uts !== undefined) refuse('cannot set the UTS namespace of a container that joins the pod UTS namespace', '');
  }
  if (shares.has('ipc') && opts.ipc !== undefined) refuse('cannot set the IPC namespace of a container that joins the pod IPC namespace', '');
  if (shares.has('pid') && opts.pid !== undefined) refuse('cannot set the PID namespace of a container that joins the pod PID namespace', '');
  const infra = pod.infraId;
  const out: CreateOptions = { ...opts, pod: pod.id, cgroupParent: pod.cgroup };
  if (infra === undefined) return out;
  if (shares.has('net')) {
    out.network = { mode: 'container', container: infra };
    out.ports = [];
    out.publishAll = false;
    out.dns = [];
    out.dnsSearch = [];
    out.dnsOptions = [];
    out.extraHosts = [];
  }
  if (shares.has('uts')) {
    out.uts = { mode: 'container', container: infra };
    out.hostname = pod.hostname;
  }
  if (shares.has('ipc')) out.ipc = { mode: 'container', container: infra };
  if (shares.has('pid')) out.pid = { mode: 'container', container: infra };
  return out;
}

/** `--pod new:NAME` (Podman's): the pod's name, or undefined for an existing pod's name or id. */
export function newPodName(pod: string): string | undefined {
  if (!pod.startsWith('new:')) return undefined;
  const name = pod.slice('new:'.length);
  if (name === '') throw new UsageError('invalid --pod new: a name is needed after new:');
  return name;
}
