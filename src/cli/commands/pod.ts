import type { Command } from 'commander';
import { HullError, PodNotFoundError, UsageError } from '../../errors.js';
import type { Hull } from '../../hull.js';
import { parseLabels } from '../../options/labels.js';
import { parseExtraHost, parseNetworkMode } from '../../options/network.js';
import { parsePublish } from '../../options/ports.js';
import { parseInteger } from '../../options/units.js';
import { type PodCreateOptions, parseShare } from '../../pods/options.js';
import type { PodSummary } from '../../pods/pods.js';
import { shortId, timeAgo } from '../../present/human.js';
import { parseSignal } from '../../runtime/signals.js';
import { humanSize } from '../../runtime/stats.js';
import { formatInspect } from '../../format/formatter.js';
import { collect, hullFor } from '../context.js';
import { table } from '../format.js';
import { type ResourceFlagValues, addResourceFlags, resourcesFrom } from './container-flags.js';
import { confirm } from './image-common.js';

const PRUNE_WARNING = 'WARNING! This will remove all stopped/exited pods..\nAre you sure you want to continue?';

interface PodCreateFlags extends ResourceFlagValues {
  name?: string;
  label: string[];
  hostname?: string;
  share?: string;
  infra: string | boolean;
  publish: string[];
  network?: string;
  dns: string[];
  dnsSearch: string[];
  dnsOption: string[];
  addHost: string[];
  ip?: string;
  macAddress?: string;
  cgroupParent?: string;
}

/** `pod create`'s flags as PodCreateOptions (Podman's names). */
export function podCreateOptions(flags: PodCreateFlags): PodCreateOptions {
  const infra = flags.infra === true || flags.infra === 'true' ? true : flags.infra === 'false' ? false : undefined;
  if (infra === undefined)
    throw new UsageError(`invalid argument "${String(flags.infra)}" for "--infra" flag: strconv.ParseBool: parsing "${String(flags.infra)}": invalid syntax`);
  const resources = resourcesFrom(flags);
  return {
    ...(flags.name !== undefined ? { name: flags.name } : {}),
    ...(flags.label.length > 0 ? { labels: parseLabels(flags.label) } : {}),
    ...(flags.hostname ? { hostname: flags.hostname } : {}),
    ...(flags.share !== undefined ? { share: parseShare(flags.share) } : {}),
    infra,
    ...(flags.publish.length > 0 ? { ports: flags.publish.flatMap(parsePublish) } : {}),
    ...(flags.network !== undefined ? { network: parseNetworkMode(flags.network) } : {}),
    ...(flags.dns.length > 0 ? { dns: flags.dns } : {}),
    ...(flags.dnsSearch.length > 0 ? { dnsSearch: flags.dnsSearch } : {}),
    ...(flags.dnsOption.length > 0 ? { dnsOptions: flags.dnsOption } : {}),
    ...(flags.addHost.length > 0 ? { extraHosts: flags.addHost.map(parseExtraHost) } : {}),
    ...(flags.ip !== undefined ? { ip: flags.ip } : {}),
    ...(flags.macAddress !== undefined ? { macAddress: flags.macAddress } : {}),
    ...(flags.cgroupParent ? { cgroupParent: flags.cgroupParent.replace(/^\/+/, '') } : {}),
    ...(resources ? { resources } : {}),
  };
}

/**
 * Podman's multi-pod verbs: act on each, print its id, report each failure as one line; the exit
 * code is the failure's (a missing pod: `missing`, Podman's 1 for rm, else 125).
 */
