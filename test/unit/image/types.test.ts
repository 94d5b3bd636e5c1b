import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DigestMismatchError, InvalidImageError } from '../../../src/errors.js';
import { DigestStream, digestOf, isDigest, parseDigest, verifyDigest } from '../../../src/image/digest.js';
import { hostPlatform, platformMatches, selectManifest } from '../../../src/image/platform.js';
import { MediaType, parseImageConfig, parseIndex, parseManifest, type Descriptor } from '../../../src/image/types.js';

const D = (c: string): string => `sha256:${c.repeat(64)}`;

describe('digests', () => {
  it('parses and validates', () => {
    expect(parseDigest(D('a'))).toEqual({ algorithm: 'sha256', hex: 'a'.repeat(64) });
    expect(parseDigest(`sha512:${'0'.repeat(128)}`).algorithm).toBe('sha512');
    for (const bad of ['sha256:' + 'A'.repeat(64), 'sha256:abc', 'md5:' + 'a'.repeat(32), 'a'.repeat(64), `sha512:${'0'.repeat(64)}`]) {
      expect(isDigest(bad), bad).toBe(false);
      expect(() => parseDigest(bad, 'thing'), bad).toThrow(InvalidImageError);
    }
  });

  it('verifies buffers and streams', async () => {
    const data = Buffer.from('hello');
    const digest = digestOf(data);
    expect(digest).toBe('sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
    expect(() => verifyDigest('x', digest, data)).not.toThrow();
    expect(() => verifyDigest('x', D('0'), data)).toThrow(DigestMismatchError);

    const sink = (): Writable => new Writable({ write: (_c, _e, cb) => cb() });
    const good = new DigestStream({ expected: digest });
    await pipeline(Readable.from([Buffer.from('hel'), Buffer.from('lo')]), good, sink());
    expect(good.digest()).toBe(digest);
    expect(good.bytes).toBe(5);
    await expect(pipeline(Readable.from([data]), new DigestStream({ expected: D('0'), what: 'blob x' }), sink())).rejects.toThrow(/blob x: digest mismatch/);
  });
});

describe('validators', () => {
  const descriptor = { mediaType: MediaType.OciLayerGzip, digest: D('1'), size: 10 };

  it('accept OCI and Docker documents', () => {
    const m = parseManifest({
      schemaVersion: 2,
      mediaType: MediaType.DockerManifest,
      config: { ...descriptor, mediaType: MediaType.DockerConfig },
      layers: [descriptor],
    });
    expect(m.layers).toHaveLength(1);
    const idx = parseIndex({
      schemaVersion: 2,
      manifests: [{ ...descriptor, mediaType: MediaType.OciManifest, platform: { os: 'linux', architecture: 'amd64' } }],
    });
    expect(idx.manifests[0]?.platform).toEqual({ os: 'linux', architecture: 'amd64' });
    const c = parseImageConfig({
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['A=1'], Entrypoint: null, Cmd: ['sh'], ExposedPorts: { '80/tcp': {} }, Labels: null, Hostname: 'ignored' },
      rootfs: { type: 'layers', diff_ids: [D('2')] },
      history: [{ created_by: 'x', empty_layer: true }],
      container_config: { ignored: true },
    });
    expect(c.config).toEqual({ Env: ['A=1'], Cmd: ['sh'], ExposedPorts: { '80/tcp': {} } });
    expect(c.rootfs.diff_ids).toEqual([D('2')]);
  });

  it('name the bad field', () => {
    expect(() => parseManifest({ schemaVersion: 1 })).toThrow(/manifest: unsupported schemaVersion 1/);
    expect(() => parseManifest({ schemaVersion: 2, config: descriptor, layers: [{ ...descriptor, digest: 'sha256:x' }] })).toThrow(
      /manifest\.layers\[0\]\.digest/,
    );
    expect(() => parseManifest({ schemaVersion: 2, config: descriptor, layers: [{ ...descriptor, size: -1 }] })).toThrow(/layers\[0\]\.size/);
    expect(() => parseIndex({ schemaVersion: 2, manifests: 'no' })).toThrow(/index\.manifests: expected an array/);
    expect(() => parseImageConfig({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: ['nope'] } })).toThrow(/rootfs\.diff_ids\[0\]/);
    expect(() => parseImageConfig({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: { Cmd: 'sh' } })).toThrow(
      /config\.Cmd: expected an array/,
    );
    expect(() => parseImageConfig([])).toThrow(InvalidImageError);
  });
});

describe('platform selection', () => {
  const m = (architecture: string, variant?: string, extra: Partial<Descriptor> = {}): Descriptor => ({
    mediaType: MediaType.OciManifest,
    digest: D(architecture === 'amd64' ? 'a' : architecture === 'arm64' ? 'b' : 'c'),
    size: 1,
    platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) },
    ...extra,
  });

  it('picks the matching manifest and skips attestations', () => {
    const attestation = {
      ...m('amd64'),
      digest: D('f'),
      platform: { os: 'unknown', architecture: 'unknown' },
      annotations: { 'vnd.docker.reference.type': 'attestation-manifest' },
    };
    expect(selectManifest([attestation, m('arm64', 'v8'), m('amd64')], { os: 'linux', architecture: 'amd64' }, 'idx').digest).toBe(D('a'));
    expect(selectManifest([m('amd64'), m('arm64')], { os: 'linux', architecture: 'arm64', variant: 'v8' }, 'idx').digest).toBe(D('b'));
    expect(() => selectManifest([m('s390x')], { os: 'linux', architecture: 'amd64' }, 'idx')).toThrow(/no image for linux\/amd64 \(has: linux\/s390x\)/);
    expect(platformMatches({ os: 'linux', architecture: 'arm', variant: 'v7' }, { os: 'linux', architecture: 'arm', variant: 'v6' })).toBe(false);
  });

  it('knows the host', () => {
    const host = hostPlatform();
    expect(host.os).toBe('linux');
    if (process.arch === 'x64') expect(host.architecture).toBe('amd64');
  });
});
