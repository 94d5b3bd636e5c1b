import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { hullFor } from '../context.js';
import { type KubeSource, kubeDown, kubeGenerate, kubePlay } from '../../kube/index.js';
import type { DownResult } from '../../kube/play.js';

/** Each FILE, or stdin for `-`. */
async function readSources(files: readonly string[]): Promise<KubeSource[]> {
  const out: KubeSource[] = [];
  for (const file of files) {
    if (file !== '-') {
      out.push({ text: await readFile(file, 'utf8'), source: file });
      continue;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    out.push({ text: Buffer.concat(chunks).toString('utf8'), source: '-' });
  }
  return out;
}

function warn(warnings: readonly string[]): void {
  for (const w of warnings) process.stderr.write(`WARNING: ${w}\n`);
}

/** Podman's `kube down` report. */
function printDown(result: DownResult): void {
  warn(result.warnings);
  if (result.pods.length > 0) process.stdout.write(`Pods stopped:\n${result.pods.join('\n')}\nPods removed:\n${result.pods.join('\n')}\n`);
  if (result.volumes.length > 0) process.stdout.write(`Volumes removed:\n${result.volumes.join('\n')}\n`);
}

export function registerKube(program: Command): void {
  const kube = program.command('kube').description('play, take down and generate Kubernetes YAML (Pod, Deployment, ConfigMap, Secret, PersistentVolumeClaim)');

  kube
    .command('play')
    .description('make the pods, volumes and containers of Kubernetes YAML (all or nothing)')
    .argument('<file...>', 'YAML files; - reads stdin')
    .option('--replace', 'remove pods of the same names first')
    .option('--cgroup-parent <path>', "where the pods' cgroups are made (relative to the cgroup2 root)")
    .option('--down', 'take down what the YAML describes instead (as kube down)')
    .option('--force', 'with --down: remove the volumes of its PersistentVolumeClaims too')
    .action(async (files: string[], flags: { replace?: boolean; down?: boolean; force?: boolean; cgroupParent?: string }, cmd: Command) => {
      const hull = hullFor(cmd);
      const sources = await readSources(files);
      if (flags.down) {
        printDown(await kubeDown(hull, sources, { force: flags.force ?? false }));
        return;
      }
      const result = await kubePlay(hull, sources, {
        replace: flags.replace ?? false,
        ...(flags.cgroupParent !== undefined ? { cgroupParent: flags.cgroupParent } : {}),
      });
      warn(result.warnings);
      if (result.volumesCreated.length > 0) process.stdout.write(`Volumes:\n${result.volumesCreated.join('\n')}\n`);
      for (const pod of result.pods) process.stdout.write(`Pod:\n${pod.id}\nContainers:\n${pod.containers.map((c) => c.id).join('\n')}\n\n`);
    });

  kube
    .command('down')
    .description('remove the pods of Kubernetes YAML (volumes stay unless --force, as with Podman)')
    .argument('<file...>', 'YAML files; - reads stdin')
    .option('--force', 'remove the volumes of its PersistentVolumeClaims too')
    .action(async (files: string[], flags: { force?: boolean }, cmd: Command) => {
      printDown(await kubeDown(hullFor(cmd), await readSources(files), { force: flags.force ?? false }));
    });

  kube
    .command('generate')
    .description('write Pod YAML of a pod or a container, which kube play makes again')
    .argument('<pod-or-container>', 'a pod, or a container (not in a pod: a pod of its own)')
    .option('-f, --filename <file>', 'write the YAML to this file instead of stdout')
    .action(async (name: string, flags: { filename?: string }, cmd: Command) => {
      const { yaml, warnings } = await kubeGenerate(hullFor(cmd), name);
      warn(warnings);
      if (flags.filename !== undefined) {
        const { writeFile } = await import('node:fs/promises');
        await writeFile(flags.filename, yaml, { flag: 'wx' });
      } else {
        process.stdout.write(yaml);
      }
    });
}
