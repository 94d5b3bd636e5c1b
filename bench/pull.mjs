#!/usr/bin/env node
// bench/pull.mjs — `hull pull` against `skopeo copy docker://… oci:DIR` + `umoci unpack`, and
// `podman pull`, from one local registry, in one run.
//
//   sudo npm run bench:pull [-- --runs 5 --skip-podman]
//
// Set-up: Debian's docker-registry on 127.0.0.1 (a free port, storage under /var/tmp, by PID),
// with one image pushed by skopeo: the Debian bookworm minbase rootfs made by
// bench/unpack-fixtures.mjs (debootstrap; ~49 MB gzip, ~128 MB tar, ~6,700 entries) as its only
// layer. Rounds are interleaved; each starts after `sync` with nothing stored:
//   - hull: `hull --root FRESH pull -q REF` — manifest, config, the layer streamed into the
//     unpacker (digest and diffID verified, fsynced), the image recorded;
//   - skopeo+umoci: `skopeo copy docker://REF oci:FRESH:tag` then `umoci unpack --image … BUNDLE`
//     (the same work: a runnable rootfs from the registry), timed together;
//   - podman (when installed): `podman pull REF` into fresh private storage (overlay), configured
//     only through CONTAINERS_CONF / CONTAINERS_STORAGE_CONF / CONTAINERS_REGISTRIES_CONF files.
// The order of the tools rotates from round to round. All destinations are on the same file system: /var/tmp (disk) unless --dir says otherwise
// (--dir /dev/shm: tmpfs, where the comparison is of CPU rather than of the disk). Figures: medians of wall time, and hull's
// peak RSS (ru_maxrss of the hull process, via GNU time). Targets (issue 4): hull <= 0.7 ×
// skopeo+umoci; peak RSS < 150 MB. Exits 0 whenever it could measure.

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { cpus, loadavg, release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { debianMinbaseLayer } from './unpack-fixtures.mjs';
import { median, privateContainersEnv } from './lib.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const HULL = join(repo, 'bin', 'hull.cjs');

function parseArgs(argv) {
  const o = { runs: 5, podman: true, dir: '/var/tmp' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--runs') o.runs = Number(argv[++i]);
    else if (a === '--skip-podman') o.podman = false;
    else if (a === '--dir') o.dir = argv[++i];
    else if (a === '-h' || a === '--help') {
      console.log('usage: node bench/pull.mjs [--runs N (5)] [--skip-podman] [--dir DIR (/var/tmp; /dev/shm for tmpfs)]');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(o.runs) || o.runs < 1) throw new Error('--runs must be a positive integer');
  return o;
}

const has = (tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status ?? r.signal}: ${r.stderr}`);
  return r.stdout;
}

/** Wall time (ms), CPU time (ms, user + system) and peak RSS (KiB) of one command, through GNU time. */
function measure(cmd, args, env = process.env) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M %U %S', cmd, ...args], { encoding: 'utf8', env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  const [kib, user, sys] = (r.stderr.trim().split('\n').at(-1) ?? '').split(' ').map(Number);
  return { ms, kib, cpuMs: ((user ?? 0) + (sys ?? 0)) * 1000 };
}

function freePort() {
  return new Promise((res, rej) => {
    const s = net
      .createServer()
      .once('error', rej)
      .listen(0, '127.0.0.1', () => {
        const { port } = s.address();
        s.close(() => res(port));
      });
  });
}

async function sha256File(file, gunzip = false) {
  const h = createHash('sha256');
  let stream = createReadStream(file);
  if (gunzip) stream = stream.pipe(zlib.createGunzip());
  for await (const c of stream) h.update(c);
  return `sha256:${h.digest('hex')}`;
}

/** An OCI layout with one image whose only layer is `layer` (tar.gz). */
async function makeLayout(dir, layer) {
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const put = (bytes) => {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    writeFileSync(join(blobs, digest.slice(7)), bytes);
    return { digest, size: bytes.length };
  };
  const layerDigest = await sha256File(layer);
  const diffId = await sha256File(layer, true);
  copyFileSync(layer, join(blobs, layerDigest.slice(7)));
  const config = put(
    Buffer.from(
      JSON.stringify({
        created: '2024-01-01T00:00:00Z',
        architecture: 'amd64',
        os: 'linux',
        config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['bash'] },
        rootfs: { type: 'layers', diff_ids: [diffId] },
        history: [{ created: '2024-01-01T00:00:00Z', created_by: 'debootstrap --variant=minbase bookworm' }],
      }),
    ),
  );
  const manifest = put(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: statSync(layer).size }],
      }),
    ),
  );
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...manifest,
          annotations: { 'org.opencontainers.image.ref.name': 'minbase' },
        },
      ],
    }),
  );
  return { layerDigest, diffId, manifest: manifest.digest };
}

async function startRegistry(dir) {
  const port = await freePort();
  const config = join(dir, 'registry.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'registry')}`,
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '',
    ].join('\n'),
  );
  const log = openSync(join(dir, 'registry.log'), 'a');
  const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', log, log] });
  for (let i = 0; i < 200; i++) {
    const up = await new Promise((r) => {
      const c = net
        .connect(port, '127.0.0.1')
        .once('connect', () => (c.destroy(), r(true)))
        .once('error', () => r(false));
    });
    if (up) return { port, child };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry did not start: ${readFileSync(join(dir, 'registry.log'), 'utf8')}`);
}

/** Removes a podman storage directory (its overlay mounts first, if any are left). */
function removePodmanStorage(dir, env) {
  spawnSync('podman', ['system', 'reset', '--force'], { env, stdio: 'ignore' });
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').reverse()) {
    const mp = line.split(' ')[4];
    if (mp && mp.startsWith(dir)) spawnSync('umount', ['-l', mp]);
  }
  rmSync(dir, { recursive: true, force: true });
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('run as root (hull and umoci unpack need it)');
  for (const tool of ['docker-registry', 'skopeo', 'umoci']) if (!has(tool)) throw new Error(`${tool} is not installed (scripts/install-deps.sh test)`);
  if (!existsSync(join(repo, 'dist', 'hull-cli.cjs'))) throw new Error('build first: npm run build');
  const podman = o.podman && has('podman');
  const layer = debianMinbaseLayer();
  const work = mkdtempSync(join(o.dir, 'hull-bench-pull-'));
  let registry;
  try {
    const layout = join(work, 'layout');
    const image = await makeLayout(layout, layer);
    registry = await startRegistry(work);
    const host = `127.0.0.1:${registry.port}`;
    const ref = `${host}/bench/debian:minbase`;
    sh('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}:minbase`, `docker://${ref}`]);
    console.log(`image: ${ref} (layer ${image.layerDigest.slice(0, 19)}…, ${(statSync(layer).size / 1e6).toFixed(1)} MB gzip), ${o.runs} rounds`);
    console.log(`host: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Linux ${release()}, node ${process.version}; destinations under ${o.dir}`);

    const times = { hull: [], skopeoUmoci: [], skopeo: [], umoci: [], podman: [] };
    const cpu = { hull: [], skopeoUmoci: [], podman: [] };
    const rss = [];
    const runHull = (round) => {
      const root = join(work, `hull-${round}`);
      const h = measure(process.execPath, [HULL, '--root', root, '--run-root', join(work, `hull-run-${round}`), 'pull', '-q', ref]);
      times.hull.push(h.ms);
      cpu.hull.push(h.cpuMs);
      rss.push(h.kib);
      const check = spawnSync(process.execPath, [HULL, '--root', root, 'image', 'inspect', '-f', '{{.Id}}', ref], { encoding: 'utf8' });
      if (check.status !== 0) throw new Error(`hull pull stored nothing: ${check.stderr}`);
      rmSync(root, { recursive: true, force: true });
      rmSync(join(work, `hull-run-${round}`), { recursive: true, force: true });
      return `hull ${(h.ms / 1000).toFixed(2)} s (${(h.kib / 1024).toFixed(0)} MB peak)`;
    };
    const runSkopeoUmoci = (round) => {
      const oci = join(work, `oci-${round}`);
      const bundle = join(work, `bundle-${round}`);
      const s = measure('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `oci:${oci}:minbase`]);
      const u = measure('umoci', ['unpack', '--image', `${oci}:minbase`, bundle]);
      times.skopeo.push(s.ms);
      times.umoci.push(u.ms);
      times.skopeoUmoci.push(s.ms + u.ms);
      cpu.skopeoUmoci.push(s.cpuMs + u.cpuMs);
      rmSync(oci, { recursive: true, force: true });
      rmSync(bundle, { recursive: true, force: true });
      return `skopeo+umoci ${((s.ms + u.ms) / 1000).toFixed(2)} s`;
    };
    const runPodman = (round) => {
      const pdir = join(work, `podman-${round}`);
      const env = privateContainersEnv(pdir, { insecure: [host] });
      try {
        const p = measure('podman', ['pull', '-q', ref], env);
        times.podman.push(p.ms);
        cpu.podman.push(p.cpuMs);
        return `podman ${(p.ms / 1000).toFixed(2)} s`;
      } catch (err) {
        return `podman failed (left out): ${String(err.message).split('\n')[0]}`;
      } finally {
        removePodmanStorage(pdir, env);
      }
    };
    // The order rotates each round, so no tool always runs right after another's clean-up.
    const tools = [runHull, runSkopeoUmoci, ...(podman ? [runPodman] : [])];
    for (let round = 1; round <= o.runs; round++) {
      const parts = [];
      for (let i = 0; i < tools.length; i++) {
        sh('sync', []);
        parts.push(tools[(round - 1 + i) % tools.length](round));
      }
      console.log(`round ${round} (load ${loadavg()[0]?.toFixed(1)}): ${parts.join(', ')}`);
    }

    const m = (xs) => (median(xs) / 1000).toFixed(2);
    const ratio = median(times.hull) / median(times.skopeoUmoci);
    const peak = Math.max(...rss) / 1024;
    console.log('');
    console.log('| tool | median pull + unpack (wall) | median CPU (user + sys) |');
    console.log('|---|---|---|');
    console.log(`| hull pull | ${m(times.hull)} s | ${m(cpu.hull)} s |`);
    console.log(
      `| skopeo copy + umoci unpack | ${m(times.skopeoUmoci)} s (skopeo ${m(times.skopeo)} s + umoci ${m(times.umoci)} s) | ${m(cpu.skopeoUmoci)} s |`,
    );
    if (times.podman.length) console.log(`| podman pull | ${m(times.podman)} s | ${m(cpu.podman)} s (client only) |`);
    else console.log(`| podman pull | not measured (${podman ? 'failed' : 'not installed or --skip-podman'}) |`);
    console.log('');
    console.log(`hull / (skopeo+umoci) = ${ratio.toFixed(2)} (target <= 0.70: ${ratio <= 0.7 ? 'met' : 'NOT met'})`);
    if (times.podman.length) console.log(`hull / podman = ${(median(times.hull) / median(times.podman)).toFixed(2)}`);
    console.log(`hull peak RSS = ${peak.toFixed(0)} MB (max of ${rss.length} rounds; target < 150 MB: ${peak < 150 ? 'met' : 'NOT met'})`);
  } finally {
    if (registry && registry.child.exitCode === null) {
      const exited = new Promise((r) => registry.child.once('exit', r));
      registry.child.kill('SIGTERM');
      await exited;
    }
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`bench/pull: ${err.message}`);
  process.exit(1);
});
