// Pull, push and login against real registries (Debian's docker-registry, started by the test):
// plain HTTP on loopback, htpasswd Basic auth over TLS with a CA made here, and Bearer tokens
// from the test's token issuer; round trips with skopeo; a multi-platform index.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeOciImage, busyboxLayerEntries, hostArchitecture } from '../../scripts/make-busybox-image.mjs';
import { Hull } from '../../src/hull.js';
import { RegistryError } from '../../src/errors.js';
import type { PullEvent } from '../../src/registry/index.js';
import { busyboxImage } from '../helpers/busybox-image.js';
import { HullEnv, canRunContainers, skipReason } from '../helpers/hull-env.js';
import { HttpProxy, Registry, TokenIssuer, hasRegistry, makeTlsFiles } from '../helpers/registry.js';

const skip = !canRunContainers || !hasRegistry();
const why = skipReason || (hasRegistry() ? '' : '; skipped: needs docker-registry, htpasswd, openssl, skopeo (scripts/install-deps.sh test)');

function skopeo(args: string[]): string {
  const r = spawnSync('skopeo', args, { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`skopeo ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function ok(env: HullEnv, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): string {
  const r = env.cli(args, opts);
  if (r.code !== 0) throw new Error(`hull ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** A failed command: exit code non-zero and exactly one line on stderr, `hull: …`. */
function fails(env: HullEnv, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): string {
  const r = env.cli(args, opts);
  expect(r.code, r.stdout + r.stderr).not.toBe(0);
  const lines = r.stderr
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('WARNING'));
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^hull: /);
  return lines[0] as string;
}

describe.skipIf(skip)(`registry: plain HTTP on loopback (integration${why})`, () => {
  let reg: Registry;
  let env: HullEnv;
  let work: string;
  let bb: Awaited<ReturnType<typeof busyboxImage>>;

  beforeAll(async () => {
    reg = await Registry.start();
    env = new HullEnv();
    work = mkdtempSync(path.join(tmpdir(), 'hull-reg-work-'));
    bb = await busyboxImage();
    skopeo(['copy', '--dest-tls-verify=false', `oci:${bb.ociDir}`, `docker://${reg.host}/test/busybox:1`]);
  }, 60_000);

  afterAll(async () => {
    env?.destroy();
    await reg?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('pulls an image skopeo pushed (plain lines when not a terminal) and runs it', () => {
    const out = ok(env, ['pull', `${reg.host}/test/busybox:1`]);
    expect(out).toContain('1: Pulling from test/busybox');
    expect(out).toMatch(/[0-9a-f]{12}: Pull complete/);
    expect(out).toContain(`Digest: ${bb.manifestDigest}`);
    expect(out).toContain(`Status: Downloaded newer image for ${reg.host}/test/busybox:1`);
    expect(out.trim().split('\n').at(-1)).toBe(`${reg.host}/test/busybox:1`);
    const inspect = JSON.parse(ok(env, ['image', 'inspect', `${reg.host}/test/busybox:1`])) as { Id: string; RepoDigests: string[] }[];
    expect(inspect[0]?.Id).toBe(bb.configDigest);
    expect(inspect[0]?.RepoDigests).toEqual([`${reg.host}/test/busybox@${bb.manifestDigest}`]);
    expect(ok(env, ['run', '--rm', `${reg.host}/test/busybox:1`, 'echo', 'pulled'])).toBe('pulled\n');
    // Again: nothing downloaded.
    const again = ok(env, ['pull', `${reg.host}/test/busybox:1`]);
    expect(again).toMatch(/: Already exists/);
    expect(again).not.toMatch(/Downloading|Pull complete/);
    expect(again).toContain('Status: Image is up to date');
    expect(ok(env, ['pull', '-q', `${reg.host}/test/busybox:1`])).toBe(`${reg.host}/test/busybox:1\n`);
    // By digest.
    expect(ok(env, ['pull', '-q', `${reg.host}/test/busybox@${bb.manifestDigest}`])).toBe(`${reg.host}/test/busybox@${bb.manifestDigest}\n`);
  });

  it('pushes; skopeo inspects and copies it back with the same digests; a second repository mounts the blob', () => {
    ok(env, ['tag', `${reg.host}/test/busybox:1`, `${reg.host}/pushed/bb:v1`]);
    const out = ok(env, ['push', `${reg.host}/pushed/bb:v1`]);
    expect(out).toContain(`The push refers to repository [${reg.host}/pushed/bb]`);
    expect(out).toMatch(/: (Pushed|Mounted from test\/busybox)/);
    expect(out).toContain(`v1: digest: ${bb.manifestDigest} size:`);
    const info = JSON.parse(skopeo(['inspect', '--tls-verify=false', `docker://${reg.host}/pushed/bb:v1`])) as { Digest: string; Layers: string[] };
    expect(info.Digest).toBe(bb.manifestDigest);
    const back = path.join(work, 'back');
    skopeo(['copy', '--src-tls-verify=false', `docker://${reg.host}/pushed/bb:v1`, `oci:${back}:v1`]);
    const index = JSON.parse(readFileSync(path.join(back, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    expect(index.manifests[0]?.digest).toBe(bb.manifestDigest);
    // Pushing again: every blob is there.
    expect(ok(env, ['push', `${reg.host}/pushed/bb:v1`])).toMatch(/Layer already exists/);
    ok(env, ['tag', `${reg.host}/test/busybox:1`, `${reg.host}/mounted/bb:v1`]);
    expect(ok(env, ['push', `${reg.host}/mounted/bb:v1`])).toMatch(/Mounted from (test\/busybox|pushed\/bb)/);
  });

  it('a loaded docker-archive image pushes in chunks and pulls back elsewhere with identical digests', () => {
    const other = new HullEnv();
    const third = new HullEnv();
    try {
      ok(other, ['load', '-i', bb.dockerArchive]);
      ok(other, ['tag', 'busybox', `${reg.host}/archive/bb:1`]);
      ok(other, ['rmi', 'busybox']); // no other name on this registry: no mount, a real upload
      const out = ok(other, ['push', `${reg.host}/archive/bb:1`], { env: { ...process.env, HULL_PUSH_CHUNK_SIZE: '65536' } });
      expect(out).toMatch(/: Pushed/);
      const digest = /digest: (sha256:[0-9a-f]{64})/.exec(out)?.[1];
      const pulled = ok(third, ['pull', `${reg.host}/archive/bb:1`]);
      expect(pulled).toContain(`Digest: ${digest}`);
      const a = JSON.parse(ok(other, ['image', 'inspect', `${reg.host}/archive/bb:1`])) as { Id: string; RootFS: unknown }[];
      const b = JSON.parse(ok(third, ['image', 'inspect', `${reg.host}/archive/bb:1`])) as { Id: string; RootFS: unknown }[];
      expect(b[0]?.Id).toBe(a[0]?.Id);
      expect(b[0]?.RootFS).toEqual(a[0]?.RootFS);
      const info = JSON.parse(skopeo(['inspect', '--tls-verify=false', `docker://${reg.host}/archive/bb:1`])) as { Digest: string };
      expect(info.Digest).toBe(digest);
      expect(ok(third, ['system', 'check'])).not.toMatch(/damaged|missing/i);
    } finally {
      other.destroy();
      third.destroy();
    }
  });

  it("a multi-platform index pulls this host's entry, or the one --platform names", async () => {
    const dir = path.join(work, 'multi');
    const arch = hostArchitecture();
    const otherArch = arch === 'amd64' ? 'arm64' : 'amd64';
    const mine = await writeOciImage({ layers: [busyboxLayerEntries()], outDir: dir, name: 'multi:mine', config: { architecture: arch, os: 'linux' } });
    const theirs = await writeOciImage({
      layers: [[{ path: 'marker', content: `for ${otherArch}\n` }]],
      outDir: dir,
      name: 'multi:theirs',
      config: { architecture: otherArch, os: 'linux' },
    });
    const desc = (r: typeof mine, a: string) => ({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: r.manifestDigest,
      size: readFileSync(path.join(dir, 'blobs/sha256', r.manifestDigest.slice(7))).length,
      platform: { architecture: a, os: 'linux' },
    });
    const index = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [desc(theirs, otherArch), desc(mine, arch)] }),
    );
    const indexDigest = `sha256:${execFileSync('sha256sum', { input: index }).toString().slice(0, 64)}`;
    writeFileSync(path.join(dir, 'blobs/sha256', indexDigest.slice(7)), index);
    writeFileSync(
      path.join(dir, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.index.v1+json',
            digest: indexDigest,
            size: index.length,
            annotations: { 'org.opencontainers.image.ref.name': 'multi' },
          },
        ],
      }),
    );
    skopeo(['copy', '--all', '--dest-tls-verify=false', `oci:${dir}:multi`, `docker://${reg.host}/multi/img:1`]);

    // As Docker: the digest printed and kept in RepoDigests is the index's (what the tag names),
    // so pinning it keeps every platform; the image is found by it, and by its own manifest's.
    const out = ok(env, ['pull', `${reg.host}/multi/img:1`]);
    expect(out).toContain(`Digest: ${indexDigest}`);
    const inspect = JSON.parse(ok(env, ['image', 'inspect', `${reg.host}/multi/img:1`])) as { Id: string; Architecture: string; RepoDigests: string[] }[];
    expect(inspect[0]?.Architecture).toBe(arch);
    expect(inspect[0]?.Id).toBe(mine.configDigest);
    expect(inspect[0]?.RepoDigests).toEqual([`${reg.host}/multi/img@${indexDigest}`]);
    const listed = ok(env, ['images', '--format', 'json'])
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { Repository: string; Digest: string });
    expect(listed.find((r) => r.Repository === `${reg.host}/multi/img`)?.Digest).toBe(indexDigest);
    expect(ok(env, ['run', '--rm', `${reg.host}/multi/img:1`, 'echo', 'native'])).toBe('native\n');
    for (const pinned of [indexDigest, mine.manifestDigest]) {
      expect(ok(env, ['run', '--rm', '--pull', 'never', `${reg.host}/multi/img@${pinned}`, 'echo', 'pinned'])).toBe('pinned\n');
    }

    ok(env, ['pull', '--platform', `linux/${otherArch}`, `${reg.host}/multi/img:1`]);
    const other = JSON.parse(ok(env, ['image', 'inspect', `${reg.host}/multi/img:1`])) as { Id: string; Architecture: string }[];
    expect(other[0]?.Architecture).toBe(otherArch);
    expect(other[0]?.Id).toBe(theirs.configDigest);
    // Both images were pulled with the index's digest: the one pulled last answers to it.
    expect((JSON.parse(ok(env, ['image', 'inspect', `${reg.host}/multi/img@${indexDigest}`])) as { Id: string }[])[0]?.Id).toBe(theirs.configDigest);
    expect(fails(env, ['pull', '--platform', 'linux/s390x', `${reg.host}/multi/img:1`])).toMatch(/no image for linux\/s390x \(has: linux\/\w+, linux\/\w+\)/);
    expect(fails(env, ['pull', '--platform', 'linux', `${reg.host}/multi/img:1`])).toMatch(/invalid platform/);
  });

  it('the library: Hull.pull reports progress events and Hull.push returns the digest', async () => {
    const fresh = new HullEnv();
    try {
      const hull = new Hull({ root: fresh.root, runRoot: fresh.runRoot });
      const events: PullEvent[] = [];
      const pulled = await hull.pull(`${reg.host}/test/busybox:1`, { onProgress: (e) => events.push(e) });
      expect(pulled).toMatchObject({ digest: bb.manifestDigest, reference: `${reg.host}/test/busybox:1`, upToDate: false });
      expect(pulled.image.id).toBe(bb.configDigest);
      expect(events[0]).toMatchObject({ type: 'resolved', digest: bb.manifestDigest });
      expect(events.some((e) => e.type === 'layer' && e.status === 'downloading' && e.current === e.total)).toBe(true);
      expect(events.at(-1)).toMatchObject({ type: 'done', imageId: bb.configDigest, upToDate: false });
      await hull.tag(`${reg.host}/test/busybox:1`, `${reg.host}/library/api:1`);
      expect(await hull.push(`${reg.host}/library/api:1`)).toEqual({
        reference: `${reg.host}/library/api:1`,
        digest: bb.manifestDigest,
        size: expect.any(Number),
      });
      await expect(hull.pull(`${reg.host}/test/busybox:missing`)).rejects.toBeInstanceOf(RegistryError);
    } finally {
      fresh.destroy();
    }
  });

  it('concurrent pulls of one image store it once', async () => {
    const fresh = new HullEnv();
    try {
      const results = await Promise.all([1, 2, 3, 4].map(() => fresh.cliAsync(['pull', '-q', `${reg.host}/test/busybox:1`])));
      for (const r of results) {
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toBe(`${reg.host}/test/busybox:1\n`);
      }
      expect(readdirSync(path.join(fresh.root, 'layers'))).toHaveLength(1);
      expect(ok(fresh, ['system', 'check'])).toMatch(/no problems/);
    } finally {
      fresh.destroy();
    }
  });

  it('unknown repositories, tags and digests are one clear error each; the store stays clean', () => {
    expect(fails(env, ['pull', `${reg.host}/nothing/here:1`])).toMatch(/nothing\/here:1: not found in 127\.0\.0\.1:\d+ \((name|manifest) unknown/);
    expect(fails(env, ['pull', `${reg.host}/test/busybox:nope`])).toMatch(/test\/busybox:nope: not found in .*manifest unknown/);
    expect(fails(env, ['pull', `${reg.host}/test/busybox@sha256:${'0'.repeat(64)}`])).toMatch(/not found/);
    expect(fails(env, ['pull', `${reg.host}/Upper/case`])).toMatch(/invalid reference format/);
    expect(fails(env, ['push', `${reg.host}/never/tagged`])).toMatch(/does not exist locally|not found/);
    expect(env.cli(['system', 'check']).code).toBe(0);
  });

  it('run and create pull a missing image (--pull missing), never with --pull never, again with --pull always', () => {
    const fresh = new HullEnv();
    try {
      expect(fails(fresh, ['run', '--rm', '--pull', 'never', `${reg.host}/test/busybox:1`, 'true'])).toMatch(/image not found/);
      expect(fails(fresh, ['run', '--rm', '--pull', 'sometimes', `${reg.host}/test/busybox:1`, 'true'])).toMatch(/invalid pull policy/);
      const r = fresh.cli(['run', '--rm', `${reg.host}/test/busybox:1`, 'echo', 'auto']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('auto\n');
      expect(r.stderr).toContain(`Unable to find image '${reg.host}/test/busybox:1' locally`);
      expect(r.stderr).toContain('Pull complete');
      const again = fresh.cli(['run', '--rm', `${reg.host}/test/busybox:1`, 'echo', 'stored']);
      expect(again.stderr).toBe('');
      const always = fresh.cli(['create', '--pull', 'always', `${reg.host}/test/busybox:1`]);
      expect(always.code, always.stderr).toBe(0);
      expect(always.stderr).toContain('Status: Image is up to date');
      ok(fresh, ['rm', always.stdout.trim()]);
    } finally {
      fresh.destroy();
    }
  });

  it('goes through HTTPS_PROXY / HTTP_PROXY (CONNECT, then plain HTTP for an insecure registry) unless NO_PROXY says not', async () => {
    // registry.test resolves nowhere but in the proxy, so the pull can only succeed through it.
    const [, port] = reg.host.split(':');
    const name = `registry.test:${port}`;
    const proxy = await HttpProxy.start(path.join(work, 'proxy'), { 'registry.test': '127.0.0.1' });
    const fresh = new HullEnv();
    try {
      const proxied = { ...process.env, HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url, NO_PROXY: 'other.test', HULL_INSECURE_REGISTRIES: name };
      const r = fresh.cli(['pull', '-q', `${name}/test/busybox:1`], { env: proxied });
      expect(r.code, r.stderr).toBe(0);
      // HTTPS first, in a tunnel (the registry answers in plain HTTP), then plain HTTP requests.
      expect(proxy.requests()).toContain(`CONNECT ${name}`);
      expect(proxy.requests()).toContain(`GET http://${name}/v2/`);
      expect(proxy.requests().some((l) => l.startsWith(`GET http://${name}/v2/test/busybox/blobs/sha256:`))).toBe(true);
      expect(ok(fresh, ['run', '--rm', '--pull', 'never', `${name}/test/busybox:1`, 'echo', 'via proxy'])).toBe('via proxy\n');
      // NO_PROXY: connected directly, where the name does not resolve.
      const seen = proxy.requests().length;
      const direct = fresh.cli(['pull', '-q', `${name}/test/busybox:1`], { env: { ...proxied, NO_PROXY: 'registry.test' } });
      expect(direct.code).not.toBe(0);
      expect(direct.stderr).toMatch(/cannot reach registry registry\.test:\d+/);
      expect(proxy.requests().length).toBe(seen);
      const bad = fresh.cli(['pull', `${name}/test/busybox:1`], { env: { ...proxied, HTTPS_PROXY: 'socks5://127.0.0.1:1080' } });
      expect(bad.stderr).toMatch(/HTTPS_PROXY=socks5:\/\/127\.0\.0\.1:1080: only http:\/\/ and https:\/\/ proxies are supported/);
    } finally {
      fresh.destroy();
      await proxy.stop();
    }
  });

  it('the tests never reach Docker Hub: docker.io is blocked for them (vitest.config.ts), and a missing image says so', () => {
    expect(process.env.HULL_BLOCKED_REGISTRIES).toBe('docker.io');
    const fresh = new HullEnv();
    try {
      const run = fresh.cli(['run', '--rm', 'hull-test-not-stored', 'true']);
      expect(run.code).toBe(125);
      expect(run.stderr).toMatch(/registry docker\.io is blocked/);
      const pull = fresh.cli(['pull', 'busybox']);
      expect(pull.code).toBe(1);
      expect(pull.stderr).toMatch(/^hull: pull busybox:latest: registry docker\.io is blocked/m);
    } finally {
      fresh.destroy();
    }
  });

  it('build pulls a base image that is not stored, pulls it again with --pull, and names the line when it cannot', () => {
    const fresh = new HullEnv();
    try {
      const ctx = mkdtempSync(path.join(fresh.base, 'ctx-'));
      writeFileSync(path.join(ctx, 'Dockerfile'), `FROM ${reg.host}/test/busybox:1\nRUN echo built > /built\n`);
      const first = fresh.cli(['build', '-t', 'from-registry', ctx]);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stderr).toContain('Pull complete');
      expect(ok(fresh, ['run', '--rm', 'from-registry', 'cat', '/built'])).toBe('built\n');
      const stored = fresh.cli(['build', '-t', 'from-registry', ctx]);
      expect([stored.code, stored.stderr]).toEqual([0, '']);
      const pulled = fresh.cli(['build', '--pull', '-t', 'from-registry', ctx]);
      expect(pulled.code, pulled.stderr).toBe(0);
      expect(pulled.stderr).toContain('Status: Image is up to date');
      writeFileSync(path.join(ctx, 'Dockerfile'), `FROM ${reg.host}/test/nothing:1\n`);
      const missing = fresh.cli(['build', ctx]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/^hull: Dockerfile:1: FROM 127\.0\.0\.1:\d+\/test\/nothing:1: .*not found/);
      expect(fresh.leftovers()).toEqual([]);
    } finally {
      fresh.destroy();
    }
  });
});

