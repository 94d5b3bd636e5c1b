/**
 * `hull build`: a Dockerfile's stages executed step by step on top of the store.
 *
 *   FROM        the base image's config and layers (or scratch, or an earlier stage); ONBUILD
 *               triggers of the base run next
 *   RUN         a hull container on the current state (Env, build args, User, WorkingDir, Shell);
 *               the diff of its upper directory is the step's layer (../layer/diff.ts)
 *   COPY / ADD  the current state mounted (overlay, a fresh upper directory), the sources copied
 *               into it, the upper directory's diff is the layer
 *   the rest    change the image config only: a history entry with empty_layer
 *
 * Every step has a cache key (./cache.ts); a hit takes the state from the cache. Layers go into
 * the store the way loaded layers do (a gzip blob, its digest and diffID verified, unpacked once).
 * The image config and history are what BuildKit writes (`created_by` "RUN /bin/sh -c … # buildkit",
 * comment "buildkit.dockerfile.v0"). Temporary state lives in one directory under the store's
 * tmp/ (its name carries our pid, so a killed build's leftovers are removed by the next load or
 * prune); mounts are undone and build containers removed on every path, also when aborted.
 */

import { createHash } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { PassThrough, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { BuildError, ContainerStartError, DockerfileError, HullError, ImageNotFoundError, UsageError } from '../errors.js';
import { familiar } from '../image/reference.js';
import { parseImageConfig } from '../image/types.js';
import { diffTar } from '../layer/diff.js';
import { removeTree } from '../layer/remove-tree.js';
import { MNT_DETACH, sys } from '../native/index.js';
import type { RunningContainer, Runtime } from '../runtime/runtime.js';
import net from 'node:net';
import { readImageFile } from '../runtime/image-files.js';
import { uniqueName } from '../store/atomic-file.js';
import type { ImageStore, ResolvedImage } from '../store/image-store.js';
import type { StorePaths } from '../store/paths.js';
import { trace } from '../trace.js';
import { BuildCache, stepKey } from './cache.js';
import {
  archiveKind, copySources, resolveSources, sourcesDigest, writeHeredocFile, type Source, type SourceRoot,
} from './context.js';
import { readDockerignore } from './dockerignore.js';
import { parseDockerfile, type Dockerfile, type Instruction } from './dockerfile.js';
import { DEFAULT_SHELL, applyMetadata, type MetadataContext } from './metadata.js';
import { ExpandError, expandWord, expandWords, keyValuePairs, type Env } from './shell-words.js';

export interface BuildOptions {
  /** The build context directory (already extracted when it came as a tar). */
  contextDir: string;
  /** The Dockerfile's text, and the name it is reported under. */
  dockerfile: string;
  dockerfileName?: string;
  /** Names for the image (`-t`). */
  tags?: readonly string[];
  buildArgs?: Readonly<Record<string, string>>;
  target?: string;
  noCache?: boolean;
  /** `--label`: added to the final image's labels. */
  labels?: Readonly<Record<string, string>>;
  /** RUN's network: 'none' (a namespace with only lo; the default here) or 'host'. */
  network?: 'none' | 'host';
  cgroupParent?: string;
  /** `--pull`: pull every base image named by FROM first, even one already stored. */
  pull?: boolean;
  /** Pulls a base image into the store (Hull.pull). Without it FROM needs a stored image. */
  pullImage?: (reference: string) => Promise<void>;
  /** Progress lines and RUN output; none for `-q`. */
  output?: Writable;
  signal?: AbortSignal;
}

export interface BuildResult {
  /** The image id (`sha256:` of its config). */
  id: string;
  tags: string[];
  /** Steps run, and how many of them were cache hits. */
  steps: number;
  cached: number;
}

type Json = Record<string, unknown>;

interface State {
  /** The chain cache key of this state. */
  key: string;
  /** The image config (architecture, os, config, rootfs, history, …). */
  image: Json;
}

interface Stage {
  index: number;
  name?: string;
  from: Instruction;
  instructions: Instruction[];
}

interface StageRun {
  state: State;
  /** ARGs declared in this stage: name → value (undefined: declared, unset). */
  args: Map<string, string | undefined>;
  cmdSet: boolean;
}

const MS_RDONLY = 1;
const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const COMMENT = 'buildkit.dockerfile.v0';
/** Build args Docker predefines (usable without an ARG line in RUN, never in history). */
const PREDEFINED_ARGS = new Set(['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy']);

function goArch(): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[process.arch] ?? process.arch;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

function configOf(state: State): Json {
  let c = state.image.config as Json | undefined;
  if (c === undefined || c === null) {
    c = {};
    state.image.config = c;
  }
  return c;
}

function diffIdsOf(state: State): string[] {
  return ((state.image.rootfs as { diff_ids?: string[] } | undefined)?.diff_ids) ?? [];
}

function envMapOf(state: State): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of (configOf(state).Env as string[] | undefined) ?? []) {
    const eq = e.indexOf('=');
    if (eq < 0) m.set(e, '');
    else m.set(e.slice(0, eq), e.slice(eq + 1));
  }
  return m;
}

