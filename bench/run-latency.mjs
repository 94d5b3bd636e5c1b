#!/usr/bin/env node
// bench/run-latency.mjs — how long `hull run --rm busybox true` takes, beside Node's own start-up
// (`node -e 0`, the floor no Node CLI can go under) and `runc run` of an equivalent bundle.
//
//   sudo npm run bench:run [-- --runs 25 --warmup 3 --only node,runc,hull] [--baseline OTHER/bin/hull.cjs]
//
// --baseline also measures another build of hull (say main's), interleaved with this one, and prints
// this build's median as a ratio of it.
//
// Everything runs from one process on one machine, interleaved round by round, so the figures are
// comparable with each other (not with other machines). Target: median(hull) - median(node) is no
// more than median(runc).
//
// Made and removed again: a temp dir with the busybox image (scripts/make-busybox-image.mjs), a
// private hull --root/--run-root, a runc bundle made from the same layer, runc state
// (runc --root), and runc's cgroup at an absolute path (/hull-bench-runc-PID: a relative path
// would land under this machine's own cgroup).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeBusyboxImage } from '../scripts/make-busybox-image.mjs';

// Like the peers measured beside it (a runc bundle, podman with netns="none"), hull runs with a network
// namespace holding only lo here: no bridge is made on the host (bench:network measures the bridge).
process.env.HULL_DEFAULT_NETWORK ??= 'none';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const KINDS = ['node', 'runc', 'hull'];

