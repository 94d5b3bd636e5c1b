// The store under concurrency and crashes, through the CLI as root:
// - 20 concurrent `hull load` of images that share layers, beside concurrent `hull run --rm`:
//   each layer is unpacked exactly once (HULL_TRACE prints every unpack), and the store is
//   consistent afterwards (`hull system check` clean, nothing left in tmp/).
// - `kill -9` of `hull load` at several moments of a slow layer's unpack: never a half layer in
//   layers/ (a later command would use it); the next load completes and cleans tmp/, prune
//   removes the dangling links, and check is clean.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxLayerEntries, writeOciImage } from '../../scripts/make-busybox-image.mjs';
import type { Entry } from '../../scripts/make-busybox-image.mjs';
import { HULL_BIN, HullEnv, canRunContainers, skipReason } from '../helpers/hull-env.js';

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function hullAsync(env: HullEnv, args: string[], opts: { trace?: boolean; killAfterMs?: number } = {}): Promise<Result> {
  const full = args[0] === 'run' ? ['run', '--cgroup-parent', env.cgroupParent, ...args.slice(1)] : args;
  const child = spawn(process.execPath, [HULL_BIN, ...env.globalArgs(), ...full], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...(opts.trace ? { HULL_TRACE: '1' } : {}) },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  if (opts.killAfterMs !== undefined) setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs);
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

/** Every directory in layers/ is a complete layer (the files a later command reads). */
function expectNoHalfLayers(env: HullEnv): void {
  const layers = path.join(env.root, 'layers');
  for (const hex of existsSync(layers) ? readdirSync(layers) : []) {
    const dir = path.join(layers, hex);
    expect(readdirSync(dir).sort(), hex).toEqual(['blob', 'diff', 'link', 'size']);
    expect(readFileSync(path.join(dir, 'link'), 'utf8')).toMatch(/^[A-Z2-7]{26}\n$/);
  }
}

describe.skipIf(!canRunContainers)(`store concurrency and crash safety (integration${skipReason})`, () => {
  let env: HullEnv;

  beforeAll(async () => {
    env = new HullEnv();
    await env.loadBusybox();
  });

  afterAll(() => env.destroy());

  it('20 concurrent loads of images sharing layers (and runs beside them) unpack each layer once', async () => {
    const shared: Entry[] = [
      { path: 'shared/', type: 'dir' },
      { path: 'shared/data', content: 'x'.repeat(100_000) },
    ];
    const archives: string[] = [];
    for (let i = 0; i < 20; i++) {
      const outTar = path.join(env.base, `img${i}.tar`);
      await writeOciImage({
        layers: [busyboxLayerEntries(), shared, [{ path: `own${i}`, content: `${i}\n` }]],
        name: `example.com/shared:${i}`,
        config: { config: { Labels: { i: String(i) } } },
        outTar,
      });
      archives.push(outTar);
    }
    const loads = archives.map((a) => hullAsync(env, ['load', '-i', a], { trace: true }));
    const runs = Array.from({ length: 5 }, () => hullAsync(env, ['run', '--rm', 'busybox', 'true']));
    const results = await Promise.all([...loads, ...runs]);
    for (const r of results) expect(r.code, r.stderr).toBe(0);

    const unpacked = results
      .flatMap((r) => r.stderr.split('\n'))
      .filter((l) => l.includes('hull-trace unpacked layer '))
      .map((l) => /unpacked layer (sha256:[0-9a-f]{64})/.exec(l)?.[1]);
    // the busybox layer was stored before; the shared layer and the 20 own layers once each
    expect(unpacked).toHaveLength(21);
    expect(new Set(unpacked).size).toBe(21);
    expect(readdirSync(path.join(env.root, 'layers'))).toHaveLength(22);
    expect(readdirSync(path.join(env.root, 'l'))).toHaveLength(23); // + init
    expect(readdirSync(path.join(env.root, 'tmp'))).toEqual([]);
    expectNoHalfLayers(env);
    const images = await hullAsync(env, ['images', '-q']);
    expect(images.stdout.trim().split('\n')).toHaveLength(21);
    const check = await hullAsync(env, ['system', 'check']);
    expect(check.stdout).toMatch(/checked 64 blobs, 22 layers, 21 images, 21 names, 0 containers, 0 container names: no problems\n$/);
    expect(env.leftovers()).toEqual([]);
  });

  it('kill -9 of load at several moments never leaves a half layer; the next load completes and cleans up', async () => {
    // a slow layer: many files (inode creation and fsync dominate on ext4) and one large file
    const slow: Entry[] = [
      { path: 'many/', type: 'dir' },
      { path: 'big', size: 64 * 1024 * 1024 },
    ];
    for (let i = 0; i < 1500; i++) slow.push({ path: `many/f${i}`, content: `${i}\n` });
    const archive = path.join(env.base, 'slow.tar');
    const built = await writeOciImage({ layers: [busyboxLayerEntries(), slow], name: 'example.com/slow:1', outTar: archive });

    const outcomes: string[] = [];
    let interruptedUnpack = false;
    for (const ms of [30, 150, 300, 500, 700, 900, 1200, 1500, 2500]) {
      const r = await hullAsync(env, ['load', '-i', archive], { killAfterMs: ms });
      outcomes.push(r.signal === 'SIGKILL' ? `killed after ${ms} ms` : `finished (${r.code}) before ${ms} ms`);
      // a kill that landed mid-unpack leaves the half layer in tmp/ (never in layers/)
      if (readdirSync(path.join(env.root, 'tmp')).some((n) => n.startsWith('layer-'))) interruptedUnpack = true;
      expectNoHalfLayers(env);
      // a later command never uses a half layer: the image either runs or is not there
      const run = await hullAsync(env, ['run', '--rm', '--pull', 'never', 'example.com/slow:1', 'cat', '/many/f1499']);
      if (run.code === 0) expect(run.stdout).toBe('1499\n');
      else expect(run.stderr).toMatch(/image not found/);
      if (r.signal !== 'SIGKILL') break;
    }
    expect(outcomes[0]).toMatch(/^killed/);
    expect(interruptedUnpack, outcomes.join(', ')).toBe(true);
    const done = await hullAsync(env, ['load', '-i', archive]);
    expect(done.stdout).toBe('Loaded image: example.com/slow:1\n');
    expect(readdirSync(path.join(env.root, 'tmp'))).toEqual([]); // the killed loads' leftovers went
    expectNoHalfLayers(env);
    const check = await hullAsync(env, ['system', 'check']);
    expect(check.stdout, outcomes.join(', ')).toMatch(/: no problems\n$/);
    // dangling links and orphan blobs of the killed loads are garbage for prune
    await hullAsync(env, ['image', 'prune', '-f']);
    const links = readdirSync(path.join(env.root, 'l')).filter((l) => l !== 'init');
    expect(links).toHaveLength(readdirSync(path.join(env.root, 'layers')).length);
    const run = await hullAsync(env, ['run', '--rm', 'example.com/slow:1', 'sh', '-c', 'ls /many | wc -l; wc -c < /big']);
    expect(run.stdout.split(/\s+/).filter(Boolean)).toEqual(['1500', String(64 * 1024 * 1024)]);
    expect((await hullAsync(env, ['system', 'check'])).stdout).toMatch(/: no problems\n$/);
    expect(built.diffIds).toHaveLength(2);
    expect(env.leftovers()).toEqual([]);
  }, 180_000);
});