class Aborted extends BuildError {
  override readonly exitCode: number = 130;
}

export class Builder {
  private readonly cache: BuildCache;
  private readonly out: Writable | undefined;
  private readonly work: string;
  private readonly mounts: string[] = [];
  private running: { kill(signal: number): void } | undefined;
  private file!: Dockerfile;
  private readonly usedArgs = new Set<string>();
  private stepNo = 0;
  private midLine = false;
  private totalSteps = 0;
  private cachedSteps = 0;
  private readonly stageRuns = new Map<number, StageRun>();
  private readonly views = new Map<string, string>();
  private ignored: SourceRoot['ignored'];
  private metaArgs = new Map<string, string | undefined>();

  constructor(
    private readonly paths: StorePaths,
    private readonly images: ImageStore,
    private readonly runtime: Runtime,
    private readonly opts: BuildOptions,
  ) {
    this.cache = new BuildCache(paths);
    this.out = opts.output;
    this.work = path.join(paths.tmp, uniqueName('build'));
  }

  private say(line: string): void {
    // RUN output that did not end its last line gets one, so progress lines start on their own.
    this.out?.write(`${this.midLine ? '\n' : ''}${line}\n`);
    this.midLine = false;
  }

  private checkAbort(): void {
    if (this.opts.signal?.aborted) throw new Aborted('build canceled');
  }

  private fail(instr: Instruction, message: string): never {
    throw new DockerfileError(this.file.file, { no: instr.line }, message, instr.original);
  }

  /** FROM's image pulled into the store; a failure names the Dockerfile line. */
  private async pullBase(from: Instruction, base: string): Promise<void> {
    this.checkAbort();
    try {
      await (this.opts.pullImage as (reference: string) => Promise<void>)(base);
    } catch (err) {
      throw new BuildError(`${this.file.file}:${from.line}: FROM ${base}: ${(err as Error).message}`, { cause: err });
    }
  }

  async build(): Promise<BuildResult> {
    const onAbort = () => this.running?.kill(9);
    this.opts.signal?.addEventListener('abort', onAbort);
    mkdirSync(this.work, { recursive: true, mode: 0o700 });
    mkdirSync(this.cache.dir, { recursive: true, mode: 0o700 });
    try {
      return await this.buildInner();
    } finally {
      this.opts.signal?.removeEventListener('abort', onAbort);
      this.cleanup();
    }
  }

  private cleanup(): void {
    for (const m of this.mounts.splice(0).reverse()) {
      try {
        sys.umount2(m, MNT_DETACH);
      } catch {
        /* not mounted */
      }
    }
    rmSync(this.work, { recursive: true, force: true });
  }

  private async buildInner(): Promise<BuildResult> {
    this.file = parseDockerfile(this.opts.dockerfile, this.opts.dockerfileName ?? 'Dockerfile');
    this.ignored = readDockerignore(this.opts.contextDir);
    const stages: Stage[] = [];
    for (const instr of this.file.instructions) {
      if (instr.keyword === 'FROM') {
        const words = instr.args.split(/\s+/).filter(Boolean);
        const name = words.length === 3 ? (words[2] as string).toLowerCase() : undefined;
        if (name !== undefined && !/^[a-z][a-z0-9-_.]*$/.test(name)) this.fail(instr, `invalid name for build stage: "${words[2]}", name can't start with a number or contain symbols`);
        if (name !== undefined && stages.some((s) => s.name === name)) this.fail(instr, `duplicate name ${name}`);
        stages.push({ index: stages.length, ...(name !== undefined ? { name } : {}), from: instr, instructions: [] });
        continue;
      }
      const stage = stages[stages.length - 1];
      if (stage === undefined) {
        if (instr.keyword !== 'ARG') this.fail(instr, 'no build stage in current context: the first instruction must be FROM (or ARG)');
        this.declareMetaArgs(instr);
        continue;
      }
      stage.instructions.push(instr);
    }
    if (stages.length === 0) throw new DockerfileError(this.file.file, { no: 1 }, 'the Dockerfile has no FROM instruction');
    let target = stages[stages.length - 1] as Stage;
    if (this.opts.target !== undefined) {
      const t = stages.find((s) => s.name === this.opts.target?.toLowerCase());
      if (!t) throw new BuildError(`target stage "${this.opts.target}" could not be found`);
      target = t;
    }
    const needed = this.neededStages(stages, target);
    this.totalSteps = stages.filter((s) => needed.has(s.index)).reduce((n, s) => n + 1 + s.instructions.length, 0);
    for (const stage of stages) {
      if (!needed.has(stage.index)) continue;
      this.checkAbort();
      await this.runStage(stage, stages);
    }
    const unused = Object.keys(this.opts.buildArgs ?? {}).filter((a) => !this.usedArgs.has(a) && !PREDEFINED_ARGS.has(a));
    if (unused.length > 0) this.say(`[Warning] one or more build-args [${unused.join(' ')}] were not consumed`);
    return this.commit((this.stageRuns.get(target.index) as StageRun).state);
  }

