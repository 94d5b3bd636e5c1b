// The Engine API's image edge, without a server: POST /build's query (as docker CLI 20.10 and
// python3-docker send it) → the library's BuildRequest, with the refusals named; a commit body's
// Config → `--change` lines; X-Registry-Auth and /auth bodies → Credentials. No root, no addon.
import { describe, expect, it } from 'vitest';
import { parseBuildQuery } from '../../../src/api/build-query.js';
import { commitChanges } from '../../../src/api/commit-config.js';
import { parseAuthConfig, registryAuth } from '../../../src/api/registry-auth.js';
import { applyChanges } from '../../../src/build/commit.js';
import { UsageError } from '../../../src/errors.js';

/** The query docker CLI 20.10 sends for `docker build -t a -t b --build-arg X=1 --label l=v .` (every option, most at zero). */
const CLI_QUERY =
  't=a&t=b&buildargs=%7B%22X%22%3A%221%22%7D&cachefrom=null&cgroupparent=&cpuperiod=0&cpuquota=0&cpusetcpus=&cpusetmems=&cpushares=0' +
  '&dockerfile=Dockerfile&labels=%7B%22l%22%3A%22v%22%7D&memory=0&memswap=0&networkmode=default&rm=1&shmsize=0&target=&ulimits=null&version=1';

