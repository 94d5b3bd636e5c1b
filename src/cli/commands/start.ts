import type { Command } from 'commander';
import { ConflictError } from '../../errors.js';
import { hullFor } from '../context.js';
import { proxySignals } from '../signals.js';
import { forEachContainer } from './each.js';

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('start one or more created or stopped containers')
    .argument('<container...>', 'names or ids')
    .option('-a, --attach', 'attach stdout/stderr and forward signals (the container runs in the foreground)')
    .option('-i, --interactive', 'attach stdin')
    .action(async (containers: string[], flags: { attach?: boolean; interactive?: boolean }, cmd: Command) => {
      const hull = hullFor(cmd);
      if (!flags.attach && !flags.interactive) {
        await forEachContainer(containers, async (c) => {
          await hull.startContainer(c);
          process.stdout.write(`${c}\n`);
        });
        return;
      }
      if (containers.length !== 1) throw new ConflictError('you cannot start and attach multiple containers at once');
      // Attached: the container runs as hull's child, exactly as `hull run` without -d does (the
      // state is checked under the container's lock by the start itself).
      const record = await hull.getContainer(containers[0]!);
      const running = await hull.runtime.start(record, {
        stdin: flags.interactive ? 'inherit' : 'ignore',
        stdout: 'inherit',
        stderr: 'inherit',
        attachTerminal: true,
        interactive: flags.interactive ?? false,
      });
      const stopProxy = proxySignals((signal) => running.kill(signal));
      process.exitCode = await running.wait();
      stopProxy();
    });
}
