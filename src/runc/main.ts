/**
 * hull-runc: runc's command line (as containerd's runc shim and the OCI runtime command-line spec
 * call it) over hull's OCI runtime (src/oci/runtime.ts). Global flags come before the verb. Success
 * prints nothing but what a verb answers (state, list, ps, features, spec's file); a failure is one
 * line in the log (see log.ts), its message on stderr, and exit status 1.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { HullError, UsageError, fromNodeError } from '../errors.js';
import { defaultOciSpec } from '../oci/default-spec.js';
import { ociFeatures } from '../oci/features.js';
import { DEFAULT_OCI_ROOT, type OciContainerState, OciRuntime } from '../oci/runtime.js';
import { OCI_VERSION, type SpecProcess, type SpecResources } from '../runtime/spec.js';
import { validateProcess, validateResources } from '../runtime/spec-read.js';
import { parseBytes, parseBytesOrUnlimited, parseInteger } from '../options/units.js';
import { parseSignal } from '../runtime/signals.js';
import { type LogFormat, RuncLog } from './log.js';
import { HULL_VERSION } from '../version.js';

const VERSION = HULL_VERSION;

interface GlobalFlags {
  root: string;
  log?: string;
  logFormat: LogFormat;
  systemdCgroup?: boolean;
  debug?: boolean;
}

interface CreateFlags {
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds: string;
}

const program = new Command('hull-runc')
  .description("runc's command line over hull's OCI runtime (containerd's io.containerd.runc.v2 shim drives it)")
  .version(`hull-runc version ${VERSION}\nspec: ${OCI_VERSION}`, '-v, --version')
  .option('--root <dir>', 'the state directory', DEFAULT_OCI_ROOT)
  .option('--log <file>', 'append log lines to this file (default: stderr)')
  .addOption(new Option('--log-format <format>', 'the log lines: text or json').choices(['text', 'json']).default('text'))
  .option('--systemd-cgroup', 'linux.cgroupsPath is systemd\'s "slice:prefix:name"')
  .option('--debug', 'debug lines in the log')
  .option('--criu <path>', 'accepted and ignored (checkpoint and restore are not supported)')
  .enablePositionalOptions()
  .exitOverride()
  .configureOutput({ outputError: () => undefined });

function globals(): GlobalFlags {
  return program.opts<GlobalFlags>();
}

function runtime(): OciRuntime {
  const g = globals();
  return new OciRuntime({ root: g.root, systemdCgroup: g.systemdCgroup ?? false });
}

function log(): RuncLog {
  const g = globals();
  return new RuncLog(g.log, g.logFormat, g.debug ?? false);
}

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** runc's `state` and `list -f json` objects (owner: the state directory's owner, as runc shows it). */
function shown(s: OciContainerState): Record<string, unknown> {
  return {
    ociVersion: s.ociVersion,
    id: s.id,
    pid: s.pid ?? 0,
    status: s.status,
    bundle: s.bundle,
    rootfs: s.rootfs,
    created: s.created,
    owner: '',
    ...(s.annotations ? { annotations: s.annotations } : {}),
  };
}

function ownerOf(root: string, id: string): string {
  try {
    const uid = statSync(path.join(root, id)).uid;
    return uid === 0 ? 'root' : String(uid);
  } catch {
    return '';
  }
}

/** Go's tabwriter as runc's list and ps use it: min width 12, padding 3. */
function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length + 3), 12));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('')).join('\n') + '\n';
}

/** --preserve-fds N: this process's fds 3 … 2+N go to the container's process as they are. */
function preserveFdsOf(text: string): { preserveFds?: number } {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) throw new UsageError(`invalid --preserve-fds: ${text}`);
  return n > 0 ? { preserveFds: n } : {};
}

function createOptions(flags: CreateFlags) {
  return {
    ...preserveFdsOf(flags.preserveFds),
    bundle: flags.bundle,
    ...(flags.pidFile !== undefined ? { pidFile: flags.pidFile } : {}),
    ...(flags.consoleSocket !== undefined ? { consoleSocket: flags.consoleSocket } : {}),
  };
}

function addCreateFlags(cmd: Command): Command {
  return cmd
    .option('-b, --bundle <dir>', 'the bundle directory (its config.json and root)', process.cwd())
    .option('--pid-file <file>', "write the container's pid here (no newline)")
    .option('--console-socket <path>', "a unix socket that receives the pty's master (process.terminal)")
    .option('--no-pivot', 'accepted: the root is always pivoted')
    .option('--no-new-keyring', 'accepted: no session keyring is made')
    .option('--preserve-fds <n>', 'extra fds passed to the container', '0');
}

