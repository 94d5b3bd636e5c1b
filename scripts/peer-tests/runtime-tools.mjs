#!/usr/bin/env node
// The OCI runtime validation suite (opencontainers/runtime-tools' validation/*/*.t) against one or more
// runc-compatible runtimes side by side, with the counts, a test × runtime table, the failures with
// their reasons, and what each test left on the host (removed, then checked).
//
//   sudo node scripts/peer-tests/runtime-tools.mjs [--runtime NAME=PATH]... [--test NAME]... [--timeout S] [--json FILE]
//   sudo npm run peer:runtime-tools          (builds the suite first: scripts/peer-tests/build-runtime-tools.sh)
//
// Runtimes: --runtime may repeat; without it, runc (Debian's, /usr/sbin/runc) and hull-runc (its
// native front, build/Release/hull-runc, which hands what it does not serve to Node) when that file
// exists. Each test runs once per runtime, interleaved (test 1 on every runtime, then test 2, …), as
// root, from the build directory (the tests unpack rootfs-amd64.tar.gz from their working
// directory), with RUNTIME=<path>: util.NewRuntime resolves it with exec.LookPath and execs it
// directly, so a script runtime needs its execute bit and its interpreter on PATH
// (`#!/usr/bin/env node`): PATH starts with the directory of the node running this script, and a
// script without an execute bit is run through a generated one-line wrapper.
//
// Verdicts (tap.mjs) follow the TAP consumers runtime-tools documents (node-tap, prove): a test fails
// on a `not ok` (not TODO), a `Bail out!`, no plan, a plan that does not match the asserts, a non-zero
// exit or the timeout; one with no assert at all (plan `1..0`, or no output and exit 0, as the *_fail
// tests do when the runtime rejects the config) is skipped. Except: the lifecycle tests (hooks,
// poststart, …) report a failure only as an `error` diagnostic before their `1..0`, which counts as
// failed; and a test that prints two TAP streams (linux_cgroups_cpus) is judged stream by stream.
// Raw TAP and stderr of each run: tmp/peer/runtime-tools-logs/<runtime>/<test>.{tap,stderr} (--logs DIR).
//
// Skipped by default: the 7 linux_cgroups_relative_* tests. Their relative cgroupsPath
// (testdir/cgrouptest/container) makes the runtime create cgroups below the caller's own cgroup,
// which belongs to the machine, and runc removes only the leaf when the container goes:
// testdir/cgrouptest stay behind in every hierarchy.
//
// Clean-up: each (test, runtime) gets its own TMPDIR (the tests make their bundles with os.MkdirTemp)
// and its own process group, and every process it starts carries a marker in its environment.
// Afterwards this script removes the runtime's containers whose bundle is in that TMPDIR (`list`, then
// `delete --force`, with the runtime's default --root: the tests pass none), processes with the marker
// or in the group, the cgroups the test made (/cgrouptest, the absolute cgroupsPath of the
// linux_cgroups_* tests, where it did not exist before the run; a container's /<id> below the
// caller's cgroup, where runc puts a container without cgroupsPath), mounts below the TMPDIR
// (linux_ns_itype's container has no mount namespace of its own, so runc's /proc, /dev and /sys
// mounts on its rootfs stay in ours) and the TMPDIR; then it checks that nothing is left, and exits 1
// if something is. It removes nothing it cannot tie to the test; a test killed at its timeout may
// leave a container the runtime never finished making, tied to it by being new since the test began.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstLine, verdict } from './tap.mjs';

const project = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const peerDir = path.resolve(process.env.HULL_PEER_BUILD ?? path.join(project, 'tmp/peer'));
const suiteDir = path.join(peerDir, 'runtime-tools');
const RELATIVE_CGROUP_TESTS = /^linux_cgroups_relative_/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** The absolute cgroupsPath of runtime-tools' cgroup tests (cgroups.AbsCgroupPath). */
const ABS_CGROUP = 'cgrouptest';

