/**
 * A bundle's config.json, read and checked in one place: hull's own (written by create) and a
 * bundle a caller hands over (an OCI create). Every field hull uses is checked for its type and
 * range, and a malformed one is a UsageError naming it — `config.json: process.user.uid: expected
 * an integer >= 0, found "x"` — never a cast that fails later, deep inside.
 */
import { readFileSync } from 'node:fs';
import { UsageError, fromNodeError } from '../errors.js';
import type { NamespaceType, RuntimeSpec, SpecHook, SpecProcess, SpecResources } from './spec.js';

const NAMESPACE_TYPES: readonly NamespaceType[] = ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'];
const DEVICE_TYPES = ['c', 'b', 'u', 'p'];
const HOOK_KINDS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;

type Json = Record<string, unknown>;

class SpecChecker {
  constructor(private readonly where: string) {}

  fail(field: string, wanted: string, value: unknown): never {
    const found = value === undefined ? 'nothing' : (JSON.stringify(value)?.slice(0, 80) ?? typeof value);
    throw new UsageError(`${this.where}: ${field}: expected ${wanted}, found ${found}`);
  }

  object(v: unknown, field: string): Json {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(field, 'an object', v);
    return v as Json;
  }

  optionalObject(v: unknown, field: string): Json | undefined {
    return v === undefined ? undefined : this.object(v, field);
  }

  string(v: unknown, field: string): string {
    if (typeof v !== 'string') this.fail(field, 'a string', v);
    return v;
  }

  optionalString(v: unknown, field: string): void {
    if (v !== undefined) this.string(v, field);
  }

  absolute(v: unknown, field: string): void {
    if (!this.string(v, field).startsWith('/')) this.fail(field, 'an absolute path', v);
  }

  boolean(v: unknown, field: string): void {
    if (v !== undefined && typeof v !== 'boolean') this.fail(field, 'true or false', v);
  }