function parseArgs(argv) {
  const o = { runs: 25, warmup: 3, only: KINDS, hull: join(repo, 'bin', 'hull.cjs'), runc: 'runc', keep: false, baseline: undefined };
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
    else if (a === '--hull') o.hull = resolve(val());
    else if (a === '--runc') o.runc = val();
    else if (a === '--baseline') o.baseline = resolve(val());
    else if (a === '--keep') o.keep = true;
    else if (a === '-h' || a === '--help') {
      console.log(
        'usage: node bench/run-latency.mjs [--runs N (25)] [--warmup N (3)] [--only node,runc,hull] [--hull bin/hull.cjs] [--baseline OTHER/bin/hull.cjs] [--runc runc] [--keep]',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(o.runs) || o.runs < 1) throw new Error('--runs must be a positive integer');
  if (!Number.isInteger(o.warmup) || o.warmup < 0) throw new Error('--warmup must be a non-negative integer');
  for (const k of o.only) if (!KINDS.includes(k)) throw new Error(`--only: unknown ${k} (use ${KINDS.join(',')})`);
  return o;
}

const ms = (ns) => Number(ns) / 1e6;
const tick = () => new Promise((r) => setImmediate(r));

function run(cmd, args, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', ...opts });
  const t1 = process.hrtime.bigint();
  return { ms: ms(t1 - t0), status: r.status, signal: r.signal, error: r.error, stderr: r.stderr ?? '' };
}

function must(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}: ${(r.stderr || r.stdout || '').trim()}`);
  return r.stdout;
}

function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const n = s.length;
  const median = n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  const p90 = s[Math.min(n - 1, Math.ceil(0.9 * n) - 1)];
  return { n, min: s[0], median, p90 };
}

/** Mount points at or below dir, deepest first (from /proc/self/mountinfo). */
function mountsUnder(dir) {
  const unescape = (p) => p.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => unescape(l.split(' ')[4]))
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

// ---------------------------------------------------------------------------------------------

class Bench {
  constructor(opts) {
    this.o = opts;
    this.tmp = mkdtempSync(join(tmpdir(), 'hull-bench-'));
    this.id = `hull-bench-runc-${process.pid}`;
    this.cgroupsPath = `/${this.id}`;
    this.runcRoot = join(this.tmp, 'runc-state');
    this.bundle = join(this.tmp, 'bundle');
    this.hullRoot = join(this.tmp, 'hull-root');
    this.hullRunRoot = join(this.tmp, 'hull-run');
    this.seq = 0;
    this.cleaned = false;
  }

  async prepare() {
    const img = join(this.tmp, 'image');
    const tar = join(this.tmp, 'busybox-oci.tar');
    const r = await makeBusyboxImage({ outDir: img, outTar: tar });
    this.image = { dir: img, tar, ...r };
    const cmds = [];
    if (this.o.only.includes('node')) cmds.push({ key: 'node', label: 'node -e 0', cmd: process.execPath, args: ['-e', '0'] });
    if (this.o.only.includes('runc')) {
      this.makeBundle();
      cmds.push({
        key: 'runc',
        label: 'runc run (busybox bundle, true)',
        cmd: this.o.runc,
        args: () => ['--root', this.runcRoot, 'run', '--bundle', this.bundle, `${this.id}-${this.seq++}`],
      });
    }
    this.prepFailed = new Map();
    if (this.o.only.includes('hull')) {
      const g = ['--root', this.hullRoot, '--run-root', this.hullRunRoot];
      cmds.push({ key: 'hull', label: 'hull run --rm busybox true', cmd: process.execPath, args: [this.o.hull, ...g, 'run', '--rm', 'busybox', 'true'] });
      try {
        if (!existsSync(this.o.hull)) throw new Error(`${this.o.hull} not found`);
        const main = join(dirname(this.o.hull), '..', 'dist', 'hull-cli.cjs');
        if (this.o.hull === join(repo, 'bin', 'hull.cjs') && !existsSync(main)) throw new Error(`${main} not found: build hull first (npm run build)`);
        must(process.execPath, [this.o.hull, ...g, 'load', '-i', tar]);
      } catch (err) {
        this.prepFailed.set('hull', `not measured: ${err.message.split('\n')[0]}`);
      }
    }
    if (this.o.baseline) {
      const g = ['--root', join(this.tmp, 'base-root'), '--run-root', join(this.tmp, 'base-run')];
      cmds.push({
        key: 'base',
        label: `hull run --rm busybox true (baseline ${this.o.baseline})`,
        cmd: process.execPath,
        args: [this.o.baseline, ...g, 'run', '--rm', 'busybox', 'true'],
      });
      try {
        must(process.execPath, [this.o.baseline, ...g, 'load', '-i', tar]);
      } catch (err) {
        this.prepFailed.set('base', `not measured: ${err.message.split('\n')[0]}`);
      }
    }
    this.cmds = cmds;
  }

  makeBundle() {
    const index = JSON.parse(readFileSync(join(this.image.dir, 'index.json'), 'utf8'));
    const blob = (d) => join(this.image.dir, 'blobs', 'sha256', d.replace(/^sha256:/, ''));
    const manifest = JSON.parse(readFileSync(blob(index.manifests[0].digest), 'utf8'));
    const rootfs = join(this.bundle, 'rootfs');
    mkdirSync(rootfs, { recursive: true });
    for (const layer of manifest.layers) must('tar', ['-xzpf', blob(layer.digest), '-C', rootfs, '--numeric-owner']);
    must(this.o.runc, ['spec', '--bundle', this.bundle]);
    const specPath = join(this.bundle, 'config.json');
    const spec = JSON.parse(readFileSync(specPath, 'utf8'));
    spec.process.terminal = false;
    spec.process.args = ['true'];
    spec.root.readonly = false; // hull's rootfs is a writable overlay
    spec.linux.cgroupsPath = this.cgroupsPath; // absolute: never below this machine's own cgroup
    // the namespaces hull uses: pid, mount, uts, ipc, network, cgroup
    const want = ['pid', 'mount', 'uts', 'ipc', 'network', 'cgroup'];
    spec.linux.namespaces = want.map((type) => ({ type }));
    writeFileSync(specPath, JSON.stringify(spec, null, 2));
  }

  once(c) {
    const args = typeof c.args === 'function' ? c.args() : c.args;
    const r = run(c.cmd, args);
    if (r.error || r.status !== 0) {
      const why = r.error ? r.error.message : `exit ${r.status ?? r.signal}`;
      throw new Error(`${c.label} failed (${why}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    }
    return r.ms;
  }

  // Between runs the event loop gets a turn, so SIGINT/SIGTERM handlers run (and clean up) promptly.
  async measure() {
    const samples = new Map(this.cmds.map((c) => [c.key, []]));
    const failed = new Map(this.prepFailed);
    for (const c of this.cmds) {
      if (failed.has(c.key)) continue;
      try {
        for (let i = 0; i < this.o.warmup; i++) {
          this.once(c);
          await tick();
        }
      } catch (err) {
        failed.set(c.key, err.message);
      }
    }
    const live = this.cmds.filter((c) => !failed.has(c.key));
    for (let round = 0; round < this.o.runs; round++) {
      // interleave, rotating who goes first so no command always runs after the same one
      for (let j = 0; j < live.length; j++) {
        const c = live[(round + j) % live.length];
        if (failed.has(c.key)) continue;
        try {
          samples.get(c.key).push(this.once(c));
        } catch (err) {
          failed.set(c.key, err.message);
        }
        await tick();
      }
    }
    return { samples, failed };
  }

  /** Remove everything made: runc containers and their cgroups, mounts under tmp, tmp itself. */
  cleanup() {
    if (this.cleaned) return [];
    this.cleaned = true;
    const problems = [];
    if (existsSync(this.runcRoot)) {
      const list = spawnSync(this.o.runc, ['--root', this.runcRoot, 'list', '-q'], { encoding: 'utf8' });
      for (const id of (list.stdout ?? '').split('\n').filter(Boolean)) {
        const d = spawnSync(this.o.runc, ['--root', this.runcRoot, 'delete', '-f', id], { encoding: 'utf8' });
        if (d.status !== 0) problems.push(`runc delete -f ${id}: ${d.stderr.trim()}`);
      }
    }
    // runc removes its cgroups on delete; remove any (empty) one it left at our absolute path
    for (const dir of this.cgroupDirs()) {
      try {
        rmdirSync(dir);
      } catch (err) {
        problems.push(`rmdir ${dir}: ${err.code ?? err.message}`);
      }
    }
    // never recurse into a mount (a leaked container rootfs could hold host bind mounts)
    for (const m of mountsUnder(this.tmp)) {
      const u = spawnSync('umount', [m], { encoding: 'utf8' });
      if (u.status !== 0) problems.push(`umount ${m}: ${u.stderr.trim()}`);
    }
    const left = mountsUnder(this.tmp);
    if (this.o.keep) {
      console.log(`kept ${this.tmp}`);
    } else if (left.length > 0) {
      problems.push(`not removing ${this.tmp}: still mounted: ${left.join(', ')}`);
    } else {
      const r = spawnSync('rm', ['-rf', '--one-file-system', this.tmp], { encoding: 'utf8' });
      if (r.status !== 0) problems.push(`rm -rf ${this.tmp}: ${r.stderr.trim()}`);
    }
    return problems;
  }

  cgroupDirs() {
    const out = [];
    const base = '/sys/fs/cgroup';
    const candidates = [join(base, this.id)];
    try {
      for (const e of readdirSync(base, { withFileTypes: true })) if (e.isDirectory()) candidates.push(join(base, e.name, this.id));
    } catch {
      /* no cgroupfs */
    }
    for (const c of candidates) if (existsSync(c)) out.push(c);
    // deepest first (none nest today, but rmdir order would matter if they did)
    return out.sort((a, b) => b.length - a.length);
  }
}

