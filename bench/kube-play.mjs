#!/usr/bin/env node
// bench/kube-play.mjs — `hull kube play` then `hull kube down` of one Pod of three containers, beside
// `podman kube play` and `podman kube down` of the same file, interleaved round by round; medians.
//
//   sudo node bench/kube-play.mjs [--runs 10] [--only hull,podman]
//
// Target (issue 20): hull's median at most 0.5× podman's.
//
// The containers end on SIGTERM (as a service should), so neither down waits out a grace period:
// the figures are the runtimes' own work. Both run without a network of the host (hull's default network none; podman `--network none`),
// so no bridge, veth or nft rule is made. Both pods' infra is the same static pause executable:
// hull's own image (localhost/hull-pause, made by the first pod), saved and loaded into podman and
// named its infra_image — Debian's podman has no catatonit to build its own, and nothing is pulled.
// podman runs with private configuration only (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF,
// CONTAINERS_REGISTRIES_CONF in a temp dir, cgroupfs, runc, its storage and run root there).
// Removed at the end: both stores, podman's storage mounts, and the cgroups either made
// (hull's bench parent; podman's libpod_parent, only when it was not there before).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeBusyboxImage } from '../scripts/make-busybox-image.mjs';
import { median, privateContainersEnv } from './lib.mjs';

process.env.HULL_DEFAULT_NETWORK ??= 'none';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const runs = Number(opt('--runs', '10'));
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
const installed = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const only = opt('--only', ['hull', 'podman'].filter((k) => k === 'hull' || installed(k)).join(',')).split(',');

const POD = `apiVersion: v1
kind: Pod
metadata:
  name: bench
  labels: { app: bench }
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 2
  containers:
    - name: web
      image: localhost/busybox:latest
      command: [sh, -c, "trap 'exit 0' TERM; httpd -f -p 8080 & wait"]
    - name: worker
      image: localhost/busybox:latest
      command: [sh, -c, "trap 'exit 0' TERM; sleep 600 & wait"]
    - name: logger
      image: localhost/busybox:latest
      command: [sh, -c, "trap 'exit 0' TERM; while :; do sleep 1 & wait; done"]
`;

const base = mkdtempSync(join(tmpdir(), 'hull-bench-kube-'));
const yaml = join(base, 'pod.yaml');
writeFileSync(yaml, POD);
const ms = (ns) => Number(ns) / 1e6;
function sh(cmd, argv, extra = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { encoding: 'utf8', ...extra });
  const t1 = process.hrtime.bigint();
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { ms: ms(t1 - t0), out: r.stdout.trim() };
}

const HULL_CGROUP = 'hull-bench-kube';
const hullArgs = ['--root', join(base, 'hull', 'root'), '--run-root', join(base, 'hull', 'run')];
const hull = (...a) => sh(process.execPath, [join(repo, 'bin', 'hull.cjs'), ...hullArgs, ...a]);

const pd = join(base, 'podman');
let podEnv;
const podman = (...a) => sh('podman', ['--cgroup-manager=cgroupfs', ...a], { env: podEnv });
const cgroupDirs = () => readdirSync('/sys/fs/cgroup').map((c) => join('/sys/fs/cgroup', c, 'libpod_parent'));
const libpodBefore = new Set(cgroupDirs().filter((d) => existsSync(d)));

function rmCgroupTree(dir) {
  if (!existsSync(dir)) return;
  for (const sub of readdirSync(dir, { withFileTypes: true })) if (sub.isDirectory()) rmCgroupTree(join(dir, sub.name));
  spawnSync('rmdir', [dir]);
}

const lat = { hull: { play: [], down: [] }, podman: { play: [], down: [] } };
try {
  const dockerTar = join(base, 'busybox-docker.tar');
  await makeBusyboxImage({ outDir: join(base, 'image'), outTar: join(base, 'busybox-oci.tar'), dockerArchive: dockerTar });
  hull('load', '-i', dockerTar);
  hull('tag', 'busybox:latest', 'localhost/busybox:latest');
  // One round untimed: hull makes its pause image, both warm their caches.
  hull('kube', 'play', '--cgroup-parent', HULL_CGROUP, yaml);
  hull('kube', 'down', yaml);
  if (only.includes('podman')) {
    const pause = hull('images', '--format', '{{.Repository}}:{{.Tag}}')
      .out.split('\n')
      .find((r) => r.startsWith('localhost/hull-pause:'));
    if (!pause) throw new Error('hull made no pause image');
    const pauseTar = join(base, 'pause.tar');
    hull('save', '-o', pauseTar, pause);
    podEnv = privateContainersEnv(pd);
    const conf = join(pd, 'containers.conf');
    writeFileSync(conf, readFileSync(conf, 'utf8').replace('[engine]', `[engine]\ninfra_image="${pause}"`));
    podman('load', '-i', dockerTar);
    podman('tag', 'busybox:latest', 'localhost/busybox:latest');
    podman('load', '-i', pauseTar);
    podman('kube', 'play', '--network', 'none', yaml);
    podman('kube', 'down', yaml);
  }
  for (let i = 0; i < runs; i++) {
    if (only.includes('hull')) {
      lat.hull.play.push(hull('kube', 'play', '--cgroup-parent', HULL_CGROUP, yaml).ms);
      lat.hull.down.push(hull('kube', 'down', yaml).ms);
    }
    if (only.includes('podman')) {
      lat.podman.play.push(podman('kube', 'play', '--network', 'none', yaml).ms);
      lat.podman.down.push(podman('kube', 'down', yaml).ms);
    }
  }
  console.log(`kube play + kube down of a three-container pod (busybox), ${runs} rounds, medians (ms)`);
  console.log(`host: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Linux ${release()}, node ${process.version}`);
  console.log(`${'tool'.padEnd(8)} ${'play'.padStart(8)} ${'down'.padStart(8)} ${'total'.padStart(8)}`);
  const totals = {};
  for (const k of only) {
    const t = lat[k].play.map((p, i) => p + lat[k].down[i]);
    totals[k] = median(t);
    console.log(
      `${k.padEnd(8)} ${median(lat[k].play).toFixed(0).padStart(8)} ${median(lat[k].down).toFixed(0).padStart(8)} ${totals[k].toFixed(0).padStart(8)}`,
    );
  }
  if (totals.hull !== undefined && totals.podman !== undefined)
    console.log(`hull / podman (total): ${(totals.hull / totals.podman).toFixed(2)}× (target <= 0.5×)`);
} finally {
  try {
    for (const p of hull('pod', 'ps', '-q', '--no-trunc').out.split('\n').filter(Boolean)) hull('pod', 'rm', '-f', p);
  } catch (err) {
    console.error(`hull clean-up: ${err.message}`);
  }
  if (podEnv) {
    try {
      podman('pod', 'rm', '-af', '-t', '0');
      podman('rm', '-af', '-t', '0');
      podman('system', 'reset', '-f');
    } catch (err) {
      console.error(`podman clean-up: ${err.message}`);
    }
    spawnSync('umount', ['-R', join(pd, 'graph', 'overlay')], { stdio: 'ignore' });
  }
  for (const d of cgroupDirs()) if (!libpodBefore.has(d)) rmCgroupTree(d);
  for (const c of readdirSync('/sys/fs/cgroup')) rmCgroupTree(join('/sys/fs/cgroup', c, HULL_CGROUP));
  rmSync(base, { recursive: true, force: true });
}
