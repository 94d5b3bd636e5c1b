// Helpers shared by the benchmarks.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * The environment for podman or buildah configured privately under `dir`, never through /etc:
 * containers.conf (no network, cgroupfs, runc, files under `dir`), overlay storage under `dir`,
 * and registries.conf with docker.io blocked plus `insecure` hosts. The files are written now.
 */
export function privateContainersEnv(dir, { insecure = [], containers = [] } = {}) {
  const f = (n) => join(dir, n);
  for (const d of ['tmp', 'net', 'graph', 'run']) mkdirSync(f(d), { recursive: true });
  writeFileSync(
    f('containers.conf'),
    [
      '[containers]',
      'netns="none"',
      'log_driver="k8s-file"',
      'default_ulimits=["nofile=20000:20000","nproc=32768:32768"]',
      ...containers,
      '[engine]',
      'cgroup_manager="cgroupfs"',
      'events_logger="file"',
      `events_logfile_path="${f('events.log')}"`,
      'runtime="runc"',
      `tmp_dir="${f('tmp')}"`,
      '[network]',
      `network_config_dir="${f('net')}"`,
      '',
    ].join('\n'),
  );
  writeFileSync(f('storage.conf'), ['[storage]', 'driver="overlay"', `runroot="${f('run')}"`, `graphroot="${f('graph')}"`, ''].join('\n'));
  writeFileSync(
    f('registries.conf'),
    [
      'unqualified-search-registries=[]',
      ...insecure.flatMap((host) => ['[[registry]]', `location="${host}"`, 'insecure=true']),
      '[[registry]]',
      'location="docker.io"',
      'blocked=true',
      '',
    ].join('\n'),
  );
  return {
    ...process.env,
    CONTAINERS_CONF: f('containers.conf'),
    CONTAINERS_STORAGE_CONF: f('storage.conf'),
    CONTAINERS_REGISTRIES_CONF: f('registries.conf'),
  };
}

/**
 * The benchmarks' command lines: `spec` maps each `--flag` to [key, kind] (kind 'int', 'list'
 * (comma-separated), 'path' (resolved), 'string' or 'bool'); defaults are `o`'s values. `--help`
 * prints `usage` and exits. Throws on an unknown flag or a missing value.
 */
export function parseOptions(argv, spec, o, usage) {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') {
      console.log(usage);
      process.exit(0);
    }
    const s = spec[a];
    if (!s) throw new Error(`unknown argument ${a} (${usage})`);
    const [key, kind] = s;
    if (kind === 'bool') {
      o[key] = true;
      continue;
    }
    const v = argv[++i];
    if (v === undefined) throw new Error(`${a} needs a value`);
    if (kind === 'int') {
      o[key] = Number(v);
      if (!Number.isInteger(o[key]) || o[key] < 0) throw new Error(`${a} must be a non-negative integer`);
    } else if (kind === 'list')
      o[key] = v
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
    else if (kind === 'path') o[key] = resolve(v);
    else o[key] = v;
  }
  return o;
}

/** n, min, median and p90 of a list of samples. */
export function sampleStats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, min: s[0], median: median(s), p90: s[Math.min(s.length - 1, Math.ceil(0.9 * s.length) - 1)] };
}

/** Rows of text as an aligned table (the first column left-aligned, the others right-aligned). */
export function printTable(rows) {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  for (const r of rows) console.log(r.map((v, i) => (i === 0 ? String(v).padEnd(w[i]) : String(v).padStart(w[i]))).join('  '));
}

/**
 * A containerd of its own under `dir` (root, state, sockets; no CRI plugin), for a benchmark's
 * peer; resolves with the child process and its socket once it listens. Stop it by its pid.
 */
export async function startPrivateContainerd(dir, bin = 'containerd') {
  mkdirSync(join(dir, 'root'), { recursive: true });
  mkdirSync(join(dir, 'state'), { recursive: true });
  const socket = join(dir, 'containerd.sock');
  writeFileSync(
    join(dir, 'config.toml'),
    [
      'version = 2',
      `root = "${join(dir, 'root')}"`,
      `state = "${join(dir, 'state')}"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = "${socket}"`,
      '[ttrpc]',
      `  address = "${join(dir, 'containerd-ttrpc.sock')}"`,
      '',
    ].join('\n'),
  );
  const log = openSync(join(dir, 'containerd.log'), 'a');
  const child = spawn(bin, ['--config', join(dir, 'config.toml')], { stdio: ['ignore', log, log] });
  closeSync(log);
  for (let i = 0; i < 200 && !existsSync(socket) && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
  if (!existsSync(socket)) throw new Error(`containerd did not start (see ${join(dir, 'containerd.log')})`);
  return { child, socket };
}
