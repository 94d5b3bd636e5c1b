/**
 * hull's command line: a commander program whose verbs are thin files in ./commands, each only
 * parsing flags and calling the library. Errors end as one line on stderr and Docker's exit codes.
 */
import { Command, CommanderError } from 'commander';
import { EXIT_RUNTIME_ERROR, HullError } from '../errors.js';
import { registerCommands, subverbOf, verbOf } from './commands/index.js';
import { trace } from '../trace.js';
import { HULL_VERSION } from '../version.js';

trace('modules loaded');

export interface GlobalOptions {
  root?: string;
  runRoot?: string;
  debug?: boolean;
}

/**
 * Verbs whose failures carry Docker's run codes (125 hull, 126 cannot invoke, 127 not found); the rest exit 1, as Docker's do.
 * `pod` and `kube` are Podman's, whose commands exit 125 for their own errors.
 */
const RUN_CODE_VERBS = new Set(['run', 'create', 'pod', 'kube']);

function reportAndExit(err: unknown, debug: boolean): never {
  const names = new Set(program.commands.map((c) => c.name()));
  const words = process.argv.slice(2);
  const at = words.findIndex((a) => names.has(a));
  // `container run` and `container create` are run and create.
  const verb = (words[at] === 'container' ? words[at + 1] : words[at]) ?? '';
  const runCodes = RUN_CODE_VERBS.has(verb) || verb === '';
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : runCodes ? EXIT_RUNTIME_ERROR : 1);
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`hull: ${message}\n`);
  if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  const code = err instanceof HullError ? err.exitCode : EXIT_RUNTIME_ERROR;
  process.exit(runCodes || code !== EXIT_RUNTIME_ERROR ? code : 1);
}

const program = new Command('hull')
  .description('a Linux container runtime: OCI images, namespaces, cgroups v2, overlayfs')
  .version(HULL_VERSION)
  .option('--root <dir>', 'persistent state (images, layers, containers)', process.env.HULL_ROOT)
  .option('--run-root <dir>', 'per-boot state', process.env.HULL_RUN_ROOT)
  .option('--debug', 'print stacks with errors')
  .enablePositionalOptions()
  .exitOverride()
  .configureOutput({ outputError: (text, write) => write(`hull: ${text.replace(/^error: /, '')}`) });

registerCommands(program, verbOf(process.argv), subverbOf(process.argv))
  .then(() => {
    trace('verb defined');
    return program.parseAsync(process.argv);
  })
  .catch((err: unknown) => {
    reportAndExit(err, program.opts<GlobalOptions>().debug ?? process.argv.includes('--debug'));
  });
