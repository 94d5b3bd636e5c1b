import type { Command } from 'commander';
import { hullFor, collect } from '../context.js';
import { labelsText, listFormat, table } from '../format.js';
import { dockerTime, naturalCompare, shortId, timeAgo } from '../../present/human.js';
import { parseLabels } from '../../options/labels.js';
import { formatInspect, formatterContext } from '../../format/formatter.js';
import { forEachContainer } from './each.js';
import { confirm } from './image-common.js';
import { parseFilterFlags, parseNetworkFilters, parsePruneFilters } from '../../filters/index.js';
import type { ListedNetwork } from '../../hull.js';

const PRUNE_WARNING = 'WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?';

/** The column names of a network row's fields (Docker's networkContext header). */
const NETWORK_HEADERS = {
  ID: 'NETWORK ID',
  Name: 'NAME',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  IPv4: 'IPV4',
  IPv6: 'IPV6',
  Internal: 'INTERNAL',
  Labels: 'LABELS',
  CreatedAt: 'CREATED AT',
};

/** A network as `network ls --format` sees it (Docker's networkContext). */
function networkContext(n: ListedNetwork, full: boolean): Record<string, unknown> {
  return formatterContext('*network.networkContext', {
    CreatedAt: n.created ? dockerTime(n.created) : '',
    Driver: n.driver,
    ID: n.id && !full ? shortId(n.id) : n.id,
    IPv4: 'true',
    IPv6: 'false',
    Internal: 'false',
    Labels: labelsText(n.labels),
    Name: n.name,
    Scope: 'local',
    Label: (name: string) => n.labels?.[name] ?? '',
  });
}

interface CreateFlags {
  driver: string;
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  internal?: boolean;
  attachable?: boolean;
  opt: string[];
  label: string[];
}