function usage(msg) {
  if (msg) process.stderr.write(`runtime-tools: ${msg}\n`);
  process.stderr.write(
    'usage: node scripts/peer-tests/runtime-tools.mjs [--runtime NAME=PATH]... [--test NAME]... [--timeout SECONDS] [--json FILE] [--logs DIR]\n',
  );
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { runtimes: [], tests: [], timeoutS: 120, json: null, logs: path.join(peerDir, 'runtime-tools-logs') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--runtime') {
      const v = value();
      const eq = v.indexOf('=');
      if (eq <= 0 || eq === v.length - 1) usage(`--runtime wants NAME=PATH, got ${v}`);
      opts.runtimes.push({ name: v.slice(0, eq), given: v.slice(eq + 1) });
    } else if (a === '--test') opts.tests.push(value());
    else if (a === '--timeout') {
      opts.timeoutS = Number(value());
      if (!(opts.timeoutS > 0)) usage('--timeout wants a number of seconds');
    } else if (a === '--json') opts.json = path.resolve(value());
    else if (a === '--logs') opts.logs = path.resolve(value());
    else if (a === '-h' || a === '--help') usage();
    else usage(`unknown argument ${a}`);
  }
  return opts;
}

/** The runtimes to test: `given` resolved against the cwd (then the project), and made executable if it is a script without +x. */
function resolveRuntimes(opts, runDir) {
  let list = opts.runtimes;
  if (list.length === 0) {
    list = [{ name: 'runc', given: existsSync('/usr/sbin/runc') ? '/usr/sbin/runc' : 'runc' }];
    if (existsSync(path.join(project, 'build/Release/hull-runc'))) list.push({ name: 'hull-runc', given: 'build/Release/hull-runc' });
  }
  const names = new Set();
  return list.map(({ name, given }) => {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) usage(`runtime name ${name}: letters, digits, . _ - only`);
    if (names.has(name)) usage(`runtime name ${name} given twice`);
    names.add(name);
    let file;
    if (given.includes('/')) {
      file = [path.resolve(given), path.resolve(project, given)].find((p) => existsSync(p));
      if (!file) throw new Error(`runtime ${name}: ${given} not found`);
    } else {
      file = (process.env.PATH ?? '')
        .split(':')
        .map((d) => path.join(d || '.', given))
        .find((p) => existsSync(p));
      if (!file) throw new Error(`runtime ${name}: ${given} not found on PATH`);
    }
    file = realpathSync(file);
    let exe = file;
    let note = '';
    try {
      accessSync(file, constants.X_OK);
      if (!(statSync(file).mode & 0o111)) throw new Error('no execute bit');
    } catch {
      // runtime-tools execs RUNTIME itself (exec.LookPath wants an execute bit): give it a wrapper.
      const head = readFileSync(file).subarray(0, 2).toString('latin1');
      if (head !== '#!') throw new Error(`runtime ${name}: ${file} is not executable`);
      exe = path.join(runDir, 'bin', name);
      mkdirSync(path.dirname(exe), { recursive: true });
      const interp = /\bnode\b/.test(readFileSync(file, 'latin1').split('\n')[0]) ? `'${process.execPath}' ` : '';
      writeFileSync(exe, `#!/bin/sh\nexec ${interp}'${file}' "$@"\n`, { mode: 0o755 });
      note = ` (not executable: run through ${exe})`;
    }
    return { name, file, exe, note };
  });
}

// ---------------------------------------------------------------- host state

function decodeMountPath(p) {
  return p.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
}

function mountsUnder(dir) {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => decodeMountPath(l.split(' ')[4]))
    .filter((mp) => mp === dir || mp.startsWith(prefix));
}

