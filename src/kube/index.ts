/**
 * `kube play`, `kube down` and `kube generate` over the library: the YAML texts parsed and planned
 * (objects.ts, plan.ts) before anything is made, then played (play.ts); generate reads a pod or a
 * container back into Pod YAML (generate.ts).
 */
import path from 'node:path';
import type { Hull } from '../hull.js';
import { isPlain } from './fields.js';
import { parseKubeYaml } from './objects.js';
import { planPlay, type PlayPlan } from './plan.js';
import { type DownResult, type PlayOptions, type PlayResult, downKube, kubePodDir, playKube } from './play.js';
import { type GenerateContainer, generatePodYaml } from './generate.js';
import { readSpec } from '../runtime/spec-read.js';
import { PodNotFoundError } from '../errors.js';
import type { PodRecord } from '../pods/pod-store.js';
import { trace } from '../trace.js';

export type { DownResult, PlayOptions, PlayResult } from './play.js';
export type { PlayPlan } from './plan.js';

/** A YAML text and where it came from (a file's path, or '-' for stdin): errors name it with the line. */
export interface KubeSource {
  text: string;
  source: string;
}

/** Every source parsed and checked together (names are unique across files): nothing is made yet. */
export function kubePlan(sources: readonly KubeSource[]): PlayPlan {
  const warnings: string[] = [];
  const objects = sources.flatMap((s) => {
    const parsed = parseKubeYaml(s.text, s.source);
    warnings.push(...parsed.warnings);
    return parsed.objects;
  });
  const plan = planPlay(objects, warnings);
  trace('kube: planned');
  return plan;
}

export async function kubePlay(hull: Hull, sources: readonly KubeSource[], opts: PlayOptions = {}): Promise<PlayResult> {
  return playKube(hull, kubePlan(sources), opts);
}

export async function kubeDown(hull: Hull, sources: readonly KubeSource[], opts: { force?: boolean } = {}): Promise<DownResult> {
  return downKube(hull, kubePlan(sources), opts);
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

async function generateContainer(hull: Hull, id: string): Promise<GenerateContainer> {
  const record = await hull.getContainer(id);
  const spec = readSpec(path.join(hull.paths.containers, record.id, 'config.json'));
  const config = (await hull.inspectImage(record.imageId)).Config;
  const c = isPlain(config) ? config : {};
  return {
    record,
    spec,
    image: { env: strings(c.Env), entrypoint: strings(c.Entrypoint), cmd: strings(c.Cmd), workdir: typeof c.WorkingDir === 'string' ? c.WorkingDir : '' },
  };
}

/** Pod YAML of a pod (its containers but the infra), or of one container not in a pod (a pod named `<container>-pod`, as Podman's). */
export async function kubeGenerate(hull: Hull, podOrContainer: string): Promise<{ yaml: string; warnings: string[] }> {
  let pod: PodRecord | undefined;
  try {
    pod = await hull.getPod(podOrContainer);
  } catch (err) {
    if (!(err instanceof PodNotFoundError)) throw err;
  }
  if (pod) {
    const { id, infraId } = pod;
    const members = (await hull.listContainers()).filter((c) => c.pod === id && c.id !== infraId).sort((a, b) => a.created.localeCompare(b.created));
    const containers = await Promise.all(members.map((m) => generateContainer(hull, m.id)));
    return generatePodYaml({
      name: pod.name,
      hostname: pod.hostname,
      labels: pod.labels,
      ports: pod.network.ports,
      extraHosts: pod.network.extraHosts,
      hostNetwork: pod.network.mode?.mode === 'host',
      containers,
      kubeVolumes: path.join(kubePodDir(hull.paths.root, pod.id), 'volumes'),
    });
  }
  const c = await generateContainer(hull, podOrContainer);
  if (c.record.pod !== undefined) return kubeGenerate(hull, c.record.pod);
  const net = c.record.network;
  return generatePodYaml({
    name: `${c.record.name}-pod`,
    hostname: c.spec.hostname ?? c.record.name,
    labels: {},
    ports: net?.ports ?? [],
    extraHosts: net?.extraHosts ?? [],
    hostNetwork: net?.mode === 'host',
    containers: [c],
  });
}
