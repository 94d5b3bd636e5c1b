/**
 * `hull build`: a Dockerfile's stages executed step by step on top of the store.
 *
 *   FROM        the base image's config and layers (or scratch, or an earlier stage); ONBUILD
 *               triggers of the base run next                                      ./state.ts
 *   RUN         a hull container on the current state (Env, build args, User, WorkingDir, Shell);
 *               the diff of its upper directory is the step's layer                ./run-step.ts
 *   COPY / ADD  the current state mounted (overlay, a fresh upper directory), the sources copied
 *               into it, the upper directory's diff is the layer                   ./copy-step.ts
 *   ARG         build args                                                         ./args.ts
 *   the rest    change the image config only: a history entry with empty_layer     ./metadata.ts
 *
 * This module orchestrates: which stages run (./stages.ts), each instruction in turn, the cache,
 * the final image. Every step has a cache key (./cache.ts); a hit takes the state from the cache.
 * Layers go into the store the way loaded layers do (./layer-commit.ts). The image config and
 * history are what BuildKit writes (`created_by` "RUN /bin/sh -c … # buildkit", comment
 * "buildkit.dockerfile.v0"). Temporary state lives in one directory under the store's tmp/
 * (./workspace.ts); mounts are undone and build containers removed on every path, also when aborted.
 */

import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { BuildError, HullError, ImageNotFoundError, UsageError } from '../errors.js';
import { familiar } from '../image/reference.js';
import type { Runtime } from '../runtime/runtime.js';
import type { ImageStore } from '../store/image-store.js';
import type { StorePaths } from '../store/paths.js';
import { checkAbort } from './abort.js';
import { BuildArgs, type StageArgs } from './args.js';
import { BuildCache, stepKey } from './cache.js';
import { applyCopy, chownIds, planCopy } from './copy-step.js';
import { readDockerignore, type DockerIgnore } from './dockerignore.js';
import { parseDockerfile, type Instruction } from './dockerfile.js';
import { Expander } from './expand.js';
import { applyMetadata, type MetadataContext } from './metadata.js';
import { Progress, type ProgressStyle } from './progress.js';
import { runCommand, runCreatedBy, runDescription, runInContainer } from './run-step.js';
import { baseOf, planStages, stageRef, type Stage } from './stages.js';
import { addHistory, addLayer, configOf, envMapOf, finalConfig, goArch, imageKey, imageState, scratchState, type Json, type State } from './state.js';
import { BuildWorkspace } from './workspace.js';

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
  /** The lines `output` gets: hull's (default) or Docker's classic builder's (the Engine API). */
  progressStyle?: ProgressStyle;
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

interface StageRun {
  state: State;
  /** ARGs declared in this stage. */
  args: StageArgs;
  cmdSet: boolean;
}

export class Builder {
  private readonly cache: BuildCache;
  private readonly progress: Progress;
  private readonly workspace: BuildWorkspace;
  private readonly args: BuildArgs;
  private x!: Expander;
  private ignored: DockerIgnore | undefined;
  private cachedSteps = 0;
  private readonly stageRuns = new Map<number, StageRun>();

  constructor(
    private readonly paths: StorePaths,
    private readonly images: ImageStore,
    private readonly runtime: Runtime,
    private readonly opts: BuildOptions,
  ) {
    this.cache = new BuildCache(paths);
    this.progress = new Progress(opts.output, opts.progressStyle);
    this.workspace = new BuildWorkspace(paths, images);
    this.args = new BuildArgs(opts.buildArgs);
  }

  /** FROM's image pulled into the store; a failure names the Dockerfile line. */
  private async pullBase(from: Instruction, base: string): Promise<void> {
    checkAbort(this.opts.signal);
    try {
      await (this.opts.pullImage as (reference: string) => Promise<void>)(base);
    } catch (err) {
      throw new BuildError(`${this.x.file.file}:${from.line}: FROM ${base}: ${(err as Error).message}`, { cause: err });
    }
  }

