import { Command } from 'commander';

type Register = (program: Command) => void;

/**
 * Every verb, with a loader of the function that defines it (one function may define several
 * verbs). Loaded on demand: a verb's module and what only it imports (build's Dockerfile code,
 * the registry client, …) are not evaluated when another verb runs.
 */
const VERBS: Readonly<Record<string, () => Promise<Register>>> = {
  run: async () => (await import('./run.js')).registerRun,
  create: async () => (await import('./create.js')).registerCreate,
  start: async () => (await import('./start.js')).registerStart,
  exec: async () => (await import('./exec.js')).registerExec,
  attach: async () => (await import('./attach.js')).registerAttach,
  cp: async () => (await import('./cp.js')).registerCp,
  stop: async () => (await import('./stop.js')).registerStop,
  restart: async () => (await import('./stop.js')).registerStop,
  kill: async () => (await import('./kill.js')).registerKill,
  wait: async () => (await import('./wait.js')).registerWait,
  logs: async () => (await import('./logs.js')).registerLogs,
  inspect: async () => (await import('./container-inspect.js')).registerContainerInspect,
  rename: async () => (await import('./rename.js')).registerRename,
  commit: async () => (await import('./commit.js')).registerCommit,
  diff: async () => (await import('./diff.js')).registerDiff,
  export: async () => (await import('./export.js')).registerExport,
  import: async () => (await import('./import.js')).registerImport,
  load: async () => (await import('./load.js')).registerLoad,
  build: async () => (await import('./build.js')).registerBuild,
  images: async () => (await import('./images.js')).registerImages,
  rmi: async () => (await import('./rmi.js')).registerRmi,
  tag: async () => (await import('./tag.js')).registerTag,
  history: async () => (await import('./history.js')).registerHistory,
  save: async () => (await import('./save.js')).registerSave,
  info: async () => (await import('./info.js')).registerInfo,
  version: async () => (await import('./version.js')).registerVersion,
  events: async () => (await import('./events.js')).registerEvents,
  ps: async () => (await import('./ps.js')).registerPs,
  rm: async () => (await import('./rm.js')).registerRm,
  update: async () => (await import('./update.js')).registerUpdate,
  pause: async () => (await import('./pause.js')).registerPause,
  unpause: async () => (await import('./pause.js')).registerPause,
  stats: async () => (await import('./stats.js')).registerStats,
  top: async () => (await import('./stats.js')).registerStats,
  volume: async () => (await import('./volume.js')).registerVolume,
  kube: async () => (await import('./kube.js')).registerKube,
  network: async () => (await import('./network.js')).registerNetwork,
  port: async () => (await import('./network.js')).registerPort,
  pull: async () => (await import('./pull.js')).registerPull,
  push: async () => (await import('./push.js')).registerPush,
  login: async () => (await import('./login.js')).registerLogin,
  logout: async () => (await import('./login.js')).registerLogin,
  pod: async () => (await import('./pod.js')).registerPod,
  'health-monitor': async () => (await import('./health-monitor.js')).registerHealthMonitor,
};

/**
 * A subcommand of a group (`container ls`): the name and aliases it answers to, the loader of the
 * register function that defines it, and the name that function gives it (renamed to `name`).
 */
interface Sub {
  readonly name: string;
  readonly aliases?: readonly string[];
  readonly load: () => Promise<Register>;
  readonly defines: string;
}

/** A top-level verb as a subcommand: `sub('ls', 'ps', ['ps', 'list'])` is `container ls` made by `ps`'s register. */
const verb = (name: string, from = name, aliases: readonly string[] = []): Sub => ({ name, aliases, load: VERBS[from]!, defines: from });

/**
 * Docker's management commands. Each is a group whose subcommands run the same code as the
 * top-level verbs; only the subcommand in argv has its module loaded (all of them for help).
 */