  private declareMetaArgs(instr: Instruction): void {
    for (const { key, value } of keyValuePairs(instr.args, this.file.escape, false)) {
      const given = this.opts.buildArgs?.[key];
      if (given !== undefined) this.usedArgs.add(key);
      this.metaArgs.set(key, given ?? (value === undefined ? undefined : this.expand(instr, value, this.metaEnv())));
    }
  }

  private metaEnv(): Env {
    const m = new Map<string, string>();
    for (const [k, v] of this.metaArgs) if (v !== undefined) m.set(k, v);
    return m;
  }

  private expand(instr: Instruction, text: string, env: Env): string {
    try {
      return expandWord(text, env, this.file.escape);
    } catch (err) {
      if (err instanceof ExpandError) this.fail(instr, err.message);
      throw err;
    }
  }

  private expandList(instr: Instruction, text: string, env: Env): string[] {
    try {
      return expandWords(text, env, this.file.escape);
    } catch (err) {
      if (err instanceof ExpandError) this.fail(instr, err.message);
      throw err;
    }
  }

  /** The stage's base name (expanded with the meta args). */
  private baseOf(stage: Stage): string {
    return this.expand(stage.from, (stage.from.args.split(/\s+/).filter(Boolean)[0] as string), this.metaEnv());
  }

  private stageRef(stages: readonly Stage[], ref: string, before: number): Stage | undefined {
    const byName = stages.find((s) => s.name === ref.toLowerCase() && s.index < before);
    if (byName) return byName;
    if (/^\d+$/.test(ref)) {
      const s = stages[Number(ref)];
      if (s && s.index < before) return s;
    }
    return undefined;
  }

  private neededStages(stages: readonly Stage[], target: Stage): Set<number> {
    const needed = new Set<number>();
    const visit = (s: Stage) => {
      if (needed.has(s.index)) return;
      needed.add(s.index);
      const base = this.stageRef(stages, this.baseOf(s), s.index);
      if (base) visit(base);
      for (const i of s.instructions) {
        const from = i.flags.find((f) => f.name === 'from')?.value;
        if ((i.keyword === 'COPY' || i.keyword === 'ADD') && from !== undefined) {
          const dep = this.stageRef(stages, this.expand(i, from, this.metaEnv()), s.index);
          if (dep) visit(dep);
        }
      }
    };
    visit(target);
    return needed;
  }

  private step(instr: Instruction, prefix = ''): void {
    this.stepNo++;
    const text = instr.original.replace(/\s+/g, ' ');
    this.say(`STEP ${this.stepNo}/${this.totalSteps}: ${prefix}${text.length > 200 ? `${text.slice(0, 197)}...` : text}`);
  }

  private async runStage(stage: Stage, stages: readonly Stage[]): Promise<void> {
    this.step(stage.from);
    const base = this.baseOf(stage);
    const platform = stage.from.flags.find((f) => f.name === 'platform');
    if (platform && !['', `linux/${goArch()}`].includes(this.expand(stage.from, platform.value, this.metaEnv()))) {
      this.fail(stage.from, `platform ${platform.value} is not this host's (linux/${goArch()})`);
    }
    for (const f of stage.from.flags) if (f.name !== 'platform') this.fail(stage.from, `unknown flag: --${f.name}`);
    let state: State;
    const prev = this.stageRef(stages, base, stage.index);
    if (prev) {
      state = structuredClone((this.stageRuns.get(prev.index) as StageRun).state);
    } else if (base.toLowerCase() === 'scratch') {
      state = {
        key: sha('scratch'),
        image: { architecture: goArch(), os: 'linux', config: { Env: [DEFAULT_PATH_ENV] }, rootfs: { type: 'layers', diff_ids: [] }, history: [] },
      };
    } else {
      let raw: { id: string; config: Json };
      // As docker build: a base image that is not stored is pulled; --pull pulls it anyway.
      if (this.opts.pull && this.opts.pullImage) await this.pullBase(stage.from, base);
      try {
        raw = await this.images.rawImage(base);
      } catch (err) {
        if (!(err instanceof ImageNotFoundError || err instanceof UsageError)) throw err;
        if (err instanceof UsageError || !this.opts.pullImage || this.opts.pull) {
          throw new BuildError(`${this.file.file}:${stage.from.line}: FROM ${base}: image not found${this.opts.pullImage ? '' : ' in the store'}`);
        }
        await this.pullBase(stage.from, base);
        raw = await this.images.rawImage(base);
      }
      const { architecture, os, variant, config, rootfs, history, author } = raw.config;
      state = {
        key: sha(`image ${raw.id}`),
        image: {
          architecture, os, ...(variant !== undefined ? { variant } : {}), ...(author !== undefined ? { author } : {}),
          config: (config as Json | undefined) ?? {}, rootfs, history: (history as unknown[] | undefined) ?? [],
        },
      };
      if (!((configOf(state).Env as unknown[] | undefined)?.length)) configOf(state).Env = [DEFAULT_PATH_ENV];
    }
    const run: StageRun = { state, args: new Map(), cmdSet: false };
    this.stageRuns.set(stage.index, run);
    this.say(`--> ${state.key.slice(0, 12)}`);
    // ONBUILD triggers of the base run first, and are not inherited.
    const triggers = (configOf(state).OnBuild as string[] | undefined) ?? [];
    if (triggers.length > 0) {
      delete configOf(state).OnBuild;
      const parsed = parseDockerfile(triggers.join('\n'), `${this.file.file} (ONBUILD of ${base})`);
      for (const instr of parsed.instructions) {
        this.totalSteps++;
        await this.runInstruction(run, { ...instr, line: stage.from.line }, stages, stage, 'ONBUILD ');
      }
    }
    for (const instr of stage.instructions) {
      this.checkAbort();
      await this.runInstruction(run, instr, stages, stage);
    }
  }

