/**
 * The checks of values that enter the library, made once and before anything is created: names
 * (containers, volumes, networks), the hostname, and paths. A limit is either one Docker checks
 * (with Docker's message) or one the kernel would enforce deep inside — HOST_NAME_MAX at
 * sethostname, NAME_MAX and PATH_MAX at the first open — said up front instead of as an errno
 * from step 45 of a container's start-up. The CLI parses flags into typed options; these validate
 * the typed values (Runtime.create, rename, volume and network create call them), so library
 * users get the same answers.
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import type { MountRequest } from '../volume/flags.js';

/** Docker's characters for container and volume names (daemon/names: RestrictedNameChars). */
export const RESTRICTED_NAME_CHARS = '[a-zA-Z0-9][a-zA-Z0-9_.-]';
/** Docker's pattern: a leading character of the first class, then at least one more. */
const RESTRICTED_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
/** The same characters, one or more: what hull has stored as names (network names; old one-character container names). */
const STORED_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** A directory entry's longest name (NAME_MAX): every name becomes a file or directory under the store. */
export const NAME_MAX = 255;
/** The longest path the kernel takes (PATH_MAX less its terminating NUL), in bytes. */
export const PATH_MAX = 4095;
/** Linux's HOST_NAME_MAX, in bytes (Docker's maxHostnameLen). */
export const HOST_NAME_MAX = 64;

/** An RFC 1123 label: letters, digits and hyphens, neither first nor last a hyphen. */
const LABEL = '[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?';
const HOSTNAME = new RegExp(`^(?:${LABEL}\\.)*${LABEL}$`);

const byteLength = (s: string) => Buffer.byteLength(s, 'utf8');

/**
 * A value as messages show it, on one line: control characters escaped (\n, \u0000), a long one cut
 * so a 10,000-character name is not echoed whole.
 */
export function shown(value: string, max = 80): string {
  const cut = value.length <= max ? value : `${value.slice(0, max - 16)}... (${value.length} characters)`;
  return cut.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1));
}

/** Go's %q, near enough for messages copied from Docker. */
const quoted = (value: string) => `"${shown(value).replace(/"/g, '\\"')}"`;

// ---- names ---------------------------------------------------------------------------------------

/**
 * A container name as Docker takes it (`^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$`), at most NAME_MAX
 * characters (it is a file in the store). Returns the name without its leading '/'.
 */
export function validateContainerName(name: string): string {
  const bare = name.startsWith('/') ? name.slice(1) : name;
  if (bare.length > NAME_MAX) throw new UsageError(`Invalid container name (${shown(name)}), at most ${NAME_MAX} characters are allowed`);
  if (!RESTRICTED_NAME.test(bare)) throw new UsageError(`Invalid container name (${shown(name)}), only ${RESTRICTED_NAME_CHARS} are allowed`);
  return bare;
}

/**
 * Whether `name` can be a stored name at all (for lookups: one that cannot exist is simply not
 * found, never an ENAMETOOLONG or a path outside the store). Wider than the creation rules, so
 * names made by older hulls (one character) are still found.
 */
export function isStorableName(name: string): boolean {
  return name.length <= NAME_MAX && STORED_NAME.test(name);
}

/** A local volume's name, with the local driver's messages (daemon/volume/local: validateName). */
export function validateVolumeName(name: string): void {
  if (name.length === 1) throw new UsageError('volume name is too short, names should be at least two alphanumeric characters');
  if (name.length > NAME_MAX) throw new UsageError(`volume name is too long (${name.length} characters), names should be at most ${NAME_MAX} characters`);
  if (!RESTRICTED_NAME.test(name)) {
    throw new UsageError(`${quoted(name)} includes invalid characters for a local volume name, only "${RESTRICTED_NAME_CHARS}" are allowed. ` +
      'If you intended to pass a host directory, use absolute path');
  }
}

/**
 * A network's name. Docker refuses only an empty one; hull keeps each network in a directory
 * named after it, so it takes Docker's name characters and at most NAME_MAX of them.
 */
export function validateNetworkName(name: string): void {
  if (name === '') throw new UsageError('invalid name: name is empty');
  if (name.length > NAME_MAX) throw new UsageError(`invalid network name ${quoted(name)}: at most ${NAME_MAX} characters are allowed`);
  if (!STORED_NAME.test(name)) throw new UsageError(`invalid network name ${quoted(name)}: only ${RESTRICTED_NAME_CHARS} are allowed`);
}

// ---- hostname ------------------------------------------------------------------------------------

/**
 * `-h/--hostname`: at most HOST_NAME_MAX bytes (Docker's check and message; sethostname's limit)
 * and RFC 1123 labels joined by dots (the check and message of Docker's CLI before 1.13): the
 * name is written into the container's /etc/hosts, where a space or a newline would add entries.
 * As in Docker, 64 bytes is accepted even as one label.
 */
