import type { Command } from 'commander';
import { statSync } from 'node:fs';
import { ConflictError } from '../../errors.js';
import { hullFor } from '../context.js';
import { writeLogEntries } from '../log-output.js';
import { proxySignals } from '../signals.js';

export function registerAttach(program: Command): void {
  program
    .command('attach')
    .description('attach to a running detached container: its output from now on, signals forwarded; exits with its code')
    .argument('<container>', 'name or id')
    .option('--no-stdin', 'do not attach stdin (hull attaches output only, always)')
    .option('--sig-proxy <bool>', 'forward received signals to the container', 'true')
    .action(async (container: string, flags: { sigProxy: string }, cmd: Command) => {
      const hull = hullFor(cmd);
      const record = await hull.getContainer(container);
      if (record.state.status !== 'running' && record.state.status !== 'restarting') {
        throw new ConflictError(`you cannot attach to a stopped container, start it first`);
      }
      let from = 0;
      try {
        from = statSync(hull.runtime.containers.logPath(record.id)).size;
      } catch {
        from = 0; // nothing written yet
      }
      const stop = flags.sigProxy !== 'false' ? proxySignals((signal) => void hull.killContainer(record.id, signal).catch(() => undefined)) : () => undefined;
      try {
        await writeLogEntries(hull.runtime.logs(record.id, { follow: true, fromOffset: from }));
        process.exitCode = await hull.waitContainer(record.id);
      } finally {
        stop();
      }
    });
}