async function forEachPod(pods: readonly string[], act: (pod: string) => Promise<string>, missing = 125): Promise<void> {
  for (const pod of pods) {
    try {
      process.stdout.write(`${await act(pod)}\n`);
    } catch (err) {
      process.stderr.write(`hull: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = err instanceof PodNotFoundError ? missing : err instanceof HullError ? err.exitCode : 125;
    }
  }
}

/** `pod ls --format json`: Podman's ListPodsReport. */
function podJson(p: PodSummary): Record<string, unknown> {
  return {
    Cgroup: p.cgroup,
    Containers: p.containers.map((c) => ({ Id: c.id, Names: c.name, Status: c.status })),
    Created: p.created,
    Id: p.id,
    InfraId: p.infraId ?? '',
    Name: p.name,
    Namespace: '',
    Networks: [],
    Status: p.status,
    Labels: p.labels,
  };
}

function registerPodList(pod: Command): void {
  pod
    .command('ps')
    .aliases(['ls', 'list'])
    .description('list pods')
    .option('-q, --quiet', 'only ids')
    .option('--no-trunc', 'do not truncate pod and container ids')
    .option('--noheading', 'do not print headers')
    .option('--ctr-names', 'the names of its containers')
    .option('--ctr-ids', 'the ids of its containers')
    .option('--ctr-status', 'the status of its containers')
    .option('--format <format>', "'json' (Podman's array)")
    .action(
      async (
        flags: { quiet?: boolean; trunc?: boolean; noheading?: boolean; ctrNames?: boolean; ctrIds?: boolean; ctrStatus?: boolean; format?: string },
        cmd: Command,
      ) => {
        const pods = await hullFor(cmd).listPods();
        const id = (text: string) => (flags.trunc === false ? text : shortId(text));
        if (flags.quiet) {
          for (const p of pods) process.stdout.write(`${id(p.id)}\n`);
          return;
        }
        if (flags.format !== undefined) {
          if (flags.format.trim() !== 'json') throw new UsageError(`pod ps --format: only json is supported, not ${JSON.stringify(flags.format)}`);
          process.stdout.write(JSON.stringify(pods.map(podJson), null, 4) + '\n');
          return;
        }
        const headers = ['POD ID', 'NAME', 'STATUS', 'CREATED', 'INFRA ID'];
        if (flags.ctrIds) headers.push('IDS');
        if (flags.ctrNames) headers.push('NAMES');
        if (flags.ctrStatus) headers.push('STATUS');
        if (!flags.ctrIds && !flags.ctrNames && !flags.ctrStatus) headers.push('# OF CONTAINERS');
        const rows = pods.map((p) => {
          const row = [id(p.id), p.name, p.status, timeAgo(p.created), p.infraId ? id(p.infraId) : ''];
          if (flags.ctrIds) row.push(p.containers.map((c) => id(c.id)).join(','));
          if (flags.ctrNames) row.push(p.containers.map((c) => c.name).join(','));
          if (flags.ctrStatus) row.push(p.containers.map((c) => c.status).join(','));
          if (!flags.ctrIds && !flags.ctrNames && !flags.ctrStatus) row.push(String(p.containers.length));
          return row;
        });
        const out = table(headers, rows);
        process.stdout.write(flags.noheading ? out.slice(out.indexOf('\n') + 1) : out);
      },
    );
}

/** The verbs that act on each pod named and print its id. */
function registerPodActions(pod: Command): void {
  const simple: [string, string, (hull: Hull, pod: string) => Promise<{ id: string }>][] = [
    ['start', 'start pods (infra first, then their containers)', (hull, p) => hull.startPod(p)],
    ['pause', 'pause every running container of pods', (hull, p) => hull.pausePod(p)],
    ['unpause', 'unpause every paused container of pods', (hull, p) => hull.unpausePod(p)],
  ];
  for (const [name, description, act] of simple) {
    pod
      .command(name)
      .description(description)
      .argument('<pod...>', 'names or ids')
      .action(async (pods: string[], _flags: unknown, cmd: Command) => {
        const hull = hullFor(cmd);
        await forEachPod(pods, async (p) => (await act(hull, p)).id);
      });
  }
  for (const name of ['stop', 'restart'] as const) {
    pod
      .command(name)
      .description(name === 'stop' ? 'stop pods (their containers, then infra)' : 'restart pods')
      .argument('<pod...>', 'names or ids')
      .option('-t, --time <seconds>', 'seconds to wait for each container to stop before killing it (default: its own, else 10)')
      .action(async (pods: string[], flags: { time?: string }, cmd: Command) => {
        const hull = hullFor(cmd);
        const timeout = flags.time === undefined ? undefined : parseInteger(flags.time, '--time');
        await forEachPod(pods, async (p) => (await (name === 'stop' ? hull.stopPod(p, timeout) : hull.restartPod(p, timeout))).id);
      });
  }
  pod
    .command('kill')
    .description('send a signal (default SIGKILL) to the running containers of pods')
    .argument('<pod...>', 'names or ids')
    .option('-s, --signal <signal>', 'signal to send', 'KILL')
    .action(async (pods: string[], flags: { signal: string }, cmd: Command) => {
      const signal = parseSignal(flags.signal);
      const hull = hullFor(cmd);
      await forEachPod(pods, async (p) => (await hull.killPod(p, signal)).id);
    });
  pod
    .command('rm')
    .alias('remove')
    .description('remove pods, their containers and infra (running ones only with -f)')
    .argument('[pod...]', 'names or ids')
    .option('-f, --force', 'stop and remove running containers too')
    .option('-a, --all', 'every pod')
    .option('-i, --ignore', 'a pod that does not exist is no error')
    .action(async (pods: string[], flags: { force?: boolean; all?: boolean; ignore?: boolean }, cmd: Command) => {
      const hull = hullFor(cmd);
      if (flags.all && pods.length > 0) throw new UsageError('when using the --all flag, do not name pods');
      if (!flags.all && pods.length === 0) throw new UsageError('you must provide at least one name or id');
      const names = flags.all ? (await hull.listPods()).map((p) => p.id) : pods;
      await forEachPod(
        names,
        async (p) => {
          try {
            return await hull.removePod(p, { force: flags.force ?? false });
          } catch (err) {
            if (flags.ignore && err instanceof PodNotFoundError) return '';
            throw err;
          }
        },
        1,
      );
    });
  pod
    .command('prune')
    .description('remove every pod none of whose containers runs')
    .option('-f, --force', 'do not prompt for confirmation')
    .action(async (flags: { force?: boolean }, cmd: Command) => {
      if (!flags.force && !(await confirm(PRUNE_WARNING))) return;
      for (const id of await hullFor(cmd).prunePods()) process.stdout.write(`${id}\n`);
    });
}

function registerPodViews(pod: Command): void {
  pod
    .command('inspect')
    .description("Podman's pod inspect output (JSON array)")
    .argument('<pod...>', 'names or ids')
    .option('-f, --format <template>', "'json' or a Go template: {{.Name}} {{.InfraContainerId}}")
    .action(async (pods: string[], flags: { format?: string }, cmd: Command) => {
      const hull = hullFor(cmd);
      const out = [];
      for (const p of pods) out.push(await hull.inspectPod(p));
      if (!flags.format || flags.format.trim() === 'json') {
        process.stdout.write(JSON.stringify(out, null, 4) + '\n');
        return;
      }
      const { output, errors } = formatInspect(flags.format, out);
      process.stdout.write(output);
      for (const err of errors) process.stderr.write(`hull: ${err.message}\n`);
      if (errors.length > 0) process.exitCode = 125;
    });
  pod
    .command('top')
    .description("the processes of a pod's running containers (host pids)")
    .argument('<pod>', 'name or id')
    .action(async (p: string, _flags: unknown, cmd: Command) => {
      const top = await hullFor(cmd).podTop(p);
      process.stdout.write(table(top.Titles, top.Processes));
    });
  pod
    .command('stats')
    .description("live resource usage of pods' running containers (from their cgroups)")
    .argument('[pod...]', 'names or ids (default: all)')
    .option('--no-stream', 'print one sample and exit')
    .action(async (pods: string[], flags: { stream: boolean }, cmd: Command) => {
      const hull = hullFor(cmd);
      for (let first = true; first || flags.stream; first = false) {
        const stats = await hull.podStats(pods);
        const out = table(
          ['POD', 'CID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'BLOCK IO', 'PIDS'],
          stats.map((s) => [
            shortId(s.pod),
            shortId(s.id),
            s.name,
            `${s.cpuPercent.toFixed(2)}%`,
            `${humanSize(s.memoryUsage, true)} / ${humanSize(s.memoryLimit, true)}`,
            `${s.memoryLimit > 0 ? ((s.memoryUsage / s.memoryLimit) * 100).toFixed(2) : '0.00'}%`,
            `${humanSize(s.blockRead, false)} / ${humanSize(s.blockWrite, false)}`,
            String(s.pids),
          ]),
        );
        process.stdout.write(flags.stream ? `\x1b[2J\x1b[H${out}` : out);
      }
    });
}

export function registerPod(program: Command): void {
  const pod = program.command('pod').description("manage pods (Podman's): containers sharing network, IPC and UTS namespaces");
  addResourceFlags(
    pod
      .command('create')
      .description('create a pod and its infra container')
      .option('-n, --name <name>', "the pod's name")
      .option('-l, --label <K=V>', 'a label (repeatable)', collect, [])
      .option('--hostname <name>', "the pod's hostname (default: its name)")
      .option('--share <namespaces>', 'namespaces its containers share: ipc,net,uts (default), pid, none; +pid adds to the default')
      .option('--infra [bool]', 'make an infra container (--infra=false: none, and nothing shared)', true)
      .option('-p, --publish <[ip:]host:container[/proto]>', 'publish a port of the pod (repeatable)', collect, [])
      .option('--network <mode>', "bridge (default), none, host, or a network's name")
      .option('--dns <ip>', 'a DNS server (repeatable)', collect, [])
      .option('--dns-search <domain>', 'a DNS search domain (repeatable)', collect, [])
      .option('--dns-option <option>', 'a resolv.conf option (repeatable)', collect, [])
      .option('--add-host <name:ip>', 'an /etc/hosts entry (repeatable)', collect, [])
      .option('--ip <address>', "the pod's IPv4 address on its user network")
      .option('--mac-address <mac>', "the MAC address of the pod's interface")
      .option('--cgroup-parent <path>', "where the pod's cgroup is made (default hull)"),
  ).action(async (flags: PodCreateFlags, cmd: Command) => {
    const created = await hullFor(cmd).createPod(podCreateOptions(flags));
    process.stdout.write(`${created.id}\n`);
  });
  registerPodList(pod);
  registerPodActions(pod);
  registerPodViews(pod);
}