describe('POST /build query', () => {
  it("docker CLI 20.10's query: the zero values are nothing asked, the rest maps onto the BuildRequest", () => {
    const q = parseBuildQuery(new URLSearchParams(CLI_QUERY));
    expect(q).toEqual({
      quiet: false,
      request: { dockerfile: 'Dockerfile', tags: ['a', 'b'], buildArgs: { X: '1' }, labels: { l: 'v' }, noCache: false, pull: false, network: 'none' },
    });
  });

  it("python3-docker's query (True/False words, null build-arg values), q, nocache, pull, target, host network, cgroup parent", () => {
    const q = parseBuildQuery(
      new URLSearchParams(
        't=py%3A1&q=True&nocache=True&rm=False&forcerm=False&pull=1&target=final&networkmode=host&cgroupparent=ci&buildargs={"A":null,"B":"2"}',
      ),
    );
    expect(q).toEqual({
      quiet: true,
      request: { tags: ['py:1'], buildArgs: { B: '2' }, labels: {}, target: 'final', noCache: true, pull: true, network: 'host', cgroupParent: 'ci' },
    });
  });

  it('refuses, naming it, every option hull cannot honour', () => {
    const refused = (query: string) => {
      try {
        parseBuildQuery(new URLSearchParams(query));
      } catch (err) {
        expect(err).toBeInstanceOf(UsageError);
        return (err as Error).message;
      }
      throw new Error(`not refused: ${query}`);
    };
    expect(refused('memory=1048576')).toBe("memory: build resource limits are not honoured by hull's builder");
    expect(refused('cpusetcpus=0-1')).toMatch(/^cpusetcpus: /);
    expect(refused('ulimits=[{"Name":"nofile","Soft":1,"Hard":2}]')).toMatch(/^ulimits: /);
    expect(refused('extrahosts=a:1.2.3.4')).toMatch(/^extrahosts: /);
    expect(refused('remote=https://example.com/ctx.tar')).toMatch(/^remote: /);
    expect(refused('squash=1')).toMatch(/^squash: /);
    expect(refused('cachefrom=["a"]')).toMatch(/^cachefrom: /);
    expect(refused('version=2')).toMatch(/^version 2: BuildKit is not served/);
    expect(refused('networkmode=bridge')).toMatch(/^networkmode bridge: /);
    expect(refused('platform=linux/s390x')).toMatch(/^platform linux\/s390x: hull builds for this host's platform only/);
    expect(refused('buildargs={"A":1}')).toBe('buildargs: the value of A must be a string');
    expect(refused('labels=[1]')).toBe('labels: a JSON object of strings expected');
    expect(refused('labels={')).toMatch(/^labels: invalid JSON/);
    expect(refused('t=a@sha256:' + '0'.repeat(64))).toMatch(/cannot have a digest/);
  });
});

describe('POST /commit body', () => {
  it('no body, null, and the zero Config the CLI sends ask for nothing', () => {
    expect(commitChanges(undefined)).toEqual([]);
    expect(commitChanges(null)).toEqual([]);
    expect(commitChanges({ Hostname: '', User: '', Tty: false, Cmd: null, Env: null, Labels: null, Volumes: null, ExposedPorts: {}, StopTimeout: 0 })).toEqual(
      [],
    );
  });

  it('each set field becomes its Dockerfile line, which the library applies as Docker would', () => {
    const lines = commitChanges({
      Cmd: ['cat', '/x'],
      Entrypoint: ['/bin/sh', '-c'],
      Env: ['A=1', 'B=two words $NOT "q"'],
      Labels: { 'x.y': 'z' },
      ExposedPorts: { '80/tcp': {} },
      Volumes: { '/data': {} },
      User: 'nobody',
      WorkingDir: '/srv',
      StopSignal: 'SIGINT',
    });
    const config: Record<string, unknown> = {};
    applyChanges(config, lines);
    expect(config).toMatchObject({
      Cmd: ['cat', '/x'],
      Entrypoint: ['/bin/sh', '-c'],
      Env: expect.arrayContaining(['A=1', 'B=two words $NOT "q"']),
      Labels: { 'x.y': 'z' },
      ExposedPorts: { '80/tcp': {} },
      Volumes: { '/data': {} },
      User: 'nobody',
      WorkingDir: '/srv',
      StopSignal: 'SIGINT',
    });
  });

  it('refuses a field with no --change line, a bad shape and a line break', () => {
    expect(() => commitChanges({ Tty: true })).toThrow("Config.Tty: not applied by hull's commit (it has no --change line)");
    expect(() => commitChanges({ Healthcheck: { Test: ['CMD', 'true'] } })).toThrow(/^Config.Healthcheck: /);
    expect(() => commitChanges({ Cmd: [1] })).toThrow('Config.Cmd: a list of strings expected');
    expect(() => commitChanges({ User: 'a\nRUN x' })).toThrow('Config.User: a line break is not taken');
    expect(() => commitChanges({ Bogus: 1 })).toThrow('Config.Bogus: unknown field');
    expect(() => commitChanges([1])).toThrow(UsageError);
  });
});

describe('registry credentials from clients', () => {
  const header = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

  it('X-Registry-Auth: base64url JSON with a username and password, or auth; none when empty', () => {
    expect(registryAuth(header({ username: 'u', password: 'p w', serveraddress: 'r:5000' }))).toEqual({ username: 'u', password: 'p w' });
    expect(registryAuth(header({ auth: Buffer.from('u:p:w').toString('base64') }))).toEqual({ username: 'u', password: 'p:w' });
    expect(registryAuth(header({}))).toBeUndefined();
    expect(registryAuth(undefined)).toBeUndefined();
    expect(registryAuth('')).toBeUndefined();
    // Standard base64 (with + and /) too, as some clients send it.
    expect(registryAuth(Buffer.from(JSON.stringify({ username: 'ü>?', password: '~~~' })).toString('base64'))).toEqual({ username: 'ü>?', password: '~~~' });
    expect(() => registryAuth('not json')).toThrow('X-Registry-Auth: base64url-encoded JSON expected');
    expect(() => registryAuth(header({ registrytoken: 't' }))).toThrow(/registrytoken is not used by hull/);
    expect(() => registryAuth(header({ username: 1 }))).toThrow('X-Registry-Auth: username must be a string');
  });

  it("/auth's body: the credentials and the server address", () => {
    expect(parseAuthConfig({ username: 'u', password: 'p', serveraddress: '127.0.0.1:5000' }, 'auth')).toEqual({
      credentials: { username: 'u', password: 'p' },
      serverAddress: '127.0.0.1:5000',
    });
    expect(parseAuthConfig({ identitytoken: 'tok', serveraddress: 'r' }, 'auth')).toEqual({
      credentials: { username: '', password: '', identityToken: 'tok' },
      serverAddress: 'r',
    });
    expect(() => parseAuthConfig('x', 'auth')).toThrow('auth: a JSON object expected');
  });
});