/** Each cgroup hierarchy: its mount point and the directory of this process's own cgroup in it. */
function cgroupHierarchies() {
  const own = new Map(); // "memory" | "name=systemd" | "" (v2) → path
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n').filter(Boolean)) {
    const [, , ctrls, p] = /^(\d+):([^:]*):(.*)$/.exec(line) ?? [];
    if (p === undefined) continue;
    for (const c of ctrls.split(',')) own.set(c, p);
  }
  const out = [];
  for (const l of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean)) {
    const f = l.split(' ');
    const sep = f.indexOf('-');
    const fstype = f[sep + 1];
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const mountPoint = decodeMountPath(f[4]);
    const root = decodeMountPath(f[3]);
    let ownPath;
    if (fstype === 'cgroup2') ownPath = own.get('');
    else {
      const opts = (f[sep + 3] ?? '').split(',');
      ownPath = opts.map((o) => own.get(o)).find((p) => p !== undefined);
    }
    if (ownPath === undefined) continue;
    const rel = path.relative(root, ownPath);
    if (rel.startsWith('..')) continue;
    out.push({ mountPoint, ownDir: path.join(mountPoint, rel) });
  }
  return out;
}

function subdirs(dir) {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch {
    return [];
  }
}

/** Processes (not this one) whose environment carries `marker`. */
function markedProcesses(marker) {
  const needle = Buffer.from(`\0${marker}\0`);
  const out = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const env = Buffer.concat([Buffer.from([0]), readFileSync(`/proc/${name}/environ`)]);
      if (env.includes(needle)) out.push({ pid: Number(name), comm: readFileSync(`/proc/${name}/comm`, 'utf8').trim(), state: 'R' });
    } catch {
      // gone, or a kernel thread
    }
  }
  return out;
}

/** Processes whose process group is `pgid` (the test and what it started without a group of its own), with their state (Z: a zombie). */
function groupMembers(pgid) {
  const out = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // state ppid pgrp …
      if (Number(fields[2]) === pgid) out.push({ pid: Number(name), comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), state: fields[0] });
    } catch {
      // gone
    }
  }
  return out;
}

function cgroupProcs(dir) {
  const pids = [];
  for (const d of [dir, ...walk(dir)]) {
    try {
      pids.push(...readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number));
    } catch {
      // removed meanwhile
    }
  }
  return pids;
}

function walk(dir) {
  const out = [];
  for (const n of subdirs(dir)) {
    const p = path.join(dir, n);
    out.push(p, ...walk(p));
  }
  return out;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Kills what is in a cgroup tree, then removes it deepest first (rmdir: a cgroup is removed empty or not at all). */
async function removeCgroupTree(dir) {
  for (let i = 0; i < 20; i++) {
    const pids = cgroupProcs(dir);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const d of [...walk(dir).reverse(), dir]) {
      try {
        rmdirSync(d);
      } catch {
        // busy for a moment after the kill: retried
      }
    }
    if (!existsSync(dir)) return;
    await sleep(100);
  }
}

