#!/usr/bin/env node
// bench/engine-api.mjs — the Docker Engine API served by hull (`hull system service`) beside
// dockerd 20.10, both driven by the same docker CLI (/usr/bin/docker, Debian's 20.10), and beside
// hull's own CLI on the same root:
//
//   sudo node bench/engine-api.mjs [--runs 20] [--warmup 3] [--only api,cli,dockerd] [--list 100] [--running 50]
//                                  [--hull bin/hull.cjs] [--docker /usr/bin/docker] [--dockerd /usr/sbin/dockerd] [--keep]
//                                  [--baseline OTHER/bin/hull.cjs]
//
// --baseline also serves the API from another build of hull (say main's), on a root of its own, and
// measures its `docker run` in the same rounds: this build's median as a ratio of it.
//
// 1. `docker run --rm --network none busybox true` through hull's socket, `hull run --rm --network
//    none busybox true`, and the same docker command through dockerd's socket: one interleaved run
//    (the first one rotates each round), medians of --runs (at least 20). Target: hull's API at most
//    0.35x dockerd.
// 2. `docker ps -a` and `docker images` on both servers with --list containers (created, not
//    running) and --list images (tags of busybox), interleaved the same way.
// 3. The servers' resident memory (VmRSS): idle, and with --running containers running (`sleep`);
//    dockerd's beside its containerd's (hull has no second daemon: its per-container monitors are
//    shown beside containerd's shims).
//
// Made here and removed again: a temp dir holding everything: the busybox image (made locally,
// scripts/make-busybox-image.mjs, no network), hull's --root/--run-root and its server's socket,
// dockerd's --data-root, --exec-root, socket, pidfile and config file (which also keeps its trust key
// out of /etc/docker), a containerd of its own for dockerd (its root, state and sockets), and the
// docker CLI's config dir. dockerd gets the busybox image by `docker load` of a tar that `hull save`
// made, runs with --iptables=false --bridge=none --ip-masq=false --ip-forward=false (the host's ip_forward untouched) and puts its containers' cgroups under
// /hull-bench-dockerd-PID (removed at the end, in every hierarchy). Every daemon is stopped by pid.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { cpus, release, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeBusyboxImage } from '../scripts/make-busybox-image.mjs';
import { parseOptions, printTable, sampleStats, startPrivateContainerd } from './lib.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const KINDS = ['api', 'cli', 'dockerd'];
const USAGE =
  'usage: sudo node bench/engine-api.mjs [--runs N (20, at least 20)] [--warmup N (3)] [--only api,cli,dockerd] [--list N (100)] [--running N (50)] [--hull bin/hull.cjs] [--docker /usr/bin/docker] [--dockerd /usr/sbin/dockerd] [--baseline OTHER/bin/hull.cjs] [--keep]';

const o = parseOptions(
  process.argv.slice(2),
  {
    '--runs': ['runs', 'int'],
    '--warmup': ['warmup', 'int'],
    '--only': ['only', 'list'],
    '--list': ['list', 'int'],
    '--running': ['running', 'int'],
    '--hull': ['hull', 'path'],
    '--docker': ['docker', 'string'],
    '--dockerd': ['dockerd', 'string'],
    '--keep': ['keep', 'bool'],
    '--baseline': ['baseline', 'path'],
  },
  {
    runs: 20,
    warmup: 3,
    only: KINDS,
    list: 100,
    running: 50,
    hull: join(repo, 'bin', 'hull.cjs'),
    docker: '/usr/bin/docker',
    dockerd: '/usr/sbin/dockerd',
    keep: false,
    baseline: undefined,
  },
  USAGE,
);
if (o.runs < 20) throw new Error('--runs must be at least 20');
for (const k of o.only) if (!KINDS.includes(k)) throw new Error(`--only: unknown ${k} (use ${KINDS.join(',')})`);
if (process.getuid() !== 0) throw new Error('run as root (both servers make namespaces and cgroups)');
const withDockerd = o.only.includes('dockerd');
if (withDockerd && !existsSync(o.dockerd)) throw new Error(`${o.dockerd} not found (Debian's docker.io): leave it out with --only api,cli`);