describe.skipIf(skip)(`registry: htpasswd Basic auth over TLS with the test's CA (integration${why})`, () => {
  let reg: Registry;
  let env: HullEnv;
  let dir: string;
  let certsD: string;
  let bb: Awaited<ReturnType<typeof busyboxImage>>;
  let base: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hull-reg-tls-'));
    const tls = makeTlsFiles(path.join(dir, 'pki'));
    reg = await Registry.start({ tls, htpasswd: { hull: 's3cret pass' } });
    certsD = path.join(dir, 'certs.d');
    mkdirSync(path.join(certsD, reg.host), { recursive: true });
    copyFileSync(tls.caCert, path.join(certsD, reg.host, 'ca.crt'));
    env = new HullEnv();
    bb = await busyboxImage();
    base = { ...process.env, HULL_CERTS_D: certsD, DOCKER_CONFIG: path.join(dir, 'docker') };
    skopeo([
      'copy',
      '--dest-cert-dir',
      path.join(certsD, reg.host),
      '--dest-creds',
      'hull:s3cret pass',
      `oci:${bb.ociDir}`,
      `docker://${reg.host}/private/bb:1`,
    ]);
  }, 60_000);

  afterAll(async () => {
    env?.destroy();
    await reg?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a certificate it cannot verify, and never falls back to plain HTTP for it', () => {
    const line = fails(env, ['pull', `${reg.host}/private/bb:1`], { env: { ...base, HULL_CERTS_D: path.join(dir, 'empty') } });
    expect(line).toMatch(/TLS certificate not trusted .*certs\.d|empty/);
  });

  it('401 without credentials; login checks the password; pull and push with the stored credentials; logout', () => {
    expect(fails(env, ['pull', `${reg.host}/private/bb:1`], { env: base })).toMatch(/authentication required: run hull login 127\.0\.0\.1:\d+/);
    expect(fails(env, ['login', '-u', 'hull', '--password-stdin', reg.host], { env: base, input: 'wrong\n' })).toMatch(/incorrect username or password/);
    expect(existsSync(path.join(dir, 'docker', 'config.json'))).toBe(false);
    expect(ok(env, ['login', '-u', 'hull', '--password-stdin', reg.host], { env: base, input: 's3cret pass\n' })).toBe('Login Succeeded\n');
    const config = JSON.parse(readFileSync(path.join(dir, 'docker', 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
    expect(Buffer.from(config.auths[reg.host]?.auth ?? '', 'base64').toString()).toBe('hull:s3cret pass');
    expect(ok(env, ['pull', `${reg.host}/private/bb:1`], { env: base })).toContain(`Digest: ${bb.manifestDigest}`);
    ok(env, ['tag', `${reg.host}/private/bb:1`, `${reg.host}/private/again:2`]);
    expect(ok(env, ['push', `${reg.host}/private/again:2`], { env: base })).toContain(`2: digest: ${bb.manifestDigest}`);
    const info = JSON.parse(
      skopeo(['inspect', '--cert-dir', path.join(certsD, reg.host), '--creds', 'hull:s3cret pass', `docker://${reg.host}/private/again:2`]),
    ) as { Digest: string };
    expect(info.Digest).toBe(bb.manifestDigest);
    expect(ok(env, ['logout', reg.host], { env: base })).toBe(`Removing login credentials for ${reg.host}\n`);
    expect(fails(env, ['pull', `${reg.host}/private/bb:1`], { env: base })).toMatch(/authentication required/);
  });

  it('credentials through a credential helper (credHelpers): login stores, pull gets, logout erases', () => {
    const helperDir = path.join(dir, 'helper');
    const secrets = path.join(helperDir, 'secrets.json');
    mkdirSync(helperDir, { recursive: true });
    const helper = path.join(helperDir, 'docker-credential-hulltest');
    writeFileSync(
      helper,
      `#!/usr/bin/env node
const fs = require('fs'); const file = ${JSON.stringify(secrets)};
const db = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
const input = fs.readFileSync(0, 'utf8').trim();
const verb = process.argv[2];
if (verb === 'store') { const c = JSON.parse(input); db[c.ServerURL] = c; fs.writeFileSync(file, JSON.stringify(db)); }
else if (verb === 'get') { if (!db[input]) { process.stdout.write('credentials not found in native keychain'); process.exit(1); }
  process.stdout.write(JSON.stringify({ ServerURL: input, Username: db[input].Username, Secret: db[input].Secret })); }
else if (verb === 'erase') { delete db[input]; fs.writeFileSync(file, JSON.stringify(db)); }
`,
    );
    chmodSync(helper, 0o755);
    const configDir = path.join(dir, 'docker-helper');
    mkdirSync(configDir, { recursive: true });
    writeFileSync(path.join(configDir, 'config.json'), JSON.stringify({ credHelpers: { [reg.host]: 'hulltest' }, other: 'kept' }));
    const e = { ...base, DOCKER_CONFIG: configDir, PATH: `${helperDir}:${process.env.PATH ?? ''}` };
    const fresh = new HullEnv();
    try {
      expect(ok(fresh, ['login', '-u', 'hull', '--password-stdin', reg.host], { env: e, input: 's3cret pass' })).toBe('Login Succeeded\n');
      expect((JSON.parse(readFileSync(secrets, 'utf8')) as Record<string, unknown>)[reg.host]).toMatchObject({ Username: 'hull', Secret: 's3cret pass' });
      const config = JSON.parse(readFileSync(path.join(configDir, 'config.json'), 'utf8')) as Record<string, unknown>;
      expect(config.other).toBe('kept');
      expect(JSON.stringify(config)).not.toContain('s3cret');
      expect(ok(fresh, ['pull', '-q', `${reg.host}/private/bb:1`], { env: e })).toBe(`${reg.host}/private/bb:1\n`);
      ok(fresh, ['logout', reg.host], { env: e });
      expect((JSON.parse(readFileSync(secrets, 'utf8')) as Record<string, unknown>)[reg.host]).toBeUndefined();
    } finally {
      fresh.destroy();
    }
  });
});

describe.skipIf(skip)(`registry: Bearer tokens from a token issuer (integration${why})`, () => {
  let reg: Registry;
  let issuer: TokenIssuer;
  let env: HullEnv;
  let dir: string;
  let base: NodeJS.ProcessEnv;
  let bb: Awaited<ReturnType<typeof busyboxImage>>;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hull-reg-token-'));
    issuer = new TokenIssuer(path.join(dir, 'issuer'), { hull: 'tokenpass' });
    await issuer.start();
    reg = await Registry.start({ token: issuer });
    env = new HullEnv();
    bb = await busyboxImage();
    base = { ...process.env, DOCKER_CONFIG: path.join(dir, 'docker') };
    for (const repo of ['public/bb:1', 'private/bb:1']) {
      skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', 'hull:tokenpass', `oci:${bb.ociDir}`, `docker://${reg.host}/${repo}`]);
    }
  }, 60_000);

  afterAll(async () => {
    env?.destroy();
    await reg?.stop();
    await issuer?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pulls anonymously where the token service allows it', () => {
    issuer.clearRequests();
    expect(ok(env, ['pull', `${reg.host}/public/bb:1`], { env: base })).toContain(`Digest: ${bb.manifestDigest}`);
    expect(issuer.requests().some((r) => r.account === '' && r.scopes.includes('repository:public/bb:pull'))).toBe(true);
  });

  it('refuses anonymous access to a private repository; with login, pulls and pushes with scoped tokens', () => {
    expect(fails(env, ['pull', `${reg.host}/private/bb:1`], { env: base })).toMatch(/unauthorized|authentication required/);
    expect(fails(env, ['login', '-u', 'hull', '--password-stdin', reg.host], { env: base, input: 'nope' })).toMatch(/incorrect username or password/);
    ok(env, ['login', '-u', 'hull', '--password-stdin', reg.host], { env: base, input: 'tokenpass' });
    issuer.clearRequests();
    expect(ok(env, ['pull', `${reg.host}/private/bb:1`], { env: base })).toContain(`Digest: ${bb.manifestDigest}`);
    expect(issuer.requests().some((r) => r.account === 'hull' && r.scopes.includes('repository:private/bb:pull'))).toBe(true);
    ok(env, ['tag', `${reg.host}/private/bb:1`, `${reg.host}/private/pushed:1`]);
    const out = ok(env, ['push', `${reg.host}/private/pushed:1`], { env: base });
    expect(out).toMatch(/Mounted from private\/bb|Pushed|Layer already exists/);
    expect(issuer.requests().some((r) => r.account === 'hull' && r.scopes.includes('repository:private/pushed:pull,push'))).toBe(true);
    const info = JSON.parse(skopeo(['inspect', '--tls-verify=false', '--creds', 'hull:tokenpass', `docker://${reg.host}/private/pushed:1`])) as {
      Digest: string;
    };
    expect(info.Digest).toBe(bb.manifestDigest);
  });
});