function table(cmds, samples, failed, o) {
  const rows = [['command', 'runs', 'min ms', 'median ms', 'p90 ms']];
  const st = new Map();
  for (const c of cmds) {
    const s = samples.get(c.key) ?? [];
    if (failed.has(c.key) || s.length === 0) {
      rows.push([c.label, String(s.length), '-', '-', '-']);
      continue;
    }
    const x = stats(s);
    st.set(c.key, x);
    rows.push([c.label, String(x.n), x.min.toFixed(1), x.median.toFixed(1), x.p90.toFixed(1)]);
  }
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  console.log(
    `\nrun latency: ${o.runs} runs each, interleaved, after ${o.warmup} warm-up runs; ${cpus().length} CPUs, Linux ${release()}, Node ${process.version}\n`,
  );
  for (const r of rows) console.log(r.map((v, i) => (i === 0 ? v.padEnd(w[i]) : v.padStart(w[i]))).join('  '));
  console.log('');
  for (const [k, msg] of failed) console.log(`${k}: ${msg}`);
  return st;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0 && (o.only.includes('runc') || o.only.includes('hull'))) {
    console.error('run-latency: runc and hull need root: sudo npm run bench:run');
    return 1;
  }
  const b = new Bench(o);
  const onSignal = (sig) => {
    const problems = b.cleanup();
    for (const p of problems) console.error(`cleanup: ${p}`);
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let code = 0;
  try {
    await b.prepare();
    const { samples, failed } = await b.measure();
    const st = table(b.cmds, samples, failed, o);
    if (failed.size > 0) code = 1;
    const node = st.get('node');
    const runc = st.get('runc');
    const hull = st.get('hull');
    const base = st.get('base');
    if (hull && base)
      console.log(`hull / baseline (medians) = ${(hull.median / base.median).toFixed(3)} (${hull.median.toFixed(1)} ms vs ${base.median.toFixed(1)} ms)`);
    if (node && runc && hull) {
      const x = hull.median - node.median;
      console.log(`hull - node floor = ${x.toFixed(1)} ms vs runc ${runc.median.toFixed(1)} ms: target ${x <= runc.median ? 'met' : 'NOT met'}`);
    } else {
      const missing = ['node', 'runc', 'hull'].filter((k) => !st.has(k));
      console.log(`hull - node floor vs runc: not compared (no figures for ${missing.join(', ')})`);
    }
  } catch (err) {
    console.error(`run-latency: ${err instanceof Error ? err.message : err}`);
    code = 1;
  } finally {
    const problems = b.cleanup();
    for (const p of problems) console.error(`cleanup: ${p}`);
    if (problems.length > 0) code = 1;
  }
  return code;
}

main().then((code) => process.exit(code));
