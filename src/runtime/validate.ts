/**
 * The checks of values that enter the library, made once and before anything is created: names
 * (containers, volumes, networks), the hostname, paths, and the typed values of a container's
 * options (ports, restart policy, log, devices, id maps, addresses). A limit is either one Docker
 * checks (with Docker's message) or one the kernel would enforce deep inside — HOST_NAME_MAX at
 * sethostname, NAME_MAX and PATH_MAX at the first open — said up front instead of as an errno
 * from step 45 of a container's start-up. The CLI and the API parse Docker's syntax into typed
 * options (src/options/); these validate the typed values (Runtime.create, rename, volume and
 * network create call them), so library users get the same answers.
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import { parseIp } from '../network/ipv4.js';
import type { CreateOptions } from './create-options.js';
import { RESTART_POLICIES } from './plan-codec.js';
import { parseSignal } from './signals.js';
import { sysctlPath } from './sysctls.js';
import { ULIMIT_TYPES } from './ulimits.js';
import { validateHealthcheck } from './health.js';

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
export function shown(value: unknown, max = 80): string {
  // Options typed as strings may still arrive as anything from JSON (the API): shown, not trusted.
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? 'undefined');
  const cut = text.length <= max ? text : `${text.slice(0, max - 16)}... (${text.length} characters)`;
  // eslint-disable-next-line no-control-regex -- the control characters are what is escaped
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

/** A pod's name as Podman takes it: one character or more of Docker's name characters (a pod has no Docker rule). */
export function validatePodName(name: string): void {
  if (name.length > NAME_MAX) throw new UsageError(`name ${quoted(name)}: at most ${NAME_MAX} characters are allowed`);
  if (!STORED_NAME.test(name)) throw new UsageError(`name ${quoted(name)}: names must match ${RESTRICTED_NAME_CHARS}*: invalid argument`);
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
    throw new UsageError(
      `${quoted(name)} includes invalid characters for a local volume name, only "${RESTRICTED_NAME_CHARS}" are allowed. ` +
        'If you intended to pass a host directory, use absolute path',
    );
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
  if (hostname === '') throw new UsageError("invalid hostname format: the hostname is empty (leave it out for the default, the container's short id)");
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
  if (clean === '/proc' || clean.startsWith('/proc/'))
    throw new UsageError(`invalid ${what}: ${shown(clean)} cannot be mounted because it is located inside "/proc"`);
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

/** The parts of CreateOptions checked here (the rest are checked where they are used). */
export type ValidatedCreateOptions = Pick<
  CreateOptions,
  | 'name'
  | 'hostname'
  | 'workdir'
  | 'mounts'
  | 'restartPolicy'
  | 'log'
  | 'devices'
  | 'uidMap'
  | 'gidMap'
  | 'network'
  | 'ip'
  | 'ports'
  | 'exposed'
  | 'dns'
  | 'extraHosts'
  | 'entrypoint'
  | 'labels'
  | 'annotations'
  | 'ulimits'
  | 'shmSize'
  | 'sysctls'
  | 'stopSignal'
  | 'stopTimeout'
  | 'oomScoreAdj'
  | 'domainname'
  | 'deviceCgroupRules'
  | 'healthcheck'
  | 'detachKeys'
>;

/** Everything about a new container that can be judged before anything is made. */
export function validateCreateOptions(opts: ValidatedCreateOptions): void {
  if (opts.name !== undefined) validateContainerName(opts.name);
  if (opts.detachKeys !== undefined && !(Array.isArray(opts.detachKeys) && opts.detachKeys.every((k) => Number.isInteger(k) && k >= 0 && k <= 255)))
    throw new UsageError(`invalid detach keys ${JSON.stringify(opts.detachKeys)}: bytes (0 to 255) are needed`);
  if (opts.hostname !== undefined) validateHostname(opts.hostname);
  if (opts.workdir !== undefined) validateWorkdir(opts.workdir);
  for (const m of opts.mounts ?? []) {
    const what = m.type !== 'tmpfs' && m.spec !== undefined ? `volume specification '${shown(m.spec)}'` : `mount config for type "${m.type}"`;
    validateMountTarget(m.target, what);
    if (m.type === 'bind') validateHostPath(m.source, what);
    if (m.type === 'volume' && m.name !== undefined) validateVolumeName(m.name);
  }
  if (opts.entrypoint !== undefined && !Array.isArray(opts.entrypoint))
    throw new UsageError("invalid entrypoint: a list of strings is needed ([] clears the image's)");
  if (opts.restartPolicy !== undefined) validateRestartPolicy(opts.restartPolicy);
  if (opts.log !== undefined) validateLogConfig(opts.log);
  for (const d of opts.devices ?? []) validateDeviceMapping(d);
  for (const m of [...(opts.uidMap ?? []), ...(opts.gidMap ?? [])]) validateIdMapping(m);
  validateNetworkValues(opts);
  validateProcessSettings(opts);
  validateHealthcheck(opts.healthcheck);
}

const isStringMap = (m: unknown): boolean => typeof m === 'object' && m !== null && Object.values(m).every((v) => typeof v === 'string');

/** Labels, annotations, ulimits, /dev/shm's size, sysctls, the stop signal and timeout, the OOM score, the domain name (Docker's daemon's messages). */
function validateProcessSettings(opts: ValidatedCreateOptions): void {
  if (opts.labels !== undefined && !isStringMap(opts.labels)) throw new UsageError('invalid labels: a map of strings is needed');
  if (opts.annotations !== undefined && !isStringMap(opts.annotations)) throw new UsageError('invalid annotations: a map of strings is needed');
  if (opts.sysctls !== undefined && !isStringMap(opts.sysctls)) throw new UsageError('invalid sysctls: a map of strings is needed');
  for (const key of Object.keys(opts.sysctls ?? {})) sysctlPath(key);
  for (const u of opts.ulimits ?? []) {
    if (typeof u.name !== 'string' || !(u.name in ULIMIT_TYPES)) throw new UsageError(`invalid ulimit type: ${shown(u.name)}`);
    if (!Number.isInteger(u.soft) || !Number.isInteger(u.hard) || u.soft < -1 || u.hard < -1)
      throw new UsageError(`invalid ulimit ${shown(u.name)}: the limits must be whole numbers (-1: unlimited)`);
    if (u.hard !== -1 && (u.soft === -1 || u.soft > u.hard))
      throw new UsageError(`ulimit soft limit must be less than or equal to hard limit: ${String(u.soft)} > ${String(u.hard)}`);
  }
  for (const r of opts.deviceCgroupRules ?? []) {
    const num = (v: unknown) => v === undefined || (typeof v === 'number' && Number.isInteger(v) && v >= -1);
    if (!['a', 'b', 'c', undefined].includes(r.type) || !num(r.major) || !num(r.minor) || (r.access !== undefined && !/^[rwm]{1,3}$/.test(r.access)))
      throw new UsageError(`invalid device cgroup rule ${shown(JSON.stringify(r))}`);
  }
  if (opts.shmSize !== undefined && !isCount(opts.shmSize, 0)) throw new UsageError('SHM size can not be less than 0');
  if (opts.stopSignal !== undefined) parseSignal(opts.stopSignal);
  if (opts.stopTimeout !== undefined && (typeof opts.stopTimeout !== 'number' || !Number.isInteger(opts.stopTimeout)))
    throw new UsageError(`invalid stop timeout ${String(opts.stopTimeout)}: a whole number of seconds is needed`);
  if (opts.oomScoreAdj !== undefined && !(Number.isInteger(opts.oomScoreAdj) && opts.oomScoreAdj >= -1000 && opts.oomScoreAdj <= 1000))
    throw new UsageError(`Invalid value ${String(opts.oomScoreAdj)}, range for oom score adj is [-1000, 1000]`);
  // The kernel's limit for both names (__NEW_UTS_LEN); a domain name is made of host-name labels.
  if (opts.domainname !== undefined && opts.domainname !== '' && (byteLength(opts.domainname) > HOST_NAME_MAX || !HOSTNAME.test(opts.domainname)))
    throw new UsageError(`invalid domainname format: ${shown(opts.domainname)}`);
}

const isCount = (n: unknown, min: number, max = Number.MAX_SAFE_INTEGER): n is number => typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max;

/** Docker's HostConfig.RestartPolicy rules (its daemon's messages). */
export function validateRestartPolicy(p: NonNullable<CreateOptions['restartPolicy']>): void {
  if (!(RESTART_POLICIES as readonly string[]).includes(p.name)) {
    throw new UsageError(`invalid restart policy: unknown policy '${shown(p.name)}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
  if (!isCount(p.maximumRetryCount, 0))
    throw new UsageError(`invalid restart policy: maximum retry count must be a whole number >= 0, not ${String(p.maximumRetryCount)}`);
  if (p.maximumRetryCount > 0 && p.name !== 'on-failure')
    throw new UsageError(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
}

/** json-file's rotation: a size > 0, a count >= 1, more than one file only with a size. */
export function validateLogConfig(log: NonNullable<CreateOptions['log']>): void {
  if (log.driver !== undefined && !['json-file', 'local', 'none'].includes(log.driver))
    throw new UsageError(`failed to create container: logger: no log driver named '${shown(log.driver)}' is registered (hull has json-file, local and none)`);
  if (log.driver === 'none' && (log.maxSize !== undefined || log.maxFile !== undefined)) throw new UsageError('unknown log opt for none log driver');
  if (log.maxSize !== undefined && !isCount(log.maxSize, 1))
    throw new UsageError(`invalid log max-size ${String(log.maxSize)}: a number of bytes > 0 is needed`);
  if (log.maxFile !== undefined && !isCount(log.maxFile, 1)) throw new UsageError(`invalid log max-file ${String(log.maxFile)}: a number >= 1 is needed`);
  if ((log.maxFile ?? 1) > 1 && log.maxSize === undefined) throw new UsageError('--log-opt max-file needs max-size too');
}

/** A device mapping: absolute paths the kernel takes, permissions some of rwm. */
export function validateDeviceMapping(d: NonNullable<CreateOptions['devices']>[number]): void {
  const shownMapping = `${shown(d.hostPath)}:${shown(d.containerPath)}:${shown(d.permissions)}`;
  for (const p of [d.hostPath, d.containerPath]) {
    if (typeof p !== 'string' || !path.posix.isAbsolute(p)) throw new UsageError(`invalid device specification: ${shownMapping} (paths must be absolute)`);
    const why = pathLimit(p);
    if (why) throw new UsageError(`invalid device specification: ${shownMapping}: ${why}`);
  }
  if (typeof d.permissions !== 'string' || !/^[rwm]{1,3}$/.test(d.permissions)) throw new UsageError(`invalid device mode: ${shown(d.permissions)}`);
}

/** A user-namespace map range: whole numbers, at least one id, within the 32-bit id space. */
export function validateIdMapping(m: NonNullable<CreateOptions['uidMap']>[number]): void {
  const text = `${String(m.containerID)}:${String(m.hostID)}:${String(m.size)}`;
  if (!isCount(m.containerID, 0) || !isCount(m.hostID, 0) || !isCount(m.size, 1) || m.containerID + m.size > 2 ** 32 || m.hostID + m.size > 2 ** 32) {
    throw new UsageError(`invalid id mapping '${text}'`);
  }
}

/** Ports, addresses and the network mode's shape (the mode's rules are network/container-config.ts's). */
function validateNetworkValues(opts: ValidatedCreateOptions): void {
  const net = opts.network;
  if (net !== undefined && !['bridge', 'none', 'host', 'container', 'network'].includes(net.mode))
    throw new UsageError(`invalid network mode: ${shown(net.mode)}`);
  for (const p of opts.ports ?? []) {
    const text = `${p.hostIp ? `${p.hostIp}:` : ''}${p.hostPort}:${p.containerPort}/${p.proto}`;
    if (p.proto !== 'tcp' && p.proto !== 'udp') throw new UsageError(`invalid protocol: ${shown(p.proto)} (tcp or udp)`);
    if (!isCount(p.containerPort, 1, 65535)) throw new UsageError(`invalid container port: ${String(p.containerPort)} (in ${text})`);
    if (!isCount(p.hostPort, 0, 65535)) throw new UsageError(`invalid host port: ${String(p.hostPort)} (in ${text})`);
    if (p.hostIp !== '') parseIp(p.hostIp);
  }
  for (const e of opts.exposed ?? []) {
    if (e.proto !== 'tcp' && e.proto !== 'udp') throw new UsageError(`invalid protocol: ${shown(e.proto)} (tcp or udp)`);
    if (!isCount(e.port, 1, 65535)) throw new UsageError(`invalid exposed port: ${String(e.port)}`);
  }
  for (const h of opts.extraHosts ?? []) {
    // The name goes into /etc/hosts: white space or a newline would add entries.
    if (typeof h.host !== 'string' || h.host === '' || /[\s#]/.test(h.host))
      throw new UsageError(`invalid --add-host ${shown(h.host)}:${shown(h.ip)}: want NAME:IP`);
    if (h.ip !== 'host-gateway') parseIp(h.ip);
  }
  for (const d of opts.dns ?? []) parseIp(d);
  if (opts.ip !== undefined) parseIp(opts.ip);
}
