// Faults between hull and a real registry: the registry killed mid-pull, a connection cut
// mid-blob (resumed with Range), a stalled connection (timeout), a corrupted blob on the
// registry's disk, and registries that send what they must not (non-JSON, oversized, schema 1
// manifests, 503s). Each is one clear error line; `system check` stays clean, nothing is left in
// the store's tmp/, and the next pull succeeds.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxLayerEntries, writeOciImage } from '../../scripts/make-busybox-image.mjs';
import { HULL_BIN, HullEnv, canRunContainers, skipReason } from '../helpers/hull-env.js';
import { Proxy, Registry, freePort, hasRegistry } from '../helpers/registry.js';

const skip = !canRunContainers || !hasRegistry();
const why = skipReason || (hasRegistry() ? '' : '; skipped: needs docker-registry and skopeo (scripts/install-deps.sh test)');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** `hull ARGS` without blocking this process (the proxy and fake registries live in it). */
function hull(env: HullEnv, args: string[], extra: NodeJS.ProcessEnv = {}): Promise<Result> {
  const started = Date.now();
  const child = spawn(process.execPath, [HULL_BIN, ...env.globalArgs(), ...args], {
    env: { ...process.env, HULL_REGISTRY_RETRIES: '2', ...extra },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started })));
}

function oneError(r: Result): string {
  expect(r.code, r.stdout + r.stderr).not.toBe(0);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^hull: /);
  return lines[0] as string;
}

async function expectConsistent(env: HullEnv, repository: string): Promise<void> {
  const check = await hull(env, ['system', 'check']);
  expect(check.code, check.stdout + check.stderr).toBe(0);
  expect(check.stdout).toMatch(/no problems/);
  expect(readdirSync(path.join(env.root, 'tmp'))).toEqual([]);
  const images = await hull(env, ['images', '--format', 'json']);
  expect(images.code).toBe(0);
  expect(images.stdout).not.toContain(repository);
}

