import type { Command } from 'commander';
import { processTable } from '../../present/processes.js';
import type { ContainerStats } from '../../hull.js';
import { formatterContext } from '../../format/formatter.js';
import { humanSize } from '../../runtime/stats.js';
import { hullFor } from '../context.js';
import { listFormat, table } from '../format.js';

/** The column names of stats's fields (Docker's statsContext header). */
const STATS_HEADERS = {
  Container: 'CONTAINER',
  Name: 'NAME',
  ID: 'CONTAINER ID',
  CPUPerc: 'CPU %',
  MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %',
  NetIO: 'NET I/O',
  BlockIO: 'BLOCK I/O',
  PIDs: 'PIDS',
};

/** Docker's `stats --format json` fields. */
function statsJson(s: ContainerStats): Record<string, string> {
  const memPerc = s.memoryLimit > 0 ? (s.memoryUsage / s.memoryLimit) * 100 : 0;
  return {
    BlockIO: `${humanSize(s.blockRead, false)} / ${humanSize(s.blockWrite, false)}`,
    CPUPerc: `${s.cpuPercent.toFixed(2)}%`,
    Container: s.name,
    ID: s.id.slice(0, 12),
    MemPerc: `${memPerc.toFixed(2)}%`,
    MemUsage: `${humanSize(s.memoryUsage, true)} / ${humanSize(s.memoryLimit, true)}`,
    Name: s.name,
    NetIO: '0B / 0B', // hull's containers have no network (network mode none) yet
    PIDs: String(s.pids),
  };
}

export function registerStats(program: Command): void {
  program
    .command('stats')
    .description('live resource usage of running containers (from their cgroups)')
    .argument('[container...]', 'names or ids (default: all running)')
    .option('--no-stream', 'print one sample and exit')
    .option('--format <format>', "'json', 'table TEMPLATE' or a Go template: {{.Name}} {{.CPUPerc}}")
    .action(async (containers: string[], flags: { stream: boolean; format?: string }, cmd: Command) => {
      const hull = hullFor(cmd);
      const format = listFormat(flags.format, STATS_HEADERS);
      const names = async () =>
        containers.length > 0 ? containers : (await hull.listContainers()).filter((c) => c.state.status === 'running').map((c) => c.id);
      for (let first = true; first || flags.stream; first = false) {
        const list = await names();
        const stats = await Promise.all(
          list.map((c) =>
            hull.containerStats(c).catch((err: unknown) => {
              if (containers.length > 0) throw err;
              return undefined; // ended meanwhile
            }),
          ),
        );
        const shown = stats.filter((s): s is ContainerStats => s !== undefined).map(statsJson);
        let out: string;
        if (format) {
          out = format.render(shown.map((s) => formatterContext('*container.statsContext', { ...s })));
        } else {
          out = table(
            ['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS'],
            shown.map((s) => [s.ID!, s.Name!, s.CPUPerc!, s.MemUsage!, s.MemPerc!, s.NetIO!, s.BlockIO!, s.PIDs!]),
          );
        }
        process.stdout.write(flags.stream ? `\x1b[2J\x1b[H${out}` : out);
        if (flags.stream) await new Promise((resolve) => setTimeout(resolve, 500));
      }
    });

  program
    .command('top')
    .description('the processes of a running container (host pids)')
    .argument('<container>', 'name or id')
    .action(async (container: string, _flags: unknown, cmd: Command) => {
      const top = processTable(await hullFor(cmd).containerProcesses(container));
      process.stdout.write(table(top.Titles, top.Processes));
    });
}
