#!/usr/bin/env node
// bench/logs.mjs — `hull logs` on big json-file logs: the wall time and peak RSS of the hull
// process for `logs --tail 3` and `logs -f` (an exited container: it follows to the end and stops)
// on a log of --gb GB, and `logs --tail 2` and `logs` over a log rotated by
// `--log-opt max-size=10m --log-opt max-file=3`. Target: every peak RSS under 100 MB.
//
//   sudo npm run bench:logs [-- --gb 2] [--line-bytes 150] [--stderr-every 1000] [--baseline OTHER/bin/hull.cjs] [--keep]
//
// The big log is generated: lines as hull-monitor writes them ({"log","stream","time"}, one in
// --stderr-every on stderr) written straight into the log path of an exited container
// (<root>/containers/<id>/<id>-json.log), ending with three known lines. The rotated log is
// written by a real container (`seq 1 600000` under hull-monitor: ~45 MB, so LOG, LOG.1 and LOG.2
// are full). Output goes to /dev/null, except the tails', which are checked.
//
// Peak RSS is the hull process's ru_maxrss: from GNU time (/usr/bin/time -f, which reads it with
// wait4, so a process that crashes is measured too) when installed, else from a preload that
// writes process.resourceUsage().maxRSS when it exits. --baseline also measures another build of
// hull (say main's) on the same containers, to compare.
//
// Made and removed again: a temp dir with the busybox image and a private hull --root/--run-root
// holding the two containers and their logs (the containers are removed with `hull rm`).

import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, fsyncSync, mkdtempSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeBusyboxImage } from '../scripts/make-busybox-image.mjs';

process.env.HULL_DEFAULT_NETWORK ??= 'none'; // the containers need no network: no bridge is made on the host

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SEQ = 600_000;

