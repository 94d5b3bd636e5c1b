import type { Command } from 'commander';
import { parseSignal } from '../../runtime/signals.js';
import { hullFor } from '../context.js';
import { forEachContainer } from './each.js';

export function registerKill(program: Command): void {
  program
    .command('kill')
    .description('send a signal (default SIGKILL) to running containers')
    .argument('<container...>', 'names or ids')
    .option('-s, --signal <signal>', 'signal to send', 'KILL')
    .action(async (containers: string[], flags: { signal: string }, cmd: Command) => {
      const signal = parseSignal(flags.signal);
      const hull = hullFor(cmd);
      await forEachContainer(containers, async (c) => {
        await hull.killContainer(c, signal);
        process.stdout.write(`${c}\n`);
      });
    });
}
