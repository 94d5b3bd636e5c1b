#!/usr/bin/env node
// bench/detached.mjs — detached containers: `hull run -d` latency beside `podman run -d`, and the
// idle memory of each container's monitor (hull-monitor beside podman's conmon): RSS and PSS from
// /proc/PID/smaps_rollup, for the same busybox `sleep` container.
//
//   sudo node bench/detached.mjs [--runs 10] [--only hull,podman]
//
// podman runs with private configuration only (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF,
// CONTAINERS_REGISTRIES_CONF in a temp dir; nothing in /etc), as /work/shared/peers.md describes.
// Everything made is removed: containers, hull's --root/--run-root, podman's storage, cgroups.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeBusyboxImage } from '../scripts/make-busybox-image.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const runs = Number(opt('--runs', '10'));
const only = opt('--only', 'hull,podman').split(',');

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
const podEnv = {
  ...process.env,
  CONTAINERS_CONF: join(pd, 'containers.conf'),
  CONTAINERS_STORAGE_CONF: join(pd, 'storage.conf'),
  CONTAINERS_REGISTRIES_CONF: join(pd, 'registries.conf'),
};
function setUpPodman() {
  spawnSync('mkdir', ['-p', join(pd, 'tmp'), join(pd, 'net'), join(pd, 'graph'), join(pd, 'run')]);
  writeFileSync(podEnv.CONTAINERS_CONF, `[containers]
netns="none"
log_driver="k8s-file"
default_ulimits=["nofile=20000:20000","nproc=32768:32768"]
cgroupns="private"
[engine]
cgroup_manager="cgroupfs"
events_logger="file"
events_logfile_path="${join(pd, 'events.log')}"
runtime="runc"
tmp_dir="${join(pd, 'tmp')}"
[network]
network_config_dir="${join(pd, 'net')}"
`);
  writeFileSync(podEnv.CONTAINERS_STORAGE_CONF, `[storage]
driver="overlay"
runroot="${join(pd, 'run')}"
graphroot="${join(pd, 'graph')}"
`);
  writeFileSync(podEnv.CONTAINERS_REGISTRIES_CONF, `unqualified-search-registries=[]
[[registry]]
location="docker.io"
blocked=true
`);
}
const podman = (...a) => sh('podman', ['--cgroup-manager=cgroupfs', ...a], { env: podEnv });

const results = {};
try {
  const dockerTar = join(base, 'busybox-docker.tar');
  await makeBusyboxImage({ outDir: join(base, 'image'), outTar: join(base, 'busybox-oci.tar'), dockerArchive: dockerTar });
  if (only.includes('hull')) hull('load', '-i', dockerTar);
  if (only.includes('podman')) {
    setUpPodman();
    podman('load', '-i', dockerTar);
  }
  const lat = { hull: [], podman: [] };
  const ids = { hull: [], podman: [] };
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
  }
  const mem = { hull: [], podman: [] };
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
  console.log(`\ndetached containers: ${runs} runs each, interleaved; ${cpus().length} CPUs, Linux ${release()}, Node ${process.version}\n`);
  console.log('what                          n   min ms  median ms   monitor RSS kB (median)  PSS kB (median)');
  for (const k of ['hull', 'podman']) {
    if (!only.includes(k)) continue;
    const l = stats(lat[k]);
    const rss = stats(mem[k].map((m) => m.rss)).median;
    const pss = stats(mem[k].map((m) => m.pss)).median;
    const label = k === 'hull' ? 'hull run -d (hull-monitor)' : 'podman run -d (conmon)';
    console.log(`${label.padEnd(28)} ${String(l.n).padStart(2)} ${l.min.toFixed(1).padStart(8)} ${l.median.toFixed(1).padStart(10)} ${String(rss).padStart(24)} ${String(pss).padStart(16)}`);
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
  for (const cg of ['/sys/fs/cgroup/unified/hull-bench-detached']) if (existsSync(cg)) spawnSync('rmdir', [cg]);
  // podman's cgroupfs parent, in each v1 hierarchy it used
  for (const ctrl of existsSync('/sys/fs/cgroup') ? readdirSync('/sys/fs/cgroup') : []) {
    const dir = join('/sys/fs/cgroup', ctrl, 'hull-bench-podman');
    if (!existsSync(dir)) continue;
    for (const sub of readdirSync(dir, { withFileTypes: true })) if (sub.isDirectory()) spawnSync('rmdir', [join(dir, sub.name)]);
    spawnSync('rmdir', [dir]);
  }
  spawnSync('umount', ['-R', join(pd, 'graph', 'overlay')], { stdio: 'ignore' });
  rmSync(base, { recursive: true, force: true });
}