function runtimeCmd(rt, args) {
  return execFileSync(rt.exe, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
}

const UUID_IN_TEXT = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g;

/**
 * The runtime's containers (its default --root) as { id, status, bundle }, through `list --format json`
 * (else `list -q` and `state`), and `broken`: the uuid-named ids it complains about on stderr (runc:
 * "load container ID: container does not exist" for a state directory that `create` never finished).
 */
function runtimeList(rt) {
  const broken = new Set();
  const call = (args) => {
    const r = spawnSync(rt.exe, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
    for (const id of (r.stderr ?? '').match(UUID_IN_TEXT) ?? []) broken.add(id);
    return r;
  };
  const json = call(['list', '--format', 'json']);
  let containers = null;
  if (json.status === 0) {
    try {
      const parsed = JSON.parse(json.stdout.trim() || 'null');
      if (parsed === null) containers = [];
      else if (Array.isArray(parsed)) containers = parsed.map((c) => ({ id: String(c.id), status: String(c.status ?? ''), bundle: String(c.bundle ?? '') }));
    } catch {
      // not JSON: the plain list below
    }
  }
  if (containers === null) {
    const q = call(['list', '-q']);
    if (q.status !== 0) throw new Error(`${rt.name} list: ${firstLine(q.stderr || q.error?.message)}`);
    containers = q.stdout
      .split('\n')
      .filter(Boolean)
      .map((id) => {
        const st = call(['state', id]);
        try {
          const doc = JSON.parse(st.stdout);
          return { id, status: String(doc.status ?? ''), bundle: String(doc.bundle ?? '') };
        } catch {
          return { id, status: 'unknown', bundle: '' };
        }
      });
  }
  for (const c of containers) broken.delete(c.id);
  return { containers, broken };
}

// ---------------------------------------------------------------- one test

function runTest(file, rt, env, timeoutS) {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const child = spawn(file, [], { cwd: suiteDir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // exited meanwhile
      }
    }, timeoutS * 1000);
    let spawnError = null;
    child.on('error', (e) => (spawnError = e));
    child.on('close', async (code, signal) => {
      clearTimeout(timer);
      // After a kill, what was running in the test's process group (the runtime in the middle of
      // `create`) dies asynchronously: wait for it, so that the clean-up sees everything it made.
      for (let i = 0; timedOut && i < 50 && groupMembers(child.pid).some((p) => p.state !== 'Z'); i++) await sleep(100);
      resolve({
        pgid: child.pid,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8') + (spawnError ? `\n${spawnError.message}` : ''),
        code: spawnError ? 127 : code,
        signal: timedOut ? null : signal,
        timedOut,
        seconds: Number(process.hrtime.bigint() - started) / 1e9,
      });
    });
  });
}

const inside = (dir, p) => p === dir || p.startsWith(`${dir}/`);

/**
 * One pass over what a test can leave, removing what it can tie to the test; returns what it found.
 * `t`: { rt, tmp, marker, pgid, hier, before (own cgroup's children before the test), absBefore
 * (/cgrouptest paths that existed before the run), brokenBefore (the runtime's broken ids before the
 * test), killed (the test was killed at its timeout) }.
 */
