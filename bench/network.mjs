#!/usr/bin/env node
// bench/network.mjs — what networking costs a container, from one run:
//   1. start-up: `hull run --rm busybox true` with the default bridge network beside --network none,
//      interleaved round by round (target: bridge adds at most 20 ms at the median);
//   2. throughput: container → host over the bridge (busybox nc sending N MB of /dev/zero to a
//      listener on the bridge's address) beside host loopback (the same nc, --network host, to
//      127.0.0.1), both timed by the host-side listener from first to last byte.
//
//   sudo npm run bench:network [-- --runs 30 --warmup 3 --mb 512]
//
// Private everything: a temp --root/--run-root with its own bridge name, subnet (10.249.x.0/24),
// interface prefix and nft table (network.json), all removed at the end. Traffic stays on
// loopback and on that bridge.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { cpus, release, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeBusyboxImage } from '../scripts/make-busybox-image.mjs';
import { median } from './lib.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const o = { runs: 30, warmup: 3, mb: 512 };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--runs') o.runs = Number(process.argv[++i]);
  else if (a === '--warmup') o.warmup = Number(process.argv[++i]);
  else if (a === '--mb') o.mb = Number(process.argv[++i]);
  else throw new Error(`unknown argument ${a} (--runs N --warmup N --mb N)`);
}

const base = mkdtempSync(join(tmpdir(), 'hull-bench-net-'));
const root = join(base, 'root');
const tag = String(process.pid % 256);
const cfg = {
  bridge: `bn${process.pid % 100000}`,
  subnet: `10.249.${tag}.0/24`,
  subnetPool: `10.248.${tag}.0/24`,
  nftTable: `hull_bench_${process.pid}`,
  ifPrefix: `b${process.pid % 10000}`,
  stateDir: join(root, 'netstate'),
  ipForward: false,
};
mkdirSync(root, { recursive: true });
writeFileSync(join(root, 'network.json'), JSON.stringify(cfg));
const gateway = cfg.subnet.replace(/0\/24$/, '1');
const hullArgs = [join(repo, 'bin', 'hull.cjs'), '--root', root, '--run-root', join(base, 'run')];
const hull = (args, opts = {}) => spawnSync(process.execPath, [...hullArgs, ...args], { encoding: 'utf8', ...opts });

function timed(args) {
  const t0 = process.hrtime.bigint();
  const r = hull(args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const t1 = process.hrtime.bigint();
  if (r.status !== 0) throw new Error(`hull ${args.join(' ')}: ${r.stderr}`);
  return Number(t1 - t0) / 1e6;
}

const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

/** A listener that counts bytes; resolves with MB/s from the first to the last byte. */
function sink(host) {
  return new Promise((resolveListen) => {
    const server = net.createServer((sock) => {
      let bytes = 0;
      let first;
      sock.on('data', (d) => {
        first ??= process.hrtime.bigint();
        bytes += d.length;
      });
      sock.on('end', () => {
        const secs = Number(process.hrtime.bigint() - first) / 1e9;
        server.emit('measured', { bytes, secs });
        sock.end();
      });
    });
    server.listen(0, host, () => resolveListen(server));
  });
}

async function throughput(host, netArgs) {
  const server = await sink(host);
  const { port } = server.address();
  const measured = new Promise((r) => server.once('measured', r));
  const child = await import('node:child_process').then((cp) =>
    cp.spawn(
      process.execPath,
      [...hullArgs, 'run', '--rm', ...netArgs, 'busybox', 'sh', '-c', `head -c ${o.mb * 1024 * 1024} /dev/zero | nc ${host} ${port}`],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    ),
  );
  const m = await measured;
  await new Promise((r) => child.once('close', r));
  server.close();
  return { mbps: m.bytes / 1024 / 1024 / m.secs, mb: m.bytes / 1024 / 1024 };
}

try {
  const tar = join(base, 'busybox.tar');
  await makeBusyboxImage({ outTar: tar });
  const load = hull(['load', '-i', tar]);
  if (load.status !== 0) throw new Error(load.stderr);
  const times = { bridge: [], none: [] };
  for (let i = 0; i < o.warmup + o.runs; i++) {
    const order = i % 2 ? ['none', 'bridge'] : ['bridge', 'none'];
    for (const k of order) {
      const t = timed(['run', '--rm', ...(k === 'none' ? ['--network', 'none'] : []), 'busybox', 'true']);
      if (i >= o.warmup) times[k].push(t);
    }
  }
  const loop = await throughput('127.0.0.1', ['--network', 'host']);
  const bridged = await throughput(gateway, []);
  const line = (k) => `${k.padEnd(8)} median ${median(times[k]).toFixed(1)} ms  p10 ${pct(times[k], 10).toFixed(1)}  p90 ${pct(times[k], 90).toFixed(1)}`;
  console.log(`hull network benchmark — ${o.runs} runs each (+${o.warmup} warm-up), ${cpus().length} CPUs, Linux ${release()}`);
  console.log('`hull run --rm busybox true`:');
  console.log(`  ${line('none')}`);
  console.log(`  ${line('bridge')}`);
  console.log(`  bridge - none: ${(median(times.bridge) - median(times.none)).toFixed(1)} ms at the median (target <= 20 ms)`);
  console.log(`TCP container -> host, ${o.mb} MB from busybox nc:`);
  console.log(`  host loopback (--network host to 127.0.0.1): ${loop.mbps.toFixed(0)} MB/s`);
  console.log(`  over the bridge (veth, to ${gateway}):       ${bridged.mbps.toFixed(0)} MB/s`);
} finally {
  hull(['network', 'ls']);
  spawnSync('ip', ['link', 'del', cfg.bridge], { stdio: 'ignore' });
  spawnSync('nft', ['delete', 'table', 'ip', cfg.nftTable], { stdio: 'ignore' });
  rmSync(base, { recursive: true, force: true });
}
