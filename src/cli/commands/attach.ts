import type { Command } from 'commander';
import { hullFor } from '../context.js';
import { relayAttachment } from '../attach-io.js';
import { proxySignals } from '../signals.js';
import { controlSocketPath } from '../../runtime/monitor-client.js';

export function registerAttach(program: Command): void {
  program
    .command('attach')
    .description('attach to a running detached container: its output from now on, its stdin (-i containers), signals forwarded; exits with its code')
    .argument('<container>', 'name or id')
    .option('--no-stdin', 'do not attach stdin')
    .option('--sig-proxy <bool>', 'forward received signals to the container', 'true')
    .action(async (container: string, flags: { stdin: boolean; sigProxy: string }, cmd: Command) => {
      const hull = hullFor(cmd);
      const { record, attachment } = await hull.attachContainer(container, { stdin: flags.stdin });
      const stop = flags.sigProxy !== 'false' ? proxySignals((signal) => void hull.killContainer(record.id, signal).catch(() => undefined)) : () => undefined;
      try {
        await relayAttachment(attachment, { terminal: record.tty === true, controlPath: controlSocketPath(hull.paths.runRoot, record.id) });
        process.exitCode = await hull.waitContainer(record.id);
      } finally {
        stop();
      }
    });
}