const GROUPS: Readonly<Record<string, { description: string; subs: readonly Sub[] }>> = {
  container: {
    description: 'manage containers',
    subs: [
      verb('ls', 'ps', ['ps', 'list']),
      verb('rm', 'rm', ['remove']),
      ...['inspect', 'run', 'create', 'start', 'stop', 'restart', 'kill', 'exec', 'logs', 'attach', 'cp', 'top', 'stats'].map((v) => verb(v)),
      ...['pause', 'unpause', 'rename', 'update', 'wait', 'port', 'commit', 'diff', 'export'].map((v) => verb(v)),
      { name: 'prune', load: async () => (await import('./container-prune.js')).registerContainerPrune, defines: 'prune' },
    ],
  },
  image: {
    description: 'manage images',
    subs: [
      verb('ls', 'images', ['list']),
      { name: 'rm', aliases: ['remove'], load: VERBS.rmi!, defines: 'rmi' },
      { name: 'inspect', load: async () => (await import('./image-inspect.js')).registerImageInspect, defines: 'inspect' },
      ...['tag', 'history', 'save', 'load', 'pull', 'push', 'build', 'import'].map((v) => verb(v)),
      { name: 'prune', load: async () => (await import('./image.js')).registerImagePrune, defines: 'prune' },
    ],
  },
  system: {
    description: 'manage hull',
    subs: [
      { name: 'df', load: async () => (await import('./system.js')).registerSystemDf, defines: 'df' },
      { name: 'prune', load: async () => (await import('./system.js')).registerSystemPrune, defines: 'prune' },
      { name: 'check', load: async () => (await import('./system.js')).registerSystemCheck, defines: 'check' },
      { name: 'service', load: async () => (await import('./service.js')).registerSystemService, defines: 'service' },
      verb('info'),
      verb('events'),
    ],
  },
};

/** The subcommand names of a group, aliases included (what `hull container --help` lists, for tests). */
export function groupSubcommands(group: string): string[] {
  return (GROUPS[group]?.subs ?? []).flatMap((s) => [s.name, ...(s.aliases ?? [])]);
}

/** Defines `group` with the subcommands `word` names (all of them when it names none). */
async function registerGroup(program: Command, group: string, word: string | undefined): Promise<void> {
  const spec = GROUPS[group]!;
  const cmd = program.command(group).description(spec.description);
  const wanted = spec.subs.filter((s) => s.name === word || s.aliases?.includes(word ?? ''));
  for (const sub of wanted.length > 0 ? wanted : spec.subs) {
    // The register function defines its verb on a scratch parent with the group's settings; the
    // command is then renamed and moved under the group (a register that defines two verbs, as
    // stop's defines stop and restart, leaves the other on the scratch).
    const scratch = new Command();
    scratch.copyInheritedSettings(cmd);
    (await sub.load())(scratch);
    const made = scratch.commands.find((c) => c.name() === sub.defines);
    if (!made) throw new Error(`${group} ${sub.name}: its register defined no ${sub.defines}`);
    made.name(sub.name);
    if (sub.aliases && sub.aliases.length > 0) made.aliases([...sub.aliases]);
    cmd.addCommand(made);
  }
}

/**
 * Define the verbs on `program`: only `verb`'s when it is a known one (defining all thirty costs
 * about a millisecond of every start-up), every verb for help, no verb, or an unknown one. For a
 * group, `sub` (the word after it) picks the subcommand.
 */
export async function registerCommands(program: Command, verb?: string, sub?: string): Promise<void> {
  if (verb !== undefined && GROUPS[verb] !== undefined) return registerGroup(program, verb, sub);
  const only = verb === undefined ? undefined : VERBS[verb];
  if (only) {
    (await only())(program);
    return;
  }
  const registers = [...new Set(await Promise.all(Object.values(VERBS).map((load) => load())))];
  for (const register of registers) register(program);
  for (const group of Object.keys(GROUPS)) await registerGroup(program, group, undefined);
}

/** The verb in argv: the first word after the global options (which take a value unless --debug). */
export function verbOf(argv: readonly string[]): string | undefined {
  const i = verbIndex(argv);
  return i === undefined ? undefined : argv[i];
}

/** The word after a verb that is a group (`ls` in `container ls`), when it is the next argument. */
export function subverbOf(argv: readonly string[]): string | undefined {
  const i = verbIndex(argv);
  const next = i === undefined ? undefined : argv[i + 1];
  return next === undefined || next.startsWith('-') ? undefined : next;
}

function verbIndex(argv: readonly string[]): number | undefined {
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--debug') continue;
    if (arg === '--root' || arg === '--run-root') {
      i++;
      continue;
    }
    if (arg.startsWith('--root=') || arg.startsWith('--run-root=')) continue;
    return arg.startsWith('-') ? undefined : i;
  }
  return undefined;
}