const ms = (ns) => Number(ns) / 1e6;
const sleep = (t) => new Promise((r) => setTimeout(r, t));
const base = mkdtempSync(join(tmpdir(), 'hull-bench-api-'));
const f = (...p) => join(base, ...p);
const cgroupParent = `hull-bench-dockerd-${process.pid}`;
const hullGlobal = ['--root', f('hull-root'), '--run-root', f('hull-run')];
const hullSock = f('hull.sock');
const baseGlobal = ['--root', f('base-root'), '--run-root', f('base-run')];
const baseSock = f('base.sock');
const dockerSock = f('docker.sock');
mkdirSync(f('docker-config'));
const clientEnv = (sock) => ({ PATH: process.env.PATH, HOME: base, DOCKER_CONFIG: f('docker-config'), DOCKER_HOST: `unix://${sock}` });

function must(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}: ${(r.stderr || r.stdout || '').trim()}`);
  return r.stdout;
}

/** One timed command (its output dropped); throws with its last stderr lines when it fails. */
function timed(label, cmd, args, env) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env });
  const t = ms(process.hrtime.bigint() - t0);
  if (r.error || r.status !== 0)
    throw new Error(`${label} failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`}): ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`);
  return t;
}

/** A raw Engine API request (setup and teardown go this way: faster than a CLI per container). */
function api(sock, method, path, body) {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request({ socketPath: sock, method, path, headers: text ? { 'Content-Type': 'application/json' } : {} }, (res) => {
      let out = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (out += d));
      res.on('end', () => {
        if (res.statusCode >= 400) return reject(new Error(`${method} ${path}: ${res.statusCode} ${out.trim()}`));
        try {
          resolve(out && res.headers['content-type']?.startsWith('application/json') ? JSON.parse(out) : out);
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on('error', reject);
    req.end(text);
  });
}

async function waitForPing(sock, child, what, log) {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) break;
    if (
      existsSync(sock) &&
      (await api(sock, 'GET', '/_ping').then(
        () => true,
        () => false,
      ))
    )
      return;
    await sleep(50);
  }
  throw new Error(`${what} did not start${log ? ` (see ${log})` : ''}`);
}

const rssKb = (pid) => Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
const comm = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
};
/** The parent of a process: a container's monitor (hull-monitor) or shim (containerd-shim-runc-v2). */
const parentOf = (pid) =>
  Number(
    readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /s, '')
      .split(' ')[1],
  );

const daemons = { hull: undefined, base: undefined, dockerd: undefined, containerd: undefined };

