#!/usr/bin/env node
// bench/oci-runtime.mjs — hull-runc beside runc, driven as containerd's shim drives them: one process
// per verb. Each round, for each runtime (interleaved): `create` a `true` container from the same
// bundle, `start` it, wait for its exit (a pidfd on the pid from --pid-file), `delete` it; between
// create and start, `state` and `kill ID CONT` (a signal the waiting container ignores) are timed too,
// outside the cycle.
//
//   sudo node bench/oci-runtime.mjs [--runs 25] [--warmup 3] [--runc runc] [--hull-runc build/Release/hull-runc]
//
// --hull-runc: an executable (the native front, the default; bin/hull-runc, npm's bin) or a .cjs
// file, run with this node (bin/hull-runc.cjs: the Node path alone). Prints each verb's median and
// the whole cycle's, per runtime, and hull-runc's as multiples of runc's (target: the cycle within
// 3x). Made and removed again: a temp dir with the bundle (busybox), each runtime's --root, and the
// cgroups /hull-bench-oci-PID/<id> the containers get (runc makes them in every v1 hierarchy of a
// hybrid host too: those are removed as well).
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  rmdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findBusybox } from '../scripts/make-busybox-image.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { sys } = await import(join(repo, 'dist', 'native', 'index.js'));
const { defaultOciSpec } = await import(join(repo, 'dist', 'oci', 'default-spec.js'));

function parseArgs(argv) {
  const o = { runs: 25, warmup: 3, runc: 'runc', hullRunc: join(repo, 'build', 'Release', 'hull-runc') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--runs') o.runs = Number(val());
    else if (a === '--warmup') o.warmup = Number(val());
    else if (a === '--runc') o.runc = val();
    else if (a === '--hull-runc') o.hullRunc = resolve(val());
    else if (a === '-h' || a === '--help') {
      console.log('usage: sudo node bench/oci-runtime.mjs [--runs N (25)] [--warmup N (3)] [--runc runc] [--hull-runc build/Release/hull-runc]');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(o.runs) || o.runs < 20) throw new Error('--runs must be an integer >= 20');
  return o;
}

const opts = parseArgs(process.argv.slice(2));
if (process.getuid() !== 0) throw new Error('run as root (the runtimes make namespaces and cgroups)');
const busybox = findBusybox();
if (!busybox) throw new Error('busybox-static is not installed (scripts/install-deps.sh main)');

const base = mkdtempSync(join(tmpdir(), 'hull-bench-oci-'));
const cgroupParent = `hull-bench-oci-${process.pid}`;
const bundle = join(base, 'bundle');
const rootfs = join(bundle, 'rootfs');
for (const d of ['bin', 'proc', 'dev', 'sys', 'tmp']) mkdirSync(join(rootfs, d), { recursive: true });
copyFileSync(busybox, join(rootfs, 'bin', 'busybox'));
chmodSync(join(rootfs, 'bin', 'busybox'), 0o755);
symlinkSync('busybox', join(rootfs, 'bin', 'true'));

const runtimes = [
  { name: 'runc', cmd: opts.runc, pre: [] },
  opts.hullRunc.endsWith('.cjs') ? { name: 'hull-runc', cmd: process.execPath, pre: [opts.hullRunc] } : { name: 'hull-runc', cmd: opts.hullRunc, pre: [] },
];
for (const r of runtimes) r.root = join(base, `root-${r.name}`);

const ms = (ns) => Number(ns) / 1e6;
// The container's stdio are the runtime's own (runc's contract): a file, not a pipe spawnSync would wait on until the container ends.
const errFile = join(base, 'stderr');
function timed(r, args) {
  const err = openSync(errFile, 'w');
  const t0 = process.hrtime.bigint();
  const p = spawnSync(r.cmd, [...r.pre, '--root', r.root, ...args], { stdio: ['ignore', 'ignore', err] });
  const t = ms(process.hrtime.bigint() - t0);
  closeSync(err);
  if (p.status !== 0) throw new Error(`${r.name} ${args.join(' ')} exited ${p.status ?? p.signal}: ${readFileSync(errFile, 'utf8').trim()}`);
  return t;
}

let n = 0;
async function cycle(r) {
  const id = `b${++n}`;
  const spec = defaultOciSpec({ terminal: false, args: ['true'] });
  spec.linux.cgroupsPath = `/${cgroupParent}/${id}`;
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
  const pidFile = join(base, `${id}.pid`);
  const create = timed(r, ['create', '--bundle', bundle, '--pid-file', pidFile, id]);
  const pidfd = sys.pidfdOpen(Number(readFileSync(pidFile, 'utf8')));
  const state = timed(r, ['state', id]);
  const kill = timed(r, ['kill', id, 'CONT']);
  const start = timed(r, ['start', id]);
  const t0 = process.hrtime.bigint();
  await sys.pidfdWait(pidfd, 10_000);
  const exit = ms(process.hrtime.bigint() - t0);
  const del = timed(r, ['delete', id]);
  return { create, state, kill, start, exit, delete: del, cycle: create + start + exit + del };
}

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The cgroups the containers got: below the cgroup2 mount and, on a hybrid host, each v1 hierarchy. */
function removeCgroups() {
  for (const top of readdirSync('/sys/fs/cgroup')
    .map((d) => join('/sys/fs/cgroup', d))
    .concat(['/sys/fs/cgroup'])) {
    const dir = join(top, cgroupParent);
    if (!existsSync(dir)) continue;
    for (const child of readdirSync(dir, { withFileTypes: true })) if (child.isDirectory()) rmdirSync(join(dir, child.name));
    rmdirSync(dir);
  }
}

const results = Object.fromEntries(runtimes.map((r) => [r.name, []]));
try {
  for (let i = 0; i < opts.warmup + opts.runs; i++) {
    const order = i % 2 ? [...runtimes].reverse() : runtimes;
    for (const r of order) {
      const c = await cycle(r);
      if (i >= opts.warmup) results[r.name].push(c);
    }
  }
} finally {
  // A failed round leaves its container: deleted by force, then its cgroups and the temp dir go.
  for (const r of runtimes) spawnSync(r.cmd, [...r.pre, '--root', r.root, 'delete', '--force', `b${n}`], { stdio: 'ignore' });
  removeCgroups();
  rmSync(base, { recursive: true, force: true });
}

console.log(
  `\nOCI runtime cycle: ${opts.runs} rounds, interleaved, after ${opts.warmup} warm-up rounds; ${cpus().length} CPUs, Linux ${release()}, Node ${process.version}\n`,
);
const verbs = ['create', 'state', 'kill', 'start', 'exit', 'delete', 'cycle'];
console.log(`${'runtime'.padEnd(12)}${verbs.map((v) => `${v} ms`.padStart(11)).join('')}   (medians; cycle: create + start + exit + delete)`);
const med = {};
for (const r of runtimes) {
  med[r.name] = Object.fromEntries(verbs.map((v) => [v, median(results[r.name].map((c) => c[v]))]));
  console.log(`${r.name.padEnd(12)}${verbs.map((v) => med[r.name][v].toFixed(1).padStart(11)).join('')}`);
}
console.log(`${'hull / runc'.padEnd(12)}${verbs.map((v) => (v === 'exit' ? '' : `${(med['hull-runc'][v] / med.runc[v]).toFixed(1)}x`).padStart(11)).join('')}`);
const ratio = med['hull-runc'].cycle / med.runc.cycle;
console.log(`\nhull-runc / runc (cycle medians) = ${ratio.toFixed(2)} (target <= 3)`);