export function registerNetwork(program: Command): void {
  const network = program.command('network').description('manage networks');
  network
    .command('create')
    .description('create a bridge network')
    .argument('<name>')
    .option('-d, --driver <driver>', 'only bridge', 'bridge')
    .option('--subnet <cidr>', 'IPv4 subnet (default: a free /24 of the pool)')
    .option('--gateway <ip>', "the bridge's address (default: the subnet's first)")
    .option('--ip-range <cidr>', 'give addresses from this part of the subnet')
    .option('--internal', 'no traffic in or out of the network but its own')
    .option('--attachable', 'accepted (every local network is)')
    .option('-o, --opt <k=v>', 'a driver option (repeatable; only those hull does anyway)', collect, [])
    .option('--label <k=v>', 'a label (repeatable)', collect, [])
    .action(async (name: string, flags: CreateFlags, cmd: Command) => {
      if (flags.driver !== 'bridge') throw new (await import('../../errors.js')).UsageError(`network driver ${flags.driver} is not supported (bridge only)`);
      const labels = parseLabels(flags.label);
      const net = await hullFor(cmd).createNetwork({
        name,
        subnet: flags.subnet,
        gateway: flags.gateway,
        ipRange: flags.ipRange,
        internal: flags.internal === true,
        attachable: flags.attachable === true,
        ...(flags.label.length ? { labels } : {}),
        ...(flags.opt.length ? { options: parseLabels(flags.opt) } : {}),
      });
      process.stdout.write(`${net.id}\n`);
    });
  network
    .command('ls')
    .alias('list')
    .description('list networks')
    .option('-q, --quiet', 'only ids')
    .option('-f, --filter <key=value>', 'filter (repeatable): dangling=, driver=, id=, label=k[=v], name=, scope=, type=custom|builtin', collect, [])
    .option('--no-trunc', 'do not truncate ids')
    .option('--format <format>', "'json' (one object a line), 'table TEMPLATE' or a Go template: {{.ID}} {{.Name}}")
    .action((flags: { quiet?: boolean; format?: string; filter: string[]; trunc?: boolean }, cmd: Command) => {
      const filters = parseNetworkFilters(parseFilterFlags(flags.filter));
      const full = flags.trunc === false;
      const format = flags.quiet ? undefined : listFormat(flags.format, NETWORK_HEADERS);
      // By name, as Docker's CLI lists them.
      const nets = hullFor(cmd)
        .listedNetworks(filters)
        .sort((a, b) => naturalCompare(a.name, b.name));
      const id = (n: ListedNetwork) => (full ? n.id : shortId(n.id));
      if (flags.quiet) {
        // host and none have no id: nothing to print for them.
        for (const n of nets) if (n.id) process.stdout.write(`${id(n)}\n`);
        return;
      }
      if (format) {
        process.stdout.write(format.render(nets.map((n) => networkContext(n, full))));
        return;
      }
      const rows = nets.map((n) => [n.id ? id(n) : '', n.name, n.driver, n.subnet ?? '', n.bridge ?? '', n.created ? timeAgo(n.created) : '']);
      process.stdout.write(table(['NETWORK ID', 'NAME', 'DRIVER', 'SUBNET', 'BRIDGE', 'CREATED'], rows));
    });
  network
    .command('inspect')
    .description("Docker's network inspect output (JSON array)")
    .argument('<network...>')
    .option('-f, --format <template>', "'json' or a Go template: {{.Name}}, {{range .IPAM.Config}}{{.Subnet}}{{end}}")
    .action(async (names: string[], flags: { format?: string }, cmd: Command) => {
      const hull = hullFor(cmd);
      const out = [];
      for (const n of names) out.push(await hull.inspectNetwork(n));
      if (!flags.format) {
        process.stdout.write(JSON.stringify(out, null, 4) + '\n');
        return;
      }
      const { output, errors } = formatInspect(flags.format, out);
      process.stdout.write(output);
      for (const err of errors) process.stderr.write(`hull: ${err.message}\n`);
      if (errors.length > 0) process.exitCode = 1;
    });
  network
    .command('rm')
    .alias('remove')
    .description('remove networks (none of their containers may be running)')
    .argument('<network...>')
    .action(async (names: string[], _flags: unknown, cmd: Command) => {
      const hull = hullFor(cmd);
      await forEachContainer(names, async (n) => {
        await hull.removeNetwork(n);
        process.stdout.write(`${n}\n`);
      });
    });
  network
    .command('prune')
    .description('remove all networks not used by at least one container')
    .option('--filter <filter>', "provide filter values (e.g. 'until=<timestamp>', 'label=k=v', 'label!=k')", collect, [])
    .option('-f, --force', 'do not prompt for confirmation')
    .action(async (flags: { force?: boolean; filter: string[] }, cmd: Command) => {
      const filters = parsePruneFilters(parseFilterFlags(flags.filter), 'network');
      if (!flags.force && !(await confirm(PRUNE_WARNING))) return;
      const removed = await hullFor(cmd).pruneNetworks(filters);
      if (removed.length > 0) process.stdout.write(`Deleted Networks:\n${removed.join('\n')}\n`);
    });
  network
    .command('connect')
    .description('connect a container to a network')
    .argument('<network>')
    .argument('<container>')
    .option('--alias <alias>', 'another name on this network (repeatable)', collect, [])
    .option('--ip <address>', "the container's IPv4 address on this network")
    .action(async (net: string, container: string, flags: { alias: string[]; ip?: string }, cmd: Command) => {
      await hullFor(cmd).connectNetwork(net, container, { aliases: flags.alias, ...(flags.ip !== undefined ? { ip: flags.ip } : {}) });
    });
  network
    .command('release', { hidden: true })
    .description('release the network of an ended container (its monitor runs this)')
    .argument('<container>')
    .action(async (container: string, _flags: unknown, cmd: Command) => {
      await hullFor(cmd).releaseContainerNetwork(container);
    });
  network
    .command('disconnect')
    .description('disconnect a container from a network')
    .argument('<network>')
    .argument('<container>')
    .option('-f, --force', 'no error when the container is not on the network')
    .action(async (net: string, container: string, flags: { force?: boolean }, cmd: Command) => {
      await hullFor(cmd).disconnectNetwork(net, container, { force: flags.force === true });
    });
}

export function registerPort(program: Command): void {
  program
    .command('port')
    .description("list a container's published ports")
    .argument('<container>')
    .argument('[port]', 'PORT[/PROTO]: only this one')
    .action(async (container: string, port: string | undefined, _flags: unknown, cmd: Command) => {
      const ports = await hullFor(cmd).containerPorts(container);
      const want = port === undefined ? undefined : port.includes('/') ? port : `${port}/tcp`;
      for (const p of ports) {
        const key = `${p.containerPort}/${p.proto}`;
        if (want !== undefined && key !== want) continue;
        const host = `${p.hostIp || '0.0.0.0'}:${p.hostPort}`;
        process.stdout.write(want !== undefined ? `${host}\n` : `${key} -> ${host}\n`);
      }
    });
}
