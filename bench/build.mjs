#!/usr/bin/env node
// bench/build.mjs — `hull build` beside `buildah bud --layers` on the same 3-step Dockerfile:
//
//   FROM busybox            (a local image: made by scripts/make-busybox-image.mjs, loaded into hull,
//   RUN echo hi > /x         and into buildah's storage from `hull save` output)
//   COPY file.txt /file.txt
//
// cold: `--no-cache` (every step runs, every layer is committed); cached: nothing changed, every
// step a cache hit. Runs are interleaved round by round; medians from this one run.
//
//   sudo npm run bench:build [-- --runs 15 --warmup 2 --only hull,buildah]
//
// buildah runs with private configuration only (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF,
// CONTAINERS_REGISTRIES_CONF under the temp dir; nothing in /etc), an absolute --cgroup-parent and
// --network none (bench/../peers notes). Everything made is removed at the end (buildah's storage
// with `buildah rm --all` + `rmi --all`, hull's root, the temp dir; the cgroups by rmdir).

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeBusyboxImage } from '../scripts/make-busybox-image.mjs';
import { median, privateContainersEnv } from './lib.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const KINDS = ['hull', 'buildah'];

function parseArgs(argv) {
  const o = { runs: 15, warmup: 2, only: KINDS, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--runs') o.runs = Number(val());
    else if (a === '--warmup') o.warmup = Number(val());
    else if (a === '--only')
      o.only = val()
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    else if (a === '--keep') o.keep = true;
    else if (a === '-h' || a === '--help') {
      console.log('usage: node bench/build.mjs [--runs N (15)] [--warmup N (2)] [--only hull,buildah] [--keep]');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  for (const k of o.only) if (!KINDS.includes(k)) throw new Error(`--only: unknown ${k}`);
  return o;
}

const opts = parseArgs(process.argv.slice(2));
if (process.getuid?.() !== 0) {
  console.error('bench/build.mjs needs root (hull and buildah make mounts, namespaces and cgroups)');
  process.exit(1);
}
const hasBuildah = spawnSync('sh', ['-c', 'command -v buildah']).status === 0;
const only = opts.only.filter((k) => k !== 'buildah' || hasBuildah);
if (opts.only.includes('buildah') && !hasBuildah) console.error('buildah is not installed (scripts/install-deps.sh test): measuring hull only');

function sh(cmd, args, o = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...o });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}: ${(r.stderr || r.stdout || '').trim()}`);
  return r.stdout;
}

function timed(cmd, args, o = {}) {
  const t0 = process.hrtime.bigint();
  sh(cmd, args, { ...o, stdio: ['ignore', 'pipe', 'pipe'] });
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const base = mkdtempSync(join(tmpdir(), 'hull-bench-build-'));
const ctx = join(base, 'context');
mkdirSync(ctx);
writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo hi > /x\nCOPY file.txt /file.txt\n');
writeFileSync(join(ctx, 'file.txt'), 'a file from the context\n');

// ---- hull, private root
const hullArgs = ['--root', join(base, 'hull', 'root'), '--run-root', join(base, 'hull', 'run')];
const hullCgroup = `hull-bench-build-${process.pid}`;
const hull = (...a) => sh(process.execPath, [join(repo, 'bin', 'hull.cjs'), ...hullArgs, ...a]);
const hullBuild = (noCache) =>
  timed(process.execPath, [
    join(repo, 'bin', 'hull.cjs'),
    ...hullArgs,
    'build',
    '-q',
    '--cgroup-parent',
    hullCgroup,
    ...(noCache ? ['--no-cache'] : []),
    '-t',
    'bench',
    ctx,
  ]);

// ---- buildah, configured privately
const bd = join(base, 'buildah');
const bdCgroup = `/hull-bench-buildah-${process.pid}`;
let bdEnv;
function setUpBuildah() {
  bdEnv = privateContainersEnv(bd);
}
const buildah = (...a) => sh('buildah', a, { env: bdEnv });
const buildahBuild = (noCache) =>
  timed('buildah', ['bud', '--layers', '--quiet', '--cgroup-parent', bdCgroup, '--network', 'none', ...(noCache ? ['--no-cache'] : []), '-t', 'bench', ctx], {
    env: bdEnv,
  });

const results = {};
try {
  await makeBusyboxImage({ outDir: join(base, 'image'), outTar: join(base, 'busybox-oci.tar') });
  hull('load', '-i', join(base, 'busybox-oci.tar'));
  if (only.includes('buildah')) {
    setUpBuildah();
    const archive = join(base, 'busybox-docker.tar');
    hull('save', '-o', archive, 'busybox');
    buildah('pull', '--quiet', `docker-archive:${archive}`);
    buildah('tag', buildah('images', '-q').trim().split('\n')[0], 'busybox');
  }
  const cases = [];
  for (const kind of only) {
    for (const mode of ['cold', 'cached']) {
      const f = kind === 'hull' ? hullBuild : buildahBuild;
      cases.push({ name: `${kind} ${mode}`, run: () => f(mode === 'cold') });
    }
  }
  for (const c of cases) for (let i = 0; i < opts.warmup; i++) c.run();
  for (const c of cases) results[c.name] = [];
  for (let round = 0; round < opts.runs; round++) for (const c of cases) results[c.name].push(c.run());

  console.log(
    `hull build vs buildah bud --layers: 3-step Dockerfile (FROM busybox, RUN echo hi > /x, COPY a file), ${opts.runs} runs each after ${opts.warmup} warm-up, interleaved; ${cpus().length} CPUs`,
  );
  const buildahVersion = only.includes('buildah') ? sh('buildah', ['--version']).trim() : '';
  if (buildahVersion) console.log(buildahVersion);
  console.log('case              median ms   min ms');
  for (const [name, xs] of Object.entries(results)) {
    console.log(
      `${name.padEnd(16)}  ${median(xs).toFixed(0).padStart(9)}  ${Math.min(...xs)
        .toFixed(0)
        .padStart(7)}`,
    );
  }
  if (results['buildah cold']) {
    const ratio = (a, b) => (median(results[a]) / median(results[b])).toFixed(2);
    console.log(`hull/buildah: cold ${ratio('hull cold', 'buildah cold')}, cached ${ratio('hull cached', 'buildah cached')} (target <= 1)`);
  }
} finally {
  if (!opts.keep) {
    if (only.includes('buildah') && bdEnv !== undefined) {
      try {
        buildah('rm', '--all');
        buildah('rmi', '--all', '--force');
      } catch (err) {
        console.error(`buildah clean-up: ${err.message}`);
      }
      spawnSync('umount', ['-R', join(bd, 'graph', 'overlay')], { stdio: 'ignore' });
    }
    const cgroot = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' '))
      .find((f) => f[8] === 'cgroup2')?.[4];
    if (cgroot) for (const cg of [join(cgroot, hullCgroup), join(cgroot, bdCgroup)]) spawnSync('rmdir', [cg], { stdio: 'ignore' });
    rmSync(base, { recursive: true, force: true });
  } else console.log(`kept ${base}`);
}