  async build(): Promise<BuildResult> {
    this.workspace.create();
    mkdirSync(this.cache.dir, { recursive: true, mode: 0o700 });
    try {
      return await this.buildInner();
    } finally {
      this.workspace.cleanup();
    }
  }

  private async buildInner(): Promise<BuildResult> {
    this.x = new Expander(parseDockerfile(this.opts.dockerfile, this.opts.dockerfileName ?? 'Dockerfile'));
    this.ignored = readDockerignore(this.opts.contextDir);
    const plan = planStages(this.x, this.args, this.opts.target);
    this.progress.totalSteps = plan.steps;
    for (const stage of plan.stages) {
      if (!plan.needed.has(stage.index)) continue;
      checkAbort(this.opts.signal);
      await this.runStage(stage, plan.stages);
    }
    const unused = this.args.unused();
    if (unused.length > 0) this.progress.say(`[Warning] one or more build-args [${unused.join(' ')}] were not consumed`);
    return this.commit((this.stageRuns.get(plan.target.index) as StageRun).state);
  }

  /** The state FROM starts the stage with: an earlier stage's, scratch, or a stored image (pulled when missing, or always with --pull). */
  private async baseState(stage: Stage, stages: readonly Stage[], base: string): Promise<State> {
    const prev = stageRef(stages, base, stage.index);
    if (prev) return structuredClone((this.stageRuns.get(prev.index) as StageRun).state);
    if (base.toLowerCase() === 'scratch') return scratchState();
    let raw: { id: string; config: Json };
    // As docker build: a base image that is not stored is pulled; --pull pulls it anyway.
    if (this.opts.pull && this.opts.pullImage) await this.pullBase(stage.from, base);
    try {
      raw = await this.images.rawImage(base);
    } catch (err) {
      if (!(err instanceof ImageNotFoundError || err instanceof UsageError)) throw err;
      if (err instanceof UsageError || !this.opts.pullImage || this.opts.pull) {
        throw new BuildError(`${this.x.file.file}:${stage.from.line}: FROM ${base}: image not found${this.opts.pullImage ? '' : ' in the store'}`);
      }
      await this.pullBase(stage.from, base);
      raw = await this.images.rawImage(base);
    }
    return imageState(raw);
  }

