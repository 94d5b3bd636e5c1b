import type { Command } from 'commander';
import { registerAttach } from './attach.js';
import { registerBuild } from './build.js';
import { registerCp } from './cp.js';
import { registerCreate } from './create.js';
import { registerExec } from './exec.js';
import { registerImages } from './images.js';
import { registerImageVerbs } from './image.js';
import { registerSystem } from './system.js';
import { registerContainerInspect } from './container-inspect.js';
import { registerKill } from './kill.js';
import { registerLoad } from './load.js';
import { registerLogin } from './login.js';
import { registerPull } from './pull.js';
import { registerPush } from './push.js';
import { registerLogs } from './logs.js';
import { registerPs } from './ps.js';
import { registerRename } from './rename.js';
import { registerRm } from './rm.js';
import { registerRun } from './run.js';
import { registerStart } from './start.js';
import { registerStop } from './stop.js';
import { registerPause } from './pause.js';
import { registerStats } from './stats.js';
import { registerUpdate } from './update.js';
import { registerWait } from './wait.js';
import { registerVolume } from './volume.js';
import { registerNetwork, registerPort } from './network.js';

type Register = (program: Command) => void;

/** Every verb, with the function that defines it (one function may define several verbs). */
const VERBS: Readonly<Record<string, Register>> = {
  run: registerRun,
  create: registerCreate,
  start: registerStart,
  exec: registerExec,
  attach: registerAttach,
  cp: registerCp,
  stop: registerStop,
  restart: registerStop,
  kill: registerKill,
  wait: registerWait,
  logs: registerLogs,
  inspect: registerContainerInspect,
  rename: registerRename,
  load: registerLoad,
  build: registerBuild,
  images: registerImages,
  image: registerImageVerbs,
  rmi: registerImageVerbs,
  tag: registerImageVerbs,
  history: registerImageVerbs,
  save: registerImageVerbs,
  system: registerSystem,
  ps: registerPs,
  rm: registerRm,
  update: registerUpdate,
  pause: registerPause,
  unpause: registerPause,
  stats: registerStats,
  top: registerStats,
  volume: registerVolume,
  network: registerNetwork,
  port: registerPort,
  pull: registerPull,
  push: registerPush,
  login: registerLogin,
  logout: registerLogin,
};

/**
 * Define the verbs on `program`: only `verb`'s when it is a known one (defining all thirty costs
 * about a millisecond of every start-up), every verb for help, no verb, or an unknown one.
 */
export function registerCommands(program: Command, verb?: string): void {
  const only = verb === undefined ? undefined : VERBS[verb];
  const registers = only ? [only] : [...new Set(Object.values(VERBS))];
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
