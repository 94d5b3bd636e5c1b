// hull-runc's native front (native/runc-front.cc, build/Release/hull-runc) beside the Node path it
// hands everything else to (bin/hull-runc.cjs): what the front serves itself (state, start, kill,
// delete) says exactly what Node says — stdout, stderr, the log line in both formats, the exit
// status — and every call it does not serve reaches Node with its argv unchanged: other verbs,
// --version, options it does not know, containers with start or delete hooks, and a state.json it
// cannot read or that has a member it does not know (its strict JSON reader is tested here, through
// the binary). HULL_RUNC_TRACE=1 makes the front say why it handed a call over.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findCgroup2Mount } from '../../src/runtime/cgroups.js';
import type { RuntimeSpec } from '../../src/runtime/spec.js';
import { makeBundle } from '../helpers/oci-bundle.js';
import { PROJECT, canRunContainers, skipReason } from '../helpers/hull-env.js';

const FRONT = path.join(PROJECT, 'build', 'Release', 'hull-runc');
const NODE_ENTRY = path.join(PROJECT, 'bin', 'hull-runc.cjs');
const TRACE = 'hull-runc: to node: ';
/** The log's times (seconds, UTC) differ between two calls; `created` (with milliseconds) is kept. */
const times = (text: string) => text.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/g, 'TIME');

interface Call {
  code: number | null;
  stdout: string;
  stderr: string;
  /** What the call wrote to its --log file ('' without one). */
  log: string;
  /** The front's reasons for handing the call to Node (HULL_RUNC_TRACE). */
  trace: string[];
}

type Mode = { format: 'text' | 'json' | 'default'; toFile: boolean };
const ALL_MODES: Mode[] = [
  { format: 'json', toFile: true },
  { format: 'text', toFile: true },
  { format: 'default', toFile: false },
  { format: 'json', toFile: false },
];
const TWO_MODES: Mode[] = [ALL_MODES[0]!, ALL_MODES[2]!];

