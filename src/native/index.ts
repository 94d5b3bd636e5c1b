import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HostUnsupportedError, SystemError } from '../errors.js';
import type { NativeAddon, RelayOptions } from './types.js';

export type * from './types.js';

let loaded: NativeAddon | undefined;

/** The addon, loaded on first use (so unit tests that never touch it do not need it built). */
export function native(): NativeAddon {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const here = path.dirname(fileURLToPath(import.meta.url));
  // dist/native/ and src/native/ (tests) are two levels below the package root; the bundled CLI
  // (dist/hull-cli.cjs) is one.
  const candidates = ['../../build/Release/hull.node', '../build/Release/hull.node'].map((p) => path.resolve(here, p));
  const candidate = candidates.find((p) => existsSync(p)) ?? candidates[0]!;
  try {
    loaded = require(candidate) as NativeAddon;
  } catch (err) {
    throw new HostUnsupportedError(`cannot load hull's native addon at ${candidate} (run 'npm run build:native'): ${(err as Error).message}`);
  }
  // A watched process that ends while Node tears itself down (JavaScript no longer allowed) must
  // not call back: an `exec -d` whose command ends as hull exits aborted hull (exit 134) without this.
  const addon = loaded;
  process.once('exit', () => addon.stopExitWatches());
  return loaded;
}

interface NativeErrorFields {
  syscall?: string;
  path?: string;
  code?: string;
}

/** Turns an Error thrown by the addon (with syscall/path/code) into a SystemError. */
export function toSystemError(err: Error): Error;
export function toSystemError(err: unknown): unknown;
export function toSystemError(err: unknown): unknown {
  if (err instanceof Error) {
    const f = err as Error & NativeErrorFields;
    if (typeof f.syscall === 'string' && typeof f.code === 'string') {
      const se = new SystemError(f.syscall, f.path, f.code);
      (se as { cause?: unknown }).cause = err;
      return se;
    }
  }
  return err;
}

function wrap<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
  return (...args: A) => {
    try {
      return fn(...args);
    } catch (err) {
      throw toSystemError(err);
    }
  };
}

/** 1:1 wrappers of system calls Node lacks; each throws SystemError (syscall, path, errno name). */
export const sys = {
  mknod: wrap((p: string, mode: number, major: number, minor: number) => native().mknod(p, mode, major, minor)),
  lsetxattr: wrap((p: string, name: string, value: Buffer, flags: number) => native().lsetxattr(p, name, value, flags)),
  lgetxattr: wrap((p: string, name: string) => native().lgetxattr(p, name)),
  llistxattr: wrap((p: string) => native().llistxattr(p)),
  mount: wrap((source: string, target: string, fstype: string, flags: number, data: string) => native().mount(source, target, fstype, flags, data)),
  umount2: wrap((target: string, flags: number) => native().umount2(target, flags)),
  bridgePortUp: wrap((bridge: string, port: string) => native().bridgePortUp(bridge, port)),
  setWindowSize: wrap((fd: number, rows: number, cols: number) => native().setWindowSize(fd, rows, cols)),
  flock: wrap((fd: number, operation: number) => native().flock(fd, operation)),
  pipe: wrap(() => native().pipe()),
  listenUnix: wrap((p: string) => native().listenUnix(p)),
  sendFdTo: wrap((p: string, fd: number, name: string) => native().sendFdTo(p, fd, name)),
  pidfdOpen: wrap((pid: number) => native().pidfdOpen(pid)),
  openInRoot: wrap((root: string, p: string, flags: number, mode: number) => native().openInRoot(root, p, flags, mode)),
  readlinkFd: wrap((fd: number) => native().readlinkFd(fd)),
  openUserns: wrap((uidMap: string, gidMap: string) => native().openUserns(uidMap, gidMap)),
  idmapMount: wrap((source: string, target: string, usernsFd: number) => native().idmapMount(source, target, usernsFd)),
  attachDeviceFilter: wrap((cgroupDir: string, program: Buffer) => native().attachDeviceFilter(cgroupDir, program)),
  pidfdSignal: wrap((pidfd: number, signal: number) => native().pidfdSignal(pidfd, signal)),
  /** A relay thread (native/relay.cc): `done` settles at its end with the bytes copied; `stop` ends it early. */
  relay(from: number, to: number, options: RelayOptions): { done: Promise<number>; stop: () => void } {
    let settle: (err: Error | null, bytes: number) => void = () => undefined;
    const done = new Promise<number>((resolve, reject) => {
      settle = (err, bytes) => (err ? reject(toSystemError(err)) : resolve(bytes));
    });
    const stop = wrap(() => native().relay(from, to, options, settle))();
    return { done, stop };
  },
  pidfdWait: async (pidfd: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> => {
    try {
      return await native().pidfdWait(pidfd, timeoutMs, signal);
    } catch (err) {
      throw toSystemError(err);
    }
  },
};

/** The monitor executable (native/monitor.cc), built next to the addon. */
export function monitorPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = ['../../build/Release/hull-monitor', '../build/Release/hull-monitor'].map((p) => path.resolve(here, p));
  const found = candidates.find((p) => existsSync(p));
  if (found === undefined) throw new HostUnsupportedError(`hull-monitor is not built (looked at ${candidates[0]}; run 'npm run build:native')`);
  return found;
}

/** The tiny init for `--init` (native/init.cc), built next to the addon. */
export function initPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = ['../../build/Release/hull-init', '../build/Release/hull-init'].map((p) => path.resolve(here, p));
  const found = candidates.find((p) => existsSync(p));
  if (found === undefined) throw new HostUnsupportedError(`hull-init is not built (looked at ${candidates[0]}; run 'npm run build:native')`);
  return found;
}

/** A pod's infra process (native/pause.c), built next to the addon: the one file of the pause image (src/pods/pause-image.ts). */
export function pausePath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = ['../../build/Release/hull-pause', '../build/Release/hull-pause'].map((p) => path.resolve(here, p));
  const found = candidates.find((p) => existsSync(p));
  if (found === undefined) throw new HostUnsupportedError(`hull-pause is not built (looked at ${candidates[0]}; run 'npm run build:native')`);
  return found;
}

/** The CLI entry (bin/hull.cjs) of this installation, for commands the monitor runs after an exit. */
export function cliPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = ['../../bin/hull.cjs', '../bin/hull.cjs'].map((p) => path.resolve(here, p));
  return candidates.find((p) => existsSync(p)) ?? candidates[0]!;
}

export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;
export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;
export const MNT_DETACH = 2;
