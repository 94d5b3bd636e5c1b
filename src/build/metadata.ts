/**
 * The instructions that change only the image config (ENV, LABEL, WORKDIR, USER, EXPOSE, VOLUME,
 * STOPSIGNAL, CMD, ENTRYPOINT, SHELL, ONBUILD, HEALTHCHECK, MAINTAINER): applied to a copy of the
 * state's image config as BuildKit does, returning the history's `created_by`.
 */

import path from 'node:path';
import type { Instruction } from './dockerfile.js';
import { keyValuePairs } from './shell-words.js';
import { parseGoDuration } from '../duration.js';

type Json = Record<string, unknown>;

export const DEFAULT_SHELL = ['/bin/sh', '-c'];

export interface MetadataContext {
  escape: string;
  /** Whether CMD was set in this stage (ENTRYPOINT then keeps it); updated by CMD. */
  cmdSet: boolean;
  fail(instr: Instruction, message: string): never;
  /** One word, variables expanded with the stage's env. */
  expand(text: string): string;
  /** Words, variables expanded. */
  expandList(text: string): string[];
}

/** Applies `instr` to `image` (its `config` made if missing); returns the history line. */
export function applyMetadata(instr: Instruction, image: Json, ctx: MetadataContext): string {
  const k = instr.keyword;
  const next = image;
  if (next.config === undefined || next.config === null) next.config = {};
  const c = next.config as Json;
  let createdBy = '';
  const shell = (c.Shell as string[] | undefined) ?? DEFAULT_SHELL;
  switch (k) {
    case 'ENV': {
      const pairs = keyValuePairs(instr.args, ctx.escape, true);
      const list = [...((c.Env as string[] | undefined) ?? [])];
      const parts: string[] = [];
      for (const { key, value } of pairs) {
        if (value === undefined) ctx.fail(instr, `ENV names ${key} without a value (ENV KEY=VALUE)`);
        const v = ctx.expand(value);
        const i = list.findIndex((e) => e === key || e.startsWith(`${key}=`));
        if (i >= 0) list[i] = `${key}=${v}`;
        else list.push(`${key}=${v}`);
        parts.push(`${key}=${v}`);
      }
      c.Env = list;
      createdBy = `ENV ${parts.join(' ')}`;
      break;
    }
    case 'LABEL': {
      const labels = { ...((c.Labels as Record<string, string> | undefined) ?? {}) };
      const parts: string[] = [];
      for (const { key, value } of keyValuePairs(instr.args, ctx.escape, true)) {
        if (value === undefined) ctx.fail(instr, `LABEL names ${key} without a value (LABEL KEY=VALUE)`);
        const kk = ctx.expand(key);
        const v = ctx.expand(value);
        labels[kk] = v;
        parts.push(`${kk}=${v}`);
      }
      c.Labels = labels;
      createdBy = `LABEL ${parts.join(' ')}`;
      break;
    }
    case 'MAINTAINER':
      next.author = instr.args;
      createdBy = `MAINTAINER ${instr.args}`;
      break;
    case 'WORKDIR': {
      const w = ctx.expand(instr.args.trim());
      const dir = path.posix.isAbsolute(w) ? w : path.posix.join((c.WorkingDir as string | undefined) || '/', w);
      const workdir = path.posix.normalize(dir);
      c.WorkingDir = workdir;
      createdBy = `WORKDIR ${workdir}`;
      break;
    }
    case 'USER': {
      const u = ctx.expand(instr.args.trim());
      c.User = u;
      createdBy = `USER ${u}`;
      break;
    }
    case 'EXPOSE': {
      const ports = { ...((c.ExposedPorts as Record<string, object> | undefined) ?? {}) };
      for (const p of ctx.expandList(instr.args)) {
        const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(p);
        if (!m) ctx.fail(instr, `invalid port ${JSON.stringify(p)}`);
        const proto = (m[3] ?? 'tcp').toLowerCase();
        const lo = Number(m[1]);
        const hi = m[2] !== undefined ? Number(m[2]) : lo;
        if (lo < 1 || hi > 65535 || hi < lo) ctx.fail(instr, `invalid port range ${JSON.stringify(p)}`);
        for (let port = lo; port <= hi; port++) ports[`${port}/${proto}`] = {};
      }
      c.ExposedPorts = ports;
      createdBy = `EXPOSE map[${Object.keys(ports).sort().map((p) => `${p}:{}`).join(' ')}]`;
      break;
    }
    case 'VOLUME': {
      const vols = { ...((c.Volumes as Record<string, object> | undefined) ?? {}) };
      const list = instr.json ? instr.json.map((v) => ctx.expand(v)) : ctx.expandList(instr.args);
      for (const v of list) {
        if (v.trim() === '') ctx.fail(instr, 'VOLUME specified can not be an empty string');
        vols[v] = {};
      }
      c.Volumes = vols;
      createdBy = `VOLUME [${list.join(' ')}]`;
      break;
    }
    case 'STOPSIGNAL': {
      const s = ctx.expand(instr.args.trim());
      if (!/^(SIG[A-Z0-9+-]+|[A-Z0-9+-]+|\d+)$/.test(s)) ctx.fail(instr, `invalid signal ${JSON.stringify(s)}`);
      c.StopSignal = s;
      createdBy = `STOPSIGNAL ${s}`;
      break;
    }
    case 'CMD':
    case 'ENTRYPOINT': {
      const argv = instr.json ?? (instr.args.trim() === '' ? [] : [...shell, instr.args]);
      if (k === 'CMD') {
        c.Cmd = argv;
        ctx.cmdSet = true;
      } else {
        c.Entrypoint = argv;
        if (!ctx.cmdSet) delete c.Cmd;
      }
      createdBy = `${k} ${JSON.stringify(argv)}`;
      break;
    }
    case 'SHELL':
      c.Shell = instr.json;
      createdBy = `SHELL ${JSON.stringify(instr.json)}`;
      break;
    case 'ONBUILD':
      c.OnBuild = [...((c.OnBuild as string[] | undefined) ?? []), instr.args];
      createdBy = `ONBUILD ${instr.args}`;
      break;
    case 'HEALTHCHECK':
      c.Healthcheck = healthcheck(instr, ctx);
      createdBy = `HEALTHCHECK ${JSON.stringify(c.Healthcheck)}`;
      break;
    default:
      ctx.fail(instr, `${k} is not supported`);
  }
  return createdBy;
}

