import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { familiar, normalize, parseReference } from '../../../src/image/reference.js';

const D = `sha256:${'a'.repeat(64)}`;
const D512 = `sha512:${'b'.repeat(128)}`;

describe('normalize and familiar', () => {
  const table: [input: string, normalized: string, familiar: string][] = [
    ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
    ['library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['index.docker.io/library/busybox:x', 'docker.io/library/busybox:x', 'busybox:x'],
    ['docker.io/library/busybox:latest', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['foo/bar:1', 'docker.io/foo/bar:1', 'foo/bar:1'],
    ['foo/bar/baz', 'docker.io/foo/bar/baz:latest', 'foo/bar/baz:latest'],
    ['docker.io/library/foo/bar', 'docker.io/library/foo/bar:latest', 'library/foo/bar:latest'],
    ['localhost/x', 'localhost/x:latest', 'localhost/x:latest'],
    ['localhost:5000/x', 'localhost:5000/x:latest', 'localhost:5000/x:latest'],
    ['localhost:5000/x:v2', 'localhost:5000/x:v2', 'localhost:5000/x:v2'],
    ['registry.example.com/a/b', 'registry.example.com/a/b:latest', 'registry.example.com/a/b:latest'],
    [`registry.example.com/a/b@${D}`, `registry.example.com/a/b@${D}`, `registry.example.com/a/b@${D}`],
    [`busybox:1@${D}`, `docker.io/library/busybox:1@${D}`, `busybox:1@${D}`],
    [`busybox@${D512}`, `docker.io/library/busybox@${D512}`, `busybox@${D512}`],
    ['127.0.0.1:5000/img', '127.0.0.1:5000/img:latest', '127.0.0.1:5000/img:latest'],
    ['[::1]:5000/img:t', '[::1]:5000/img:t', '[::1]:5000/img:t'],
    ['Example.COM/a', 'Example.COM/a:latest', 'Example.COM/a:latest'],
    ['a.b-c.d/e-f.g_h__i---j:T_a.g-1', 'a.b-c.d/e-f.g_h__i---j:T_a.g-1', 'a.b-c.d/e-f.g_h__i---j:T_a.g-1'],
    ['x__y/z', 'docker.io/x__y/z:latest', 'x__y/z:latest'],
    ['ubuntu:22.04', 'docker.io/library/ubuntu:22.04', 'ubuntu:22.04'],
    ['localhost:5000', 'docker.io/library/localhost:5000', 'localhost:5000'],
  ];
  it.each(table)('%s', (input, normalized, short) => {
    expect(normalize(input)).toBe(normalized);
    expect(familiar(input)).toBe(short);
    expect(normalize(normalized)).toBe(normalized); // idempotent
  });
});

describe('parseReference', () => {
  it('splits domain, path, tag and digest', () => {
    expect(parseReference('busybox')).toEqual({ domain: 'docker.io', path: 'library/busybox' });
    expect(parseReference('localhost:5000/x')).toEqual({ domain: 'localhost:5000', path: 'x' });
    expect(parseReference(`registry.example.com/a/b:t@${D}`)).toEqual({ domain: 'registry.example.com', path: 'a/b', tag: 't', digest: D });
  });

  const bad: [input: string, why: RegExp][] = [
    ['', /empty/],
    ['Busybox', /must be lowercase/],
    ['foo/Bar', /must be lowercase/],
    ['a'.repeat(64), /64-character hexadecimal/],
    ['busybox:', /invalid tag/],
    ['busybox:-x', /invalid tag/],
    ['busybox:.x', /invalid tag/],
    [`busybox:${'t'.repeat(129)}`, /invalid tag/],
    ['busybox:a:b', /invalid tag/],
    ['busybox@sha256:abc', /sha256 needs 64/],
    ['busybox@md5:' + 'a'.repeat(32), /unsupported digest algorithm/],
    ['busybox@', /expected <algorithm>:<hex>/],
    ['foo//bar', /invalid repository name component ""/],
    ['foo/bar/', /invalid repository name component ""/],
    ['/foo', /invalid repository name component ""/],
    ['foo/-bar', /invalid repository name component/],
    ['foo/bar-', /invalid repository name component/],
    ['foo/b..ar', /invalid repository name component/],
    ['foo/b___ar', /invalid repository name component/],
    ['exa_mple.com/x', /invalid registry host|invalid repository name component/],
    ['-example.com/x', /invalid registry host/],
    ['example.com:port/x', /invalid registry host/],
    ['localhost:5000/', /missing repository name|invalid repository name component/],
    [`example.com/${'a/'.repeat(130)}b`, /more than 255 characters/],
    ['busy box', /invalid repository name component/],
  ];
  it.each(bad)('rejects %j', (input, why) => {
    let err: unknown;
    try {
      parseReference(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/^invalid reference format/);
    expect((err as Error).message).toMatch(why);
  });
});
