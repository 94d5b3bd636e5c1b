#!/usr/bin/env node
// bench/detached.mjs — detached containers: `hull run -d` latency beside `podman run -d` and
// `ctr run -d`, and the idle memory of each container's monitor (hull-monitor beside podman's
// conmon and containerd's runc shim): RSS and PSS from /proc/PID/smaps_rollup, for the same busybox
// `sleep` container.
//
//   sudo node bench/detached.mjs [--runs 10] [--only hull,podman,containerd]
//
// podman runs with private configuration only (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF,
// CONTAINERS_REGISTRIES_CONF in a temp dir; nothing in /etc), and containerd with its own root,
// state, sockets and no CRI plugin, as /work/shared/peers.md describes; a peer that is not
// installed is left out. Everything made is removed: containers, shims, hull's --root/--run-root,
// podman's and containerd's storage, the containerd daemon started here, cgroups.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeBusyboxImage } from '../scripts/make-busybox-image.mjs';
import { privateContainersEnv } from './lib.mjs';

// Like the peers measured beside it (a runc bundle, podman with netns="none"), hull runs with a network
// namespace holding only lo here: no bridge is made on the host (bench:network measures the bridge).
process.env.HULL_DEFAULT_NETWORK ??= 'none';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const runs = Number(opt('--runs', '10'));
const installed = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const only = opt('--only', ['hull', 'podman', 'containerd'].filter((k) => k === 'hull' || installed(k === 'podman' ? 'podman' : 'ctr')).join(',')).split(',');

const base = mkdtempSync(join(tmpdir(), 'hull-bench-detached-'));
const ms = (ns) => Number(ns) / 1e6;
function sh(cmd, argv, extra = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { encoding: 'utf8', ...extra });
  const t1 = process.hrtime.bigint();
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { ms: ms(t1 - t0), out: r.stdout.trim() };
}
function memory(pid) {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rss: kb('Rss'), pss: kb('Pss') };
}
const ppid = (pid) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
const comm = (pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return { n, min: s[0], median: n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2 };
}

// ---- hull
const hullRoot = join(base, 'hull');
const hullArgs = ['--root', join(hullRoot, 'root'), '--run-root', join(hullRoot, 'run')];
const hull = (...a) => sh(process.execPath, [join(repo, 'bin', 'hull.cjs'), ...hullArgs, ...a]);

// ---- podman, configured privately
const pd = join(base, 'podman');
let podEnv;
function setUpPodman() {
  podEnv = privateContainersEnv(pd, { containers: ['cgroupns="private"'] });
}
const podman = (...a) => sh('podman', ['--cgroup-manager=cgroupfs', ...a], { env: podEnv });

// ---- containerd, configured privately: its own root, state and sockets, no CRI plugin
const cd = join(base, 'containerd');
const cdSock = join(cd, 'containerd.sock');
let containerd;
async function setUpContainerd() {
  mkdirSync(join(cd, 'root'), { recursive: true });
  mkdirSync(join(cd, 'state'));
  writeFileSync(
    join(cd, 'config.toml'),
    `version = 2
root = "${join(cd, 'root')}"
state = "${join(cd, 'state')}"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "${cdSock}"
[ttrpc]
  address = "${join(cd, 'containerd-ttrpc.sock')}"
`,
  );
  const log = openSync(join(cd, 'containerd.log'), 'a');
  containerd = spawn('containerd', ['--config', join(cd, 'config.toml')], { stdio: ['ignore', log, log] });
  for (let i = 0; i < 200 && !existsSync(cdSock); i++) await new Promise((r) => setTimeout(r, 50));
  if (!existsSync(cdSock)) throw new Error(`containerd did not start (see ${join(cd, 'containerd.log')})`);
}
const ctr = (...a) => sh('ctr', ['--address', cdSock, '--namespace', 'hullbench', ...a]);
const CTR_IMAGE = 'docker.io/library/busybox:latest';