export function validateHostname(hostname: string): void {
  if (hostname === '') throw new UsageError('invalid hostname format: the hostname is empty (leave it out for the default, the container\'s short id)');
  if (byteLength(hostname) > HOST_NAME_MAX) throw new UsageError(`hostname ${quoted(hostname)} is too long (maximum ${HOST_NAME_MAX} bytes)`);
  if (!HOSTNAME.test(hostname)) throw new UsageError(`invalid hostname format: ${shown(hostname)}`);
}

// ---- paths ---------------------------------------------------------------------------------------

/** Why `p` is no path the kernel takes (a NUL, PATH_MAX, NAME_MAX), or undefined. */
function pathLimit(p: string): string | undefined {
  if (p.includes('\0')) return 'it holds a NUL byte';
  const total = byteLength(p);
  if (total > PATH_MAX) return `it is ${total} bytes long, a path has at most ${PATH_MAX}`;
  const long = p.split('/').find((part) => byteLength(part) > NAME_MAX);
  if (long !== undefined) return `its component '${shown(long, 40)}' is ${byteLength(long)} bytes long, a file name has at most ${NAME_MAX}`;
  return undefined;
}

/** `-w/--workdir`: absolute (Docker's message), and a path the kernel takes. */
export function validateWorkdir(dir: string): void {
  if (!path.posix.isAbsolute(dir)) throw new UsageError(`the working directory '${shown(dir)}' is invalid, it needs to be an absolute path`);
  const why = pathLimit(dir);
  if (why) throw new UsageError(`the working directory '${shown(dir)}' is invalid: ${why}`);
}

/**
 * A mount's path in the container: absolute, not '/', not under /proc (Docker's messages), a
 * path the kernel takes. `what` names the flag for messages. Returns it cleaned.
 */
export function validateMountTarget(target: string, what: string): string {
  if (target === '') throw new UsageError(`invalid ${what}: the container path is empty`);
  if (target.includes('\0')) throw new UsageError(`invalid ${what}: the container path holds a NUL byte`);
  if (!path.posix.isAbsolute(target)) throw new UsageError(`invalid ${what}: invalid mount path: '${shown(target)}' mount path must be absolute`);
  const clean = path.posix.normalize(target).replace(/(.)\/+$/, '$1');
  if (clean === '/') throw new UsageError(`invalid ${what}: destination can't be '/'`);
  // As Docker: /proc is the runtime's (its masked and read-only paths live there).
  if (clean === '/proc' || clean.startsWith('/proc/')) throw new UsageError(`invalid ${what}: ${shown(clean)} cannot be mounted because it is located inside "/proc"`);
  const why = pathLimit(clean);
  if (why) throw new UsageError(`invalid ${what}: the container path '${shown(clean)}' is invalid: ${why}`);
  return clean;
}

/** A bind mount's host path: absolute (Docker's message) and a path the kernel takes. Returns it cleaned. */
export function validateHostPath(source: string, what: string): string {
  if (source.includes('\0')) throw new UsageError(`invalid ${what}: the host path holds a NUL byte`);
  if (!path.posix.isAbsolute(source)) throw new UsageError(`invalid ${what}: invalid mount path: '${shown(source)}' mount path must be absolute`);
  const clean = path.posix.normalize(source).replace(/(.)\/+$/, '$1');
  const why = pathLimit(clean);
  if (why) throw new UsageError(`invalid ${what}: the host path '${shown(clean)}' is invalid: ${why}`);
  return clean;
}

// ---- a container's options -----------------------------------------------------------------------

/** The parts of CreateOptions checked here (the rest are checked where they are parsed or used). */
export interface ValidatedCreateOptions {
  name?: string;
  hostname?: string;
  workdir?: string;
  mounts?: readonly MountRequest[];
}

/** Everything about a new container that can be judged before anything is made. */
export function validateCreateOptions(opts: ValidatedCreateOptions): void {
  if (opts.name !== undefined) validateContainerName(opts.name);
  if (opts.hostname !== undefined) validateHostname(opts.hostname);
  if (opts.workdir !== undefined) validateWorkdir(opts.workdir);
  for (const m of opts.mounts ?? []) {
    const what = m.type !== 'tmpfs' && m.spec !== undefined ? `volume specification '${shown(m.spec)}'` : `mount config for type "${m.type}"`;
    validateMountTarget(m.target, what);
    if (m.type === 'bind') validateHostPath(m.source, what);
    if (m.type === 'volume' && m.name !== undefined) validateVolumeName(m.name);
  }
}