  integer(v: unknown, field: string, min = 0, max = Number.MAX_SAFE_INTEGER): void {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(field, max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer ${min}..${max}`, v);
    }
  }

  optionalInteger(v: unknown, field: string, min = 0, max = Number.MAX_SAFE_INTEGER): void {
    if (v !== undefined) this.integer(v, field, min, max);
  }

  array(v: unknown, field: string): unknown[] {
    if (!Array.isArray(v)) this.fail(field, 'an array', v);
    return v as unknown[];
  }

  strings(v: unknown, field: string, optional = true): void {
    if (v === undefined && optional) return;
    this.array(v, field).forEach((s, i) => this.string(s, `${field}[${i}]`));
  }

  oneOf(v: unknown, field: string, values: readonly string[]): void {
    if (typeof v !== 'string' || !values.includes(v)) this.fail(field, `one of ${values.join(', ')}`, v);
  }

  idMappings(v: unknown, field: string): void {
    if (v === undefined) return;
    this.array(v, field).forEach((m, i) => {
      const o = this.object(m, `${field}[${i}]`);
      this.integer(o.containerID, `${field}[${i}].containerID`);
      this.integer(o.hostID, `${field}[${i}].hostID`);
      this.integer(o.size, `${field}[${i}].size`, 1);
    });
  }

  hooks(v: unknown): void {
    const hooks = this.optionalObject(v, 'hooks');
    if (!hooks) return;
    for (const kind of HOOK_KINDS) {
      if (hooks[kind] === undefined) continue;
      this.array(hooks[kind], `hooks.${kind}`).forEach((h, i) => {
        const field = `hooks.${kind}[${i}]`;
        const hook = this.object(h, field);
        this.absolute(hook.path, `${field}.path`);
        this.strings(hook.args, `${field}.args`);
        this.strings(hook.env, `${field}.env`);
        this.optionalInteger(hook.timeout, `${field}.timeout`, 1);
      });
    }
  }
}

/** runtime-spec's process object (config.json's, or `hull-runc exec --process`'s); its fields named after `prefix`. */
function checkProcess(c: SpecChecker, value: unknown, prefix: string): void {
  const proc = c.object(value, prefix === '' ? '(the document)' : prefix.slice(0, -1));
  const args = c.array(proc.args, `${prefix}args`);
  if (args.length === 0) c.fail(`${prefix}args`, 'at least the command', proc.args);
  c.strings(args, `${prefix}args`);
  c.strings(proc.env, `${prefix}env`);
  c.absolute(proc.cwd, `${prefix}cwd`);
  c.boolean(proc.terminal, `${prefix}terminal`);
  c.boolean(proc.noNewPrivileges, `${prefix}noNewPrivileges`);
  c.optionalInteger(proc.oomScoreAdj, `${prefix}oomScoreAdj`, -1000, 1000);
  const user = c.object(proc.user, `${prefix}user`);
  c.integer(user.uid, `${prefix}user.uid`);
  c.integer(user.gid, `${prefix}user.gid`);
  c.optionalInteger(user.umask, `${prefix}user.umask`);
  if (user.additionalGids !== undefined)
    c.array(user.additionalGids, `${prefix}user.additionalGids`).forEach((g, i) => c.integer(g, `${prefix}user.additionalGids[${i}]`));
  const size = c.optionalObject(proc.consoleSize, `${prefix}consoleSize`);
  if (size) {
    c.integer(size.height, `${prefix}consoleSize.height`);
    c.integer(size.width, `${prefix}consoleSize.width`);
  }
  const caps = c.optionalObject(proc.capabilities, `${prefix}capabilities`);
  if (caps) for (const set of ['bounding', 'effective', 'permitted', 'inheritable', 'ambient']) c.strings(caps[set], `${prefix}capabilities.${set}`);
  if (proc.rlimits !== undefined) {
    c.array(proc.rlimits, `${prefix}rlimits`).forEach((r, i) => {
      const o = c.object(r, `${prefix}rlimits[${i}]`);
      c.string(o.type, `${prefix}rlimits[${i}].type`);
      c.integer(o.soft, `${prefix}rlimits[${i}].soft`);
      c.integer(o.hard, `${prefix}rlimits[${i}].hard`);
    });
  }
}

/** linux.resources (config.json's, or `hull-runc update`'s): each value hull writes checked for its type. */
function checkResources(c: SpecChecker, value: unknown, prefix: string): void {
  const r = c.object(value, prefix === '' ? '(the document)' : prefix.slice(0, -1));
  const memory = c.optionalObject(r.memory, `${prefix}memory`);
  if (memory) {
    for (const f of ['limit', 'reservation']) c.optionalInteger(memory[f], `${prefix}memory.${f}`, -1);
    c.optionalInteger(memory.swap, `${prefix}memory.swap`, -1);
    c.boolean(memory.disableOOMKiller, `${prefix}memory.disableOOMKiller`);
  }
  const cpu = c.optionalObject(r.cpu, `${prefix}cpu`);
  if (cpu) {
    for (const f of ['shares', 'period']) c.optionalInteger(cpu[f], `${prefix}cpu.${f}`);
    c.optionalInteger(cpu.quota, `${prefix}cpu.quota`, -1);
    c.optionalString(cpu.cpus, `${prefix}cpu.cpus`);
    c.optionalString(cpu.mems, `${prefix}cpu.mems`);
  }
  const pids = c.optionalObject(r.pids, `${prefix}pids`);
  if (pids) c.integer(pids.limit, `${prefix}pids.limit`, -1);
  const blockIO = c.optionalObject(r.blockIO, `${prefix}blockIO`);
  if (blockIO) c.optionalInteger(blockIO.weight, `${prefix}blockIO.weight`);
  if (r.devices !== undefined) c.array(r.devices, `${prefix}devices`).forEach((d, i) => c.object(d, `${prefix}devices[${i}]`));
}

/** A resources object (`hull-runc update --resources`): checked as config.json's linux.resources; the same object, typed. */
export function validateResources(value: unknown, where = 'resources'): SpecResources {
  checkResources(new SpecChecker(where), value, '');
  return value as SpecResources;
}

/** A process.json (`exec --process`): checked as config.json's process is; the same object, typed. */
export function validateProcess(value: unknown, where = 'process.json'): SpecProcess {
  checkProcess(new SpecChecker(where), value, '');
  return value as SpecProcess;
}

/** Checks a parsed config.json; the same object, typed. `where` names it in messages. */
export function validateSpec(value: unknown, where = 'config.json'): RuntimeSpec {
  const c = new SpecChecker(where);
  const spec = c.object(value, '(the document)');
  // runtime-spec 1.x: a later major version may mean what this reader cannot know.
  if (!/^1\.\d+\.\d+/.test(c.string(spec.ociVersion, 'ociVersion'))) c.fail('ociVersion', 'a 1.x version of the runtime-spec', spec.ociVersion);
  const root = c.object(spec.root, 'root');
  c.string(root.path, 'root.path');
  c.boolean(root.readonly, 'root.readonly');
  checkProcess(c, spec.process, 'process.');
  c.optionalString(spec.hostname, 'hostname');
  c.optionalString(spec.domainname, 'domainname');
  if (spec.mounts === undefined) spec.mounts = [];
  c.array(spec.mounts, 'mounts').forEach((m, i) => {
    const o = c.object(m, `mounts[${i}]`);
    c.absolute(o.destination, `mounts[${i}].destination`);
    c.optionalString(o.type, `mounts[${i}].type`);
    c.optionalString(o.source, `mounts[${i}].source`);
    c.strings(o.options, `mounts[${i}].options`);
  });
  const linux = c.object(spec.linux ?? {}, 'linux');
  spec.linux = linux;
  if (linux.namespaces === undefined) linux.namespaces = [];
  const seen = new Set<string>();
  c.array(linux.namespaces, 'linux.namespaces').forEach((n, i) => {
    const o = c.object(n, `linux.namespaces[${i}]`);
    c.oneOf(o.type, `linux.namespaces[${i}].type`, NAMESPACE_TYPES);
    if (seen.has(o.type as string)) c.fail(`linux.namespaces[${i}].type`, 'each type at most once', o.type);
    seen.add(o.type as string);
    if (o.path !== undefined) c.absolute(o.path, `linux.namespaces[${i}].path`);
  });
  c.idMappings(linux.uidMappings, 'linux.uidMappings');
  c.idMappings(linux.gidMappings, 'linux.gidMappings');
  if (linux.devices !== undefined) {
    c.array(linux.devices, 'linux.devices').forEach((d, i) => {
      const o = c.object(d, `linux.devices[${i}]`);
      c.absolute(o.path, `linux.devices[${i}].path`);
      c.oneOf(o.type, `linux.devices[${i}].type`, DEVICE_TYPES);
      c.integer(o.major, `linux.devices[${i}].major`);
      c.integer(o.minor, `linux.devices[${i}].minor`);
      c.optionalInteger(o.fileMode, `linux.devices[${i}].fileMode`);
      c.optionalInteger(o.uid, `linux.devices[${i}].uid`);
      c.optionalInteger(o.gid, `linux.devices[${i}].gid`);
    });
  }
  c.optionalString(linux.cgroupsPath, 'linux.cgroupsPath');
  if (linux.resources !== undefined) checkResources(c, linux.resources, 'linux.resources.');
  c.optionalObject(linux.seccomp, 'linux.seccomp');
  c.strings(linux.maskedPaths, 'linux.maskedPaths');
  c.strings(linux.readonlyPaths, 'linux.readonlyPaths');
  if (linux.rootfsPropagation !== undefined)
    c.oneOf(linux.rootfsPropagation, 'linux.rootfsPropagation', ['private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared', 'unbindable', 'runbindable']);
  const sysctl = c.optionalObject(linux.sysctl, 'linux.sysctl');
  if (sysctl) for (const [k, v] of Object.entries(sysctl)) c.string(v, `linux.sysctl.${k}`);
  const annotations = c.optionalObject(spec.annotations, 'annotations');
  if (annotations) for (const [k, v] of Object.entries(annotations)) c.string(v, `annotations.${k}`);
  c.hooks(spec.hooks);
  return spec as unknown as RuntimeSpec;
}

/** Reads and checks a config.json. */
export function readSpec(file: string, where = 'config.json'): RuntimeSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw fromNodeError(err, 'read', file);
  }
  return parseSpec(text, where);
}

/** A config.json's text, parsed and checked. */
export function parseSpec(text: string, where = 'config.json'): RuntimeSpec {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${where}: not valid JSON: ${(err as Error).message}`);
  }
  return validateSpec(value, where);
}

export type { SpecHook };
