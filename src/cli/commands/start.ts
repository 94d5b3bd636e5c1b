import type { Command } from 'commander';
import { ConflictError } from '../../errors.js';
import { hullFor } from '../context.js';
import { proxySignals } from '../signals.js';
import { forEachContainer } from './each.js';
import { relayAttachment } from '../attach-io.js';
import { controlSocketPath } from '../../runtime/monitor-client.js';

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('start one or more created or stopped containers')
    .argument('<container...>', 'names or ids')
    .option('-a, --attach', "attach stdout/stderr and forward signals; exits with the container's code")
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
      // Attached: the container runs under its monitor (it goes on if hull goes), which lets it pass
      // its start gate once this attachment is there, so its output is seen from the first byte.
      const { record, attachment } = await hull.startContainerAttached(containers[0]!, { stdin: flags.interactive ?? false });
      const stopProxy = proxySignals((signal) => void hull.killContainer(record.id, signal).catch(() => undefined));
      try {
        await relayAttachment(attachment, { terminal: record.tty === true, controlPath: controlSocketPath(hull.paths.runRoot, record.id) });
        process.exitCode = await hull.waitContainer(record.id);
      } finally {
        stopProxy();
      }
    });
}
