/**
 * A Dockerfile's stages and which of them a build runs: the instructions grouped under their
 * FROM (ARGs before the first FROM are meta args), the target (`--target`, else the last stage),
 * and the stages it needs — its base and the sources of COPY --from, by name or index, transitively.
 */

import { BuildError, DockerfileError } from '../errors.js';
import type { BuildArgs } from './args.js';
import type { Instruction } from './dockerfile.js';
import type { Expander } from './expand.js';
import type { Env } from './shell-words.js';

export interface Stage {
  index: number;
  name?: string;
  from: Instruction;
  instructions: Instruction[];
}

export interface StagePlan {
  stages: Stage[];
  target: Stage;
  /** Indexes of the stages the target needs (itself included). */
  needed: Set<number>;
  /** The steps those stages run: FROM and each instruction (ONBUILD triggers are counted when met). */
  steps: number;
}

/** The stages of `x.file`; meta ARGs are declared in `args` as they come. */
export function planStages(x: Expander, args: BuildArgs, targetName: string | undefined): StagePlan {
  const stages: Stage[] = [];
  for (const instr of x.file.instructions) {
    if (instr.keyword === 'FROM') {
      const words = instr.args.split(/\s+/).filter(Boolean);
      const name = words.length === 3 ? (words[2] as string).toLowerCase() : undefined;
      if (name !== undefined && !/^[a-z][a-z0-9-_.]*$/.test(name)) x.fail(instr, `invalid name for build stage: "${words[2]}", name can't start with a number or contain symbols`);
      if (name !== undefined && stages.some((s) => s.name === name)) x.fail(instr, `duplicate name ${name}`);
      stages.push({ index: stages.length, ...(name !== undefined ? { name } : {}), from: instr, instructions: [] });
      continue;
    }
    const stage = stages[stages.length - 1];
    if (stage === undefined) {
      if (instr.keyword !== 'ARG') x.fail(instr, 'no build stage in current context: the first instruction must be FROM (or ARG)');
      args.declareMeta(instr, x);
      continue;
    }
    stage.instructions.push(instr);
  }
  if (stages.length === 0) throw new DockerfileError(x.file.file, { no: 1 }, 'the Dockerfile has no FROM instruction');
  let target = stages[stages.length - 1] as Stage;
  if (targetName !== undefined) {
    const t = stages.find((s) => s.name === targetName.toLowerCase());
    if (!t) throw new BuildError(`target stage "${targetName}" could not be found`);
    target = t;
  }
  const needed = neededStages(stages, target, x, args.metaEnv());
  const steps = stages.filter((s) => needed.has(s.index)).reduce((n, s) => n + 1 + s.instructions.length, 0);
  return { stages, target, needed, steps };
}

/** The stage's base name (FROM's first word, expanded with the meta args). */
export function baseOf(stage: Stage, x: Expander, metaEnv: Env): string {
  return x.expand(stage.from, (stage.from.args.split(/\s+/).filter(Boolean)[0] as string), metaEnv);
}

/** The earlier stage `ref` names (by name or index), if it names one. */
export function stageRef(stages: readonly Stage[], ref: string, before: number): Stage | undefined {
  const byName = stages.find((s) => s.name === ref.toLowerCase() && s.index < before);
  if (byName) return byName;
  if (/^\d+$/.test(ref)) {
    const s = stages[Number(ref)];
    if (s && s.index < before) return s;
  }
  return undefined;
}

function neededStages(stages: readonly Stage[], target: Stage, x: Expander, metaEnv: Env): Set<number> {
  const needed = new Set<number>();
  const visit = (s: Stage) => {
    if (needed.has(s.index)) return;
    needed.add(s.index);
    const base = stageRef(stages, baseOf(s, x, metaEnv), s.index);
    if (base) visit(base);
    for (const i of s.instructions) {
      const from = i.flags.find((f) => f.name === 'from')?.value;
      if ((i.keyword === 'COPY' || i.keyword === 'ADD') && from !== undefined) {
        const dep = stageRef(stages, x.expand(i, from, metaEnv), s.index);
        if (dep) visit(dep);
      }
    }
  };
  visit(target);
  return needed;
}
