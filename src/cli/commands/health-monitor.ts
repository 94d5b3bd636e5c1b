import type { Command } from 'commander';
import { hullFor } from '../context.js';

/** `health-monitor ID TOKEN` (hidden): a detached container's health checks, run by the process its start spawns. */
export function registerHealthMonitor(program: Command): void {
  program
    .command('health-monitor', { hidden: true })
    .description("run a detached container's health checks until it ends (its start runs this)")
    .argument('<container>', 'full id')
    .argument('<token>', 'the checker token its start wrote')
    .action(async (container: string, token: string, _flags: unknown, cmd: Command) => {
      await hullFor(cmd).superviseHealth(container, token);
    });
}
