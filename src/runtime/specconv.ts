/**
 * specconv: an image's config plus `run` flags become an OCI runtime-spec config.json, exactly as
 * Docker derives a container from an image (Entrypoint/Cmd, Env, WorkingDir, User, hostname).
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import { DEFAULT_CAPABILITIES } from './capabilities.js';
import { DEFAULT_PATH } from './plan.js';
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS, OCI_VERSION, type RuntimeSpec, type SpecResources, defaultMounts } from './spec.js';
import type { ResolvedUser } from './user.js';

/** The part of an OCI image config that decides how a container runs. */
export interface ImageRunConfig {
  config?: {
    User?: string;
    Env?: string[] | null;
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
  };
}

export interface ProcessOptions {
  /** Replaces the image's Cmd when given (non-empty). */
  cmd?: string[];
  /** Replaces the image's Entrypoint (and drops its Cmd, as Docker does); [] clears it. */
  entrypoint?: string[];
  /** KEY=VALUE entries, applied over the image's Env (Docker's Env; src/options/env.ts reads `-e` and env files). */
  env?: string[];
  workdir?: string;
  tty?: boolean;
  consoleSize?: { rows: number; cols: number };
}

export interface SpecInputs extends ProcessOptions {
  image: ImageRunConfig;
  user: ResolvedUser;
  hostname: string;
  rootfsPath: string;
  annotations?: Record<string, string>;
  /** linux.resources: the cgroup limits. */
  resources?: SpecResources;
}

/** The command: Docker's Entrypoint/Cmd rules. */
export function resolveArgs(image: ImageRunConfig, opts: ProcessOptions): string[] {
  const cfg = image.config ?? {};
  let entrypoint = cfg.Entrypoint ?? [];
  let cmd = cfg.Cmd ?? [];
  if (opts.entrypoint !== undefined) {
    entrypoint = opts.entrypoint;
    cmd = [];
  }
  if (opts.cmd !== undefined && opts.cmd.length > 0) cmd = opts.cmd;
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) throw new UsageError('no command specified');
  return args;
}

function envKey(entry: string): string {
  const eq = entry.indexOf('=');
  return eq < 0 ? entry : entry.slice(0, eq);
}

/** Merge env lists: later entries replace earlier ones with the same key; order of first appearance kept. */
export function mergeEnv(...lists: (readonly string[])[]): string[] {
  const out = new Map<string, string>();
  for (const list of lists) for (const entry of list) out.set(envKey(entry), entry);
  return [...out.values()];
}

export function buildSpec(inputs: SpecInputs): RuntimeSpec {
  const cfg = inputs.image.config ?? {};
  const imageEnv = cfg.Env ?? [];
  const base = [`PATH=${DEFAULT_PATH}`, `HOSTNAME=${inputs.hostname}`];
  if (inputs.tty) base.push('TERM=xterm');
  let env = mergeEnv(base, imageEnv, inputs.env ?? []);
  if (!env.some((e) => envKey(e) === 'HOME')) env = [...env, `HOME=${inputs.user.home || '/'}`];

  const cwd = inputs.workdir ?? (cfg.WorkingDir || '/');
  if (!path.posix.isAbsolute(cwd)) {
    throw new UsageError(`the working directory '${cwd}' is invalid, it needs to be an absolute path`);
  }

  const isRoot = inputs.user.uid === 0;
  const caps = [...DEFAULT_CAPABILITIES];
  const spec: RuntimeSpec = {
    ociVersion: OCI_VERSION,
    process: {
      terminal: inputs.tty ?? false,
      user: { uid: inputs.user.uid, gid: inputs.user.gid, additionalGids: inputs.user.additionalGids },
      args: resolveArgs(inputs.image, inputs),
      env,
      cwd: path.posix.normalize(cwd),
      // As Docker: a non-root user keeps the bounding set but starts with no effective capabilities.
      capabilities: {
        bounding: caps,
        effective: isRoot ? caps : [],
        permitted: isRoot ? caps : [],
        inheritable: [],
        ambient: [],
      },
      noNewPrivileges: false,
    },
    root: { path: inputs.rootfsPath, readonly: false },
    hostname: inputs.hostname,
    mounts: defaultMounts(),
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }],
      maskedPaths: [...DEFAULT_MASKED_PATHS],
      readonlyPaths: [...DEFAULT_READONLY_PATHS],
    },
  };
  if (inputs.tty && inputs.consoleSize) {
    spec.process.consoleSize = { height: inputs.consoleSize.rows, width: inputs.consoleSize.cols };
  }
  if (inputs.resources) spec.linux.resources = structuredClone(inputs.resources);
  if (inputs.annotations) spec.annotations = { ...inputs.annotations };
  return spec;
}