/** A `hull system service` of `bin` over the root of `global`, on `sock`. */
async function startHull(bin, global, sock, key) {
  const log = f(`${key}-service.log`);
  const child = spawn(process.execPath, [bin, ...global, 'system', 'service', '--host', `unix://${sock}`, '--time', '0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr.on('data', (d) => writeFileSync(log, d, { flag: 'a' }));
  daemons[key] = child;
  await waitForPing(sock, child, `${bin} system service`, log);
}

// dockerd makes /run/docker/plugins (its plugin sockets) whatever --exec-root says: removed at the end when it made it.
const runDockerExisted = existsSync('/run/docker');

async function startDockerd() {
  daemons.containerd = (await startPrivateContainerd(f('containerd'))).child;
  const containerdSock = f('containerd', 'containerd.sock');
  // The trust key (20.10 writes /etc/docker/key.json by default) and every path of its own under base.
  writeFileSync(f('daemon.json'), JSON.stringify({ 'deprecated-key-path': f('docker-key.json') }));
  const args = [
    '--config-file', f('daemon.json'),
    '--data-root', f('docker-data'),
    '--exec-root', f('docker-exec'),
    '--pidfile', f('docker.pid'),
    '-H', `unix://${dockerSock}`,
    '--containerd', containerdSock,
    '--iptables=false', '--ip-masq=false', '--ip-forward=false', '--bridge=none',
    '--exec-opt', 'native.cgroupdriver=cgroupfs',
    '--cgroup-parent', `/${cgroupParent}`,
    '--log-level', 'error',
  ]; // prettier-ignore
  const log = f('dockerd.log');
  const child = spawn(o.dockerd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr.on('data', (d) => writeFileSync(log, d, { flag: 'a' }));
  daemons.dockerd = child;
  await waitForPing(dockerSock, child, 'dockerd', log);
}

async function stopChild(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(child.pid, 'SIGTERM');
  const t = setTimeout(() => child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 20_000);
  await exited;
  clearTimeout(t);
}

/** Interleaved rounds of `cmds` (rotating who goes first), after warm-up runs; samples in ms by key. */
async function interleaved(cmds, runs, warmup) {
  const samples = new Map(cmds.map((c) => [c.key, []]));
  for (const c of cmds) for (let i = 0; i < warmup; i++) c.run();
  for (let round = 0; round < runs; round++) {
    for (let j = 0; j < cmds.length; j++) {
      const c = cmds[(round + j) % cmds.length];
      samples.get(c.key).push(c.run());
    }
    await sleep(0); // a turn for SIGINT's clean-up
  }
  return new Map(cmds.map((c) => [c.key, sampleStats(samples.get(c.key))]));
}

function report(title, cmds, st) {
  console.log(`\n${title}`);
  printTable([
    ['command', 'runs', 'min ms', 'median ms', 'p90 ms'],
    ...cmds.map((c) => [c.label, st.get(c.key).n, ...['min', 'median', 'p90'].map((k) => st.get(c.key)[k].toFixed(1))]),
  ]);
}

const servers = () => [['hull', hullSock], ...(withDockerd ? [['dockerd', dockerSock]] : [])];

async function main() {
  console.log(`engine-api: ${cpus().length} CPUs, Linux ${release()}, Node ${process.version}; temp dir ${base}`);
  // The image: made locally, loaded into hull, saved by hull, loaded into dockerd from that tar.
  await makeBusyboxImage({ outDir: f('image'), outTar: f('busybox-oci.tar') });
  must(process.execPath, [o.hull, ...hullGlobal, 'load', '-i', f('busybox-oci.tar')]);
  await startHull(o.hull, hullGlobal, hullSock, 'hull');
  if (o.baseline) {
    must(process.execPath, [o.baseline, ...baseGlobal, 'load', '-i', f('busybox-oci.tar')]);
    await startHull(o.baseline, baseGlobal, baseSock, 'base');
  }
  if (withDockerd) {
    must(process.execPath, [o.hull, ...hullGlobal, 'save', '-o', f('busybox-docker.tar'), 'busybox:latest']);
    await startDockerd();
    must(o.docker, ['load', '-i', f('busybox-docker.tar')], { env: clientEnv(dockerSock) });
  }
  const rss = [['idle', rssKb(daemons.hull.pid), withDockerd ? rssKb(daemons.dockerd.pid) : NaN, withDockerd ? rssKb(daemons.containerd.pid) : NaN]];

  // 1. docker run --rm
  const runArgs = ['run', '--rm', '--network', 'none', 'busybox', 'true'];
  const runCmds = [
    ...(o.only.includes('api')
      ? [
          {
            key: 'api',
            label: 'docker run --rm --network none busybox true (hull system service)',
            run: () => timed('docker run (hull)', o.docker, runArgs, clientEnv(hullSock)),
          },
        ]
      : []),
    ...(o.baseline
      ? [
          {
            key: 'base',
            label: 'docker run --rm --network none busybox true (baseline hull system service)',
            run: () => timed('docker run (baseline)', o.docker, runArgs, clientEnv(baseSock)),
          },
        ]
      : []),
    ...(o.only.includes('cli')
      ? [
          {
            key: 'cli',
            label: 'hull run --rm --network none busybox true (hull CLI)',
            run: () => timed('hull run', process.execPath, [o.hull, ...hullGlobal, ...runArgs]),
          },
        ]
      : []),
    ...(withDockerd
      ? [
          {
            key: 'dockerd',
            label: 'docker run --rm --network none busybox true (dockerd 20.10)',
            run: () => timed('docker run (dockerd)', o.docker, runArgs, clientEnv(dockerSock)),
          },
        ]
      : []),
  ];
  const runSt = await interleaved(runCmds, o.runs, o.warmup);
  report(`run: ${o.runs} runs each, interleaved, after ${o.warmup} warm-up runs`, runCmds, runSt);
  if (runSt.has('api') && runSt.has('dockerd')) {
    const x = runSt.get('api').median / runSt.get('dockerd').median;
    console.log(`hull API / dockerd (medians) = ${x.toFixed(3)}: target <= 0.35 ${x <= 0.35 ? 'met' : 'NOT met'}`);
  }
  if (runSt.has('api') && runSt.has('base'))
    console.log(`hull API / baseline hull API (medians) = ${(runSt.get('api').median / runSt.get('base').median).toFixed(3)}`);
  if (runSt.has('api') && runSt.has('cli')) console.log(`hull API / hull CLI (medians) = ${(runSt.get('api').median / runSt.get('cli').median).toFixed(3)}`);

  // 2. ps -a and images with o.list containers and images
  if (o.list > 0) {
    for (const [, sock] of servers()) {
      for (let i = 0; i < o.list; i++) {
        await api(sock, 'POST', `/v1.41/containers/create?name=bench-list-${i}`, { Image: 'busybox', Cmd: ['true'], HostConfig: { NetworkMode: 'none' } });
        await api(sock, 'POST', `/v1.41/images/busybox:latest/tag?repo=hull-bench/img${i}&tag=v${i}`);
      }
    }
    const listCmds = servers().flatMap(([name, sock]) => [
      {
        key: `ps-${name}`,
        label: `docker ps -a (${name}, ${o.list} containers)`,
        run: () => timed(`docker ps -a (${name})`, o.docker, ['ps', '-a'], clientEnv(sock)),
      },
      {
        key: `images-${name}`,
        label: `docker images (${name}, ${o.list + 1} images)`,
        run: () => timed(`docker images (${name})`, o.docker, ['images'], clientEnv(sock)),
      },
    ]);
    const listSt = await interleaved(listCmds, o.runs, o.warmup);
    report(`lists: ${o.runs} runs each, interleaved`, listCmds, listSt);
    for (const [, sock] of servers()) {
      for (let i = 0; i < o.list; i++) {
        await api(sock, 'DELETE', `/v1.41/containers/bench-list-${i}?force=1`);
        await api(sock, 'DELETE', `/v1.41/images/hull-bench/img${i}:v${i}`);
      }
    }
  }
  rss.push([
    'idle, after the runs and lists',
    rssKb(daemons.hull.pid),
    withDockerd ? rssKb(daemons.dockerd.pid) : NaN,
    withDockerd ? rssKb(daemons.containerd.pid) : NaN,
  ]);

  // 3. memory with o.running containers running
  if (o.running > 0) {
    for (const [name, sock] of servers()) {
      for (let i = 0; i < o.running; i++) {
        const made = await api(sock, 'POST', `/v1.41/containers/create?name=bench-sleep-${i}`, {
          Image: 'busybox',
          Cmd: ['sleep', '3600'],
          HostConfig: { NetworkMode: 'none' },
        });
        await api(sock, 'POST', `/v1.41/containers/${made.Id}/start`);
      }
      const running = (await api(sock, 'GET', '/v1.41/containers/json')).length;
      if (running !== o.running) throw new Error(`${name}: ${running} containers running, not ${o.running}`);
    }
    await sleep(1000); // settled
    const kb = (pids) => pids.reduce((a, p) => a + rssKb(p), 0);
    // Each container's parent (from its State.Pid): what it costs beside the server.
    const helpers = {};
    for (const [name, sock] of servers()) {
      const pids = [];
      for (let i = 0; i < o.running; i++) pids.push(parentOf((await api(sock, 'GET', `/v1.41/containers/bench-sleep-${i}/json`)).State.Pid));
      helpers[name] = { names: [...new Set(pids.map(comm))].join(','), n: new Set(pids).size, kb: kb([...new Set(pids)]) };
    }
    rss.push([
      `${o.running} running`,
      rssKb(daemons.hull.pid),
      withDockerd ? rssKb(daemons.dockerd.pid) : NaN,
      withDockerd ? rssKb(daemons.containerd.pid) : NaN,
    ]);
    const line = ([name, h]) => `${name}: ${h.n} ${h.names} processes, ${(h.kb / 1024).toFixed(1)} MiB RSS in all`;
    console.log(`\neach container's parent process with ${o.running} running: ${Object.entries(helpers).map(line).join('; ')}`);
    for (const [, sock] of servers()) for (let i = 0; i < o.running; i++) await api(sock, 'DELETE', `/v1.41/containers/bench-sleep-${i}?force=1`);
  }
  console.log('\nserver memory (VmRSS, MiB)');
  const mib = (kb) => (Number.isNaN(kb) ? '-' : (kb / 1024).toFixed(1));
  printTable([['when', 'hull system service', 'dockerd', "dockerd's containerd"], ...rss.map(([w, ...k]) => [w, ...k.map(mib)])]);
}

/** Everything made, in order: containers (through their servers), the daemons by pid, mounts, cgroups, the temp dir. */
async function cleanup() {
  const problems = [];
  for (const [name, sock] of [...servers(), ['base', baseSock]]) {
    const child = daemons[name];
    if (!child || child.exitCode !== null) continue;
    try {
      for (const c of await api(sock, 'GET', '/v1.41/containers/json?all=1')) await api(sock, 'DELETE', `/v1.41/containers/${c.Id}?force=1`);
    } catch (err) {
      problems.push(`${name}: removing containers: ${err.message}`);
    }
  }
  await stopChild(daemons.hull);
  await stopChild(daemons.base);
  await stopChild(daemons.dockerd);
  await stopChild(daemons.containerd);
  const mounts = () =>
    readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4]?.replace(/\\([0-7]{3})/g, (_, x) => String.fromCharCode(parseInt(x, 8))))
      .filter((m) => m && (m === base || m.startsWith(`${base}/`)))
      .sort((a, b) => b.length - a.length);
  for (const m of mounts()) spawnSync('umount', ['-l', m]);
  if (!runDockerExisted) {
    for (const dir of ['/run/docker/plugins', '/run/docker']) {
      try {
        rmdirSync(dir);
      } catch (err) {
        if (err.code !== 'ENOENT') problems.push(`rmdir ${dir}: ${err.code ?? err.message}`);
      }
    }
  }
  // dockerd's cgroup parent, in every v1 hierarchy (and the unified one) it used
  for (const ctrl of existsSync('/sys/fs/cgroup') ? readdirSync('/sys/fs/cgroup') : []) {
    const dir = join('/sys/fs/cgroup', ctrl, cgroupParent);
    if (!existsSync(dir)) continue;
    try {
      for (const sub of readdirSync(dir, { withFileTypes: true })) if (sub.isDirectory()) rmdirSync(join(dir, sub.name));
      rmdirSync(dir);
    } catch (err) {
      problems.push(`rmdir ${dir}: ${err.code ?? err.message}`);
    }
  }
  if (o.keep) console.log(`kept ${base}`);
  else if (mounts().length > 0) problems.push(`not removing ${base}: still mounted: ${mounts().join(', ')}`);
  else spawnSync('rm', ['-rf', '--one-file-system', base]);
  return problems;
}

let code = 0;
const onSignal = (sig) =>
  void cleanup().then((problems) => {
    for (const p of problems) console.error(`cleanup: ${p}`);
    process.exit(sig === 'SIGINT' ? 130 : 143);
  });
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);
try {
  await main();
} catch (err) {
  console.error(`engine-api: ${err instanceof Error ? err.message : err}`);
  code = 1;
} finally {
  const problems = await cleanup();
  for (const p of problems) console.error(`cleanup: ${p}`);
  if (problems.length > 0) code = 1;
}
process.exit(code);
