/**
 * A pod's typed options (Podman's PodSpecGenerator plays this part there): what `hull pod create`
 * fills from its flags and `kube play` from a Pod's YAML. The pod owns the network of its
 * containers (mode, published ports, DNS, extra hosts) and its hostname; its cgroup is the parent
 * of theirs, with the pod-level limits. Podman's `--share` syntax is parsed here, at the edge.
 */
import { UsageError } from '../errors.js';
import type { NetworkOptions } from '../network/container-config.js';
import type { SpecResources } from '../runtime/spec.js';

/** The namespaces an infra container holds for its pod's containers. */
export type PodNamespace = 'net' | 'ipc' | 'uts' | 'pid';

/** Podman's default `--share`. */
export const DEFAULT_SHARE: readonly PodNamespace[] = ['ipc', 'net', 'uts'];

/** The network options a pod takes (its infra container gets them; its containers may not set them). */
export type PodNetworkOptions = Pick<
  NetworkOptions,
  'network' | 'ports' | 'publishAll' | 'dns' | 'dnsSearch' | 'dnsOptions' | 'extraHosts' | 'ip' | 'macAddress'
>;

export interface PodCreateOptions extends PodNetworkOptions {
  /** Default: a generated name (as a container's). */
  name?: string;
  labels?: Record<string, string>;
  /** The hostname of the shared UTS namespace. Default: the pod's name (Podman's). */
  hostname?: string;
  /** Which namespaces its containers share. Default: ipc, net, uts. */
  share?: readonly PodNamespace[];
  /** Make an infra container (default true). Without one nothing is shared: the pod is a cgroup and a group of containers. */
  infra?: boolean;
  /** Where the pod's cgroup is made, relative to the cgroup2 root. Default 'hull'. */
  cgroupParent?: string;
  /** Pod-level limits: written to the pod's cgroup, which its containers' cgroups are under. */
  resources?: SpecResources;
}

const KNOWN = ['cgroup', 'ipc', 'net', 'pid', 'uts', 'none'] as const;

/**
 * Podman's `--share`: a comma-separated list of namespaces (`none` for none), or with a leading
 * `+` namespaces added to the default (`--share +pid`). The cgroup namespace is refused: hull
 * cannot join another container's.
 */
export function parseShare(text: string): PodNamespace[] {
  const add = text.startsWith('+');
  const words = (add ? text.slice(1) : text).split(',').map((w) => w.trim());
  const out = new Set<PodNamespace>(add ? DEFAULT_SHARE : []);
  for (const word of words) {
    if (!(KNOWN as readonly string[]).includes(word)) {
      throw new UsageError(`invalid kernel namespace to share: ${word}. Options are: cgroup, ipc, net, pid, uts or none`);
    }
    if (word === 'none') {
      if (words.length > 1 || add) throw new UsageError('cannot share namespace none with other namespaces');
      continue;
    }
    if (word === 'cgroup') throw new UsageError('sharing the cgroup namespace in a pod is not supported by hull');
    out.add(word as PodNamespace);
  }
  return [...out].sort();
}

/** The shares given, or the default; checked against `infra` (Podman: nothing is shared without an infra container). */
export function podShares(opts: Pick<PodCreateOptions, 'share' | 'infra'>): PodNamespace[] {
  const infra = opts.infra ?? true;
  if (!infra) {
    if (opts.share !== undefined && opts.share.length > 0)
      throw new UsageError('you cannot share kernel namespaces on the pod level without an infra container');
    return [];
  }
  return [...new Set(opts.share ?? DEFAULT_SHARE)].sort();
}

/** Whether the pod options set any network option (refused without an infra container that shares net). */
export function hasNetworkOptions(opts: PodNetworkOptions): boolean {
  return (
    opts.network !== undefined ||
    (opts.ports?.length ?? 0) > 0 ||
    opts.publishAll === true ||
    (opts.dns?.length ?? 0) > 0 ||
    (opts.dnsSearch?.length ?? 0) > 0 ||
    (opts.dnsOptions?.length ?? 0) > 0 ||
    (opts.extraHosts?.length ?? 0) > 0 ||
    opts.ip !== undefined ||
    opts.macAddress !== undefined
  );
}