async function sweep(t) {
  const { rt, tmp, hier } = t;
  const left = [];
  const cgroups = new Set();
  // 1. the runtime's containers with their bundle in the test's TMPDIR: delete --force
  let listed = { containers: [], broken: new Set() };
  try {
    listed = runtimeList(rt);
  } catch (e) {
    left.push(`could not list ${rt.name}'s containers: ${e.message}`);
  }
  const ours = listed.containers.filter((c) => inside(tmp, c.bundle));
  // A container the runtime never finished making (the test was killed inside `create`) has no
  // bundle to tie it to the test: it is this test's when it is new since the test started and the test
  // was killed. delete --force removes runc's half-written state directory.
  const halfMade = t.killed ? [...listed.broken].filter((id) => !t.brokenBefore.has(id)) : [];
  for (const c of ours) left.push(`container ${c.id} (${c.status})`);
  for (const id of halfMade) left.push(`half-made container ${id} (killed inside create)`);
  for (const id of [...ours.map((c) => c.id), ...halfMade]) {
    try {
      runtimeCmd(rt, ['delete', '--force', id]);
    } catch (e) {
      left.push(`delete --force ${id} failed: ${firstLine(e.stderr?.toString() ?? e.message)}`);
    }
    for (const h of hier) if (existsSync(path.join(h.ownDir, id))) cgroups.add(path.join(h.ownDir, id));
  }
  // 2. processes the test started that are still there: with the marker (its helpers, the runtime)
  //    or in its process group
  const procs = [...markedProcesses(t.marker), ...groupMembers(t.pgid)].filter((p, i, all) => p.state !== 'Z' && all.findIndex((q) => q.pid === p.pid) === i);
  for (const p of procs) {
    left.push(`process ${p.pid} (${p.comm})`);
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  // 3. cgroups: /cgrouptest where it was not there before the run; the containers' /<id> below the
  //    caller's cgroup (runc's place for a container without cgroupsPath). A new uuid-named cgroup
  //    there that no container explains is removed only after a kill inside `create`, when the
  //    runtime has no state for that id (another's container would); otherwise it is only reported.
  const strays = [];
  for (const h of hier) {
    const abs = path.join(h.mountPoint, ABS_CGROUP);
    if (!t.absBefore.has(abs) && existsSync(abs)) cgroups.add(abs);
    for (const n of subdirs(h.ownDir)) {
      const p = path.join(h.ownDir, n);
      if (!UUID.test(n) || t.before.get(h.ownDir)?.has(n) || cgroups.has(p)) continue;
      if (t.killed && spawnSync(rt.exe, ['state', n], { stdio: 'ignore', timeout: 30_000 }).status !== 0) cgroups.add(p);
      else strays.push(p);
    }
  }
  const byName = new Map();
  for (const p of cgroups) {
    const name = path.basename(p) === ABS_CGROUP ? `/${ABS_CGROUP}` : `<caller's cgroup>/${path.basename(p)}`;
    byName.set(name, (byName.get(name) ?? 0) + 1);
    await removeCgroupTree(p);
  }
  for (const [name, n] of byName) left.push(`cgroup ${name} (${n} hierarch${n === 1 ? 'y' : 'ies'})`);
  for (const p of strays) left.push(`cgroup ${p} (new, uuid-named, not tied to this test: left alone)`);
  // 4. mounts below the TMPDIR (deepest first; runc's mounts of a container without its own mount
  //    namespace stay in ours), then the TMPDIR, on its own file system only
  const mounts = mountsUnder(tmp).sort((a, b) => b.length - a.length);
  if (mounts.length > 0) left.push(`${mounts.length} mounts: ${mounts.map((m) => path.relative(tmp, m) || '.').join(' ')}`);
  for (const mp of mounts) {
    try {
      execFileSync('umount', ['-l', mp], { stdio: 'ignore' });
    } catch {
      // an outer lazy unmount took it already
    }
  }
  const files = existsSync(tmp) ? readdirSync(tmp) : [];
  if (files.length > 0) left.push(`${files.length} in TMPDIR: ${files.join(' ')}`);
  if (existsSync(tmp) && mountsUnder(tmp).length === 0) spawnSync('rm', ['-rf', '--one-file-system', tmp], { stdio: 'ignore' });
  return { left, strays, cgroups: [...cgroups] };
}

/** What a test left, removed and then checked: { left: what was found, remaining: what is still there }. */
async function cleanUp(t) {
  const first = await sweep(t);
  const left = [...first.left];
  let last = first;
  if (t.killed) {
    // what the runtime was doing when the test was killed can land a moment later
    await sleep(300);
    last = await sweep(t);
    left.push(...last.left.map((l) => `(second pass) ${l}`));
  }
  const remaining = [];
  try {
    for (const c of runtimeList(t.rt).containers.filter((x) => inside(t.tmp, x.bundle))) remaining.push(`container ${c.id}`);
  } catch {
    // reported by the sweep
  }
  for (const p of [...markedProcesses(t.marker), ...groupMembers(t.pgid)].filter((x) => x.state !== 'Z')) remaining.push(`process ${p.pid} (${p.comm})`);
  for (const p of [...first.cgroups, ...last.cgroups, ...last.strays]) if (existsSync(p)) remaining.push(`cgroup ${p}`);
  for (const mp of mountsUnder(t.tmp)) remaining.push(`mount ${mp}`);
  if (existsSync(t.tmp)) remaining.push(`directory ${t.tmp}`);
  return { left, remaining: [...new Set(remaining)] };
}

// ---------------------------------------------------------------- main

function pad(s, n) {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) usage('the validation tests create containers: run as root (sudo)');
  if (!existsSync(path.join(suiteDir, 'runtimetest'))) usage(`${suiteDir}/runtimetest not found: run bash scripts/peer-tests/build-runtime-tools.sh`);

  const all = readdirSync(path.join(suiteDir, 'validation'))
    .filter((d) => existsSync(path.join(suiteDir, 'validation', d, `${d}.t`)))
    .sort();
  for (const t of opts.tests) if (!all.includes(t)) usage(`no test ${t} in ${suiteDir}/validation`);
  const selected = opts.tests.length > 0 ? all.filter((t) => opts.tests.includes(t)) : all;
  const skipped = opts.tests.length > 0 ? [] : selected.filter((t) => RELATIVE_CGROUP_TESTS.test(t));
  const tests = selected.filter((t) => !skipped.includes(t));

  const token = `${process.pid}-${Date.now()}`;
  const runDir = path.join(os.tmpdir(), `hull-rtools-${token}`);
  mkdirSync(runDir, { recursive: true });
  const runtimes = resolveRuntimes(opts, runDir);
  const marker = `HULL_RTOOLS_RUN=${token}`;
  const hier = cgroupHierarchies();
  const absCgroupBefore = new Set(hier.map((h) => path.join(h.mountPoint, ABS_CGROUP)).filter((p) => existsSync(p)));
  // The runtimes' default state directories (the tests pass no --root): runc's, and hull-runc's.
  const stateRoots = ['/run/runc', '/run/hull-runc'];
  const stateRootsBefore = new Set(stateRoots.filter((d) => existsSync(d)));
  const env = {
    ...process.env,
    PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`,
    HULL_RTOOLS_RUN: token,
  };

  const log = (s) => process.stdout.write(`${s}\n`);
  log(`runtime-tools: ${tests.length} validation tests from ${suiteDir}`);
  for (const rt of runtimes) log(`  ${rt.name}: ${rt.file}${rt.note}`);
  if (skipped.length > 0) {
    log(`  skipped: ${skipped.length} linux_cgroups_relative_* tests: their relative cgroupsPath would make cgroups below this process's own`);
    log('  cgroup, which belongs to the machine (and runc leaves their testdir/cgrouptest parents behind)');
  }
  for (const p of absCgroupBefore) log(`  warning: ${p} exists before the run (not ours): left alone; the linux_cgroups_* tests share it`);
  for (const rt of runtimes) rmSync(path.join(opts.logs, rt.name), { recursive: true, force: true });

  const results = {}; // test → runtime → result
  const started = Date.now();
  const widest = Math.max(...tests.map((t) => t.length));
  let interrupted = false;
  process.on('SIGINT', () => (interrupted = true));
  for (const test of tests) {
    if (interrupted) break;
    results[test] = {};
    const cells = [];
    for (const rt of runtimes) {
      const tmp = path.join(runDir, rt.name, test);
      mkdirSync(tmp, { recursive: true });
      const before = new Map(hier.map((h) => [h.ownDir, new Set(subdirs(h.ownDir))]));
      let brokenBefore = new Set();
      try {
        brokenBefore = runtimeList(rt).broken;
      } catch {
        // the clean-up reports it
      }
      const run = await runTest(path.join(suiteDir, 'validation', test, `${test}.t`), rt, { ...env, RUNTIME: rt.exe, TMPDIR: tmp }, opts.timeoutS);
      const v = verdict({ ...run, timeoutS: opts.timeoutS });
      const clean = await cleanUp({ rt, tmp, marker, pgid: run.pgid, hier, before, absBefore: absCgroupBefore, brokenBefore, killed: run.timedOut });
      mkdirSync(path.join(opts.logs, rt.name), { recursive: true });
      writeFileSync(path.join(opts.logs, rt.name, `${test}.tap`), run.stdout);
      writeFileSync(path.join(opts.logs, rt.name, `${test}.stderr`), run.stderr);
      results[test][rt.name] = { ...v, exitCode: run.code, signal: run.signal, timedOut: run.timedOut, seconds: Number(run.seconds.toFixed(2)), ...clean };
      cells.push(`${rt.name} ${v.status}${v.status === 'pass' ? '' : `: ${v.reason}`} (${run.seconds.toFixed(1)} s)`);
    }
    log(`  ${pad(test, widest)}  ${cells.join(' | ')}`);
  }
  const seconds = (Date.now() - started) / 1000;

  // each runtime's state directory, when this run made it and left it empty
  for (const dir of stateRoots) {
    if (stateRootsBefore.has(dir) || !existsSync(dir) || readdirSync(dir).length > 0) continue;
    try {
      rmdirSync(dir);
    } catch {
      // in use by someone else meanwhile
    }
  }
  execFileSync('rm', ['-rf', '--one-file-system', runDir], { stdio: 'ignore' });

  // table
  const done = Object.keys(results);
  const colW = Math.max(6, ...runtimes.map((r) => r.name.length));
  log('');
  log(`${pad('test', widest)}  ${runtimes.map((r) => pad(r.name, colW)).join('  ')}`);
  for (const test of done) log(`${pad(test, widest)}  ${runtimes.map((r) => pad(results[test][r.name]?.status ?? '-', colW)).join('  ')}`);
  for (const test of skipped) log(`${pad(test, widest)}  ${runtimes.map(() => pad('(not run)', colW)).join('  ')}`);

  log('');
  const summary = {};
  for (const rt of runtimes) {
    const rs = done.map((t) => results[t][rt.name]).filter(Boolean);
    const n = (s) => rs.filter((r) => r.status === s).length;
    summary[rt.name] = { passed: n('pass'), failed: n('fail'), skipped: n('skip'), total: rs.length };
    log(`${rt.name}: ${n('pass')}/${rs.length} passed, ${n('fail')} failed, ${n('skip')} skipped (no assert)`);
  }
  for (const rt of runtimes) {
    const failed = done.filter((t) => results[t][rt.name]?.status !== 'pass');
    if (failed.length === 0) continue;
    log('');
    log(`${rt.name}: not passed`);
    for (const t of failed) log(`  ${pad(t, widest)}  ${results[t][rt.name].status}: ${results[t][rt.name].reason}`);
  }
  log('');
  log('left behind by the tests (removed, unless said otherwise):');
  let any = false;
  let unclean = false;
  for (const t of done) {
    for (const rt of runtimes) {
      const r = results[t][rt.name];
      if (!r) continue;
      if (r.left.length > 0) {
        any = true;
        log(`  ${t} (${rt.name}): ${r.left.join('; ')}`);
      }
      if (r.remaining.length > 0) {
        unclean = true;
        log(`  ${t} (${rt.name}): STILL THERE after clean-up: ${r.remaining.join('; ')}`);
      }
    }
  }
  if (!any) log('  nothing');
  log(`\n${done.length} tests × ${runtimes.length} runtimes in ${seconds.toFixed(1)} s`);

  if (opts.json) {
    const doc = {
      suite: suiteDir,
      runtimes: runtimes.map(({ name, file }) => ({ name, path: file })),
      skipped: skipped.map((t) => ({ test: t, reason: 'relative cgroupsPath: cgroups below the caller’s own cgroup, which belongs to the machine' })),
      seconds,
      summary,
      results,
    };
    mkdirSync(path.dirname(opts.json), { recursive: true });
    writeFileSync(opts.json, `${JSON.stringify(doc, null, 2)}\n`);
    log(`results: ${opts.json}`);
  }
  if (unclean) {
    process.stderr.write('runtime-tools: some of what the tests left could not be removed (see above)\n');
    process.exitCode = 1;
  }
  if (interrupted) process.exitCode = 130;
}

main().catch((e) => {
  process.stderr.write(`runtime-tools: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