function healthcheck(instr: Instruction, ctx: MetadataContext): Json {
  const words = instr.args.trim();
  if (/^NONE$/i.test(words)) {
    if (instr.flags.length > 0) ctx.fail(instr, 'HEALTHCHECK NONE takes no options');
    return { Test: ['NONE'] };
  }
  const m = /^CMD(?:\s+([\s\S]*))?$/i.exec(words);
  if (!m) ctx.fail(instr, 'HEALTHCHECK: expected CMD or NONE');
  const rest = (m[1] ?? '').trim();
  let test: string[];
  try {
    const j: unknown = rest.startsWith('[') ? JSON.parse(rest) : undefined;
    test = Array.isArray(j) && j.every((s) => typeof s === 'string') ? ['CMD', ...j] : ['CMD-SHELL', rest];
  } catch {
    test = ['CMD-SHELL', rest];
  }
  if (test.length < 2 || test[1] === '') ctx.fail(instr, 'HEALTHCHECK CMD requires a command');
  const hc: Json = { Test: test };
  for (const f of instr.flags) {
    const key = { interval: 'Interval', timeout: 'Timeout', 'start-period': 'StartPeriod', 'start-interval': 'StartInterval', retries: 'Retries' }[f.name];
    if (key === undefined) ctx.fail(instr, `unknown flag: --${f.name}`);
    if (key === 'Retries') {
      if (!/^\d+$/.test(f.value) || Number(f.value) < 1) ctx.fail(instr, '--retries must be at least 1');
      hc.Retries = Number(f.value);
    } else {
      try {
        hc[key] = parseDuration(f.value, `--${f.name}`);
      } catch (err) {
        ctx.fail(instr, (err as Error).message);
      }
    }
  }
  return hc;
}

/** A Go duration (1h2m3s, 30s, 500ms) in whole nanoseconds. */
function parseDuration(s: string, what: string): number {
  const ns = parseGoDuration(s);
  if (ns === undefined) throw new Error(`${what}: invalid duration ${JSON.stringify(s)}`);
  return Math.round(ns);
}