  /** The env instructions expand with: build args declared in the stage, then ENV (which wins). */
  private stageEnv(run: StageRun): Map<string, string> {
    const m = new Map<string, string>();
    for (const [k, v] of run.args) if (v !== undefined) m.set(k, v);
    for (const [k, v] of envMapOf(run.state)) m.set(k, v);
    return m;
  }

  private async runInstruction(run: StageRun, instr: Instruction, stages: readonly Stage[], stage: Stage, prefix = ''): Promise<void> {
    this.step(instr, prefix);
    const env = this.stageEnv(run);
    const k = instr.keyword;
    if (k === 'ARG') {
      for (const { key, value } of keyValuePairs(instr.args, this.file.escape, false)) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) this.fail(instr, `invalid ARG name ${JSON.stringify(key)}`);
        const given = this.opts.buildArgs?.[key];
        if (given !== undefined) this.usedArgs.add(key);
        const v = given ?? (value !== undefined ? this.expand(instr, value, env) : this.metaArgs.get(key));
        run.args.set(key, v);
      }
      return; // no history, no cache step: ARGs count where they are used
    }
    if (k === 'RUN') return this.runRun(run, instr, env);
    if (k === 'COPY' || k === 'ADD') return this.runCopy(run, instr, env, stages, stage);
    // Metadata only.
    const next = structuredClone(run.state.image);
    const meta: MetadataContext = {
      escape: this.file.escape,
      cmdSet: run.cmdSet,
      fail: (i, m) => this.fail(i, m),
      expand: (t) => this.expand(instr, t, env),
      expandList: (t) => this.expandList(instr, t, env),
    };
    const createdBy = applyMetadata(instr, next, meta);
    run.cmdSet = meta.cmdSet;
    await this.cachedStep(run, `${k} ${JSON.stringify(next.config)} ${next.author ?? ''}`, async () => {
      this.addHistory(next, createdBy, true);
      return next;
    });
  }

  private addHistory(image: Json, createdBy: string, empty: boolean): void {
    const created = new Date().toISOString();
    const history = [...((image.history as Json[] | undefined) ?? [])];
    history.push({ created, created_by: createdBy, comment: COMMENT, ...(empty ? { empty_layer: true } : {}) });
    image.history = history;
    image.created = created;
  }

  /**
   * One cached step: the key from the parent's and `description`; on a hit the cached state,
   * else `make` (then cached).
   */
  private async cachedStep(run: StageRun, description: string, make: () => Promise<Json>): Promise<void> {
    const key = stepKey(run.state.key, description);
    if (!this.opts.noCache) {
      const hit = this.cache.get(key, (d) => existsSync(path.join(this.paths.layers, d.slice('sha256:'.length), 'link')));
      if (hit) {
        this.cachedSteps++;
        run.state = { key, image: hit.config };
        this.say(`--> Using cache ${key.slice(0, 12)}`);
        return;
      }
    }
    const image = await make();
    this.cache.put({ key, config: image });
    run.state = { key, image };
    this.say(`--> ${key.slice(0, 12)}`);
  }

  /** The build args RUN sees as environment: declared in the stage (ENV wins), plus predefined proxies. */
  private runArgs(run: StageRun): string[] {
    const envKeys = envMapOf(run.state);
    const out: string[] = [];
    for (const [k, v] of [...run.args].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (v === undefined || envKeys.has(k)) continue;
      out.push(`${k}=${v}`);
    }
    for (const p of PREDEFINED_ARGS) {
      const v = this.opts.buildArgs?.[p];
      if (v !== undefined && !run.args.has(p)) {
        out.push(`${p}=${v}`);
        this.usedArgs.add(p);
      }
    }
    return out;
  }

  private async runRun(run: StageRun, instr: Instruction, _env: Env): Promise<void> {
    let network = this.opts.network ?? 'none';
    for (const f of instr.flags) {
      if (f.name === 'network') {
        if (f.value === 'default') continue;
        if (f.value !== 'none' && f.value !== 'host') this.fail(instr, `RUN --network=${f.value} is not supported (none, host, default)`);
        network = f.value;
      } else this.fail(instr, `RUN --${f.name} is not supported by hull build`);
    }
    const c = configOf(run.state);
    const shell = (c.Shell as string[] | undefined) ?? DEFAULT_SHELL;
    let argv: string[];
    let script: string | undefined;
    if (instr.json) argv = instr.json;
    else if (instr.heredocs.length === 1 && /^<<-?(["']?)[A-Za-z_][A-Za-z0-9_]*\1$/.test(instr.args.trim())) {
      const content = (instr.heredocs[0] as { content: string }).content;
      const shebang = /^#!([^\n]*)/.exec(content);
      if (shebang) {
        // BuildKit runs such a heredoc as a file; here the interpreter the `#!` line names (with
        // its one optional argument, as the kernel splits it) reads the script from /dev/stdin.
        const line = (shebang[1] as string).trim();
        const sp = line.search(/[ \t]/);
        const interp = sp < 0 ? [line] : [line.slice(0, sp), line.slice(sp).trim()];
        if (interp[0] === '') this.fail(instr, 'the heredoc\'s #! line names no interpreter');
        argv = [...interp, '/dev/stdin'];
        script = content;
      } else argv = [...shell, content];
    } else if (instr.heredocs.length > 0) {
      argv = [...shell, `${instr.args}\n${instr.heredocs.map((h) => `${h.content}${h.name}\n`).join('')}`];
    } else argv = [...shell, instr.args];
    const args = this.runArgs(run);
    const createdBy = `RUN ${args.length > 0 ? `|${args.length} ${args.join(' ')} ` : ''}${argv.join(' ')} # buildkit`;
    await this.cachedStep(run, `RUN ${JSON.stringify({ argv, args, network, script })}`, async () => {
      const next = structuredClone(run.state.image);
      const layer = await this.runContainer(run.state, argv, args, network, script);
      if (layer !== undefined) (next.rootfs as { diff_ids: string[] }).diff_ids = [...diffIdsOf(run.state), layer];
      this.addHistory(next, createdBy, layer === undefined);
      return next;
    });
  }

  /** The state as the runtime's resolved image (config + layer directories). */
  private async resolvedState(state: State): Promise<ResolvedImage> {
    const ids = diffIdsOf(state);
    const seen = new Set<string>();
    const distinct: string[] = [];
    for (let i = ids.length - 1; i >= 0; i--) {
      const d = ids[i] as string;
      if (!seen.has(d)) {
        seen.add(d);
        distinct.unshift(d);
      }
    }
    const layerDirs: string[] = [];
    const layerLinks: string[] = [];
    for (const d of distinct) {
      const l = await this.images.storedLayer(d);
      if (!l) throw new BuildError(`layer ${d} of the build state is missing from the store`);
      layerDirs.push(l.dir);
      layerLinks.push(l.link);
    }
    const image = { ...state.image, rootfs: { type: 'layers', diff_ids: ids } };
    return { id: `sha256:${state.key}`, references: [], config: parseImageConfig(image, 'build state'), layerDirs, layerLinks };
  }

  /** RUN: a container on the state; returns the diffID of its changes (undefined: none). */
  private async runContainer(state: State, argv: string[], args: string[], network: 'none' | 'host', script?: string): Promise<string | undefined> {
    const resolved = await this.resolvedState(state);
    const c = configOf(state);
    const { record } = await this.runtime.create({
      image: 'hull-build',
      resolvedImage: resolved,
      entrypoint: [],
      cmd: argv,
      env: args,
      ...(typeof c.User === 'string' && c.User !== '' ? { user: c.User } : {}),
      workdir: (c.WorkingDir as string | undefined) || '/',
      ...(this.opts.cgroupParent !== undefined ? { cgroupParent: this.opts.cgroupParent } : {}),
      network: { mode: network },
      skipImageVolumes: true,
    });
    try {
      this.checkAbort();
      const tail: Buffer[] = [];
      let tailBytes = 0;
      const keep = (chunk: Buffer) => {
        tail.push(chunk);
        tailBytes += chunk.length;
        while (tailBytes > 64 * 1024 && tail.length > 1) tailBytes -= (tail.shift() as Buffer).length;
      };
      // The container's stdout and stderr share one pipe, relayed in order (and kept for errors).
      const [r, w] = sys.pipe();
      let running: RunningContainer;
      try {
        // A heredoc script reaches the shell through a pipe of hull's (/dev/stdin), never as a file.
        running = await this.runtime.start(record, { stdin: script === undefined ? 'ignore' : 'pipe', stdout: w, stderr: w });
        running.stdin?.end(script);
      } catch (err) {
        closeSync(r);
        // A command that cannot start fails the build (exit 1), naming why (not found, …).
        if (err instanceof ContainerStartError) throw new BuildError(`process "${argv.join(' ')}" did not complete successfully: ${err.message}`, { cause: err });
        throw err;
      } finally {
        closeSync(w);
      }
      this.running = running;
      if (this.opts.signal?.aborted) running.kill(9);
      const output = new net.Socket({ fd: r, readable: true, writable: false });
      const drained = new Promise<void>((resolve) => output.once('close', () => resolve()));
      output.on('data', (chunk: Buffer) => {
        keep(chunk);
        this.out?.write(chunk);
        if (chunk.length > 0) this.midLine = chunk[chunk.length - 1] !== 0x0a;
      });
      const code = await running.wait();
      await drained;
      this.running = undefined;
      this.checkAbort();
      if (code !== 0) {
        const output = this.out === undefined && tailBytes > 0 ? `\n${Buffer.concat(tail).toString('utf8').trimEnd()}` : '';
        throw new BuildError(`process "${argv.join(' ')}" did not complete successfully: exit code: ${code}${output}`);
      }
      trace('build: RUN done');
      return await this.commitLayer(path.join(this.paths.containers, record.id, 'upper'));
    } finally {
      this.running = undefined;
      await this.runtime.remove(record.id, { force: true });
    }
  }

  /** The diff of an upper directory stored as a layer; undefined when nothing changed. */
  private async commitLayer(upper: string): Promise<string | undefined> {
    if (readdirSync(upper).length === 0) return undefined;
    const blob = path.join(this.work, uniqueName('layer'));
    const tarHash = createHash('sha256');
    const blobHash = createHash('sha256');
    const hashTar = new PassThrough();
    hashTar.on('data', (c: Buffer) => tarHash.update(c));
    const hashBlob = new PassThrough();
    hashBlob.on('data', (c: Buffer) => blobHash.update(c));
    await pipeline(diffTar(upper), hashTar, createGzip(), hashBlob, createWriteStream(blob));
    const diffId = `sha256:${tarHash.digest('hex')}`;
    const digest = `sha256:${blobHash.digest('hex')}`;
    trace('build: layer diffed');
    await this.images.storeLayer(diffId, { open: async () => createReadStream(blob), digest, what: `build layer ${diffId}` });
    rmSync(blob, { force: true });
    trace('build: layer stored');
    return diffId;
  }

  /** A read-only view of a state's files (for COPY --from): its single layer, or an overlay. */
  private async viewOf(state: State): Promise<string> {
    const cached = this.views.get(state.key);
    if (cached !== undefined) return cached;
    const resolved = await this.resolvedState(state);
    let dir: string;
    if (resolved.layerDirs.length === 0) {
      dir = path.join(this.work, uniqueName('empty'));
      mkdirSync(dir);
    } else if (resolved.layerDirs.length === 1) {
      dir = resolved.layerDirs[0] as string;
    } else {
      dir = path.join(this.work, uniqueName('view'));
      mkdirSync(dir);
      this.mount(dir, `lowerdir=${[...resolved.layerLinks].reverse().join(':')}`, MS_RDONLY);
    }
    this.views.set(state.key, dir);
    return dir;
  }

  private mount(target: string, data: string, flags = 0): void {
    if (data.length >= 4096) throw new BuildError(`overlay mount data is ${data.length} bytes (too many layers)`);
    sys.mount('overlay', target, 'overlay', flags, data);
    this.mounts.push(target);
  }

  private unmount(target: string): void {
    sys.umount2(target, 0);
    const i = this.mounts.indexOf(target);
    if (i >= 0) this.mounts.splice(i, 1);
  }

  private async runCopy(run: StageRun, instr: Instruction, env: Env, stages: readonly Stage[], stage: Stage): Promise<void> {
    const k = instr.keyword;
    let from: string | undefined;
    let chown: string | undefined;
    let chmod: number | undefined;
    for (const f of instr.flags) {
      if (f.name === 'from') from = this.expand(instr, f.value, this.stageEnv(run));
      else if (f.name === 'chown') chown = this.expand(instr, f.value, env);
      else if (f.name === 'chmod') {
        if (!/^[0-7]{3,4}$/.test(f.value)) this.fail(instr, `invalid --chmod=${f.value}: hull build takes an octal mode`);
        chmod = parseInt(f.value, 8);
      } else if (f.name === 'link') continue; // layers are independent diffs anyway
      else this.fail(instr, `${k} --${f.name} is not supported by hull build`);
    }
    if (from !== undefined && k === 'ADD') this.fail(instr, 'ADD does not take --from (use COPY --from)');
    let words: string[];
    if (instr.json) words = instr.json.map((w) => this.expand(instr, w, env));
    else words = this.expandList(instr, instr.args.replace(/<<-?(["']?)([A-Za-z_][A-Za-z0-9_]*)\1/g, '<<$2'), env);
    if (words.length < 2) this.fail(instr, `${k} requires at least two arguments`);
    const destRaw = words[words.length - 1] as string;
    const srcWords = words.slice(0, -1);
    const c = configOf(run.state);
    const workdir = (c.WorkingDir as string | undefined) || '/';
    let dest = path.posix.isAbsolute(destRaw) ? destRaw : path.posix.join(workdir, destRaw);
    if ((destRaw.endsWith('/') || destRaw === '.') && !dest.endsWith('/')) dest += '/';

    // Source root: the context, another stage, or an image.
    let root: SourceRoot;
    let fromKey = 'context';
    if (from !== undefined) {
      const st = this.stageRef(stages, from, stage.index);
      let fromState: State;
      if (st) fromState = (this.stageRuns.get(st.index) as StageRun).state;
      else {
        let raw: { id: string; config: Json };
        try {
          raw = await this.images.rawImage(from);
        } catch (err) {
          if (err instanceof HullError) this.fail(instr, `--from=${from}: no stage or image of that name (hull build does not pull)`);
          throw err;
        }
        fromState = { key: sha(`image ${raw.id}`), image: raw.config };
      }
      root = { dir: await this.viewOf(fromState), what: st ? `stage ${st.name ?? st.index}` : `image ${from}` };
      fromKey = fromState.key;
    } else {
      root = { dir: this.opts.contextDir, what: 'the build context', ...(this.ignored ? { ignored: this.ignored } : {}) };
    }
    const heredocs = new Map(instr.heredocs.map((h) => [h.name, h]));
    const sources: (Source | { heredoc: string; content: string })[] = [];
    for (const w of srcWords) {
      const hd = /^<<([A-Za-z_][A-Za-z0-9_]*)$/.exec(w);
      if (hd && heredocs.has(hd[1] as string)) {
        const h = heredocs.get(hd[1] as string) as { content: string; expand: boolean };
        sources.push({ heredoc: hd[1] as string, content: h.expand ? this.expandHeredoc(instr, h.content, env) : h.content });
        continue;
      }
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(w)) this.fail(instr, `${k} from a URL is not supported by hull build (${w})`);
      try {
        sources.push(...resolveSources(root, w, `${this.file.file}:${instr.line}: ${k} ${w}`));
      } catch (err) {
        if (err instanceof HullError && !(err instanceof DockerfileError)) throw new BuildError(err.message);
        throw err;
      }
    }
    if (sources.length > 1 && !dest.endsWith('/')) {
      this.fail(instr, `when using ${k} with more than one source file, the destination must be a directory and end with a /`);
    }
    const files = sources.filter((s): s is Source => 'full' in s);
    const digest = sourcesDigest(root, files, `${this.file.file}:${instr.line}: ${k}`);
    const heredocDigest = sha(JSON.stringify(sources.filter((s) => 'heredoc' in s)));
    const createdBy = `${k} ${from !== undefined ? `--from=${from} ` : ''}${chown !== undefined ? `--chown=${chown} ` : ''}${chmod !== undefined ? `--chmod=${chmod.toString(8)} ` : ''}${srcWords.join(' ')} ${dest} # buildkit`;
    const description = `${k} ${JSON.stringify({ from: fromKey, srcs: srcWords, digest, heredocDigest, dest, chown, chmod })}`;
    await this.cachedStep(run, description, async () => {
      const next = structuredClone(run.state.image);
      const { uid, gid } = this.chownIds(run.state, chown, instr);
      const layer = await this.inMountedState(run.state, async (rootfs) => {
        const opts = { uid, gid, ...(chmod !== undefined ? { mode: chmod } : {}), instruction: `${this.file.file}:${instr.line}: ${k}` };
        for (const s of sources) {
          if ('heredoc' in s) {
            writeHeredocFile(rootfs, dest, s.heredoc, s.content, opts);
            continue;
          }
          if (k === 'ADD' && s.st.isFile() && archiveKind(s.full) !== undefined) {
            await this.extractInto(s, rootfs, dest, opts);
            continue;
          }
          copySources(root, [s], rootfs, sources.length > 1 && !dest.endsWith('/') ? `${dest}/` : dest, opts);
        }
      });
      if (layer !== undefined) (next.rootfs as { diff_ids: string[] }).diff_ids = [...diffIdsOf(run.state), layer];
      this.addHistory(next, createdBy, layer === undefined);
      return next;
    });
  }

  private expandHeredoc(instr: Instruction, content: string, env: Env): string {
    // Variables expand; quotes stay (a heredoc body is not a shell word).
    void instr;
    return content.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, a: string | undefined, b: string | undefined) =>
      env.get((a ?? b) as string) ?? '');
  }

  /** ADD of a local archive: extracted (safely, without owners) into a temporary directory, then copied into place. */
  private async extractInto(src: Source, rootfs: string, dest: string, opts: { uid: number; gid: number; instruction: string }): Promise<void> {
    const kind = archiveKind(src.full);
    if (kind === 'bzip2' || kind === 'xz') throw new BuildError(`${opts.instruction}: ${src.rel}: ${kind} archives are not supported by hull build (gzip and plain tar are)`);
    const dir = path.join(this.work, uniqueName('add'));
    const { extractTar } = await import('../layer/unpack.js');
    await extractTar(createReadStream(src.full), dir, { what: src.rel });
    copySources({ dir }, [{ full: dir, rel: '', st: statSync(dir) }], rootfs, dest.endsWith('/') ? dest : `${dest}/`, opts);
    await removeTree(dir);
  }

  private chownIds(state: State, chown: string | undefined, instr: Instruction): { uid: number; gid: number } {
    if (chown === undefined) return { uid: 0, gid: 0 };
    const [user = '', group] = chown.split(':');
    const lookup = (name: string, file: string, what: string): number => {
      if (/^\d+$/.test(name)) return Number(name);
      const text = this.stateFile(state, file);
      for (const line of (text ?? '').split('\n')) {
        const f = line.split(':');
        if (f[0] === name && f[2] !== undefined && /^\d+$/.test(f[2])) return Number(f[2]);
      }
      this.fail(instr, `unable to convert ${what} "${name}" for --chown: no such ${what} in ${file}`);
    };
    const uid = lookup(user, '/etc/passwd', 'user');
    const gid = group === undefined ? uid : lookup(group, '/etc/group', 'group');
    return { uid, gid };
  }

  private stateFile(state: State, file: string): string | undefined {
    const dirs = diffIdsOf(state).map((d) => path.join(this.paths.layers, d.slice('sha256:'.length), 'diff'));
    return readImageFile(dirs, file);
  }

  /** Mounts the state with a fresh upper directory, runs `fn` on the merged root, stores the diff. */
  private async inMountedState(state: State, fn: (rootfs: string) => Promise<void>): Promise<string | undefined> {
    const resolved = await this.resolvedState(state);
    const dir = path.join(this.work, uniqueName('copy'));
    const [upper, work, merged, empty] = ['upper', 'work', 'merged', 'empty'].map((d) => path.join(dir, d)) as [string, string, string, string];
    for (const d of [upper, work, merged, empty]) mkdirSync(d, { recursive: true, mode: 0o755 });
    const lowers = resolved.layerLinks.length > 0 ? [...resolved.layerLinks].reverse() : [empty];
    this.mount(merged, `lowerdir=${lowers.join(':')},upperdir=${upper},workdir=${work}`);
    try {
      await fn(merged);
    } finally {
      this.unmount(merged);
    }
    const layer = await this.commitLayer(upper);
    await removeTree(dir);
    return layer;
  }

  /** Writes the final image: config blob, record, names. */
  private async commit(state: State): Promise<BuildResult> {
    const image = structuredClone(state.image);
    const c = configOf({ key: '', image });
    if (this.opts.labels && Object.keys(this.opts.labels).length > 0) c.Labels = { ...((c.Labels as Json | undefined) ?? {}), ...this.opts.labels };
    const history = (image.history as Json[] | undefined) ?? [];
    const created = (history[history.length - 1]?.created as string | undefined) ?? (image.created as string | undefined) ?? new Date().toISOString();
    const ordered: Json = {
      architecture: image.architecture ?? goArch(),
      ...(image.author !== undefined ? { author: image.author } : {}),
      config: c,
      created,
      history,
      os: image.os ?? 'linux',
      rootfs: { type: 'layers', diff_ids: diffIdsOf({ key: '', image }) },
      ...(image.variant !== undefined ? { variant: image.variant } : {}),
    };
    const bytes = Buffer.from(JSON.stringify(ordered));
    const tags = [...(this.opts.tags ?? [])];
    const resolved = await this.images.commitImage(bytes, tags);
    this.say(`COMMIT ${tags.map((t) => familiar(t)).join(' ')}`.trimEnd());
    this.say(`--> ${resolved.id.slice('sha256:'.length, 'sha256:'.length + 12)}`);
    for (const t of tags) this.say(`Successfully tagged ${familiar(t)}`);
    return { id: resolved.id, tags, steps: this.stepNo, cached: this.cachedSteps };
  }
}

/** Words of a `--build-arg`-like list (KEY=VALUE; a bare KEY takes hull's environment, or is dropped). */
export function parseKeyValueFlags(list: readonly string[], what: string, hostEnv: NodeJS.ProcessEnv = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq === 0) throw new UsageError(`${what}: invalid ${JSON.stringify(item)}: empty name`);
    if (eq < 0) {
      const v = hostEnv[item];
      if (v !== undefined) out[item] = v;
      continue;
    }
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