describe.skipIf(!canRunContainers || !existsSync(FRONT))(`hull-runc's native front beside the Node path (integration${skipReason})`, () => {
  let base: string;
  let root: string;
  let cgroupRoot: string;
  let cgroupParent: string;
  let n = 0;
  let k = 0;

  beforeAll(() => {
    base = mkdtempSync(path.join(tmpdir(), 'hull-runc-front-'));
    root = path.join(base, 'state');
    mkdirSync(root);
    cgroupRoot = findCgroup2Mount(readFileSync('/proc/self/mountinfo', 'utf8')) ?? '/sys/fs/cgroup';
    cgroupParent = `hull-test-${path.basename(base)}`;
  });

  afterAll(() => {
    try {
      // The containers (f…) by delete; the state directories without a container (s…) go with base.
      const containers = () => (existsSync(root) ? readdirSync(root) : []).filter((id) => id.startsWith('f'));
      for (const id of containers()) call('front', ['delete', '--force', id]);
      expect(containers()).toEqual([]);
      const cg = path.join(cgroupRoot, cgroupParent);
      if (existsSync(cg)) spawnSync('rmdir', [cg]);
      expect(existsSync(cg)).toBe(false);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  function bundle(args: string[], patch?: (spec: RuntimeSpec) => void): { dir: string; id: string } {
    const id = `f${++n}-${path.basename(base).slice(-6)}`;
    const dir = path.join(base, id);
    makeBundle(dir, id, args, cgroupParent, patch);
    return { dir, id };
  }

  /**
   * One call through the front or Node, with the mode's log flags (and HULL_RUNC_TRACE on).
   * `detached`: its stdout and stderr are /dev/null (a created container keeps its creator's).
   */
  function call(
    via: 'front' | 'node',
    args: string[],
    opts: { mode?: Mode; env?: Record<string, string>; globals?: string[]; cmd?: string; detached?: boolean } = {},
  ): Call {
    const mode = opts.mode ?? ALL_MODES[0]!;
    const logFile = path.join(base, `log-${++k}`);
    const globals = opts.globals ?? [
      '--root',
      root,
      ...(mode.toFile ? ['--log', logFile] : []),
      ...(mode.format === 'default' ? [] : ['--log-format', mode.format]),
    ];
    const [cmd, pre] = via === 'front' ? [opts.cmd ?? FRONT, []] : [process.execPath, [NODE_ENTRY]];
    const r = spawnSync(cmd, [...pre, ...globals, ...args], {
      encoding: 'utf8',
      env: { ...process.env, HULL_RUNC_TRACE: '1', ...opts.env },
      stdio: opts.detached ? 'ignore' : ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
    rmSync(logFile, { force: true });
    const lines = (r.stderr ?? '').split('\n');
    return {
      code: r.status,
      stdout: times(r.stdout ?? ''),
      stderr: times(lines.filter((l) => !l.startsWith(TRACE)).join('\n')),
      log: times(log),
      trace: lines.filter((l) => l.startsWith(TRACE)).map((l) => l.slice(TRACE.length)),
    };
  }

  /**
   * The same call through both, in each mode: the same answer; the front served it itself
   * (`native`) or handed it over (then the reason matches `native`). Returns the front's call in
   * the first mode (a JSON log file).
   */
  function same(args: string[], native: true | RegExp = true, modes = ALL_MODES): Call {
    let first: Call | undefined;
    for (const mode of modes) {
      const f = call('front', args, { mode });
      const node = call('node', args, { mode });
      expect({ args, mode, ...withoutTrace(f) }).toEqual({ args, mode, ...withoutTrace(node) });
      if (native === true) expect({ args, trace: f.trace }).toEqual({ args, trace: [] });
      else expect({ args, trace: f.trace.join('; ') }).toEqual({ args, trace: expect.stringMatching(native) });
      first ??= f;
    }
    return first!;
  }

  function withoutTrace(c: Call): Omit<Call, 'trace'> {
    const { trace: _trace, ...rest } = c;
    return rest;
  }

  function status(id: string): string {
    return (JSON.parse(call('front', ['state', id]).stdout) as { status: string }).status;
  }

  async function until(check: () => boolean, ms = 10_000): Promise<void> {
    const end = Date.now() + ms;
    while (!check()) {
      if (Date.now() > end) throw new Error('condition not met in time');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it("runc's error texts for a missing container, a bad id and a bad signal: the front's, in each log format, are Node's", () => {
    for (const args of [
      ['state', 'nosuch'],
      ['start', 'nosuch'],
      ['kill', 'nosuch'],
      ['kill', 'nosuch', 'KILL'],
      ['kill', '--all', 'nosuch'],
      ['delete', 'nosuch'],
    ]) {
      const r = same(args);
      expect([r.code, r.stdout, r.stderr]).toEqual([1, '', 'container does not exist\n']);
      expect(JSON.parse(r.log)).toEqual({ level: 'error', msg: 'container does not exist', time: 'TIME' });
    }
    for (const args of [
      ['delete', '--force', 'nosuch'],
      ['delete', 'nosuch', '-f'],
    ]) {
      expect(same(args, true, TWO_MODES)).toMatchObject({ code: 0, stdout: '', stderr: '', log: '' });
    }
    for (const [verb, id] of [
      ['state', 'a/b'],
      ['start', '..'],
      ['kill', ''],
      ['delete', '.'],
      ['delete', 'a:b'],
    ] as const) {
      expect(same([verb, id], true, TWO_MODES).stderr).toBe(`invalid id format: ${id}\n`);
    }
    expect(same(['delete', '--force', 'a"b'], true, TWO_MODES).stderr).toBe('invalid id format: a"b\n'); // --force forgives only a missing container
    for (const sig of ['NOSUCHSIG', '0', '65', '', 'SIGRTMIN+', 'SIG', 'KILL9', '9x']) {
      expect(same(['kill', 'nosuch', sig], true, TWO_MODES).stderr).toBe(`unknown signal "${sig}"\n`);
    }
    expect(same(['kill', '--all', 'a/b', 'FOO'], true, TWO_MODES).stderr).toBe('unknown signal "FOO"\n'); // the signal is parsed first
  });

  it('every signal name and number Node takes, as Node takes it (SIGTERM, TERM, term, 15, SIGRTMIN+N); a signal reaches the container', async () => {
    const names = Object.keys(constants.signals);
    const forms = [...names.flatMap((s) => [s, s.slice(3), s.toLowerCase(), ` ${s.slice(3).toLowerCase()}\t`]), 'SIGRTMIN', 'SIGRTMIN+30', 'rtmin+1'];
    for (let i = 1; i <= 64; i++) forms.push(String(i), `0${i}`);
    for (const sig of forms) {
      const r = call('front', ['kill', 'nosuch', sig]);
      expect([sig, r.stderr, r.trace]).toEqual([sig, 'container does not exist\n', []]);
    }
    // What only Node can say: its negative-number argument, SIGRTMIN+N past 64, text that is not ASCII.
    same(['kill', 'nosuch', '-9'], /option of the verb/, TWO_MODES);
    same(['kill', 'nosuch', 'SIGRTMIN+31'], /a signal only Node parses/, TWO_MODES);
    same(['kill', 'nosuch', 'ſigterm'], /a signal only Node parses/, TWO_MODES);
    const { dir, id } = bundle(['sh', '-c', 'trap "echo usr1 > /out/got" USR1; echo ready > /out/ready; while :; do sleep 0.05; done']);
    expect(call('front', ['run', '--detach', '--bundle', dir, id], { detached: true }).code).toBe(0);
    await until(() => existsSync(path.join(dir, 'rootfs', 'out', 'ready')));
    expect(call('front', ['kill', id, 'usr1'])).toMatchObject({ code: 0, stdout: '', stderr: '', trace: [] });
    await until(() => existsSync(path.join(dir, 'rootfs', 'out', 'got')));
    expect(call('front', ['delete', '--force', id])).toMatchObject({ code: 0, trace: [] });
  });

  it("state, and each verb's refusal, in every status: byte for byte what Node prints (annotations with every escape)", async () => {
    const annotations = { 'quote"back\\slash': 'tab\tnl\nctl\u0001\u001f é 😀 \u2028 /', '': 'empty name', z: '' };
    const { dir, id } = bundle(['sleep', '60'], (spec) => {
      spec.annotations = annotations;
    });
    expect(call('front', ['create', '--bundle', dir, id], { detached: true }).code).toBe(0);
    const created = same(['state', id]);
    expect(JSON.parse(created.stdout)).toMatchObject({ id, status: 'created', bundle: dir, owner: '', annotations });
    expect(created.stdout).toContain('"quote\\"back\\\\slash": "tab\\tnl\\nctl\\u0001\\u001f é 😀 \u2028 /"');
    expect(call('front', ['start', id])).toMatchObject({ code: 0, stdout: '', stderr: '', trace: [] });
    expect(JSON.parse(same(['state', id], true, TWO_MODES).stdout)).toMatchObject({ status: 'running' });
    expect(same(['start', id], true, TWO_MODES).stderr).toBe('cannot start an already running container\n');
    expect(same(['delete', id], true, TWO_MODES).stderr).toBe(`cannot delete container ${id} that is not stopped: running\n`);
    expect(same(['kill', id, 'CONT'], true, TWO_MODES)).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(call('front', ['pause', id]).trace).toEqual(['a verb Node serves']);
    expect(JSON.parse(same(['state', id], true, TWO_MODES).stdout)).toMatchObject({ status: 'paused' });
    expect(same(['delete', id], true, TWO_MODES).stderr).toBe(`cannot delete container ${id} that is not stopped: paused\n`);
    expect(call('front', ['resume', id]).code).toBe(0);
    expect(call('front', ['kill', id, 'KILL'])).toMatchObject({ code: 0, trace: [] });
    await until(() => status(id) === 'stopped');
    expect(JSON.parse(same(['state', id], true, TWO_MODES).stdout)).toMatchObject({ status: 'stopped', pid: 0 });
    expect(same(['kill', id], true, TWO_MODES).stderr).toBe('container not running\n');
    expect(same(['start', id], true, TWO_MODES).stderr).toBe('cannot start a container that has stopped\n');
    expect(same(['kill', '--all', id, 'KILL'], true, TWO_MODES)).toMatchObject({ code: 0, stderr: '' });
    expect(call('front', ['delete', id])).toMatchObject({ code: 0, stdout: '', stderr: '', log: '', trace: [] });
    expect(existsSync(path.join(root, id))).toBe(false);
    expect(existsSync(path.join(cgroupRoot, cgroupParent, id))).toBe(false);
    // No annotations, and an empty object of them.
    for (const patch of [undefined, (spec: RuntimeSpec) => (spec.annotations = {})]) {
      const b = bundle(['true'], patch);
      expect(call('front', ['create', '--bundle', b.dir, b.id], { detached: true }).code).toBe(0);
      expect(same(['state', b.id], true, TWO_MODES).stdout).toMatch(patch ? /"owner": "",\n {2}"annotations": \{\}\n\}\n$/ : /"owner": ""\n\}\n$/);
      expect(call('front', ['delete', b.id])).toMatchObject({ code: 0, trace: [] });
    }
  });

  it('--flag=value and --flag value forms, --criu and --systemd-cgroup: served by the front as Node takes them', () => {
    const logFile = path.join(base, 'eq.log');
    for (const globals of [
      [`--root=${root}`, `--log=${logFile}`, '--log-format=json'],
      ['--root', root, '--log', logFile, '--log-format', 'json', '--criu', 'x', '--systemd-cgroup'],
      ['--criu=x', '--log-format=text', '--log-format=json', `--log=${logFile}`, '--root', '/nonexistent', `--root=${root}`],
    ]) {
      const f = call('front', ['state', 'nosuch'], { globals });
      const fromFront = readFileSync(logFile, 'utf8');
      rmSync(logFile);
      const node = call('node', ['state', 'nosuch'], { globals });
      expect([globals, f.trace, f.code, f.stderr]).toEqual([globals, [], 1, 'container does not exist\n']);
      expect(withoutTrace(f)).toEqual(withoutTrace(node));
      expect(times(fromFront)).toBe(times(readFileSync(logFile, 'utf8')));
      expect(JSON.parse(fromFront)).toMatchObject({ level: 'error', msg: 'container does not exist' });
      rmSync(logFile);
    }
    // Relative paths are the working directory's (path.resolve), a trailing slash and `..` as Node reads them.
    const rel = call('front', ['state', 'nosuch'], { globals: ['--root', `${root}/../state/`] });
    expect([rel.code, rel.trace]).toEqual([1, []]);
  });

  it('hands every other call to Node with its argv unchanged: other verbs, --version, --help, --debug, a malformed command line', () => {
    expect(same(['--version'], /global option/, TWO_MODES).stdout).toMatch(/^hull-runc version \S+\nspec: 1\.\d+\.\d+\n$/);
    expect(call('front', ['--help'])).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('Usage: hull-runc'),
      trace: [expect.stringMatching(/global option/)],
    });
    expect(same(['list', '--format', 'json'], /a verb Node serves/, TWO_MODES).stdout).toBe('null\n');
    same(['--debug', 'state', 'nosuch'], /global option/, TWO_MODES);
    same(['--log-format', 'yaml', 'state', 'nosuch'], /neither text nor json/, TWO_MODES);
    same(['state', 'nosuch', 'extra'], /too many arguments/, TWO_MODES);
    same(['state'], /a missing argument/, TWO_MODES);
    same(['state', '--help'], /option of the verb/, TWO_MODES);
    same(['delete', '-fa', 'nosuch'], /option of the verb/, TWO_MODES);
    same(['frobnicate'], /a verb Node serves/, TWO_MODES);
    // Node is $HULL_NODE (a path, or a name on PATH); one that cannot run is one clear line.
    expect(call('front', ['--version'], { env: { HULL_NODE: 'node' } })).toMatchObject({ code: 0, stdout: expect.stringContaining('hull-runc version') });
    const missing = call('front', ['list'], { env: { HULL_NODE: '/nonexistent/node' } });
    expect([missing.code, missing.stdout, missing.stderr]).toEqual([1, '', 'hull-runc: cannot hand the call to Node: exec /nonexistent/node: ENOENT\n']);
    // NODE_EXTRA_CA_CERTS is not passed on (Node would read the bundle it names at start, and warn here that it cannot).
    const certs = { NODE_EXTRA_CA_CERTS: path.join(base, 'no-such-bundle.pem') };
    expect(spawnSync(process.execPath, ['-e', '0'], { encoding: 'utf8', env: { ...process.env, ...certs } }).stderr).toContain('Ignoring extra certs');
    expect(call('front', ['--version'], { env: certs })).toMatchObject({ code: 0, stderr: '', stdout: expect.stringContaining('hull-runc version') });
  });

  it("bin/hull-runc (npm's bin, linked from node_modules/.bin) runs the front, through a link too", () => {
    const link = path.join(base, 'bin-link');
    symlinkSync(path.join(PROJECT, 'bin', 'hull-runc'), link);
    for (const cmd of [path.join(PROJECT, 'bin', 'hull-runc'), link]) {
      expect(call('front', ['state', 'nosuch'], { cmd })).toMatchObject({ code: 1, stderr: 'container does not exist\n', trace: [] });
      expect(call('front', ['--version'], { cmd })).toMatchObject({ code: 0, stdout: expect.stringContaining('hull-runc version') });
    }
  });

  it('start and delete of a container with hooks go to Node, which runs them (poststart, poststop)', async () => {
    const out = path.join(base, 'hooks');
    mkdirSync(out);
    const hook = (name: string) => ({ path: '/bin/sh', args: ['sh', '-c', `cat > ${path.join(out, name)}.json`], env: ['PATH=/usr/bin:/bin'] });
    const { dir, id } = bundle(['sleep', '60'], (spec) => {
      spec.hooks = { poststart: [hook('poststart')], poststop: [hook('poststop')] };
    });
    expect(call('front', ['create', '--bundle', dir, id], { detached: true }).code).toBe(0);
    expect(JSON.parse(readFileSync(path.join(root, id, 'state.json'), 'utf8'))).toMatchObject({ hooks: ['poststart', 'poststop'] });
    expect(same(['state', id], true, TWO_MODES).code).toBe(0); // state and kill run no hooks: the front's own
    expect(call('front', ['start', id])).toMatchObject({ code: 0, stderr: '', trace: ['start: the container has start hooks'] });
    expect(JSON.parse(readFileSync(path.join(out, 'poststart.json'), 'utf8'))).toMatchObject({ id, status: 'running', bundle: dir });
    expect(call('front', ['kill', id, 'KILL'])).toMatchObject({ code: 0, trace: [] });
    await until(() => status(id) === 'stopped');
    expect(existsSync(path.join(out, 'poststop.json'))).toBe(false);
    expect(call('front', ['delete', id])).toMatchObject({ code: 0, stderr: '', trace: ['delete: the container has poststop hooks'] });
    expect(JSON.parse(readFileSync(path.join(out, 'poststop.json'), 'utf8'))).toMatchObject({ id, status: 'stopped', pid: 0, bundle: dir });
    expect(existsSync(path.join(root, id))).toBe(false);
    expect(existsSync(path.join(cgroupRoot, cgroupParent, id))).toBe(false);
  });

  describe('a state.json the front cannot read, or with a member it does not know, goes to Node (the JSON reader, through the binary)', () => {
    /** A container's saved state, without a container: its pid is no process's (stopped). */
    const saved = (id: string, extra: Record<string, unknown> = {}) => ({
      id,
      bundle: '/b',
      rootfs: '/b/rootfs',
      pid: 2147483646,
      pidStartTime: 1,
      created: '2026-01-01T00:00:00.000Z',
      cgroup: { parent: 'p', name: id, path: '/nonexistent/cgroup' },
      hooks: [],
      ...extra,
    });
    let m = 0;
    function fake(text: string | Buffer | ((id: string) => string | Buffer)): string {
      const id = `s${++m}`;
      mkdirSync(path.join(root, id));
      writeFileSync(path.join(root, id, 'state.json'), typeof text === 'function' ? text(id) : text);
      writeFileSync(path.join(root, id, 'config.json'), '{}');
      return id;
    }
    const json = (id: string, extra?: Record<string, unknown>) => JSON.stringify(saved(id, extra));
    /** The saved state's JSON with `pattern` replaced (raw text the stringifier would not write). */
    const edited = (pattern: string, replacement: string) => (id: string) => json(id).replace(pattern, replacement);

    it('what it reads: every escape, surrogate pairs, any whitespace; the output is byte for byte Node’s', () => {
      const escapes = (id: string) => json(id).replace('"bundle":"/b"', String.raw`"bundle":"\/b\"\\\b\f\n\r\t\u00e9\u00E9\ud83d\ude00\u0000\u001F\u2028x"`);
      for (const text of [
        json,
        escapes,
        (id: string) => JSON.stringify(saved(id), null, '\t').replaceAll('\n', '\r\n') + ' \n',
        (id: string) => json(id, { annotations: {} }),
      ]) {
        const id = fake(text);
        const r = same(['state', id], true, TWO_MODES);
        expect(JSON.parse(r.stdout)).toMatchObject({ id, status: 'stopped', pid: 0 });
      }
    });

    it("what it refuses, each with its reason: Node answers as it would (JSON.parse's error, or the state)", () => {
      const cases: [string | Buffer | ((id: string) => string | Buffer), RegExp][] = [
        ['', /byte 0: unexpected end/],
        [(id) => json(id).slice(0, 20), /byte 20: (unterminated string|unexpected end)/],
        [(id) => `${json(id)} x`, /more after the value/],
        [(id) => `\ufeff${json(id)}`, /byte 0: unexpected character/],
        [(id) => `[${json(id)}]`, /not an object/],
        [edited('"bundle":"/b"', String.raw`"bundle":"\ud800"`), /a lone high surrogate/],
        [edited('"bundle":"/b"', String.raw`"bundle":"\ud800\u0041"`), /a lone high surrogate/],
        [edited('"bundle":"/b"', String.raw`"bundle":"\udc00"`), /a lone low surrogate/],
        [edited('"bundle":"/b"', String.raw`"bundle":"\x"`), /an unknown escape/],
        [edited('"bundle":"/b"', String.raw`"bundle":"\u12G4"`), /four hex digits/],
        [edited('"bundle":"/b"', '"bundle":"a\tb"'), /a control character/],
        [(id) => Buffer.from(json(id).replace('"/b"', '"/b\u00ff"'), 'latin1'), /not UTF-8/], // a byte that starts nothing
        [(id) => Buffer.from(json(id).replace('"/b"', '"/b\u00c0\u00af"'), 'latin1'), /not UTF-8/], // an overlong "/"
        [(id) => Buffer.from(json(id).replace('"/b"', '"/b\u00ed\u00a0\u0080"'), 'latin1'), /not UTF-8/], // a surrogate's bytes
        [edited('"pid":2147483646', '"pid":01'), /expected ',' or '}'/],
        [edited('"pid":2147483646', '"pid":1.0'), /pid missing or not a process id/],
        [edited('"pid":2147483646', '"pid":2e9'), /pid missing or not a process id/],
        [edited('"pid":2147483646', '"pid":-'), /expected a digit/],
        [edited('"pid":2147483646', '"pid":"1"'), /pid missing or not a process id/],
        [edited('"pid":2147483646', '"pid":2147483646,"pid":2147483645'), /a member twice/],
        [edited('"hooks":[]', `"hooks":${'['.repeat(70)}${']'.repeat(70)}`), /nested too deep/],
        [(id) => json(id, { hostRootfsMount: '/run/x' }), /a member the front does not know/],
        [(id) => json(id, { annotations: { '0': 'index', a: 'b' } }), /array index/],
        [(id) => json(id, { annotations: { a: 1 } }), /annotations not an object of strings/],
        [(id) => json(id, { hooks: ['poststop', 'later'] }), /a hook kind the front does not know/],
        [(id) => json(id, { cgroup: { parent: 'p', name: id } }), /cgroup without path \(made by an older hull\)/],
        [(id) => json(id).replace(',"hooks":[]', ''), /no hooks \(made by an older hull\)/],
        [(id) => json(id, { id: 'other' }), /its id is not/],
        [(id) => `${json(id)}\u0000`, /a NUL byte/],
      ];
      for (const [text, why] of cases) {
        const id = fake(text);
        same(['state', id], why, [ALL_MODES[0]!]);
      }
      // state.json that is not a file, and a missing config.json where start and delete read it.
      const asDir = `s${++m}`;
      mkdirSync(path.join(root, asDir, 'state.json'), { recursive: true });
      same(['state', asDir], /EISDIR/, TWO_MODES);
      const noConfig = fake(json);
      rmSync(path.join(root, noConfig, 'config.json'));
      same(['start', noConfig], /config\.json: not a file/, TWO_MODES);
    });

    it('delete of a container whose state has a member the front does not know (a newer hull): Node deletes it', () => {
      const id = fake((i) => json(i, { hostRootfsMount: path.join(base, 'no-such-mount') }));
      const r = call('front', ['delete', id]);
      expect(r.trace).toEqual([expect.stringMatching(/a member the front does not know/)]);
      expect(existsSync(path.join(root, id))).toBe(false);
    });
  });
});
