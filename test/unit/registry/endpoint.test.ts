import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MediaType, type Descriptor } from '../../../src/image/types.js';
import { parseManifestDocument } from '../../../src/image/manifest.js';
import { selectManifest } from '../../../src/image/platform.js';
import { registryHost } from '../../../src/registry/login.js';
import { parsePlatform } from '../../../src/registry/pull.js';
import { endpointFor, hostnameOf, isLoopback, registrySettings } from '../../../src/registry/settings.js';

describe('registry endpoints', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'hull-endpoint-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const settings = (env: NodeJS.ProcessEnv = {}) => registrySettings(root, {}, { HOME: '/home/u', HULL_CERTS_D: path.join(root, 'certs.d'), ...env });

  it('maps Docker Hub to registry-1.docker.io; other registries to themselves', () => {
    expect(endpointFor('docker.io', settings()).apiHost).toBe('registry-1.docker.io');
    expect(endpointFor('ghcr.io', settings()).apiHost).toBe('ghcr.io');
    expect(endpointFor('localhost:5000', settings()).apiHost).toBe('localhost:5000');
  });

  it('allows plain HTTP only for loopback and registries marked insecure (env or <root>/registries.json)', () => {
    expect(endpointFor('docker.io', settings()).allowHttp).toBe(false);
    expect(endpointFor('registry.example:5000', settings()).allowHttp).toBe(false);
    for (const h of ['localhost:5000', '127.0.0.1:5000', '127.1.2.3', '[::1]:5000', 'foo.localhost']) {
      expect(endpointFor(h, settings()).allowHttp, h).toBe(true);
      expect(endpointFor(h, settings()).tls.insecure, h).toBe(false); // loopback HTTPS is still verified
    }
    const viaEnv = endpointFor('registry.example:5000', settings({ HULL_INSECURE_REGISTRIES: 'a.example, registry.example:5000' }));
    expect(viaEnv).toMatchObject({ allowHttp: true, tls: { insecure: true } });
    writeFileSync(path.join(root, 'registries.json'), JSON.stringify({ insecure: ['lab.example'] }));
    expect(endpointFor('lab.example:443', settings()).allowHttp).toBe(true); // by host name, any port
    writeFileSync(path.join(root, 'registries.json'), JSON.stringify({ insecure: 'lab.example' }));
    expect(() => settings()).toThrow(/must be a list/);
  });

  it('refuses blocked registries (env or <root>/registries.json) before any connection; Docker Hub by any of its names', () => {
    const blocked = settings({ HULL_BLOCKED_REGISTRIES: 'registry-1.docker.io, evil.example:5000' });
    expect(() => endpointFor('docker.io', blocked)).toThrow(/registry docker.io is blocked/);
    expect(() => endpointFor('evil.example:5000', blocked)).toThrow(/evil.example:5000 is blocked/);
    expect(endpointFor('evil.example:5001', blocked).apiHost).toBe('evil.example:5001');
    expect(endpointFor('localhost:5000', blocked).apiHost).toBe('localhost:5000');
    writeFileSync(path.join(root, 'registries.json'), JSON.stringify({ blocked: ['docker.io'] }));
    expect(() => endpointFor('docker.io', settings())).toThrow(expect.objectContaining({ code: 'REGISTRY_BLOCKED' }));
    writeFileSync(path.join(root, 'registries.json'), JSON.stringify({ blocked: 'docker.io' }));
    expect(() => settings()).toThrow(/"blocked" must be a list/);
  });

  it('reads CA files and a client certificate from certs.d/<host:port>/', () => {
    const d = path.join(root, 'certs.d', 'reg.example:5000');
    mkdirSync(d, { recursive: true });
    writeFileSync(path.join(d, 'ca.crt'), 'CA1');
    writeFileSync(path.join(d, 'extra.crt'), 'CA2');
    writeFileSync(path.join(d, 'client.cert'), 'CERT');
    writeFileSync(path.join(d, 'client.key'), 'KEY');
    const tls = endpointFor('reg.example:5000', settings()).tls;
    expect(tls.ca?.map(String)).toEqual(['CA1', 'CA2']);
    expect(String(tls.cert)).toBe('CERT');
    expect(String(tls.key)).toBe('KEY');
    expect(endpointFor('reg.example', settings()).tls.ca).toBeUndefined();
    rmSync(path.join(d, 'client.key'));
    expect(() => endpointFor('reg.example:5000', settings())).toThrow(/client certificate without its key/);
  });

  it('settings from the environment: docker config dir, timeout, retries', () => {
    const s = settings({ DOCKER_CONFIG: '/cfg', HULL_REGISTRY_TIMEOUT: '2.5', HULL_REGISTRY_RETRIES: '1' });
    expect(s).toMatchObject({ dockerConfigDir: '/cfg', timeoutMs: 2500, retries: 1, concurrency: 3 });
    expect(settings().dockerConfigDir).toBe('/home/u/.docker');
    expect(registrySettings(root, {}, {}).certsDirs).toEqual(['/etc/hull/certs.d', '/etc/docker/certs.d']);
    expect(() => settings({ HULL_REGISTRY_TIMEOUT: 'soon' })).toThrow(/HULL_REGISTRY_TIMEOUT/);
  });

  it('host names: loopback, brackets and ports', () => {
    expect(hostnameOf('[::1]:5000')).toBe('::1');
    expect(hostnameOf('localhost:5000')).toBe('localhost');
    expect(hostnameOf('example.com')).toBe('example.com');
    expect(isLoopback('127.0.0.1:1')).toBe(true);
    expect(isLoopback('128.0.0.1')).toBe(false);
    expect(isLoopback('localhost.example.com')).toBe(false);
  });

  it('login/logout registry arguments as Docker takes them', () => {
    expect(registryHost(undefined)).toBe('docker.io');
    expect(registryHost('https://index.docker.io/v1/')).toBe('docker.io');
    expect(registryHost('registry-1.docker.io')).toBe('docker.io');
    expect(registryHost('https://LocalHost:5000/')).toBe('localhost:5000');
    expect(registryHost('[::1]:5000')).toBe('[::1]:5000');
    expect(() => registryHost('bad host')).toThrow(/invalid registry/);
  });
});