const results = {};
try {
  const dockerTar = join(base, 'busybox-docker.tar');
  await makeBusyboxImage({ outDir: join(base, 'image'), outTar: join(base, 'busybox-oci.tar'), dockerArchive: dockerTar });
  if (only.includes('hull')) hull('load', '-i', dockerTar);
  if (only.includes('podman')) {
    setUpPodman();
    podman('load', '-i', dockerTar);
  }
  if (only.includes('containerd')) {
    await setUpContainerd();
    ctr('image', 'import', dockerTar);
  }
  const lat = { hull: [], podman: [], containerd: [] };
  const ids = { hull: [], podman: [], containerd: [] };
  for (let i = 0; i < runs + 1; i++) {
    if (only.includes('hull')) {
      const r = hull('run', '-d', '--cgroup-parent', 'hull-bench-detached', 'busybox', 'sleep', '600');
      if (i > 0) lat.hull.push(r.ms); // the first run warms caches
      ids.hull.push(r.out);
    }
    if (only.includes('podman')) {
      const r = podman('run', '-d', '--cgroup-parent', '/hull-bench-podman', 'busybox', 'sleep', '600');
      if (i > 0) lat.podman.push(r.ms);
      ids.podman.push(r.out);
    }
    if (only.includes('containerd')) {
      // An absolute cgroup path: a relative one would land below this machine's own cgroup.
      const id = `hullbench-${i}`;
      const r = ctr('run', '-d', '--cgroup', `/hull-bench-containerd/${id}`, CTR_IMAGE, id, 'sleep', '600');
      if (i > 0) lat.containerd.push(r.ms);
      ids.containerd.push(id);
    }
  }
  const mem = { hull: [], podman: [], containerd: [] };
  for (const id of ids.hull) {
    const pid = Number(hull('inspect', '-f', '{{.State.Pid}}', id).out);
    const mon = ppid(pid);
    if (comm(mon) !== 'hull-monitor') throw new Error(`the parent of ${pid} is ${comm(mon)}`);
    mem.hull.push(memory(mon));
  }
  for (const id of ids.podman) {
    const pid = Number(podman('inspect', '-f', '{{.State.Pid}}', id).out);
    const mon = ppid(pid);
    if (comm(mon) !== 'conmon') throw new Error(`the parent of ${pid} is ${comm(mon)}`);
    mem.podman.push(memory(mon));
  }
  const tasks = new Map(
    ctr('task', 'ls')
      .out.split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      .map(([id, pid]) => [id, Number(pid)]),
  );
  for (const id of only.includes('containerd') ? ids.containerd : []) {
    const mon = ppid(tasks.get(id));
    if (!comm(mon).startsWith('containerd-shim')) throw new Error(`the parent of ${id}'s task is ${comm(mon)}`);
    mem.containerd.push(memory(mon));
  }
  console.log(`\ndetached containers: ${runs} runs each, interleaved; ${cpus().length} CPUs, Linux ${release()}, Node ${process.version}\n`);
  console.log('what                          n   min ms  median ms   monitor RSS kB (median)  PSS kB (median)');
  const LABELS = { hull: 'hull run -d (hull-monitor)', podman: 'podman run -d (conmon)', containerd: 'ctr run -d (runc shim v2)' };
  for (const k of ['hull', 'podman', 'containerd']) {
    if (!only.includes(k)) continue;
    const l = stats(lat[k]);
    const rss = stats(mem[k].map((m) => m.rss)).median;
    const pss = stats(mem[k].map((m) => m.pss)).median;
    const label = LABELS[k];
    console.log(
      `${label.padEnd(28)} ${String(l.n).padStart(2)} ${l.min.toFixed(1).padStart(8)} ${l.median.toFixed(1).padStart(10)} ${String(rss).padStart(24)} ${String(pss).padStart(16)}`,
    );
    results[k] = { latency: l, rss, pss };
  }
} finally {
  try {
    const ids = hull('ps', '-aq', '--no-trunc').out.split('\n').filter(Boolean);
    if (ids.length) hull('rm', '-f', ...ids);
  } catch (err) {
    console.error(`hull clean-up: ${err.message}`);
  }
  if (only.includes('podman') && existsSync(join(pd, 'storage.conf'))) {
    try {
      podman('rm', '-af', '-t', '0');
      podman('system', 'reset', '-f');
    } catch (err) {
      console.error(`podman clean-up: ${err.message}`);
    }
  }
  if (containerd) {
    // Tasks first (their shims exit with them), then the daemon started here, by pid.
    try {
      for (const line of ctr('task', 'ls').out.split('\n').slice(1)) {
        const id = line.trim().split(/\s+/)[0];
        if (!id) continue;
        spawnSync('ctr', ['--address', cdSock, '--namespace', 'hullbench', 'task', 'kill', '-s', 'SIGKILL', id]);
        for (let i = 0; i < 50; i++) {
          if (spawnSync('ctr', ['--address', cdSock, '--namespace', 'hullbench', 'task', 'delete', id]).status === 0) break;
          spawnSync('sleep', ['0.1']);
        }
      }
      for (const id of ctr('container', 'ls', '-q').out.split('\n').filter(Boolean)) ctr('container', 'delete', id);
      ctr('image', 'rm', CTR_IMAGE);
    } catch (err) {
      console.error(`containerd clean-up: ${err.message}`);
    }
    containerd.kill('SIGTERM');
    await new Promise((r) => (containerd.exitCode !== null ? r() : containerd.once('exit', r)));
    spawnSync('umount', ['-R', join(cd, 'state')], { stdio: 'ignore' });
  }
  for (const cg of ['/sys/fs/cgroup/unified/hull-bench-detached']) if (existsSync(cg)) spawnSync('rmdir', [cg]);
  // podman's and containerd's cgroupfs parents, in each hierarchy they used
  for (const ctrl of existsSync('/sys/fs/cgroup') ? readdirSync('/sys/fs/cgroup') : []) {
    for (const parent of ['hull-bench-podman', 'hull-bench-containerd']) {
      const dir = join('/sys/fs/cgroup', ctrl, parent);
      if (!existsSync(dir)) continue;
      for (const sub of readdirSync(dir, { withFileTypes: true })) if (sub.isDirectory()) spawnSync('rmdir', [join(dir, sub.name)]);
      spawnSync('rmdir', [dir]);
    }
  }
  spawnSync('umount', ['-R', join(pd, 'graph', 'overlay')], { stdio: 'ignore' });
  rmSync(base, { recursive: true, force: true });
}