  private async runStage(stage: Stage, stages: readonly Stage[]): Promise<void> {
    this.progress.step(stage.from);
    const base = baseOf(stage, this.x, this.args.metaEnv());
    const platform = stage.from.flags.find((f) => f.name === 'platform');
    if (platform && !['', `linux/${goArch()}`].includes(this.x.expand(stage.from, platform.value, this.args.metaEnv()))) {
      this.x.fail(stage.from, `platform ${platform.value} is not this host's (linux/${goArch()})`);
    }
    for (const f of stage.from.flags) if (f.name !== 'platform') this.x.fail(stage.from, `unknown flag: --${f.name}`);
    const state = await this.baseState(stage, stages, base);
    const run: StageRun = { state, args: new Map(), cmdSet: false };
    this.stageRuns.set(stage.index, run);
    this.progress.result(state.key.slice(0, 12));
    // ONBUILD triggers of the base run first, and are not inherited.
    const triggers = (configOf(state).OnBuild as string[] | undefined) ?? [];
    if (triggers.length > 0) {
      delete configOf(state).OnBuild;
      const parsed = parseDockerfile(triggers.join('\n'), `${this.x.file.file} (ONBUILD of ${base})`);
      for (const instr of parsed.instructions) {
        this.progress.totalSteps++;
        await this.runInstruction(run, { ...instr, line: stage.from.line }, stages, stage, 'ONBUILD ');
      }
    }
    for (const instr of stage.instructions) {
      checkAbort(this.opts.signal);
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
    this.progress.step(instr, prefix);
    const env = this.stageEnv(run);
    const k = instr.keyword;
    if (k === 'ARG') {
      this.args.declare(instr, run.args, env, this.x);
      return; // no history, no cache step: ARGs count where they are used
    }
    if (k === 'RUN') return this.runRun(run, instr);
    if (k === 'COPY' || k === 'ADD') return this.runCopy(run, instr, env, stages, stage);
    // Metadata only.
    const next = structuredClone(run.state.image);
    const meta: MetadataContext = {
      escape: this.x.file.escape,
      cmdSet: run.cmdSet,
      fail: (i, m) => this.x.fail(i, m),
      expand: (t) => this.x.expand(instr, t, env),
      expandList: (t) => this.x.expandList(instr, t, env),
    };
    const createdBy = applyMetadata(instr, next, meta);
    run.cmdSet = meta.cmdSet;
    await this.cachedStep(run, `${k} ${JSON.stringify(next.config)} ${typeof next.author === 'string' ? next.author : ''}`, async () => {
      addHistory(next, createdBy, true);
      return next;
    });
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
        this.progress.result(key.slice(0, 12), true);
        return;
      }
    }
    const image = await make();
    this.cache.put({ key, config: image });
    run.state = { key, image };
    this.progress.result(key.slice(0, 12));
  }

  private async runRun(run: StageRun, instr: Instruction): Promise<void> {
    const cmd = runCommand(instr, configOf(run.state), this.opts.network ?? 'none', this.x);
    const args = this.args.runEnv(run.args, envMapOf(run.state));
    await this.cachedStep(run, runDescription(cmd, args), async () => {
      const next = structuredClone(run.state.image);
      const resolved = await this.workspace.resolvedState(run.state);
      const layer = await runInContainer({
        paths: this.paths,
        runtime: this.runtime,
        workspace: this.workspace,
        progress: this.progress,
        ...(this.opts.cgroupParent !== undefined ? { cgroupParent: this.opts.cgroupParent } : {}),
        ...(this.opts.signal !== undefined ? { signal: this.opts.signal } : {}),
      }, resolved, configOf(run.state), cmd, args);
      addLayer(next, run.state, layer);
      addHistory(next, runCreatedBy(cmd, args), layer === undefined);
      return next;
    });
  }

  private async runCopy(run: StageRun, instr: Instruction, env: Map<string, string>, stages: readonly Stage[], stage: Stage): Promise<void> {
    const step = await planCopy(instr, env, run.state, {
      x: this.x,
      contextDir: this.opts.contextDir,
      ignored: this.ignored,
      fromState: (i, from) => this.copyFrom(i, from, stages, stage),
      viewOf: (s) => this.workspace.viewOf(s),
    });
    await this.cachedStep(run, step.description, async () => {
      const next = structuredClone(run.state.image);
      const owner = chownIds(step.chown, instr, this.x, (file) => this.workspace.stateFile(run.state, file));
      const layer = await this.workspace.inMountedState(run.state, (rootfs) => applyCopy(step, rootfs, owner, (p) => this.workspace.temp(p)));
      addLayer(next, run.state, layer);
      addHistory(next, step.createdBy, layer === undefined);
      return next;
    });
  }

  /** What COPY --from names: an earlier stage's state, else a stored image (a build does not pull it). */
  private async copyFrom(instr: Instruction, from: string, stages: readonly Stage[], stage: Stage): Promise<{ state: State; what: string }> {
    const st = stageRef(stages, from, stage.index);
    if (st) return { state: (this.stageRuns.get(st.index) as StageRun).state, what: `stage ${st.name ?? st.index}` };
    let raw: { id: string; config: Json };
    try {
      raw = await this.images.rawImage(from);
    } catch (err) {
      if (err instanceof HullError) this.x.fail(instr, `--from=${from}: no stage or image of that name (hull build does not pull)`);
      throw err;
    }
    return { state: { key: imageKey(raw.id), image: raw.config }, what: `image ${from}` };
  }

  /** Writes the final image: config blob, record, names. */
  private async commit(state: State): Promise<BuildResult> {
    const tags = [...(this.opts.tags ?? [])];
    const resolved = await this.images.commitImage(finalConfig(state, this.opts.labels), tags);
    this.progress.committed(
      resolved.id.slice('sha256:'.length, 'sha256:'.length + 12),
      tags.map((t) => familiar(t)),
    );
    return { id: resolved.id, tags, steps: this.progress.steps, cached: this.cachedSteps };
  }
}
