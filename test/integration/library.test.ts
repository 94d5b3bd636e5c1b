// The library is real: a consumer project imports hull as a package (node_modules/hull), runs a
// container through the typed API, reads its exit code and output; no CLI involved.
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HullEnv, PROJECT, canRunContainers, skipReason } from '../helpers/hull-env.js';

describe.skipIf(!canRunContainers)(`import { Hull } from 'hull' (integration${skipReason})`, () => {
  let env: HullEnv;
  let consumer: string;

  beforeAll(async () => {
    env = new HullEnv();
    await env.loadBusybox();
    consumer = path.join(env.base, 'consumer');
    mkdirSync(path.join(consumer, 'node_modules'), { recursive: true });
    symlinkSync(PROJECT, path.join(consumer, 'node_modules', 'hull'));
    writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
  });
  afterAll(() => env.destroy());

  it('runs a container and reads its exit code and output; a container killed by a signal exits 128 + n', () => {
    const script = `
      import { Hull, ContainerStartError } from 'hull';
      const hull = new Hull({ root: ${JSON.stringify(env.root)}, runRoot: ${JSON.stringify(env.runRoot)} });
      const opts = { image: 'busybox', remove: true, stdout: 'pipe', stderr: 'pipe', cgroupParent: ${JSON.stringify(env.cgroupParent)} };
      const r = await hull.run({ ...opts, cmd: ['sh', '-c', 'echo out; echo err >&2; exit 5'] });
      const sleeper = await hull.start({ ...opts, stdout: 'ignore', stderr: 'ignore', cmd: ['sleep', '30'] });
      sleeper.kill(9);
      const killed = await sleeper.wait();
      let failure;
      try { await hull.run({ ...opts, cmd: ['missing-tool'] }); } catch (e) { failure = { cls: e instanceof ContainerStartError, code: e.exitCode, step: e.step }; }
      console.log(JSON.stringify({ exitCode: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString(), failure, killed }));
    `;
    writeFileSync(path.join(consumer, 'main.mjs'), script);
    const out = JSON.parse(execFileSync(process.execPath, ['main.mjs'], { cwd: consumer, encoding: 'utf8' })) as Record<string, unknown>;
    expect(out).toMatchObject({ exitCode: 5, stdout: 'out\n', stderr: 'err\n', failure: { cls: true, code: 127 }, killed: 137 });
    expect(env.leftovers()).toEqual([]);
  });

  it('is typed: a TypeScript consumer type-checks against the published declarations', () => {
    writeFileSync(
      path.join(consumer, 'typed.ts'),
      `
      import { Hull, type RunResult } from 'hull';
      const hull = new Hull({ root: '/tmp/x' });
      export async function demo(): Promise<number> {
        const r: RunResult = await hull.run({ image: 'busybox', cmd: ['true'], stdout: 'pipe' });
        return r.exitCode;
      }
      // @ts-expect-error: image is required
      void hull.run({ cmd: ['true'] });
    `,
    );
    writeFileSync(
      path.join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
          typeRoots: [path.join(PROJECT, 'node_modules/@types')],
        },
        files: ['typed.ts'],
      }),
    );
    execFileSync(process.execPath, [path.join(PROJECT, 'node_modules/typescript/bin/tsc'), '-p', consumer], { encoding: 'utf8' });
  });
});
