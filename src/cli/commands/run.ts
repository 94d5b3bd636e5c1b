import type { Command } from 'commander';
import { hullFor } from '../context.js';
import { proxySignals } from '../signals.js';
import { trace } from '../../trace.js';
import { type ContainerFlags, addContainerFlags, createOptionsFrom, printWarnings, pullOptionsFrom, withCidFile } from './container-flags.js';

interface RunFlags extends ContainerFlags {
  detach?: boolean;
}

export function registerRun(program: Command): void {
  addContainerFlags(
    program
      .command('run')
      .description('create and run a container from an image')
      .argument('<image>', 'image reference or id')
      .argument('[command...]', "command and arguments (default: the image's)"),
  )
    .option('-d, --detach', 'run in the background (under a monitor) and print the container id')
    .helpOption('--help', 'display help for command')
    .passThroughOptions()
    .action(async (image: string, command: string[], flags: RunFlags, cmd: Command) => {
      trace('run parsed');
      const opts = { ...(await createOptionsFrom(image, command, flags)), ...pullOptionsFrom(image, flags) };
      const hull = hullFor(cmd);
      trace('library ready');
      if (flags.detach) {
        const { record, warnings } = await withCidFile(flags.cidfile, () => hull.runDetached(opts));
        printWarnings(warnings);
        process.stdout.write(`${record.id}\n`);
        return;
      }
      // Signals are proxied from the start: one that comes before the container runs is held
      // and delivered once it does, so hull never dies of it with a half-made container.
      const held: number[] = [];
      let deliver = (signal: number): void => {
        held.push(signal);
      };
      const stopProxy = proxySignals((signal) => deliver(signal));
      const running = await withCidFile(flags.cidfile, () => hull.createContainer(opts))
        .then(({ record, warnings }) => {
          printWarnings(warnings);
          return hull.startForeground(record, {
            stdin: flags.interactive ? 'inherit' : 'ignore',
            stdout: 'inherit',
            stderr: 'inherit',
            attachTerminal: true,
            interactive: flags.interactive,
          });
        })
        .catch((err: unknown) => {
          stopProxy();
          throw err;
        });
      deliver = (signal) => running.kill(signal);
      for (const signal of held.splice(0)) deliver(signal);
      const code = await running.wait();
      stopProxy();
      process.exitCode = code;
      trace('run done');
    });
}
