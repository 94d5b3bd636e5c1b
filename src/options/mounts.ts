/**
 * Docker's mount flags as typed requests: `-v/--volume`, `--mount`, `--tmpfs`, `--volumes-from`
 * (the API's Binds and Tmpfs strings take the `-v` and `--tmpfs` syntax). Parsing only: what each
 * flag asks for, checked the way Docker checks it (its messages where it has them). Turning
 * requests into volumes and runtime-spec mounts is src/volume/resolve.ts's work.
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import { shown, validateHostPath, validateMountTarget, validateVolumeName } from '../runtime/validate.js';
import { type MountRequest, PROPAGATIONS, type Propagation, type VolumesFromRequest, checkDuplicates } from '../volume/requests.js';

interface ParsedMode {
  readonly?: boolean;
  propagation?: Propagation;
  noCopy: boolean;
}

/** `-v`'s third field: rw|ro, z|Z, a propagation, nocopy; each kind at most once. */
function parseMode(mode: string, raw: string): ParsedMode {
  const out: ParsedMode = { noCopy: false };
  if (mode === '') return out;
  let rw = 0;
  let label = 0;
  let prop = 0;
  let copy = 0;
  for (const word of mode.split(',')) {
    if (word === 'rw' || word === 'ro') {
      rw++;
      out.readonly = word === 'ro';
    } else if (word === 'z' || word === 'Z') {
      label++; // SELinux relabelling: accepted, nothing to do without SELinux
    } else if ((PROPAGATIONS as readonly string[]).includes(word)) {
      prop++;
      out.propagation = word as Propagation;
    } else if (word === 'nocopy' || word === 'copy') {
      copy++;
      out.noCopy = word === 'nocopy';
    } else {
      throw new UsageError(`invalid mode: ${mode} (in volume specification '${raw}'; known: ro, rw, z, Z, ${PROPAGATIONS.join(', ')}, nocopy)`);
    }
  }
  if (rw > 1 || label > 1 || prop > 1 || copy > 1)
    throw new UsageError(`invalid mode: ${mode} (in volume specification '${raw}': each kind of option at most once)`);
  return out;
}

/** `-v SRC:DST[:MODE]`, `-v NAME:DST[:MODE]`, `-v DST` (Docker's linux parser). */
export function parseVolumeFlag(raw: string): MountRequest {
  const invalid = () => new UsageError(`invalid volume specification: '${raw}'`);
  const parts = raw.split(':');
  if (parts[0] === '' || parts.length > 3) throw invalid();
  let source: string | undefined;
  let target: string;
  let mode = '';
  if (parts.length === 1) {
    target = parts[0] as string;
  } else if (parts.length === 2) {
    // `/dst:ro` is not a volume: a volume cannot have a mode without a source.
    if (isMode(parts[1] as string, raw)) throw invalid();
    [source, target] = parts as [string, string];
  } else {
    [source, target, mode] = parts as [string, string, string];
    if (mode === '') throw new UsageError(`invalid mode: (empty, in volume specification '${raw}')`);
  }
  const what = `volume specification '${shown(raw)}'`;
  target = validateMountTarget(target, what);
  const m = parseMode(mode, raw);
  if (source !== undefined && path.posix.isAbsolute(source)) {
    if (m.noCopy) throw new UsageError(`invalid ${what}: nocopy applies to volumes, not to bind mounts`);
    return {
      type: 'bind',
      source: validateHostPath(source, what),
      target,
      readonly: m.readonly ?? false,
      propagation: m.propagation ?? 'rprivate',
      origin: 'volume-flag',
      mode,
      spec: raw,
    };
  }
  if (m.propagation !== undefined) throw new UsageError(`invalid ${what}: a propagation mode applies to bind mounts, not to volumes`);
  if (source !== undefined) validateVolumeName(source);
  return {
    type: 'volume',
    ...(source !== undefined ? { name: source } : {}),
    target,
    readonly: m.readonly ?? false,
    noCopy: m.noCopy,
    origin: 'volume-flag',
    mode: mode === '' ? 'z' : mode,
    spec: raw,
  };
}

function isMode(text: string, raw: string): boolean {
  try {
    parseMode(text, raw);
    return true;
  } catch {
    return false;
  }
}

function parseBool(key: string, value: string | undefined, raw: string): boolean {
  if (value === undefined) return true;
  const v = value.toLowerCase();
  if (['1', 'true', 't', 'yes'].includes(v)) return true;
  if (['0', 'false', 'f', 'no'].includes(v)) return false;
  throw new UsageError(`invalid value for ${key}: ${value} (in --mount ${raw}: use true or false)`);
}