describe.skipIf(skip)(`registry faults (integration${why})`, () => {
  let reg: Registry;
  let proxy: Proxy;
  let work: string;
  let layerDigest: string;
  let manifestDigest: string;

  beforeAll(async () => {
    reg = await Registry.start();
    proxy = new Proxy(reg.port);
    await proxy.start();
    work = mkdtempSync(path.join(tmpdir(), 'hull-reg-faults-'));
    const dir = path.join(work, 'big');
    // 16 MiB of random bytes: gzip cannot shrink it, so the transfer takes a while.
    const image = await writeOciImage({
      layers: [busyboxLayerEntries(), [{ path: 'big.bin', content: randomBytes(16 * 1024 * 1024) }]],
      outDir: dir,
      name: 'big:1',
    });
    layerDigest = image.layerDigests[1] as string;
    manifestDigest = image.manifestDigest;
    const r = spawnSync('skopeo', ['copy', '--dest-tls-verify=false', `oci:${dir}:1`, `docker://${reg.host}/big/img:1`], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
  }, 120_000);

  afterAll(async () => {
    await proxy?.stop();
    await reg?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('resumes a blob whose connection is cut, with a Range request', async () => {
    const env = new HullEnv();
    try {
      proxy.requests.length = 0;
      proxy.cutAfter = proxy.downstreamBytes + 6 * 1024 * 1024;
      const r = await hull(env, ['pull', `${proxy.host}/big/img:1`]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`Digest: ${manifestDigest}`);
      expect(r.stdout).toMatch(/Retrying/);
      expect(proxy.requests.some((h) => /\r\nRange: bytes=[1-9]\d*-/i.test(h))).toBe(true);
      expect((await hull(env, ['run', '--rm', '--cgroup-parent', env.cgroupParent, `${proxy.host}/big/img:1`, 'wc', '-c', '/big.bin'])).stdout).toMatch(
        /^\s*16777216 \/big\.bin/,
      );
    } finally {
      proxy.cutAfter = undefined;
      env.destroy();
    }
  }, 120_000);

  it('an upload whose connection is cut starts the blob over; the pushed image is intact', async () => {
    const env = new HullEnv();
    try {
      expect((await hull(env, ['pull', '-q', `${reg.host}/big/img:1`])).code).toBe(0);
      expect((await hull(env, ['tag', `${reg.host}/big/img:1`, `${proxy.host}/uploaded/big:1`])).code).toBe(0);
      expect((await hull(env, ['rmi', `${reg.host}/big/img:1`])).code).toBe(0); // no mount source: a real upload
      proxy.cutUploadAfter = proxy.upstreamBytes + 5 * 1024 * 1024;
      const r = await hull(env, ['push', `${proxy.host}/uploaded/big:1`]);
      expect(r.code, r.stderr).toBe(0);
      expect(proxy.cutUploadAfter).toBeUndefined(); // the cut happened
      expect(r.stdout).toContain(`1: digest: ${manifestDigest}`);
      const info = spawnSync('skopeo', ['inspect', '--tls-verify=false', `docker://${reg.host}/uploaded/big:1`], { encoding: 'utf8' });
      expect((JSON.parse(info.stdout) as { Digest: string }).Digest).toBe(manifestDigest);
      const fresh = new HullEnv();
      try {
        const back = await hull(fresh, ['pull', `${reg.host}/uploaded/big:1`]);
        expect(back.code, back.stderr).toBe(0);
      } finally {
        fresh.destroy();
      }
    } finally {
      proxy.cutUploadAfter = undefined;
      env.destroy();
    }
  }, 120_000);

  it('the registry killed mid-pull: a clear error, nothing stored; after a restart the pull completes', async () => {
    const env = new HullEnv();
    try {
      let killing: Promise<void> | undefined;
      const start = proxy.downstreamBytes;
      proxy.throttle = 4 * 1024 * 1024;
      proxy.onBytes = (total) => {
        if (total - start > 3 * 1024 * 1024 && !killing) killing = reg.kill();
      };
      const r = await hull(env, ['pull', `${proxy.host}/big/img:1`]);
      await killing;
      expect(killing).toBeDefined();
      expect(oneError(r)).toMatch(
        /big\/img:1: layer [0-9a-f]{12}: (connection (reset by the registry|refused|closed before the end of the data)) \(gave up after 3 attempts\)/,
      );
      await expectConsistent(env, 'big/img');
      proxy.throttle = undefined;
      proxy.onBytes = undefined;
      await reg.restart();
      const again = await hull(env, ['pull', `${proxy.host}/big/img:1`]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain(`Digest: ${manifestDigest}`);
    } finally {
      proxy.throttle = undefined;
      proxy.onBytes = undefined;
      if (
        reg.pid === undefined ||
        !(await fetch(`http://${reg.host}/v2/`).then(
          () => true,
          () => false,
        ))
      )
        await reg.restart();
      env.destroy();
    }
  }, 120_000);

  it('a stalled connection times out (and is retried) with a clear error; the next pull completes', async () => {
    const env = new HullEnv();
    try {
      proxy.stallAfter = proxy.downstreamBytes + 2 * 1024 * 1024;
      const r = await hull(env, ['pull', `${proxy.host}/big/img:1`], { HULL_REGISTRY_TIMEOUT: '1', HULL_REGISTRY_RETRIES: '1' });
      expect(oneError(r)).toMatch(/no data for 1 s \(connection stalled\)/);
      expect(r.ms).toBeLessThan(30_000);
      await expectConsistent(env, 'big/img');
      proxy.stallAfter = undefined;
      const again = await hull(env, ['pull', `${proxy.host}/big/img:1`]);
      expect(again.code, again.stderr).toBe(0);
    } finally {
      proxy.stallAfter = undefined;
      env.destroy();
    }
  }, 120_000);

  it("a corrupted blob on the registry's disk is refused and not stored; once repaired, the pull completes", async () => {
    const env = new HullEnv();
    const file = reg.blobFile(layerDigest);
    const original = readFileSync(file);
    try {
      const bad = Buffer.from(original);
      // Flip bytes well inside the stored (incompressible) data: gzip still inflates, the digest cannot match.
      for (let i = 0; i < 16; i++) {
        const at = Math.floor(bad.length / 2) + i * 4096;
        bad[at] = (bad[at] ?? 0) ^ 0xff;
      }
      writeFileSync(file, bad);
      const r = await hull(env, ['pull', `${reg.host}/big/img:1`]);
      expect(oneError(r)).toMatch(/digest mismatch|invalid|incorrect|corrupt/i);
      await expectConsistent(env, 'big/img');
    } finally {
      writeFileSync(file, original);
    }
    try {
      const again = await hull(env, ['pull', `${reg.host}/big/img:1`]);
      expect(again.code, again.stderr).toBe(0);
    } finally {
      env.destroy();
    }
  }, 120_000);
});

describe.skipIf(!canRunContainers)(`registries that send what they must not (integration${skipReason})`, () => {
  let server: http.Server;
  let host: string;
  let busyHits = 0;
  const env = new HullEnv();

  beforeAll(async () => {
    const port = await freePort();
    host = `127.0.0.1:${port}`;
    server = http.createServer((req, res) => {
      const url = req.url ?? '';
      if (url === '/v2/') return void res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      if (url === '/v2/bad/json/manifests/1') {
        return void res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' }).end('<html>this is not json</html>');
      }
      if (url === '/v2/bad/big/manifests/1') {
        return void res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' }).end(Buffer.alloc(5 * 1024 * 1024, 0x20));
      }
      if (url === '/v2/bad/schema1/manifests/1') {
        return void res
          .writeHead(200, { 'Content-Type': 'application/vnd.docker.distribution.manifest.v1+prettyjws' })
          .end(JSON.stringify({ schemaVersion: 1, name: 'bad/schema1', tag: '1', fsLayers: [], history: [] }));
      }
      if (url === '/v2/bad/busy/manifests/1') {
        busyHits++;
        return void res
          .writeHead(503, { 'Retry-After': '0', 'Content-Type': 'application/json' })
          .end('{"errors":[{"code":"UNAVAILABLE","message":"service unavailable"}]}');
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    env.destroy();
  });

  it('a manifest that is not JSON, one over the size bound, and schema 1 are each refused clearly', async () => {
    expect(oneError(await hull(env, ['pull', `${host}/bad/json:1`]))).toMatch(/bad\/json:1 manifest: invalid JSON/);
    expect(oneError(await hull(env, ['pull', `${host}/bad/big:1`]))).toMatch(/manifest is larger than 4194304 bytes/);
    expect(oneError(await hull(env, ['pull', `${host}/bad/schema1:1`]))).toMatch(/schema 1 is not supported/);
  });

  it('retries 503s (Retry-After) and then says what the registry answered', async () => {
    busyHits = 0;
    const line = oneError(await hull(env, ['pull', `${host}/bad/busy:1`], { HULL_REGISTRY_RETRIES: '3' }));
    expect(line).toMatch(/answered 503: unavailable: service unavailable/);
    expect(busyHits).toBe(4);
    const check = await hull(env, ['system', 'check']);
    expect(check.code).toBe(0);
  });
});
