// hull-runc, runc's command line as containerd's runc shim calls it: global flags before the verb,
// nothing on stdout on success, one JSON line per failure in --log with its message on stderr and
// exit 1, the pid file written atomically without a newline before create returns, runc's error
// texts, and bad input refused with nothing created. Driven through the native front
// (build/Release/hull-runc), as containerd runs it: state, start, kill and delete are its own, the
// rest it hands to Node (hull-runc-front.test.ts checks the two paths say the same).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findCgroup2Mount } from '../../src/runtime/cgroups.js';
import { makeBundle } from '../helpers/oci-bundle.js';
import { PROJECT, canRunContainers, skipReason } from '../helpers/hull-env.js';
import type { RuntimeSpec } from '../../src/runtime/spec.js';

const HULL_RUNC = path.join(PROJECT, 'build', 'Release', 'hull-runc');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The lines this call appended to the --log file, parsed. */
  log: { level: string; msg: string; time: string }[];
}

describe.skipIf(!canRunContainers)(`hull-runc: runc's command line (integration${skipReason})`, () => {
  let base: string;
  let root: string;
  let logFile: string;
  let cgroupRoot: string;
  let cgroupParent: string;
  let n = 0;

  beforeAll(() => {
    base = mkdtempSync(path.join(tmpdir(), 'hull-runc-'));
    root = path.join(base, 'state');
    logFile = path.join(base, 'log.json');
    cgroupRoot = findCgroup2Mount(readFileSync('/proc/self/mountinfo', 'utf8')) ?? '/sys/fs/cgroup';
    cgroupParent = `hull-test-${path.basename(base)}`;
  });

  afterAll(() => {
    const cg = path.join(cgroupRoot, cgroupParent);
    if (existsSync(cg)) spawnSync('rmdir', [cg]);
    expect(existsSync(cg)).toBe(false);
    rmSync(base, { recursive: true, force: true });
  });

  function bundle(args: string[], patch?: (spec: RuntimeSpec) => void): { dir: string; id: string } {
    const id = `r${++n}-${path.basename(base).slice(-6)}`;
    const dir = path.join(base, id);
    makeBundle(dir, id, args, cgroupParent, patch);
    return { dir, id };
  }

  /** hull-runc with the shim's global flags; the container's stdio (hull-runc's own) go to `out`, or are captured. */
  function runc(args: string[], opts: { out?: string; extraGlobals?: string[]; extraFds?: number[] } = {}): Result {
    const before = existsSync(logFile) ? readFileSync(logFile, 'utf8').length : 0;
    const fd = opts.out === undefined ? undefined : openSync(opts.out, 'a');
    const r = spawnSync(HULL_RUNC, ['--root', root, '--log', logFile, '--log-format', 'json', ...(opts.extraGlobals ?? []), ...args], {
      stdio: [...(fd === undefined ? (['ignore', 'pipe', 'pipe'] as const) : (['ignore', fd, fd] as const)), ...(opts.extraFds ?? [])],
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (fd !== undefined) closeSync(fd);
    const appended = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(before) : '';
    const log = appended
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Result['log'][number]);
    return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', log };
  }

  function state(id: string): { status: string; pid: number; id: string; bundle: string } {
    const r = runc(['state', id]);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as { status: string; pid: number; id: string; bundle: string };
  }

  /** A failure as runc reports it: exit 1, the message alone on stderr, one error line in the log. */
  function expectFailure(r: Result, message: string | RegExp): void {
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toMatch(message);
    expect(r.log).toHaveLength(1);
    expect(r.log[0]!.level).toBe('error');
    expect(r.log[0]!.msg).toBe(r.stderr.trim());
    expect(r.log[0]!.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  }

  function nothingLeft(id: string): void {
    expect(existsSync(path.join(root, id))).toBe(false);
    expect(existsSync(path.join(cgroupRoot, cgroupParent, id))).toBe(false);
  }

  it('create, start, state, delete: nothing on stdout, the output where the container writes it, the pid file without a newline', () => {
    const { dir, id } = bundle(['sh', '-c', 'echo out; echo err >&2; exit 7']);
    const out = path.join(base, `${id}.out`);
    const pidFile = path.join(base, `${id}.pid`);
    const created = runc(['create', '--bundle', dir, '--pid-file', pidFile, id], { out });
    expect(created.code, readFileSync(out, 'utf8')).toBe(0);
    expect(created.log).toEqual([]);
    expect(readFileSync(out, 'utf8')).toBe(''); // nothing of hull-runc's, nothing of the container's yet
    const pid = readFileSync(pidFile, 'utf8');
    expect(pid).toMatch(/^\d+$/); // no newline
    expect(readdirSync(base).filter((f) => f.startsWith(`${id}.pid.`))).toEqual([]); // written through a temp file, renamed
    const s = state(id);
    expect(s).toMatchObject({ id, status: 'created', pid: Number(pid), bundle: dir });
    expect(runc(['start', id], { out }).code).toBe(0);
    const deadline = Date.now() + 10_000;
    while (state(id).status !== 'stopped' && Date.now() < deadline) spawnSync('sleep', ['0.05']);
    expect(state(id).status).toBe('stopped');
    expect(readFileSync(out, 'utf8').split('\n').sort().join('\n')).toBe('\nerr\nout');
    const deleted = runc(['delete', id]);
    expect([deleted.code, deleted.stdout, deleted.stderr, deleted.log]).toEqual([0, '', '', []]);
    nothingLeft(id);
  });

  it("runc's error texts, each in the log and on stderr", () => {
    const { dir, id } = bundle(['sleep', '60']);
    for (const verb of [['state'], ['start'], ['kill'], ['delete'], ['pause'], ['resume'], ['ps']]) {
      expectFailure(runc([...verb, 'nosuch']), 'container does not exist');
    }
    expect(runc(['delete', '--force', 'nosuch']).code).toBe(0); // --force: no error for a missing one
    expect(runc(['create', '--bundle', dir, id], { out: '/dev/null' }).code).toBe(0);
    expectFailure(runc(['create', '--bundle', dir, id]), `container with id exists: ${id}`); // no container made: its output is hull-runc's
    expectFailure(runc(['resume', id]), 'container not paused');
    expect(runc(['start', id]).code).toBe(0);
    expectFailure(runc(['start', id]), 'cannot start an already running container');
    expectFailure(runc(['delete', id]), `cannot delete container ${id} that is not stopped: running`);
    expect(runc(['pause', id]).code).toBe(0);
    expect(state(id).status).toBe('paused');
    expectFailure(runc(['pause', id]), 'container already paused');
    expectFailure(runc(['delete', id]), `cannot delete container ${id} that is not stopped: paused`);
    expect(runc(['resume', id]).code).toBe(0);
    expect(state(id).status).toBe('running');
    const ps = runc(['ps', '--format', 'json', id]);
    expect(JSON.parse(ps.stdout)).toEqual([state(id).pid]);
    expectFailure(runc(['kill', id, 'NOSUCHSIG']), 'unknown signal "NOSUCHSIG"');
    expect(runc(['kill', id, 'KILL']).code).toBe(0);
    const deadline = Date.now() + 10_000;
    while (state(id).status !== 'stopped' && Date.now() < deadline) spawnSync('sleep', ['0.05']);
    expectFailure(runc(['kill', id, '9']), 'container not running');
    expect(runc(['kill', '--all', id, 'KILL']).code).toBe(0); // --all on a stopped container: nothing to signal, no error
    expectFailure(runc(['start', id]), 'cannot start a container that has stopped');
    expect(runc(['delete', id]).code).toBe(0);
    nothingLeft(id);
  });

  it('a created container is deleted without ever running; delete --force ends a running one', () => {
    const first = bundle(['sh', '-c', 'touch /out/ran']);
    expect(runc(['create', '--bundle', first.dir, first.id], { out: '/dev/null' }).code).toBe(0);
    expect(runc(['delete', first.id]).code).toBe(0);
    expect(existsSync(path.join(first.dir, 'rootfs', 'out', 'ran'))).toBe(false);
    nothingLeft(first.id);
    const second = bundle(['sleep', '60']);
    expect(runc(['run', '--detach', '--bundle', second.dir, second.id], { out: '/dev/null' }).code).toBe(0);
    expect(state(second.id).status).toBe('running');
    expect(runc(['delete', '--force', second.id]).code).toBe(0);
    nothingLeft(second.id);
  });

  it("run: the container's exit status (128 + N for a signal), and it is deleted after", async () => {
    const exits = bundle(['sh', '-c', 'exit 3']);
    expect(runc(['run', '--bundle', exits.dir, exits.id], { out: '/dev/null' }).code).toBe(3);
    nothingLeft(exits.id);
    // The container's init ignores signals it has no handler for, but not SIGKILL from outside.
    const killed = bundle(['sleep', '60']);
    const child = spawn(HULL_RUNC, ['--root', root, 'run', '--bundle', killed.dir, killed.id], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 10_000;
    while (!existsSync(path.join(root, killed.id, 'state.json')) || state(killed.id).status !== 'running') {
      if (Date.now() > deadline) throw new Error('the container did not start');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(runc(['kill', killed.id, 'KILL']).code).toBe(0);
    expect(await exited).toBe(128 + 9);
    nothingLeft(killed.id);
  });

  it('--console-socket: one message with the pty master (SCM_RIGHTS) and its name; the container has it as its terminal', async () => {
    const socket = path.join(base, 'console.sock');
    // The receiving end, as containerd's shim: accept one connection, take the fd, then read the pty until the container is done.
    const receiver = [
      'import array, os, socket, sys',
      's = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.bind(sys.argv[1]); s.listen(1)',
      'print("listening", flush=True)',
      'c, _ = s.accept()',
      'fds = array.array("i")',
      'msg, anc, _, _ = c.recvmsg(4096, socket.CMSG_SPACE(fds.itemsize))',
      'fds.frombytes(anc[0][2][:fds.itemsize])',
      'print("name", msg.decode(), "fds", len(anc), flush=True)',
      'out = b""',
      'while True:',
      '    try:',
      '        b = os.read(fds[0], 4096)',
      '    except OSError:',
      '        break',
      '    if not b: break',
      '    out += b',
      'print("pty", repr(out.decode()), flush=True)',
    ].join('\n');
    const py = spawn('python3', ['-c', receiver, socket], { stdio: ['ignore', 'pipe', 'inherit'] });
    let heard = '';
    py.stdout.on('data', (b: Buffer) => (heard += b.toString()));
    const pyExit = new Promise<void>((resolve) => py.on('exit', () => resolve()));
    while (!heard.includes('listening')) await new Promise((resolve) => setTimeout(resolve, 20));
    const { dir, id } = bundle(['sh', '-c', '[ -t 0 ] && [ -t 1 ] && echo "on a terminal"'], (spec) => {
      spec.process.terminal = true;
    });
    const created = runc(['create', '--bundle', dir, '--console-socket', socket, id]);
    expect([created.code, created.stdout, created.stderr]).toEqual([0, '', '']);
    expect(runc(['start', id]).code).toBe(0);
    const deadline = Date.now() + 10_000;
    while (state(id).status !== 'stopped' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(runc(['delete', id]).code).toBe(0);
    await pyExit;
    expect(heard).toContain('name /dev/ptmx fds 1');
    expect(heard).toMatch(/pty '.*on a terminal\\r\\n'/);
    nothingLeft(id);
    // A terminal without a console socket, and a console socket without a terminal: runc's refusals.
    const noSocket = bundle(['true'], (spec) => {
      spec.process.terminal = true;
    });
    expectFailure(runc(['create', '--bundle', noSocket.dir, noSocket.id]), 'cannot allocate tty if runc will detach without setting console socket');
    nothingLeft(noSocket.id);
    const noTerminal = bundle(['true']);
    expectFailure(
      runc(['create', '--bundle', noTerminal.dir, '--console-socket', socket, noTerminal.id]),
      'cannot use console socket if runc will not detach or allocate tty',
    );
    nothingLeft(noTerminal.id);
  });

  it('exec: output and exit status, --detach with a pid file, --process, a missing binary (255), a stopped container', () => {
    const { dir, id } = bundle(['sleep', '60']);
    expect(runc(['run', '--detach', '--bundle', dir, id], { out: '/dev/null' }).code).toBe(0);
    const r = runc(['exec', id, 'sh', '-c', 'echo in the container as $(id -u); exit 4']);
    expect([r.code, r.stdout, r.log]).toEqual([4, 'in the container as 0\n', []]);
    const pidFile = path.join(base, `${id}.exec.pid`);
    const detachedOut = path.join(base, `${id}.exec.out`);
    const detached = runc(['exec', '--detach', '--pid-file', pidFile, id, 'sleep', '30'], { out: detachedOut }); // its stdio: hull-runc's, left open
    expect([detached.code, readFileSync(detachedOut, 'utf8')]).toEqual([0, '']);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(JSON.parse(runc(['ps', '--format', 'json', id]).stdout)).toContain(pid);
    // In the container's pid namespace: the same one as its first process.
    expect(readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(/NSpid:\s+\d+\s+\d+/);
    const processFile = path.join(base, `${id}.process.json`);
    writeFileSync(
      processFile,
      JSON.stringify({ args: ['sh', '-c', 'echo $(id -u):$(id -g) $FOO $(pwd)'], env: ['FOO=bar', 'PATH=/bin'], cwd: '/tmp', user: { uid: 1000, gid: 1001 } }),
    );
    expect(runc(['exec', '--process', processFile, id]).stdout).toBe('1000:1001 bar /tmp\n');
    const missing = runc(['exec', id, '/no/such/binary']);
    expect(missing.code).toBe(255);
    expect(missing.stderr).toMatch(/^exec failed: .*ENOENT/);
    expect(missing.log[0]!.msg).toBe(missing.stderr.trim());
    // Detached, the process waits at a gate until hull-runc exits (containerd 1.6's shim loses the
    // exit of one that ends before it has read the pid file): a missing binary still fails here,
    // and a process that ends at once still runs, after hull-runc.
    const missingDetached = runc(['exec', '--detach', id, '/no/such/binary']);
    expect([missingDetached.code, missingDetached.stderr]).toEqual([255, expect.stringMatching(/^exec failed: .*ENOENT/)]);
    const quick = runc(['exec', '--detach', id, 'sh', '-c', 'echo ran > /tmp/quick']);
    expect(quick.code).toBe(0);
    const ran = path.join(dir, 'rootfs', 'tmp', 'quick');
    const until = Date.now() + 10_000;
    while (!existsSync(ran) && Date.now() < until) spawnSync('sleep', ['0.05']);
    expect(readFileSync(ran, 'utf8')).toBe('ran\n');
    writeFileSync(processFile, '{"args": []}');
    expect(runc(['exec', '--process', processFile, id]).stderr).toMatch(/^exec failed: .*args: expected at least the command/);
    expect(runc(['kill', id, 'KILL']).code).toBe(0);
    const deadline = Date.now() + 10_000;
    while (state(id).status !== 'stopped' && Date.now() < deadline) spawnSync('sleep', ['0.05']);
    expect(runc(['exec', id, 'true']).stderr).toBe('exec failed: cannot exec in a stopped container\n');
    expect(runc(['delete', id]).code).toBe(0);
    nothingLeft(id);
  });

  it('--preserve-fds N: fds 3 … 2+N of hull-runc reach the process (create and exec), no others', () => {
    const { dir, id } = bundle(['sh', '-c', 'echo from-init >&3; echo also >&4; ls /proc/self/fd | tr "\\n" " "; sleep 60']);
    const out = path.join(base, `${id}.out`);
    const fd3 = path.join(base, `${id}.fd3`);
    const fd4 = path.join(base, `${id}.fd4`);
    const [a, b] = [openSync(fd3, 'w'), openSync(fd4, 'w')];
    try {
      expect(runc(['create', '--preserve-fds', '2', '--bundle', dir, id], { out, extraFds: [a, b] }).code).toBe(0);
      expect(runc(['start', id]).code).toBe(0);
      const deadline = Date.now() + 10_000;
      while (!readFileSync(out, 'utf8').includes(' ') && Date.now() < deadline) spawnSync('sleep', ['0.05']);
      expect(readFileSync(fd3, 'utf8')).toBe('from-init\n');
      expect(readFileSync(fd4, 'utf8')).toBe('also\n');
      expect(readFileSync(out, 'utf8')).toBe('0 1 2 3 4 5 '); // 5: ls's own directory
      const exec = runc(['exec', '--preserve-fds', '1', id, 'sh', '-c', 'echo exec >&3; ls /proc/self/fd | tr "\\n" " "'], { extraFds: [a] });
      expect([exec.code, exec.stdout]).toEqual([0, '0 1 2 3 4 ']);
      expect(readFileSync(fd3, 'utf8')).toBe('from-init\nexec\n');
      expect(runc(['exec', id, 'sh', '-c', 'echo none >&3'], { extraFds: [a] }).stderr).toMatch(/3: Bad file descriptor/); // without the flag: not passed
      expectFailure(runc(['create', '--preserve-fds', 'x', '--bundle', dir, `${id}-x`]), 'invalid --preserve-fds: x');
      expect(runc(['delete', '--force', id]).code).toBe(0);
      nothingLeft(id);
    } finally {
      closeSync(a);
      closeSync(b);
    }
  });

  it('a container without a mount namespace of its own: exec enters its root; delete leaves nothing mounted', () => {
    const { dir, id } = bundle(['sleep', '60'], (spec) => {
      spec.linux.namespaces = spec.linux.namespaces.filter((n) => n.type !== 'mount');
      delete spec.linux.maskedPaths;
      delete spec.linux.readonlyPaths;
    });
    writeFileSync(path.join(dir, 'rootfs', 'etc', 'marker'), 'in its root\n');
    const mountsBelow = () =>
      readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .filter((l) => l.split(' ')[4]?.startsWith(dir)).length;
    expect(runc(['run', '--detach', '--bundle', dir, id], { out: '/dev/null' }).code).toBe(0);
    expect(mountsBelow()).toBeGreaterThan(0);
    const r = runc(['exec', id, 'cat', '/etc/marker']);
    expect([r.code, r.stdout]).toEqual([0, 'in its root\n']);
    expect(runc(['delete', '--force', id]).code).toBe(0);
    nothingLeft(id);
    expect(mountsBelow()).toBe(0);
  });

  it("update: resources from --resources (a file or stdin) and runc's flags; a controller the host lacks is named", () => {
    const { dir, id } = bundle(['sleep', '60']);
    expect(runc(['run', '--detach', '--bundle', dir, id], { out: '/dev/null' }).code).toBe(0);
    const stdin = spawnSync(HULL_RUNC, ['--root', root, 'update', '--resources', '-', id], { input: '{}', encoding: 'utf8' });
    expect([stdin.status, stdin.stdout, stdin.stderr]).toEqual([0, '', '']);
    const file = path.join(base, `${id}.resources.json`);
    writeFileSync(file, '{"memory": {"limit": "lots"}}');
    expectFailure(runc(['update', '--resources', file, id]), 'resources: memory.limit: expected an integer >= -1, found "lots"');
    expectFailure(runc(['update', '--pids-limit', 'ten', id]), /--pids-limit/);
    const controllers = readFileSync(path.join(cgroupRoot, 'cgroup.subtree_control'), 'utf8');
    const r = runc(['update', '--pids-limit', '10', id]);
    if (controllers.split(/\s+/).includes('pids')) {
      // A host whose cgroup v2 has the pids controller (the vm tier's kind): the limit is written and kept.
      expect(r.code, r.stderr).toBe(0);
      expect(readFileSync(path.join(cgroupRoot, cgroupParent, id, 'pids.max'), 'utf8').trim()).toBe('10');
    } else {
      expectFailure(r, /cgroup controller 'pids' .* not available/);
    }
    expect(runc(['delete', '--force', id]).code).toBe(0);
    nothingLeft(id);
  });

  it("the bundle's devices (a fifo, an owner), a shared root of its own, oomScoreAdj", () => {
    const { dir, id } = bundle(
      ['sh', '-c', 'ls -ln /dev/fifo /dev/mynull; grep -E "^[0-9]+ [0-9]+ [0-9:]+ [^ ]+ / " /proc/self/mountinfo; cat /proc/self/oom_score_adj'],
      (spec) => {
        spec.linux.devices = [
          { path: '/dev/fifo', type: 'p', major: 0, minor: 0, fileMode: 0o600, uid: 0, gid: 0 },
          { path: '/dev/mynull', type: 'c', major: 1, minor: 3, fileMode: 0o640, uid: 1000, gid: 1001 },
        ];
        spec.linux.rootfsPropagation = 'rshared';
        spec.process.oomScoreAdj = 345;
      },
    );
    const out = path.join(base, `${id}.out`);
    expect(runc(['run', '--bundle', dir, id], { out }).code, readFileSync(out, 'utf8')).toBe(0);
    const [fifo, mynull, root, adj] = readFileSync(out, 'utf8').trim().split('\n');
    expect(fifo).toMatch(/^prw------- .* 0 +0 .*\/dev\/fifo$/);
    expect(mynull).toMatch(/^crw-r----- .* 1000 +1001 +1, +3 .*\/dev\/mynull$/);
    expect(root).toMatch(/ shared:\d+/); // a peer group of the container's own: the host's / is not in it
    expect(adj).toBe('345');
    nothingLeft(id);
  });

  it('bad input: each a clear error, exit 1, nothing created', () => {
    const cases: { name: string; args: (dir: string, id: string) => string[]; setup?: (dir: string) => void; message: RegExp }[] = [
      {
        name: 'malformed config.json',
        setup: (d) => writeFileSync(path.join(d, 'config.json'), '{"ociVersion": '),
        args: (d, id) => ['create', '--bundle', d, id],
        message: /config\.json: not valid JSON/,
      },
      {
        name: 'missing config.json',
        setup: (d) => rmSync(path.join(d, 'config.json')),
        args: (d, id) => ['create', '--bundle', d, id],
        message: /config\.json.*ENOENT|no such file/i,
      },
      {
        name: 'unknown major ociVersion',
        setup: (d) => {
          const spec = JSON.parse(readFileSync(path.join(d, 'config.json'), 'utf8')) as RuntimeSpec;
          spec.ociVersion = '2.0.0';
          writeFileSync(path.join(d, 'config.json'), JSON.stringify(spec));
        },
        args: (d, id) => ['create', '--bundle', d, id],
        message: /ociVersion: expected a 1\.x version of the runtime-spec, found "2\.0\.0"/,
      },
      {
        name: 'missing rootfs',
        setup: (d) => rmSync(path.join(d, 'rootfs'), { recursive: true }),
        args: (d, id) => ['create', '--bundle', d, id],
        message: /rootfs \(".*"\) does not exist/,
      },
      { name: 'an id with a slash', args: (d) => ['create', '--bundle', d, 'a/b'], message: /^invalid id format: a\/b$/ },
      { name: 'an id of ..', args: (d) => ['create', '--bundle', d, '..'], message: /^invalid id format: \.\.$/ },
      { name: 'an unknown verb', args: () => ['frobnicate', 'x'], message: /unknown command 'frobnicate'/ },
      { name: 'an unknown flag', args: (d, id) => ['create', '--bundel', d, id], message: /unknown option '--bundel'/ },
    ];
    for (const c of cases) {
      const { dir, id } = bundle(['true']);
      c.setup?.(dir);
      const r = runc(c.args(dir, id), { out: undefined });
      expect([c.name, r.code]).toEqual([c.name, 1]);
      expectFailure(r, c.message);
      nothingLeft(id);
      expect(existsSync(path.join(root, 'a'))).toBe(false);
    }
    expect(readdirSync(root)).toEqual([]);
  });

  it('the log in text format, and on stderr without --log', () => {
    const r = spawnSync(HULL_RUNC, ['--root', root, 'state', 'nosuch'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^time="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ" level=error msg="container does not exist"\n$/);
    const textLog = path.join(base, 'log.txt');
    const t = spawnSync(HULL_RUNC, ['--root', root, '--log', textLog, 'kill', 'nosuch'], { encoding: 'utf8' });
    expect(t.stderr).toBe('container does not exist\n');
    expect(readFileSync(textLog, 'utf8')).toMatch(/^time="[^"]+" level=error msg="container does not exist"\n$/);
  });

  it('list, features, spec and --version', () => {
    expect(runc(['list', '--format', 'json']).stdout).toBe('null\n');
    expect(runc(['list']).stdout).toBe('ID          PID         STATUS      BUNDLE      CREATED     OWNER\n');
    const features = JSON.parse(runc(['features']).stdout) as { ociVersionMax: string; hooks: string[]; linux: { namespaces: string[] } };
    expect(features.hooks).toContain('createRuntime');
    expect(features.linux.namespaces).toContain('user');
    const dir = path.join(base, 'spec-bundle');
    mkdirSync(dir);
    expect(runc(['spec', '--bundle', dir]).code).toBe(0);
    expect((JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as RuntimeSpec).process.args).toEqual(['sh']);
    expectFailure(runc(['spec', '--bundle', dir]), 'File config.json exists. Remove it first.');
    expect(runc(['--version']).stdout).toMatch(/^hull-runc version \S+\nspec: 1\.\d+\.\d+\n$/);
    expectFailure(runc(['checkpoint', 'x']), 'checkpoint is not supported by hull-runc');
  });
});
