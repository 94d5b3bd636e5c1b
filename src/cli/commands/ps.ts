import type { Command } from 'commander';
import { hullFor } from '../context.js';
import { shortId, table, timeAgo } from '../format.js';
import type { ContainerRecord } from '../../runtime/container-store.js';

function status(r: ContainerRecord): string {
  const s = r.state;
  if (s.status === 'running') return `Up ${timeAgo(s.startedAt).replace(/ ago$/, '')}`;
  if (s.status === 'exited') return `Exited (${s.exitCode ?? '?'}) ${timeAgo(s.finishedAt)}`;
  return 'Created';
}

export function registerPs(program: Command): void {
  program
    .command('ps')
    .description('list containers')
    .option('-a, --all', 'show all containers (default: running only)')
    .option('-q, --quiet', 'only container ids')
    .action(async (flags: { all?: boolean; quiet?: boolean }, cmd: Command) => {
      const all = await hullFor(cmd).listContainers();
      const shown = flags.all ? all : all.filter((c) => c.state.status === 'running');
      if (flags.quiet) {
        for (const c of shown) process.stdout.write(`${shortId(c.id)}\n`);
        return;
      }
      const rows = shown.map((c) => {
        const command = JSON.stringify(c.command.join(' '));
        return [shortId(c.id), c.image, command.length > 22 ? `${command.slice(0, 20)}…"` : command, timeAgo(c.created), status(c), c.name];
      });
      process.stdout.write(table(['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'NAMES'], rows));
    });
}