function signalOf(text: string): number {
  try {
    return parseSignal(text);
  } catch {
    throw new UsageError(`unknown signal "${text}"`);
  }
}

addCreateFlags(program.command('create').description('create a container from a bundle; its process waits for start').argument('<id>')).action(
  async (id: string, flags: CreateFlags) => {
    for (const w of (await runtime().create(id, createOptions(flags))).warnings) log().warning(w);
  },
);

program
  .command('start')
  .description('start a created container')
  .argument('<id>')
  .action(async (id: string) => {
    for (const w of await runtime().start(id)) log().warning(w);
  });

addCreateFlags(program.command('run').description('create and start a container, and wait for its end (its exit status)').argument('<id>'))
  .option('-d, --detach', 'return once the container runs')
  .action(async (id: string, flags: CreateFlags & { detach?: boolean }) => {
    const rt = runtime();
    if (flags.detach) {
      for (const w of (await rt.create(id, createOptions(flags))).warnings) log().warning(w);
      for (const w of await rt.start(id)) log().warning(w);
      return;
    }
    const { exitCode, warnings } = await rt.run(id, createOptions(flags));
    for (const w of warnings) log().warning(w);
    process.exitCode = exitCode;
  });

interface ExecFlags {
  process?: string;
  detach?: boolean;
  pidFile?: string;
  consoleSocket?: string;
  tty?: boolean;
  cwd?: string;
  env: string[];
  user?: string;
  additionalGids: string[];
  cap: string[];
  noNewPrivs?: boolean;
  preserveFds: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** exec's process: --process's file as it is, or the container's own process with the flags over it (as runc makes it). */
function execProcess(rt: OciRuntime, id: string, args: string[], flags: ExecFlags): SpecProcess {
  if (flags.process !== undefined) {
    let text: string;
    try {
      text = readFileSync(flags.process, 'utf8');
    } catch (err) {
      throw fromNodeError(err, 'read', flags.process);
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new UsageError(`${flags.process}: not valid JSON: ${(err as Error).message}`);
    }
    return validateProcess(value, flags.process);
  }
  if (args.length === 0) throw new UsageError('exec: a command is needed (or --process)');
  const p = rt.processOf(id);
  p.args = args;
  p.env = [...(p.env ?? []), ...flags.env];
  p.terminal = flags.tty ?? false;
  if (flags.cwd !== undefined) p.cwd = flags.cwd;
  if (flags.noNewPrivs) p.noNewPrivileges = true;
  if (flags.user !== undefined) {
    const m = /^(\d+)(?::(\d+))?$/.exec(flags.user);
    if (!m) throw new UsageError(`invalid --user ${flags.user}: uid[:gid], numbers`);
    p.user = { ...p.user, uid: Number(m[1]), gid: m[2] !== undefined ? Number(m[2]) : p.user.gid };
  }
  if (flags.additionalGids.length > 0) {
    const gids = flags.additionalGids.map(Number);
    if (gids.some((g) => !Number.isInteger(g) || g < 0)) throw new UsageError(`invalid --additional-gids: ${flags.additionalGids.join(',')}`);
    p.user = { ...p.user, additionalGids: gids };
  }
  if (flags.cap.length > 0) {
    const caps = { ...p.capabilities };
    for (const set of ['bounding', 'effective', 'permitted'] as const) caps[set] = [...(caps[set] ?? []), ...flags.cap];
    p.capabilities = caps;
  }
  return p;
}

program
  .command('exec')
  .description('run a process in a running container (its exit status, unless --detach)')
  .argument('<id>')
  .argument('[command...]', 'the command and its arguments (without --process)')
  .option('-p, --process <file>', "a runtime-spec process object (JSON); the command's flags are ignored then")
  .option('-d, --detach', 'return once the process runs')
  .option('--pid-file <file>', "write the process's pid here (no newline)")
  .option('--console-socket <path>', "a unix socket that receives the pty's master (a terminal)")
  .option('-t, --tty', 'a terminal')
  .option('--cwd <dir>', 'the working directory in the container')
  .option('-e, --env <VAR=value>', 'an environment variable (repeatable)', collect, [])
  .option('-u, --user <uid[:gid]>', 'the user')
  .option('-g, --additional-gids <gid>', 'an additional group (repeatable)', collect, [])
  .option('-c, --cap <capability>', 'a capability to add (repeatable)', collect, [])
  .option('--no-new-privs', 'no new privileges for the process')
  .option('--preserve-fds <n>', 'extra fds passed to the process', '0')
  .passThroughOptions()
  .action(async (id: string, args: string[], flags: ExecFlags) => {
    const rt = runtime();
    let started;
    try {
      started = await rt.exec(id, {
        process: execProcess(rt, id, args, flags),
        detach: flags.detach ?? false,
        ...preserveFdsOf(flags.preserveFds),
        ...(flags.pidFile !== undefined ? { pidFile: flags.pidFile } : {}),
        ...(flags.consoleSocket !== undefined ? { consoleSocket: flags.consoleSocket } : {}),
      });
    } catch (err) {
      // runc's exec: a process that could not be started is exit status 255.
      log().error(`exec failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(255);
    }
    if (flags.detach) {
      // The caller (containerd's shim) learns the pid from the pid file once this process has
      // exited, and a process that ends first may have its exit reported for an unknown pid
      // (containerd 1.6): so no time is lost between the pid file and the exit.
      process.exit(0);
    }
    process.exitCode = await started.wait();
  });

program
  .command('state')
  .description("the container's state as JSON")
  .argument('<id>')
  .action((id: string) => printJson(shown(runtime().state(id))));

program
  .command('kill')
  .description('send a signal (default SIGTERM) to the container')
  .argument('<id>')
  .argument('[signal]', 'a name (KILL, SIGKILL) or number', 'SIGTERM')
  .option('-a, --all', 'to every process of the container')
  .action(async (id: string, signal: string, flags: { all?: boolean }) => {
    await runtime().kill(id, signalOf(signal), { all: flags.all ?? false });
  });

program
  .command('delete')
  .description('delete a stopped (or created) container')
  .argument('<id>')
  .option('-f, --force', 'kill it first if it runs; no error if it does not exist')
  .action(async (id: string, flags: { force?: boolean }) => {
    const rt = runtime();
    try {
      for (const w of await rt.delete(id, { force: flags.force ?? false })) log().warning(w);
    } catch (err) {
      if (flags.force && err instanceof HullError && err.message === 'container does not exist') return;
      throw err;
    }
  });

program
  .command('pause')
  .description("freeze the container's processes")
  .argument('<id>')
  .action(async (id: string) => runtime().pause(id));

program
  .command('resume')
  .description('thaw a paused container')
  .argument('<id>')
  .action(async (id: string) => runtime().resume(id));

interface UpdateFlags {
  resources?: string;
  memory?: string;
  memorySwap?: string;
  memoryReservation?: string;
  cpuPeriod?: string;
  cpuQuota?: string;
  cpuShare?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: string;
  blkioWeight?: string;
}

/** update's resources: --resources' JSON (a file, or - for stdin), with runc's single-value flags over it. */
function updateResources(flags: UpdateFlags): SpecResources {
  let r: SpecResources = {};
  if (flags.resources !== undefined) {
    const from = flags.resources === '-' ? 0 : flags.resources;
    let text: string;
    try {
      text = readFileSync(from, 'utf8');
    } catch (err) {
      throw fromNodeError(err, 'read', flags.resources === '-' ? 'stdin' : flags.resources);
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new UsageError(`resources: not valid JSON: ${(err as Error).message}`);
    }
    r = validateResources(value);
  }
  const int = (v: string, flag: string) => parseInteger(v, flag);
  if (flags.memory !== undefined) r.memory = { ...r.memory, limit: parseBytes(flags.memory, '--memory') };
  if (flags.memorySwap !== undefined) r.memory = { ...r.memory, swap: parseBytesOrUnlimited(flags.memorySwap, '--memory-swap') };
  if (flags.memoryReservation !== undefined) r.memory = { ...r.memory, reservation: parseBytes(flags.memoryReservation, '--memory-reservation') };
  if (flags.cpuPeriod !== undefined) r.cpu = { ...r.cpu, period: int(flags.cpuPeriod, '--cpu-period') };
  if (flags.cpuQuota !== undefined) r.cpu = { ...r.cpu, quota: int(flags.cpuQuota, '--cpu-quota') };
  if (flags.cpuShare !== undefined) r.cpu = { ...r.cpu, shares: int(flags.cpuShare, '--cpu-share') };
  if (flags.cpusetCpus !== undefined) r.cpu = { ...r.cpu, cpus: flags.cpusetCpus };
  if (flags.cpusetMems !== undefined) r.cpu = { ...r.cpu, mems: flags.cpusetMems };
  if (flags.pidsLimit !== undefined) r.pids = { limit: int(flags.pidsLimit, '--pids-limit') };
  if (flags.blkioWeight !== undefined) r.blockIO = { ...r.blockIO, weight: int(flags.blkioWeight, '--blkio-weight') };
  return validateResources(r, 'update');
}

program
  .command('update')
  .description("change a container's resources")
  .argument('<id>')
  .option('-r, --resources <file>', 'runtime-spec linux.resources as JSON (- for stdin)')
  .option('--memory <bytes>', 'memory limit')
  .option('--memory-swap <bytes>', 'memory and swap limit (-1: unlimited)')
  .option('--memory-reservation <bytes>', 'memory soft limit')
  .option('--cpu-period <us>', 'CPU CFS period')
  .option('--cpu-quota <us>', 'CPU CFS quota')
  .option('--cpu-share <shares>', 'CPU shares (relative weight)')
  .option('--cpuset-cpus <list>', 'CPUs to use')
  .option('--cpuset-mems <list>', 'memory nodes to use')
  .option('--pids-limit <n>', 'maximum number of processes')
  .option('--blkio-weight <n>', 'block IO weight (10-1000)')
  .action(async (id: string, flags: UpdateFlags) => {
    for (const w of await runtime().update(id, updateResources(flags))) log().warning(w);
  });

program
  .command('list')
  .description('the containers in the state directory')
  .addOption(new Option('-f, --format <format>', 'table or json').choices(['table', 'json']).default('table'))
  .option('-q, --quiet', 'ids only')
  .action((flags: { format: string; quiet?: boolean }) => {
    const rt = runtime();
    const all = rt.list();
    if (flags.quiet) {
      for (const s of all) process.stdout.write(`${s.id}\n`);
      return;
    }
    if (flags.format === 'json') {
      process.stdout.write(`${all.length === 0 ? 'null' : JSON.stringify(all.map((s) => ({ ...shown(s), owner: ownerOf(rt.root, s.id) })))}\n`);
      return;
    }
    const rows = [
      ['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'],
      ...all.map((s) => [s.id, String(s.pid ?? 0), s.status, s.bundle, s.created, ownerOf(rt.root, s.id)]),
    ];
    process.stdout.write(table(rows));
  });

program
  .command('ps')
  .description("the container's processes (table: ps -ef's lines of them; json: their pids)")
  .argument('<id>')
  .argument('[ps-args...]', 'options for ps (default -ef)')
  .addOption(new Option('-f, --format <format>', 'table or json').choices(['table', 'json']).default('table'))
  .passThroughOptions()
  .action((id: string, psArgs: string[], flags: { format: string }) => {
    const pids = runtime().pids(id);
    if (flags.format === 'json') {
      printJson(pids);
      return;
    }
    const ps = spawnSync('ps', psArgs.length > 0 ? psArgs : ['-ef'], { encoding: 'utf8' });
    if (ps.error || ps.status !== 0) throw new UsageError(`ps ${psArgs.join(' ')}: ${ps.error?.message ?? ps.stderr.trim()}`);
    const [header = '', ...lines] = ps.stdout.split('\n');
    const pidColumn = header.trim().split(/\s+/).indexOf('PID');
    if (pidColumn < 0) throw new UsageError("couldn't find PID field in ps output");
    const wanted = new Set(pids);
    const mine = lines.filter((l) => wanted.has(Number(l.trim().split(/\s+/)[pidColumn])));
    process.stdout.write([header, ...mine].join('\n') + '\n');
  });

program
  .command('features')
  .description('what this runtime supports (runtime-spec features.md)')
  .action(() => printJson(ociFeatures(VERSION)));

program
  .command('spec')
  .description('write a default config.json into the bundle directory')
  .option('-b, --bundle <dir>', 'the bundle directory', process.cwd())
  .option('--rootless', 'accepted: the default spec is the same')
  .action((flags: { bundle: string }) => {
    const file = path.join(flags.bundle, 'config.json');
    if (existsSync(file)) throw new UsageError('File config.json exists. Remove it first.');
    writeFileSync(file, `${JSON.stringify(defaultOciSpec(), null, '\t')}\n`);
  });

for (const verb of ['checkpoint', 'restore']) {
  program
    .command(verb)
    .description('not supported')
    .allowUnknownOption()
    .argument('[args...]')
    .action(() => {
      throw new UsageError(`${verb} is not supported by hull-runc`);
    });
}

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    if (err.exitCode === 0) process.exit(0); // --help, --version
    log().error(err.message.replace(/^error: /, ''));
    process.exit(1);
  }
  const message = err instanceof Error ? err.message : String(err);
  log().error(message);
  if (globals().debug && err instanceof Error && err.stack) log().write('debug', err.stack);
  process.exit(1);
});
