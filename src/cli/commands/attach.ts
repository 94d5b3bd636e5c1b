import type { Command } from 'commander';
import { hullFor } from '../context.js';
import { relayAttachment } from '../attach-io.js';
import { proxySignals } from '../signals.js';
import { controlSocketPath } from '../../runtime/monitor-client.js';
import { DetachedError } from '../../errors.js';
import { parseDetachKeys } from '../../options/attach.js';
import { detachKeysFor } from '../detach-keys.js';

export function registerAttach(program: Command): void {
  program
    .command('attach')
    .description('attach to a running detached container: its output from now on, its stdin (-i containers), signals forwarded; exits with its code')
    .argument('<container>', 'name or id')
    .option('--no-stdin', 'do not attach stdin')
    .option('--sig-proxy <bool>', 'forward received signals to the container', 'true')
    .option(
      '--detach-keys <keys>',
      "the key sequence that detaches from a terminal (default: the container's --detach-keys, else config.json's detachKeys, else ctrl-p,ctrl-q)",
    )
    .action(async (container: string, flags: { stdin: boolean; sigProxy: string; detachKeys?: string }, cmd: Command) => {
      const hull = hullFor(cmd);
      if (flags.detachKeys) parseDetachKeys(flags.detachKeys); // a bad one fails before anything is attached
      const { record, attachment } = await hull.attachContainer(container, { stdin: flags.stdin });
      const stop = flags.sigProxy !== 'false' ? proxySignals((signal) => void hull.killContainer(record.id, signal).catch(() => undefined)) : () => undefined;
      try {
        const end = await relayAttachment(attachment, {
          terminal: record.tty === true,
          controlPath: controlSocketPath(hull.paths.runRoot, record.id),
          detachKeys: detachKeysFor(flags.detachKeys, record.detachKeys),
        });
        // Docker's attach ends with its "read escape sequence" error (exit 1); the container goes on.
        if (end === 'detached') throw new DetachedError();
        process.exitCode = await hull.waitContainer(record.id);
      } finally {
        stop();
      }
    });
}