function parseArgs(argv) {
  const o = { gb: 2, lineBytes: 150, stderrEvery: 1000, hull: join(repo, 'bin', 'hull.cjs'), baseline: undefined, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--gb') o.gb = Number(val());
    else if (a === '--line-bytes') o.lineBytes = Number(val());
    else if (a === '--stderr-every') o.stderrEvery = Number(val());
    else if (a === '--hull') o.hull = resolve(val());
    else if (a === '--baseline') o.baseline = resolve(val());
    else if (a === '--keep') o.keep = true;
    else if (a === '-h' || a === '--help') {
      console.log(
        'usage: node bench/logs.mjs [--gb 2] [--line-bytes 150] [--stderr-every 1000] [--hull bin/hull.cjs] [--baseline OTHER/bin/hull.cjs] [--keep]',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!(o.gb > 0)) throw new Error('--gb must be positive');
  if (!Number.isInteger(o.lineBytes) || o.lineBytes < 100) throw new Error('--line-bytes must be an integer of at least 100');
  if (!Number.isInteger(o.stderrEvery) || o.stderrEvery < 1) throw new Error('--stderr-every must be a positive integer');
  return o;
}

function must(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}: ${(r.stderr || r.stdout || '').trim()}`);
  return r.stdout;
}

/** Mount points at or below dir (from /proc/self/mountinfo). */
function mountsUnder(dir) {
  const unescape = (p) => p.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => unescape(l.split(' ')[4]))
    .filter((m) => m === dir || m.startsWith(`${dir}/`));
}

/** A json-file log of about `bytes` as hull-monitor writes it, ending with `last` (stdout lines). */
function writeLog(file, bytes, o, last) {
  const lines = [];
  const t0 = Date.parse('2024-01-01T00:00:00Z');
  let size = 0;
  // one block of distinct lines (~4 MiB), written again and again: generating is not what is measured
  for (let i = 0; size < 4 * 1024 * 1024; i++) {
    const time = `${new Date(t0 + Math.floor(i / 1000)).toISOString().slice(0, -1)}${String(i % 1000).padStart(6, '0')}Z`;
    const head = `${time} INFO request ${String(i).padStart(8, '0')} served by worker ${i % 16} path=/api/items?page=`;
    const shell = JSON.stringify({ log: `${head}\n`, stream: i % o.stderrEvery === 0 ? 'stderr' : 'stdout', time });
    const pad = 'x'.repeat(Math.max(0, o.lineBytes - shell.length - 1));
    const line = `${JSON.stringify({ log: `${head}${pad}\n`, stream: i % o.stderrEvery === 0 ? 'stderr' : 'stdout', time })}\n`;
    lines.push(line);
    size += line.length;
  }
  const block = Buffer.from(lines.join(''));
  const fd = openSync(file, 'w');
  try {
    let written = 0;
    while (written + block.length <= bytes) written += writeSync(fd, block);
    const time = new Date().toISOString().replace('Z', '000000Z');
    written += writeSync(fd, last.map((log) => `${JSON.stringify({ log, stream: 'stdout', time })}\n`).join(''));
    fsyncSync(fd); // no writeback of the new log while the reads are measured
    return { bytes: written, lines: Math.floor(bytes / block.length) * lines.length + last.length };
  } finally {
    closeSync(fd);
  }
}

const hasGnuTime = spawnSync('/usr/bin/time', ['-f', '%M', 'true'], { encoding: 'utf8' }).status === 0;

/** Runs `node hull ARGS` with stdout to /dev/null (or captured), measuring wall time and the child's peak RSS. */
function measure(tmp, hull, args, { capture = false } = {}) {
  const rssFile = join(tmp, 'maxrss');
  writeFileSync(rssFile, '');
  const node = [process.execPath, hull, ...args];
  let cmd;
  let argv;
  if (hasGnuTime) {
    [cmd, argv] = ['/usr/bin/time', ['-o', rssFile, '-f', '%M', ...node]];
  } else {
    const preload = join(tmp, 'maxrss.cjs');
    writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(rssFile)}, String(process.resourceUsage().maxRSS)));\n`);
    [cmd, argv] = [node[0], ['--require', preload, ...node.slice(1)]];
  }
  const out = capture ? 'pipe' : openSync('/dev/null', 'w');
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { stdio: ['ignore', out, 'pipe'], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (!capture) closeSync(out);
  const kb = Number(readFileSync(rssFile, 'utf8').trim().split('\n').at(-1));
  const stderr = (r.stderr ?? '')
    .trim()
    .split('\n')
    .filter((l) => !/^(Command exited|Command terminated)/.test(l) && !/^\d+$/.test(l));
  return { ms, rssMb: Number.isFinite(kb) && kb > 0 ? kb / 1024 : NaN, code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: stderr.join(' | ') };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) {
    console.error('bench/logs: hull runs containers as root: sudo npm run bench:logs');
    return 1;
  }
  for (const h of [o.hull, o.baseline].filter(Boolean)) if (!existsSync(h)) throw new Error(`${h} not found`);
  if (!existsSync(join(repo, 'dist', 'hull-cli.cjs'))) throw new Error('dist/hull-cli.cjs not found: build hull first (npm run build)');
  const tmp = mkdtempSync(join(tmpdir(), 'hull-bench-logs-'));
  const g = ['--root', join(tmp, 'root'), '--run-root', join(tmp, 'run')];
  const hull = (...args) => must(process.execPath, [o.hull, ...g, ...args]);
  let code = 0;
  const cleanup = () => {
    if (o.keep) return console.log(`kept ${tmp} (hull ${g.join(' ')} …; remove its containers big and rot with rm -f before rm -rf)`);
    for (const name of ['big', 'rot']) spawnSync(process.execPath, [o.hull, ...g, 'rm', '-f', name], { stdio: 'ignore' });
    const left = mountsUnder(tmp);
    if (left.length > 0) console.error(`cleanup: not removing ${tmp}: still mounted: ${left.join(', ')}`);
    else spawnSync('rm', ['-rf', '--one-file-system', tmp]);
  };
  process.once('SIGINT', () => (cleanup(), process.exit(130)));
  process.once('SIGTERM', () => (cleanup(), process.exit(143)));
  try {
    const tar = join(tmp, 'busybox.tar');
    await makeBusyboxImage({ outTar: tar });
    hull('load', '-i', tar);

    // The rotated log, written by a container through hull-monitor.
    const t0 = Date.now();
    hull('run', '-d', '--name', 'rot', '--log-opt', 'max-size=10m', '--log-opt', 'max-file=3', 'busybox', 'seq', '1', String(SEQ));
    hull('wait', 'rot');
    const rotMs = Date.now() - t0;
    // The big one: generated into an exited container's log path.
    const id = hull('run', '-d', '--name', 'big', 'busybox', 'true').trim();
    hull('wait', 'big');
    const t1 = Date.now();
    const last = ['last line 1\n', 'last line 2\n', 'last line 3\n'];
    const big = writeLog(join(tmp, 'root', 'containers', id, `${id}-json.log`), o.gb * 1024 ** 3, o, last);
    const genMs = Date.now() - t1;
    console.log(
      `\nlogs: a ${(big.bytes / 1024 ** 3).toFixed(2)} GB log (~${(big.lines / 1e6).toFixed(1)} M lines of ${o.lineBytes} bytes, written in ${(genMs / 1000).toFixed(1)} s);` +
        ` a rotated one (seq 1 ${SEQ} through hull-monitor in ${(rotMs / 1000).toFixed(1)} s, max-size=10m max-file=3)`,
    );
    console.log(
      `${cpus().length} CPUs, Linux ${release()}, Node ${process.version}; peak RSS from ${hasGnuTime ? 'GNU time (wait4 ru_maxrss)' : 'process.resourceUsage().maxRSS at exit'}\n`,
    );

    const cases = [
      { label: `logs --tail 3 (${o.gb} GB)`, args: ['logs', '--tail', '3', 'big'], expect: last.join('') },
      { label: `logs -f, exited (${o.gb} GB, to /dev/null)`, args: ['logs', '-f', 'big'] },
      { label: 'logs --tail 2 (rotated)', args: ['logs', '--tail', '2', 'rot'], expect: `${SEQ - 1}\n${SEQ}\n` },
      { label: 'logs (rotated, to /dev/null)', args: ['logs', 'rot'] },
    ];
    const builds = [{ name: 'hull', path: o.hull }, ...(o.baseline ? [{ name: 'baseline', path: o.baseline }] : [])];
    const rows = [['command', 'build', 'wall s', 'peak RSS MB', 'result']];
    for (const c of cases) {
      for (const b of builds) {
        const r = measure(tmp, b.path, [...g, ...c.args], { capture: c.expect !== undefined });
        let result = r.code === 0 ? 'ok' : `exit ${r.code ?? r.signal}${r.stderr ? `: ${r.stderr.slice(0, 80)}` : ''}`;
        if (r.code === 0 && c.expect !== undefined && r.stdout !== c.expect) result = `WRONG output: ${JSON.stringify(r.stdout.slice(0, 60))}`;
        if (b.name === 'hull' && (result !== 'ok' || !(r.rssMb < 100))) code = 1;
        rows.push([c.label, b.name, (r.ms / 1000).toFixed(2), Number.isNaN(r.rssMb) ? '-' : r.rssMb.toFixed(1), result]);
      }
    }
    const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    for (const r of rows)
      console.log(
        r
          .map((v, i) => (i === 0 || i === 1 || i === 4 ? v.padEnd(w[i]) : v.padStart(w[i])))
          .join('  ')
          .trimEnd(),
      );
    console.log(`\ntarget: every peak RSS of this build under 100 MB, and every result ok: ${code === 0 ? 'met' : 'NOT met'}`);
  } catch (err) {
    console.error(`bench/logs: ${err instanceof Error ? err.message : err}`);
    code = 1;
  } finally {
    cleanup();
  }
  return code;
}

main().then((code) => process.exit(code));
