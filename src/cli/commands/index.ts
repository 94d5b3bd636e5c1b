import type { Command } from 'commander';

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
  load: async () => (await import('./load.js')).registerLoad,
  build: async () => (await import('./build.js')).registerBuild,
  images: async () => (await import('./images.js')).registerImages,
  image: async () => (await import('./image.js')).registerImageVerbs,
  rmi: async () => (await import('./image.js')).registerImageVerbs,
  tag: async () => (await import('./image.js')).registerImageVerbs,
  history: async () => (await import('./image.js')).registerImageVerbs,
  save: async () => (await import('./image.js')).registerImageVerbs,
  system: async () => (await import('./system.js')).registerSystem,
  events: async () => (await import('./events.js')).registerEvents,
  ps: async () => (await import('./ps.js')).registerPs,
  rm: async () => (await import('./rm.js')).registerRm,
  update: async () => (await import('./update.js')).registerUpdate,
  pause: async () => (await import('./pause.js')).registerPause,
  unpause: async () => (await import('./pause.js')).registerPause,
  stats: async () => (await import('./stats.js')).registerStats,
  top: async () => (await import('./stats.js')).registerStats,
  volume: async () => (await import('./volume.js')).registerVolume,
  network: async () => (await import('./network.js')).registerNetwork,
  port: async () => (await import('./network.js')).registerPort,
  pull: async () => (await import('./pull.js')).registerPull,
  push: async () => (await import('./push.js')).registerPush,
  login: async () => (await import('./login.js')).registerLogin,
  logout: async () => (await import('./login.js')).registerLogin,
};

/**
 * Define the verbs on `program`: only `verb`'s when it is a known one (defining all thirty costs
 * about a millisecond of every start-up), every verb for help, no verb, or an unknown one.
 */
export async function registerCommands(program: Command, verb?: string): Promise<void> {
  const only = verb === undefined ? undefined : VERBS[verb];
  const registers = only ? [await only()] : [...new Set(await Promise.all(Object.values(VERBS).map((load) => load())))];
  for (const register of registers) register(program);
}

/** The verb in argv: the first word after the global options (which take a value unless --debug). */
export function verbOf(argv: readonly string[]): string | undefined {
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--debug') continue;
    if (arg === '--root' || arg === '--run-root') {
      i++;
      continue;
    }
    if (arg.startsWith('--root=') || arg.startsWith('--run-root=')) continue;
    return arg.startsWith('-') ? undefined : arg;
  }
  return undefined;
}