describe('platforms and manifests', () => {
  const d = (digest: string, platform?: Descriptor['platform'], annotations?: Record<string, string>): Descriptor => ({
    mediaType: MediaType.OciManifest,
    digest: `sha256:${digest.repeat(64)}`,
    size: 1,
    ...(platform ? { platform } : {}),
    ...(annotations ? { annotations } : {}),
  });

  it('parses --platform', () => {
    expect(parsePlatform('linux/amd64')).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(parsePlatform('linux/arm/v7')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
    expect(parsePlatform('linux/x86_64')).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(() => parsePlatform('linux')).toThrow(/invalid platform/);
    expect(() => parsePlatform('linux//v7')).toThrow(/invalid platform/);
  });

  it('selects the platform entry of an index, skipping attestations; arm64 variants normalised', () => {
    const list = [
      d('a', { os: 'linux', architecture: 'arm', variant: 'v7' }),
      d('b', { os: 'unknown', architecture: 'unknown' }, { 'vnd.docker.reference.type': 'attestation-manifest' }),
      d('c', { os: 'linux', architecture: 'amd64' }),
      d('e', { os: 'linux', architecture: 'arm64' }),
    ];
    expect(selectManifest(list, { os: 'linux', architecture: 'amd64' }, 'x').digest).toBe(`sha256:${'c'.repeat(64)}`);
    expect(selectManifest(list, { os: 'linux', architecture: 'arm64', variant: 'v8' }, 'x').digest).toBe(`sha256:${'e'.repeat(64)}`);
    expect(selectManifest(list, { os: 'linux', architecture: 'arm', variant: 'v7' }, 'x').digest).toBe(`sha256:${'a'.repeat(64)}`);
    expect(() => selectManifest(list, { os: 'linux', architecture: 's390x' }, 'img')).toThrow(
      /img: no image for linux\/s390x \(has: linux\/arm\/v7, linux\/amd64, linux\/arm64\)/,
    );
  });

  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.DockerManifest,
    config: { mediaType: MediaType.DockerConfig, digest: `sha256:${'1'.repeat(64)}`, size: 2 },
    layers: [],
  };

  it('tells indexes from manifests by mediaType, Content-Type or shape; refuses schema 1 and unknown types', () => {
    const j = (v: unknown) => Buffer.from(JSON.stringify(v));
    expect(parseManifestDocument(j(manifest), 'text/plain', 'm').kind).toBe('manifest');
    const index = { schemaVersion: 2, manifests: [d('a', { os: 'linux', architecture: 'amd64' })] };
    expect(parseManifestDocument(j(index), MediaType.DockerManifestList, 'm')).toMatchObject({ kind: 'index', mediaType: MediaType.DockerManifestList });
    expect(parseManifestDocument(j(index), undefined, 'm').kind).toBe('index');
    expect(() => parseManifestDocument(j({ schemaVersion: 1, fsLayers: [] }), 'application/json', 'm')).toThrow(/schema 1 is not supported/);
    expect(() => parseManifestDocument(j(manifest), 'application/vnd.docker.distribution.manifest.v1+prettyjws', 'm')).toThrow(/schema 1/);
    expect(() => parseManifestDocument(Buffer.from('<html>'), 'text/html', 'm')).toThrow(/m: invalid JSON/);
    expect(() => parseManifestDocument(j({ ...manifest, mediaType: 'application/vnd.cncf.helm.config.v1+json' }), undefined, 'm')).toThrow(
      /unsupported manifest media type/,
    );
  });
});
