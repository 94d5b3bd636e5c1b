// The pure parts of the builder: stage planning, build args, RUN's command, the final config.
import { describe, expect, it } from 'vitest';
import { BuildArgs, parseKeyValueFlags } from '../../../src/build/args.js';
import { parseDockerfile } from '../../../src/build/dockerfile.js';
import { Expander } from '../../../src/build/expand.js';
import { runCommand, runCreatedBy } from '../../../src/build/run-step.js';
import { planStages } from '../../../src/build/stages.js';
import { addHistory, finalConfig, imageState } from '../../../src/build/state.js';
import { BuildError, DockerfileError, UsageError } from '../../../src/errors.js';

const expander = (text: string) => new Expander(parseDockerfile(text));

describe('stage planning', () => {
  const file = [
    'ARG BASE=busybox',
    'FROM $BASE AS tools',
    'RUN make',
    'FROM busybox AS unused',
    'RUN true',
    'FROM tools AS app',
    'COPY --from=0 /a /a',
    'FROM scratch',
    'COPY --from=app /a /a',
  ].join('\n');

  it('runs the target and the stages it needs (bases, COPY --from by name or index), counting their steps', () => {
    const plan = planStages(expander(file), new BuildArgs({}), undefined);
    expect(plan.stages.map((s) => s.name ?? s.index)).toEqual(['tools', 'unused', 'app', 3]);
    expect(plan.target.index).toBe(3);
    expect([...plan.needed].sort()).toEqual([0, 2, 3]);
    expect(plan.steps).toBe(2 + 2 + 2);
    const tools = planStages(expander(file), new BuildArgs({}), 'TOOLS');
    expect([...tools.needed]).toEqual([0]);
    expect(() => planStages(expander(file), new BuildArgs({}), 'nope')).toThrow(BuildError);
  });

  it('names the line of a bad stage name, a duplicate, an instruction before FROM; a file without FROM', () => {
    expect(() => planStages(expander('FROM a AS 1x\n'), new BuildArgs({}), undefined)).toThrow(/invalid name for build stage/);
    expect(() => planStages(expander('FROM a AS x\nFROM b AS x\n'), new BuildArgs({}), undefined)).toThrow(/Dockerfile:2.*duplicate name x/s);
    expect(() => planStages(expander('RUN x\nFROM a\n'), new BuildArgs({}), undefined)).toThrow(DockerfileError);
    expect(() => planStages(expander('ARG A=1\n'), new BuildArgs({}), undefined)).toThrow(/no FROM instruction/);
  });
});

describe('build args', () => {
  it('meta args feed FROM and stage ARGs; RUN sees the declared ones (ENV wins) and given proxies; unused ones are reported', () => {
    const x = expander('ARG V=1\nFROM a\nARG V\nARG W=${V}2\nARG Z\n');
    const args = new BuildArgs({ Z: 'z', HTTP_PROXY: 'p', EXTRA: 'e' });
    const plan = planStages(x, args, undefined);
    expect([...args.metaEnv()]).toEqual([['V', '1']]);
    const stageArgs = new Map<string, string | undefined>();
    for (const instr of plan.stages[0]!.instructions) args.declare(instr, stageArgs, new Map([...stageArgs].filter((e): e is [string, string] => e[1] !== undefined)), x);
    expect([...stageArgs]).toEqual([['V', '1'], ['W', '12'], ['Z', 'z']]);
    expect(args.runEnv(stageArgs, new Map([['W', 'env']]))).toEqual(['V=1', 'Z=z', 'HTTP_PROXY=p']);
    expect(args.unused()).toEqual(['EXTRA']);
  });

  it('parses --build-arg lists: KEY=VALUE, a bare KEY from the environment', () => {
    expect(parseKeyValueFlags(['A=1', 'B', 'C'], '--build-arg', { B: 'b' })).toEqual({ A: '1', B: 'b' });
    expect(() => parseKeyValueFlags(['=x'], '--label')).toThrow(UsageError);
  });
});

describe('RUN', () => {
  const run = (text: string, config: Record<string, unknown> = {}) => {
    const x = expander(`FROM a\n${text}\n`);
    return runCommand(x.file.instructions[1]!, config, 'none', x);
  };

  it('exec form, shell form (the image\'s SHELL), a heredoc script, a #! heredoc read from /dev/stdin', () => {
    expect(run('RUN ["a", "b"]')).toEqual({ argv: ['a', 'b'], network: 'none' });
    expect(run('RUN echo hi', { Shell: ['/bin/bash', '-c'] })).toEqual({ argv: ['/bin/bash', '-c', 'echo hi'], network: 'none' });
    expect(run('RUN <<EOF\necho 1\nEOF').argv).toEqual(['/bin/sh', '-c', 'echo 1\n']);
    expect(run('RUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF')).toEqual({ argv: ['/usr/bin/env', 'python3', '/dev/stdin'], script: '#!/usr/bin/env python3\nprint(1)\n', network: 'none' });
    expect(run('RUN --network=host true').network).toBe('host');
    expect(() => run('RUN --mount=type=cache true')).toThrow(/RUN --mount is not supported/);
    expect(runCreatedBy(run('RUN echo hi'), ['A=1'])).toBe('RUN |1 A=1 /bin/sh -c echo hi # buildkit');
  });
});

describe('the final config', () => {
  it('keeps the base\'s fields, adds --label, writes BuildKit\'s field order', () => {
    const state = imageState({ id: 'sha256:x', config: { os: 'linux', architecture: 'amd64', config: { Labels: { a: '1' } }, rootfs: { type: 'layers', diff_ids: [] }, extra: 1 } });
    expect(state.image.config).toEqual({ Labels: { a: '1' }, Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] });
    addHistory(state.image, 'ENV A=1', true);
    const config = JSON.parse(finalConfig(state, { b: '2' }).toString()) as Record<string, unknown>;
    expect(Object.keys(config)).toEqual(['architecture', 'config', 'created', 'history', 'os', 'rootfs']);
    expect((config.config as { Labels: unknown }).Labels).toEqual({ a: '1', b: '2' });
    expect(config.history).toEqual([expect.objectContaining({ created_by: 'ENV A=1', comment: 'buildkit.dockerfile.v0', empty_layer: true })]);
  });
});
