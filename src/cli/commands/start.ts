import type { Command } from 'commander';
import { ConflictError } from '../../errors.js';
import { hullFor } from '../context.js';
import { proxySignals } from '../signals.js';
import { forEachContainer } from './each.js';
import { relayAttachment } from '../attach-io.js';
import { controlSocketPath } from '../../runtime/monitor-client.js';
import { detachKeysFor } from '../detach-keys.js';
import { parseDetachKeys } from '../../options/attach.js';

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('start one or more created or stopped containers')
    .argument('<container...>', 'names or ids')
    .option('-a, --attach', "attach stdout/stderr and forward signals; exits with the container's code")
    .option('-i, --interactive', 'attach stdin')
    .option(
      '--detach-keys <keys>',
      "the key sequence that detaches from a terminal (default: the container's --detach-keys, else config.json's detachKeys, else ctrl-p,ctrl-q)",
    )
    .action(async (containers: string[], flags: { attach?: boolean; interactive?: boolean; detachKeys?: string }, cmd: Command) => {
      const hull = hullFor(cmd);
      if (!flags.attach && !flags.interactive) {
        await forEachContainer(containers, async (c) => {
          await hull.startContainer(c);
          process.stdout.write(`${c}\n`);
        });
        return;
      }
      if (containers.length !== 1) throw new ConflictError('you cannot start and attach multiple containers at once');
      if (flags.detachKeys) parseDetachKeys(flags.detachKeys); // a bad one fails before the container starts
      // Attached: the container runs under its monitor (it goes on if hull goes), which lets it pass
      // its start gate once this attachment is there, so its output is seen from the first byte.
      // Both output streams, whatever create's -a said (as Docker's start -a).
      const { record, attachment } = await hull.startContainerAttached(containers[0]!, { stdin: flags.interactive ?? false });
      const stopProxy = proxySignals((signal) => void hull.killContainer(record.id, signal).catch(() => undefined));
      try {
        const end = await relayAttachment(attachment, {
          terminal: record.tty === true,
          controlPath: controlSocketPath(hull.paths.runRoot, record.id),
          detachKeys: detachKeysFor(flags.detachKeys, record.detachKeys),
        });
        // Detached (Docker's start -a: exit 0, nothing said): the container goes on under its monitor.
        if (end === 'detached') return;
        process.exitCode = await hull.waitContainer(record.id);
      } finally {
        stopProxy();
      }
    });
}
