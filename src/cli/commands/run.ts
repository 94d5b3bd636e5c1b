import type { Command } from 'commander';
import { hullFor } from '../context.js';
import { ContainerNotFoundError, UsageError } from '../../errors.js';
import { relayAttachment } from '../attach-io.js';
import { controlSocketPath } from '../../runtime/monitor-client.js';
import { proxySignals } from '../signals.js';
import { trace } from '../../trace.js';
import type { CreateOptions } from '../../runtime/runtime.js';
import type { Hull, ImageSourceOptions } from '../../hull.js';
import { detachKeysFor } from '../detach-keys.js';
import { type ContainerFlags, addContainerFlags, createOptionsFrom, printWarnings, pullOptionsFrom, withCidFile } from './container-flags.js';

interface RunFlags extends ContainerFlags {
  detach?: boolean;
  sigProxy?: boolean;
}

/** Docker's boolean flag value (`--sig-proxy=false`); a bare flag is true. */
function parseBool(value: string): boolean {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new UsageError(`invalid argument "${value}" for "--sig-proxy" flag: strconv.ParseBool: parsing "${value}": invalid syntax`);
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
    .option(
      '--sig-proxy [bool]',
      "=false: hull's signals are not passed on; the container runs under its monitor and goes on if hull ends (default true)",
      parseBool,
    )
    .helpOption('--help', 'display help for command')
    .passThroughOptions()
    .action(async (image: string, command: string[], flags: RunFlags, cmd: Command) => {
      trace('run parsed');
      const opts = { ...(await createOptionsFrom(image, command, flags)), ...pullOptionsFrom(image, flags) };
      const hull = hullFor(cmd);
      trace('library ready');
      if (flags.detach) {
        if (flags.attach.length > 0) throw new UsageError('Conflicting options: -a and -d');
        // Docker's run -d attaches nothing.
        opts.attach = { stdin: false, stdout: false, stderr: false };
        const { record, warnings } = await withCidFile(flags.cidfile, () => hull.runDetached(opts));
        printWarnings(warnings);
        process.stdout.write(`${record.id}\n`);
        return;
      }
      // Under a monitor, attached from the first byte (start -a's path), when the foreground
      // process cannot do what is asked: --sig-proxy=false (the container goes on if hull is
      // stopped), -a (the streams not attached still reach the log), and -it (the detach keys
      // leave the container running, which a child of hull cannot).
      if (flags.sigProxy === false || flags.attach.length > 0 || (flags.tty && flags.interactive)) {
        await runUnderMonitor(hull, opts, flags);
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

/**
 * A foreground run under the container's monitor: the streams of -a (default stdout and stderr,
 * stdin with -i), signals passed on unless --sig-proxy=false (one that comes before the container
 * runs is held and delivered once it does), the container's exit code; the detach keys (-it) leave
 * it running and exit 0 with nothing said, as Docker's run.
 */
async function runUnderMonitor(hull: Hull, opts: CreateOptions & ImageSourceOptions, flags: RunFlags): Promise<void> {
  const streams = opts.attach ?? { stdin: flags.interactive ?? false, stdout: true, stderr: true };
  const held: number[] = [];
  let deliver = (signal: number): void => {
    held.push(signal);
  };
  const stopProxy = flags.sigProxy === false ? () => undefined : proxySignals((signal) => deliver(signal));
  try {
    const { record, warnings } = await withCidFile(flags.cidfile, () => hull.createContainer(opts));
    printWarnings(warnings);
    const { attachment } = await hull.startContainerAttached(record.id, { stdin: streams.stdin });
    deliver = (signal) => void hull.killContainer(record.id, signal).catch(() => undefined);
    for (const signal of held.splice(0)) deliver(signal);
    const end = await relayAttachment(attachment, {
      terminal: record.tty === true,
      controlPath: controlSocketPath(hull.paths.runRoot, record.id),
      // With a terminal, stderr is part of stdout's one stream.
      show: { stdout: streams.stdout, stderr: streams.stderr },
      detachKeys: detachKeysFor(undefined, opts.detachKeys),
    });
    if (end === 'detached') return;
    process.exitCode = await hull.waitContainer(record.id);
    // --rm: gone when run returns, as Docker's CLI waits for it (the monitor's own removal may be under way: either finishes it).
    if (record.autoRemove) {
      await hull.removeContainer(record.id, { force: true, volumes: true }).catch((err: unknown) => {
        if (!(err instanceof ContainerNotFoundError)) throw err;
      });
    }
  } finally {
    stopProxy();
  }
}
