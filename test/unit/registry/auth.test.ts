import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseChallenges } from '../../../src/registry/challenge.js';
import { retryAfterMs } from '../../../src/registry/client.js';
import { authKey, eraseCredentials, getCredentials, helperFor, storeCredentials } from '../../../src/registry/credentials.js';

describe('WWW-Authenticate challenges', () => {
  it('parses a Bearer challenge with realm, service and scope', () => {
    expect(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } },
    ]);
  });

  it('parses Basic, case-insensitive names, spaces, escapes and unquoted tokens', () => {
    expect(parseChallenges('Basic realm="Registry Realm"')).toEqual([{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
    expect(parseChallenges('BEARER Realm = "http://x/t" , Service=reg, scope="a:b:pull,push"')).toEqual([
      { scheme: 'bearer', params: { realm: 'http://x/t', service: 'reg', scope: 'a:b:pull,push' } },
    ]);
    expect(parseChallenges('Basic realm="say \\"hi\\""')[0]?.params.realm).toBe('say "hi"');
  });

  it('splits several challenges in one header', () => {
    const all = parseChallenges('Basic realm="r1", Bearer realm="https://t/token",service="s", Negotiate');
    expect(all.map((c) => c.scheme)).toEqual(['basic', 'bearer', 'negotiate']);
    expect(all[1]?.params).toEqual({ realm: 'https://t/token', service: 's' });
  });

  it('keeps what it could parse of a malformed header', () => {
    expect(parseChallenges('')).toEqual([]);
    expect(parseChallenges('Bearer realm="unterminated')).toEqual([{ scheme: 'bearer', params: { realm: 'unterminated' } }]);
  });

  it('Retry-After in seconds or as an HTTP date, capped', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(undefined)).toBeUndefined();
    expect(retryAfterMs('9999')).toBe(60_000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(retryAfterMs('soon')).toBeUndefined();
  });
});

describe('docker config.json credentials', () => {
  let dir: string;
  let oldPath: string | undefined;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'hull-creds-'));
    oldPath = process.env.PATH;
  });
  afterEach(() => {
    process.env.PATH = oldPath;
    rmSync(dir, { recursive: true, force: true });
  });

  const write = (config: unknown) => writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  const read = () => JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  const b64 = (s: string) => Buffer.from(s).toString('base64');

  it('reads auths by host, by URL-shaped keys, and Docker Hub under its legacy key', async () => {
    write({
      auths: {
        'localhost:5000': { auth: b64('alice:pa:ss') },
        'https://other.example:8443/v2/': { auth: b64('bob:x') },
        'https://index.docker.io/v1/': { auth: b64('hub:y') },
      },
    });
    expect(await getCredentials(dir, 'localhost:5000')).toEqual({ username: 'alice', password: 'pa:ss' });
    expect(await getCredentials(dir, 'other.example:8443')).toEqual({ username: 'bob', password: 'x' });
    expect(await getCredentials(dir, 'docker.io')).toEqual({ username: 'hub', password: 'y' });
    expect(await getCredentials(dir, 'nowhere.example')).toBeUndefined();
    expect(authKey('docker.io')).toBe('https://index.docker.io/v1/');
  });

  it('no file means anonymous; a broken file or auth entry is a clear error', async () => {
    expect(await getCredentials(dir, 'localhost:5000')).toBeUndefined();
    writeFileSync(path.join(dir, 'config.json'), '{not json');
    await expect(getCredentials(dir, 'x')).rejects.toThrow(/config\.json: invalid JSON/);
    write({ auths: { x: { auth: b64('nocolon') } } });
    await expect(getCredentials(dir, 'x')).rejects.toThrow(/not base64 of user:password/);
  });

  it('store writes base64 user:password with mode 0600 and keeps other keys; erase removes it', async () => {
    write({ auths: { other: { auth: b64('o:p') } }, psFormat: 'table', credHelpers: {} });
    await storeCredentials(dir, 'localhost:5000', { username: 'u', password: 'p w' });
    const config = read() as { auths: Record<string, { auth: string }>; psFormat: string };
    expect(config.psFormat).toBe('table');
    expect(config.auths.other?.auth).toBe(b64('o:p'));
    expect(config.auths['localhost:5000']?.auth).toBe(b64('u:p w'));
    expect(statSync(path.join(dir, 'config.json')).mode & 0o777).toBe(0o600);
    expect(await eraseCredentials(dir, 'localhost:5000')).toBe(true);
    expect((read() as { auths: Record<string, unknown> }).auths['localhost:5000']).toBeUndefined();
    expect(await eraseCredentials(dir, 'localhost:5000')).toBe(false);
  });

  it('credHelpers win over credsStore, which wins over auths; helpers get, store and erase', async () => {
    expect(helperFor({ credsStore: 'desktop', credHelpers: { 'r.example': 'ecr' } }, 'r.example')).toBe('ecr');
    expect(helperFor({ credsStore: 'desktop' }, 'r.example')).toBe('desktop');
    expect(helperFor({ auths: {} }, 'r.example')).toBeUndefined();

    const bin = path.join(dir, 'bin');
    mkdirSync(bin);
    const db = path.join(dir, 'db.json');
    writeFileSync(
      path.join(bin, 'docker-credential-fake'),
      `#!/usr/bin/env node
const fs = require('fs'); const file = ${JSON.stringify(db)};
const store = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
const input = fs.readFileSync(0, 'utf8').trim();
switch (process.argv[2]) {
  case 'store': { const c = JSON.parse(input); store[c.ServerURL] = c; break; }
  case 'get': if (!store[input]) { console.log('credentials not found in native keychain'); process.exit(1); }
    process.stdout.write(JSON.stringify({ Username: store[input].Username, Secret: store[input].Secret })); break;
  case 'erase': delete store[input]; break;
}
fs.writeFileSync(file, JSON.stringify(store));
`,
    );
    chmodSync(path.join(bin, 'docker-credential-fake'), 0o755);
    process.env.PATH = `${bin}:${oldPath ?? ''}`;
    write({ credsStore: 'fake', auths: { 'r.example': { auth: b64('ignored:x') } } });
    expect(await getCredentials(dir, 'r.example')).toBeUndefined(); // the helper has nothing: auths are not consulted
    await storeCredentials(dir, 'r.example', { username: 'carol', password: 'secret' });
    expect(JSON.stringify(read())).not.toContain('secret');
    expect(await getCredentials(dir, 'r.example')).toEqual({ username: 'carol', password: 'secret' });
    expect(await eraseCredentials(dir, 'r.example')).toBe(true);
    expect(await getCredentials(dir, 'r.example')).toBeUndefined();

    write({ credHelpers: { 'r.example': 'missing-helper' } });
    await expect(getCredentials(dir, 'r.example')).rejects.toThrow(/docker-credential-missing-helper: not found in PATH/);
    write({ credsStore: '../evil' });
    await expect(getCredentials(dir, 'r.example')).rejects.toThrow(/not valid/);
  });
});