/** Sizes as Docker's RAMInBytes: 64, 64k, 64m, 1g (units of 1024). */
export function parseSize(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(text.trim());
  if (!m) throw new UsageError(`invalid size for ${what}: '${text}' (use a number of bytes, or with k, m, g)`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[(m[2] ?? '').toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  const n = Math.floor(Number(m[1]) * unit);
  if (!Number.isSafeInteger(n)) throw new UsageError(`invalid size for ${what}: '${text}' is too large`);
  return n;
}

const TMPFS_DEFAULTS = ['noexec', 'nosuid', 'nodev'];

/** `--mount type=bind|volume|tmpfs,source=…,target=…,readonly,bind-propagation=…,tmpfs-size=…,tmpfs-mode=…,volume-nocopy`. */
export function parseMountFlag(raw: string): MountRequest {
  let type: string | undefined;
  let source: string | undefined;
  let target: string | undefined;
  let readonly = false;
  let propagation: Propagation | undefined;
  let noCopy = false;
  let size: number | undefined;
  let mode: number | undefined;
  const seen = new Set<string>();
  for (const field of raw.split(',')) {
    if (field === '') throw new UsageError(`invalid argument "${raw}" for "--mount" flag: empty field`);
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? undefined : field.slice(eq + 1);
    const canonical = { src: 'source', dst: 'target', destination: 'target', ro: 'readonly' }[key] ?? key;
    if (seen.has(canonical)) throw new UsageError(`invalid argument "${raw}" for "--mount" flag: ${key} given twice`);
    seen.add(canonical);
    const needValue = (): string => {
      if (value === undefined) throw new UsageError(`invalid field '${field}' must be a key=value pair`);
      return value;
    };
    switch (canonical) {
      case 'type':
        type = needValue();
        if (!['bind', 'volume', 'tmpfs'].includes(type))
          throw new UsageError(`invalid argument "${raw}" for "--mount" flag: unsupported mount type '${type}' (hull knows bind, volume, tmpfs)`);
        break;
      case 'source':
        source = needValue();
        break;
      case 'target':
        target = needValue();
        break;
      case 'readonly':
        readonly = parseBool(key, value, raw);
        break;
      case 'bind-propagation': {
        const p = needValue();
        if (!(PROPAGATIONS as readonly string[]).includes(p))
          throw new UsageError(`invalid argument "${raw}" for "--mount" flag: invalid bind-propagation '${p}' (use ${PROPAGATIONS.join(', ')})`);
        propagation = p as Propagation;
        break;
      }
      case 'volume-nocopy':
        noCopy = parseBool(key, value, raw);
        break;
      case 'tmpfs-size':
        size = parseSize(needValue(), 'tmpfs-size');
        break;
      case 'tmpfs-mode': {
        const v = needValue();
        if (!/^0?[0-7]{1,4}$/.test(v)) throw new UsageError(`invalid argument "${raw}" for "--mount" flag: tmpfs-mode must be octal (e.g. 1777), not '${v}'`);
        mode = parseInt(v, 8);
        break;
      }
      case 'consistency':
        needValue(); // macOS file-sharing hint: nothing to do on Linux, as Docker on Linux
        break;
      case 'volume-driver':
        if (needValue() !== 'local') throw new UsageError(`invalid argument "${raw}" for "--mount" flag: only the local volume driver exists in hull`);
        break;
      default:
        throw new UsageError(`invalid argument "${raw}" for "--mount" flag: unexpected key '${key}' in '${field}'`);
    }
  }
  if (target === undefined) throw new UsageError(`invalid argument "${raw}" for "--mount" flag: target is required`);
  return mountFromFields({
    ...(type !== undefined ? { type } : {}),
    ...(source !== undefined ? { source } : {}),
    target,
    readonly,
    ...(propagation !== undefined ? { propagation } : {}),
    noCopy,
    ...(size !== undefined ? { size } : {}),
    ...(mode !== undefined ? { mode } : {}),
    given: seen,
  });
}

/**
 * One mount's fields, however they came: `--mount`'s key=value words, or the Engine API's
 * HostConfig.Mounts entry ({Type, Source, Target, ReadOnly, BindOptions, VolumeOptions, TmpfsOptions}).
 * `given`: the canonical `--mount` keys that were set (a key of another type's mount is refused).
 */
export interface MountFields {
  type?: string;
  source?: string;
  target: string;
  readonly: boolean;
  propagation?: Propagation;
  noCopy: boolean;
  size?: number;
  mode?: number;
  given: ReadonlySet<string>;
}

/** The checks of a mount's fields (Docker's), and the MountRequest they make. */
export function mountFromFields(f: MountFields): MountRequest {
  const { source, target, readonly, propagation, noCopy, size, mode } = f;
  const seen = f.given;
  const kind = f.type ?? 'volume';
  if (!['bind', 'volume', 'tmpfs'].includes(kind)) throw new UsageError(`unsupported mount type '${kind}' (hull knows bind, volume, tmpfs)`);
  const what = `mount config for type "${kind}"`;
  const cleanTarget = validateMountTarget(target, what);
  const only = (keys: string[], allowed: string) => {
    for (const k of keys) if (seen.has(k)) throw new UsageError(`invalid ${what}: ${k} applies to ${allowed} mounts only`);
  };
  if (kind === 'bind') {
    only(['volume-nocopy'], 'volume');
    only(['tmpfs-size', 'tmpfs-mode'], 'tmpfs');
    if (source === undefined || source === '') throw new UsageError(`invalid ${what}: field Source must not be empty`);
    return {
      type: 'bind',
      source: validateHostPath(source, what),
      target: cleanTarget,
      readonly,
      propagation: propagation ?? 'rprivate',
      origin: 'mount-flag',
      mode: '',
    };
  }
  if (kind === 'volume') {
    only(['bind-propagation'], 'bind');
    only(['tmpfs-size', 'tmpfs-mode'], 'tmpfs');
    if (source !== undefined && source !== '') validateVolumeName(source);
    return { type: 'volume', ...(source ? { name: source } : {}), target: cleanTarget, readonly, noCopy, origin: 'mount-flag', mode: 'z' };
  }
  only(['bind-propagation'], 'bind');
  only(['volume-nocopy'], 'volume');
  if (source !== undefined && source !== '') throw new UsageError(`invalid ${what}: field Source must not be specified`);
  const options = [...TMPFS_DEFAULTS];
  if (size !== undefined && size > 0) options.push(`size=${size}`);
  if (mode !== undefined) options.push(`mode=${mode.toString(8)}`);
  if (readonly) options.push('ro');
  return { type: 'tmpfs', target: cleanTarget, readonly, options, origin: 'mount-flag' };
}

/** Mount flag words a `--tmpfs` may carry (tmpfs takes them as mount flags). */
const TMPFS_FLAG_WORDS = new Set([
  'ro',
  'rw',
  'nosuid',
  'suid',
  'nodev',
  'dev',
  'noexec',
  'exec',
  'sync',
  'async',
  'dirsync',
  'noatime',
  'atime',
  'nodiratime',
  'diratime',
  'relatime',
  'norelatime',
  'strictatime',
  'nostrictatime',
  'nosymfollow',
]);
/** tmpfs's own data options (mount(8): tmpfs). */
const TMPFS_DATA_KEYS = new Set(['size', 'nr_blocks', 'nr_inodes', 'mode', 'uid', 'gid', 'huge', 'mpol', 'inode64', 'inode32']);

/** `--tmpfs /run:rw,noexec,size=64m` (Docker's defaults: noexec, nosuid, nodev). */
export function parseTmpfsFlag(raw: string): MountRequest {
  const colon = raw.indexOf(':');
  const target = validateMountTarget(colon < 0 ? raw : raw.slice(0, colon), `tmpfs '${shown(raw)}'`);
  const given = colon < 0 || raw.slice(colon + 1) === '' ? [] : raw.slice(colon + 1).split(',');
  for (const opt of given) {
    const key = opt.includes('=') ? opt.slice(0, opt.indexOf('=')) : opt;
    if (TMPFS_FLAG_WORDS.has(opt)) continue;
    if (TMPFS_DATA_KEYS.has(key) && (opt.includes('=') || key === 'inode64' || key === 'inode32')) {
      if (key === 'size') {
        const v = opt.slice(5);
        if (!/^\d+[kmgKMG%]?$/.test(v))
          throw new UsageError(`invalid tmpfs option '${opt}' in '${raw}': size takes bytes with an optional k, m, g or % suffix`);
      }
      if (key === 'mode' && !/^[0-7]{1,4}$/.test(opt.slice(5))) throw new UsageError(`invalid tmpfs option '${opt}' in '${raw}': mode must be octal`);
      continue;
    }
    throw new UsageError(`invalid tmpfs option '${opt}' in '${raw}' (known: ${[...TMPFS_FLAG_WORDS].join(', ')}, ${[...TMPFS_DATA_KEYS].join('=, ')}=)`);
  }
  const options = [...TMPFS_DEFAULTS, ...given];
  const readonly = given.lastIndexOf('ro') > given.lastIndexOf('rw');
  return { type: 'tmpfs', target, readonly, options, origin: 'tmpfs-flag' };
}

/** `--volumes-from CONTAINER[:ro|rw]`. */
export function parseVolumesFrom(raw: string): VolumesFromRequest {
  const [container, mode, ...rest] = raw.split(':');
  if (!container || rest.length > 0) throw new UsageError(`invalid --volumes-from '${raw}': use CONTAINER[:ro|rw]`);
  if (mode === undefined) return { container };
  if (mode !== 'ro' && mode !== 'rw') throw new UsageError(`invalid mode for volumes-from: ${mode} (use ro or rw)`);
  return { container, readonly: mode === 'ro' };
}

/** Every flag parsed, duplicates of one destination refused (Docker: "Duplicate mount point"). */
export function parseMountFlags(flags: { volume?: readonly string[]; mount?: readonly string[]; tmpfs?: readonly string[] }): MountRequest[] {
  const out = [...(flags.volume ?? []).map(parseVolumeFlag), ...(flags.mount ?? []).map(parseMountFlag), ...(flags.tmpfs ?? []).map(parseTmpfsFlag)];
  checkDuplicates(out.map((m) => m.target));
  return out;
}
