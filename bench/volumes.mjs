#!/usr/bin/env node
// bench/volumes.mjs — what mounts add to `hull run --rm busybox true`: none, a named volume, a bind
// mount of an empty directory, a tmpfs; optionally beside another build of hull (--base) without
// any. Interleaved round by round from one process, so the figures compare with each other.
//
//   sudo node bench/volumes.mjs [--runs 30] [--warmup 3] [--base /path/to/other/bin/hull.cjs]
//
// Made and removed again: a temp dir with the busybox image, a private --root/--run-root per kind,
// and the cgroup parent /hull-bench-volumes.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeBusyboxImage } from '../scripts/make-busybox-image.mjs';

// What mounts add, without a bridge: hull runs with a network namespace holding only lo here, and
// makes no bridge on the host (bench:network measures the bridge).
process.env.HULL_DEFAULT_NETWORK ??= 'none';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const o = { runs: 30, warmup: 3, base: undefined, hull: join(repo, 'bin', 'hull.cjs') };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const v = () => argv[++i];
  if (argv[i] === '--runs') o.runs = Number(v());
  else if (argv[i] === '--warmup') o.warmup = Number(v());
  else if (argv[i] === '--base') o.base = resolve(v());
  else throw new Error(`usage: node bench/volumes.mjs [--runs N] [--warmup N] [--base OTHER/bin/hull.cjs] (unknown ${argv[i]})`);
}

const tmp = mkdtempSync(join(tmpdir(), 'hull-bench-volumes-'));
const parent = 'hull-bench-volumes';
try {
  const tar = join(tmp, 'busybox.tar');
  await makeBusyboxImage({ outTar: tar });
  const bindDir = join(tmp, 'bind-src');
  mkdirSync(bindDir);
  const kinds = [
    ...(o.base ? [['base build: (no mount)', o.base, []]] : []),
    ['(no mount)', o.hull, []],
    ['-v vol:/data', o.hull, ['-v', 'vol:/data']],
    ['-v DIR:/h', o.hull, ['-v', `${bindDir}:/h`]],
    ['--tmpfs /t', o.hull, ['--tmpfs', '/t']],
  ];
  const envs = kinds.map(([, bin], k) => {
    const g = ['--root', join(tmp, `root${k}`), '--run-root', join(tmp, `run${k}`)];
    const r = spawnSync(process.execPath, [bin, ...g, 'load', '-i', tar]);
    if (r.status !== 0) throw new Error(`load: ${r.stderr}`);
    return g;
  });
  const times = kinds.map(() => []);
  for (let round = 0; round < o.warmup + o.runs; round++) {
    kinds.forEach(([, bin, extra], k) => {
      const t = process.hrtime.bigint();
      const r = spawnSync(process.execPath, [bin, ...envs[k], 'run', '--rm', '--cgroup-parent', parent, ...extra, 'busybox', 'true']);
      if (r.status !== 0) throw new Error(`run ${extra.join(' ')}: ${r.stderr}`);
      if (round >= o.warmup) times[k].push(Number(process.hrtime.bigint() - t) / 1e6);
    });
  }
  const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  console.log(`hull run --rm busybox true, ${o.runs} runs each (median, ms):`);
  kinds.forEach(([label], k) => console.log(`  ${label.padEnd(26)} ${median(times[k]).toFixed(1)}`));
} finally {
  // The cgroup parent, where the cgroup2 hierarchy is mounted (hull leaves it when empty).
  const cgroup2 = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' '))
    .find((f) => f[f.indexOf('-') + 1] === 'cgroup2')?.[4];
  if (cgroup2) spawnSync('rmdir', [join(cgroup2, parent)]);
  rmSync(tmp, { recursive: true, force: true });
}
