// `hull run` end to end through the CLI, as root on the host kernel.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxDockerArchive, busyboxOciDir } from '../helpers/busybox-image.js';
import { HullEnv, canRunContainers, skipReason, snapshotTree } from '../helpers/hull-env.js';

describe.skipIf(!canRunContainers)(`hull run (integration${skipReason})`, () => {
  let env: HullEnv;
  let layersBefore: string;

  beforeAll(async () => {
    env = new HullEnv();
    await env.loadBusybox();
    layersBefore = snapshotTree(path.join(env.root, 'layers'));
  });

  afterAll(() => {
    // The image's layers are exactly as they were, after everything below wrote into containers.
    expect(snapshotTree(path.join(env.root, 'layers'))).toBe(layersBefore);
    env.destroy();
  });

  function clean(): void {
    expect(env.leftovers()).toEqual([]);
  }

  it("start-up: `run` loads none of the built-in modules only other verbs use (the registry's http/https/tls, readline, child_process)", () => {
    // A static import of the registry client in a module run evaluates once cost every run ~10 ms (http, https, tls, net).
    const dump = path.join(env.root, 'modules.txt');
    const preload = path.join(env.root, 'record-modules.cjs');
    writeFileSync(preload, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(dump)}, process.moduleLoadList.join('\\n')));\n`);
    const r = env.cli(['run', '--rm', '--network', 'none', 'busybox', 'true'], { env: { ...process.env, NODE_OPTIONS: `--require ${preload}` } });
    expect(r.code, r.stderr).toBe(0);
    const builtins = readFileSync(dump, 'utf8')
      .split('\n')
      .filter((m) => m.startsWith('NativeModule '))
      .map((m) => m.slice('NativeModule '.length));
    expect(builtins).toContain('fs'); // the list is what it says
    // (net is loaded when stdout is a pipe, as here: process.stdout is a socket then; with a bridge network, child_process runs ip and nft.)
    expect(['http', 'https', 'tls', 'readline', 'child_process'].filter((m) => builtins.includes(m))).toEqual([]);
    clean();
  });

  it('runs the command as PID 1, seeing only its own processes', () => {
    // `exit 0` keeps sh from exec'ing ps in its place.
    const r = env.cli(['run', '--rm', 'busybox', 'sh', '-c', 'echo pid=$$; ps -o pid,comm; exit 0']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('pid=1');
    // the header, sh (1) and ps itself: nothing of the host's
    expect(lines.slice(1).map((l) => l.trim().split(/\s+/)[1])).toEqual(['COMMAND', 'sh', 'ps']);
    clean();
  });

  it('has its own hostname (the short id by default, or -h), and with --network none only lo', () => {
    const r = env.cli(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'hostname; cat /etc/hostname; ls /sys/class/net']);
    const [name, etcName, ...links] = r.stdout.trim().split('\n');
    expect(name).toMatch(/^[0-9a-f]{12}$/);
    expect(etcName).toBe(name);
    expect(links).toEqual(['lo']);
    expect(env.cli(['run', '--rm', '-h', 'web1', 'busybox', 'hostname']).stdout).toBe('web1\n');
    expect(env.cli(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'ip -o link | cut -d: -f2']).stdout.trim()).toBe('lo');
    clean();
  });

  it("does not see the host's mounts", () => {
    const r = env.cli(['run', '--rm', 'busybox', 'cat', '/proc/self/mountinfo']);
    expect(r.code).toBe(0);
    const mountPoints = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(' ')[4]!);
    expect(mountPoints[0]).toBe('/');
    // Only what the runtime mounted: its file systems, the /etc binds, masked and read-only paths.
    const own = /^\/(proc|dev|sys|etc\/(hostname|hosts|resolv\.conf))(\/|$)|^\/$/;
    expect(mountPoints.filter((m) => !own.test(m))).toEqual([]);
    // The host's own mount points (its cgroup v1 hierarchies, say) are not there.
    const hostOnly = readFileSync('/proc/self/mountinfo', 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' ')[4]!)
      .filter((m) => m.startsWith('/sys/fs/cgroup/') || m === '/run' || m.startsWith(env.base));
    expect(hostOnly.filter((m) => mountPoints.includes(m))).toEqual([]);
    clean();
  });

  it('writes land in the upper layer, stay without --rm, and vanish with rm', () => {
    const r = env.cli(['run', '--name', 'keeper', 'busybox', 'sh', '-c', 'echo data > /written; rm /bin/true']);
    expect(r.code).toBe(0);
    const [id] = readdirSync(path.join(env.root, 'containers'));
    const upper = path.join(env.root, 'containers', id!, 'upper');
    expect(existsSync(path.join(upper, 'written'))).toBe(true);
    expect(execFileSync('stat', ['-c', '%F %t:%T', path.join(upper, 'bin', 'true')], { encoding: 'utf8' }).trim()).toBe('character special file 0:0'); // a whiteout
    expect(env.cli(['ps', '-a']).stdout).toMatch(/Exited \(0\).*keeper/);
    expect(env.cli(['rm', 'keeper']).code).toBe(0);
    clean();
  });

  it('--rm removes the container and its writes', () => {
    expect(env.cli(['run', '--rm', 'busybox', 'sh', '-c', 'echo x > /tmp/file']).code).toBe(0);
    clean();
  });

  it("returns the container's exit code", () => {
    expect(env.cli(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3']).code).toBe(3);
    expect(env.cli(['run', '--rm', 'busybox', 'false']).code).toBe(1);
    // A command killed by a signal: 128 + the signal (sh is PID 1 and cannot be killed from inside).
    expect(env.cli(['run', '--rm', 'busybox', 'sh', '-c', 'sleep 5 & kill -9 $!; wait $!']).code).toBe(137);
    clean();
  });

  it('a missing command exits 127 naming it, and leaves nothing', () => {
    const r = env.cli(['run', '--rm', 'busybox', 'no-such-command']);
    expect(r.code).toBe(127);
    expect(r.stderr).toMatch(/^hull: exec "no-such-command": executable file not found in \$PATH: ENOENT \(step \d+ of \d+\)\n$/);
    clean();
  });

  it('a command that cannot be invoked exits 126', () => {
    const r = env.cli(['run', '--rm', '--entrypoint', '/etc/passwd', 'busybox']);
    expect(r.code).toBe(126);
    expect(r.stderr).toMatch(/^hull: exec \/etc\/passwd: EACCES \(step \d+ of \d+\)\n$/);
    clean();
  });

  it('an unknown image exits 125 with a clear message', () => {
    const r = env.cli(['run', '--rm', '--pull', 'never', 'no-such-image:1.0', 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/^hull: .*no-such-image:1\.0/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    clean();
  });

  it('bad flags exit 125', () => {
    expect(env.cli(['run', '--no-such-flag', 'busybox']).code).toBe(125);
    expect(env.cli(['run', '--rm', '-w', 'relative', 'busybox', 'true']).stderr).toMatch(/absolute path/);
    expect(env.cli(['run', '--rm', '-u', 'ghost', 'busybox', 'true']).stderr).toMatch(/unable to find user ghost/);
    clean();
  });

  it('a bad name, hostname or path is refused before anything is made: exit 125, one clear line, nothing left', () => {
    const volumes = () => (existsSync(path.join(env.root, 'volumes')) ? readdirSync(path.join(env.root, 'volumes')) : []);
    const refused = (verb: 'run' | 'create', flags: string[], message: RegExp) => {
      // A named volume on the same command: made only if hull got past the check.
      const r = env.cli([verb, '--rm', ...flags, '-v', 'never-made:/v', 'busybox', 'true']);
      expect(r.code).toBe(125);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(message);
      expect(r.stderr.split('\n')).toHaveLength(2); // one line
      expect(r.stderr.length).toBeLessThan(400); // a 10,000-character value is not echoed whole
      expect(r.stderr).not.toMatch(/ENAMETOOLONG|EINVAL|step \d+ of/);
      expect(volumes()).toEqual([]);
      clean(); // no record, no name, no run dir, no cgroup, no process
    };
    // The finding: a 10,000-character name gave `open <10 KB path>: ENAMETOOLONG`, a 100-character -h
    // `sethostname …: EINVAL (step 45 of 51)`.
    refused('run', ['--name', 'a'.repeat(10_000)], /^hull: Invalid container name \(a{64}\.\.\. \(10000 characters\)\), at most 255 characters are allowed\n$/);
    refused('create', ['--name', 'a'.repeat(10_000)], /^hull: Invalid container name/);
    refused('run', ['-h', 'h'.repeat(100)], /^hull: hostname "h{64}\.\.\. \(100 characters\)" is too long \(maximum 64 bytes\)\n$/);
    refused('run', ['--name', 'bad!name'], /^hull: Invalid container name \(bad!name\), only \[a-zA-Z0-9\]\[a-zA-Z0-9_.-\] are allowed\n$/);
    refused('run', ['--name', 'x'], /^hull: Invalid container name \(x\), only/); // Docker's pattern wants two characters
    refused('run', ['-h', 'bad_host'], /^hull: invalid hostname format: bad_host\n$/);
    refused('run', ['-h', 'web\n10.0.0.1 evil'], /^hull: invalid hostname format: web/);
    refused(
      'run',
      ['-w', `/${'d'.repeat(300)}`],
      /^hull: the working directory '\/d+\.\.\. \(301 characters\)' is invalid: its component .* is 300 bytes long, a file name has at most 255\n$/,
    );
    refused('run', ['-w', `/${'d/'.repeat(2100)}`], /is invalid: it is 4201 bytes long, a path has at most 4095\n$/);
    refused('run', ['-v', `/srv:/${'t'.repeat(300)}`], /^hull: invalid volume specification .* is invalid: its component .* is 300 bytes long/);
    refused('run', ['-v', `${'v'.repeat(300)}:/x`], /^hull: volume name is too long \(300 characters\), names should be at most 255 characters\n$/);
    // The boundaries are taken: a 255-character name, a 64-byte hostname; an empty -h or -w means the default.
    const long = env.cli(['run', '--rm', '--name', 'n'.repeat(255), '-h', 'h'.repeat(64), 'busybox', 'hostname']);
    expect(long.stderr).toBe('');
    expect(long.stdout).toBe(`${'h'.repeat(64)}\n`);
    const defaults = env.cli(['run', '--rm', '-h', '', '-w', '', 'busybox', 'sh', '-c', 'hostname; pwd']);
    expect(defaults.stdout).toMatch(/^[0-9a-f]{12}\n\/\n$/);
    // rename: exit 1 (as Docker's), the old name kept; lookups of impossible names are "no such container".
    expect(env.cli(['create', '--name', 'keeps', 'busybox', 'true']).code).toBe(0);
    const rename = env.cli(['rename', 'keeps', 'a'.repeat(10_000)]);
    expect(rename.code).toBe(1);
    expect(rename.stderr).toMatch(/^hull: Invalid container name \(a{64}\.\.\. \(10000 characters\)\), at most 255 characters are allowed\n$/);
    expect(env.cli(['rename', 'keeps', 'no way']).stderr).toBe('hull: Invalid container name (no way), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed\n');
    expect(env.cli(['ps', '-a', '--format', '{{.Names}}']).stdout).toBe('keeps\n');
    expect(env.cli(['rm', 'a'.repeat(10_000)]).stderr).toMatch(/^hull: no such container: a+\n$/);
    expect(env.cli(['rm', 'keeps']).code).toBe(0);
    // volume and network names: exit 1, Docker's messages, nothing made.
    const volumeCreate = env.cli(['volume', 'create', 'v'.repeat(10_000)]);
    expect(volumeCreate.code).toBe(1);
    expect(volumeCreate.stderr).toBe('hull: volume name is too long (10000 characters), names should be at most 255 characters\n');
    expect(env.cli(['volume', 'inspect', 'v'.repeat(10_000)]).stderr).toMatch(/^hull: no such volume: v+\n$/);
    const networkCreate = env.cli(['network', 'create', 'n'.repeat(10_000)]);
    expect(networkCreate.code).toBe(1);
    expect(networkCreate.stderr).toMatch(/^hull: invalid network name "n{64}\.\.\. \(10000 characters\)": at most 255 characters are allowed\n$/);
    expect(env.cli(['network', 'create', 'a b']).stderr).toBe('hull: invalid network name "a b": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed\n');
    expect(env.cli(['network', 'rm', 'n'.repeat(10_000)]).stderr).not.toMatch(/ENAMETOOLONG/);
    expect(volumes()).toEqual([]);
    const networks = path.join(env.root, 'networks');
    expect(existsSync(networks) ? readdirSync(networks).filter((n) => n !== 'lock' && n !== 'bridge') : []).toEqual([]);
    clean();
  });

  it('honours -e, --env-file, -w (made when missing), -u and --entrypoint', () => {
    const envFile = path.join(env.base, 'env.list');
    writeFileSync(envFile, '# comment\nFROM_FILE=yes\nSHARED=file\n');
    const r = env.cli(
      [
        'run',
        '--rm',
        '--env-file',
        envFile,
        '-e',
        'SHARED=flag',
        '-e',
        'HOSTVAR',
        '-w',
        '/srv/app',
        '-u',
        'app',
        'busybox',
        'sh',
        '-c',
        'echo $FROM_FILE $SHARED $HOSTVAR; pwd; id; echo $HOME',
      ],
      { env: { ...process.env, HOSTVAR: 'passed' } },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toEqual(['yes flag passed', '/srv/app', 'uid=1000(app) gid=1000(app) groups=50(staff),1000(app)', '/home/app', '']);
    const e = env.cli(['run', '--rm', '--entrypoint', 'echo', 'busybox', 'hello', 'world']);
    expect(e.stdout).toBe('hello world\n');
    expect(env.cli(['run', '--rm', '-u', '4242:4343', 'busybox', 'id']).stdout).toBe('uid=4242 gid=4343 groups=4343\n');
    clean();
  });

  it('passes stdin through with -i, and gives /dev/null without it', () => {
    expect(env.cli(['run', '--rm', '-i', 'busybox', 'sh', '-c', 'tr a-z A-Z'], { input: 'hello\n' }).stdout).toBe('HELLO\n');
    expect(env.cli(['run', '--rm', 'busybox', 'cat'], { input: 'ignored\n' }).stdout).toBe('');
    clean();
  });

  it("has the runtime's /etc files and Docker's /dev", () => {
    const r = env.cli([
      'run',
      '--rm',
      '-h',
      'box',
      'busybox',
      'sh',
      '-c',
      'grep -c localhost /etc/hosts; grep box /etc/hosts; ls /dev | tr "\\n" " "; echo; stat -c %a /dev/null; echo x > /dev/null && echo ok',
    ]);
    const lines = r.stdout.split('\n');
    expect(Number(lines[0])).toBeGreaterThan(0);
    expect(lines[1]).toMatch(/box/);
    for (const dev of ['null', 'zero', 'full', 'random', 'urandom', 'tty', 'pts', 'shm', 'mqueue', 'ptmx', 'fd', 'stdin']) {
      expect(lines[2]!.split(' ')).toContain(dev);
    }
    expect(lines[3]).toBe('666');
    expect(lines[4]).toBe('ok');
    clean();
  });

  it('keeps /sys read-only and masks /proc paths', () => {
    const r = env.cli(['run', '--rm', 'busybox', 'sh', '-c', 'touch /sys/x 2>&1; (echo 1 > /proc/sys/kernel/ns_last_pid) 2>&1; wc -c < /proc/keys']);
    expect(r.stdout).toMatch(/Read-only file system[\s\S]*Read-only file system/);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('0');
    clean();
  });

  it("leaks no file descriptor of hull's into the container", () => {
    // ls holds one fd of its own (the directory it reads); everything else is stdio.
    const r = env.cli(['run', '--rm', 'busybox', 'ls', '/proc/self/fd']);
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map(Number)
        .sort((a, b) => a - b),
    ).toEqual([0, 1, 2, 3]);
    clean();
  });

  it('forwards SIGTERM and SIGINT to the container', async () => {
    for (const [signal, code] of [
      ['SIGTERM', 42],
      ['SIGINT', 43],
    ] as const) {
      const child = env.spawnCli(['run', '--rm', 'busybox', 'sh', '-c', `trap "exit ${code}" ${signal.slice(3)}; echo ready; while true; do sleep 0.05; done`]);
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      child.kill(signal);
      const exit = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      expect(exit).toBe(code);
    }
    clean();
  });

  it("gives a real terminal with -t, sized like hull's", () => {
    // script(1) runs hull on a pty of its own, 33 rows by 101 columns.
    const out = execFileSync(
      'script',
      [
        '-qec',
        `stty rows 33 cols 101; ${process.execPath} ${path.join(process.cwd(), 'bin/hull.cjs')} ${env.globalArgs().join(' ')} run --rm --cgroup-parent ${env.cgroupParent} -t busybox sh -c 'tty; stty size; echo $TERM; ls -l /dev/console'`,
        '/dev/null',
      ],
      { encoding: 'utf8' },
    );
    const lines = out.replace(/\r/g, '').trim().split('\n');
    expect(lines[0]).toBe('/dev/pts/0');
    expect(lines[1]).toBe('33 101');
    expect(lines[2]).toBe('xterm');
    expect(lines[3]).toMatch(/^c.* 136, +0 .*\/dev\/console$/);
    clean();
  });

  it('after hull itself is killed (-9), the container dies with it, shows as exited, its cgroup and network are released by the next command, and rm cleans up', async () => {
    const child = env.spawnCli(['run', '--name', 'victim', 'busybox', 'sh', '-c', 'echo ready; sleep 60']);
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    expect(env.cli(['ps']).stdout).toMatch(/Up .*victim/);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    // The container was hull's child with PDEATHSIG: it is gone, and ps does not claim otherwise.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(env.cli(['ps']).stdout.trim().split('\n')).toHaveLength(1);
    // That `ps` (the first command to meet it since) released what it held.
    expect(env.leftovers().filter((l) => /^(cgroup|netns|mount|veth|lease):/.test(l))).toEqual([]);
    expect(env.cli(['ps', '-a']).stdout).toMatch(/Exited .*victim/);
    expect(env.cli(['rm', 'victim']).code).toBe(0);
    clean();
  });

  it('runs many containers at once, each cleaned up', async () => {
    const runs = Array.from({ length: 12 }, (_, i) => {
      const child = env.spawnCli(['run', '--rm', 'busybox', 'sh', '-c', `echo run-${i}`]);
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      return new Promise<[number | null, string]>((resolve) => child.once('close', (code) => resolve([code, out])));
    });
    const results = await Promise.all(runs);
    results.forEach(([code, out], i) => {
      expect(code).toBe(0);
      expect(out).toBe(`run-${i}\n`);
    });
    clean();
  });

  it('loads and runs a docker save archive and an OCI layout directory', async () => {
    const other = new HullEnv();
    try {
      expect(other.cli(['load', '-i', await busyboxDockerArchive()]).stdout).toMatch(/Loaded image: busybox:latest/);
      expect(other.cli(['run', '--rm', 'busybox', 'echo', 'from docker-archive']).stdout).toBe('from docker-archive\n');
      const third = new HullEnv();
      try {
        expect(third.cli(['load', '-i', await busyboxOciDir()]).code).toBe(0);
        expect(third.cli(['images']).stdout).toMatch(/^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE\nbusybox +latest +[0-9a-f]{12} /);
        expect(third.cli(['run', '--rm', 'busybox', 'echo', 'from oci dir']).stdout).toBe('from oci dir\n');
      } finally {
        third.destroy();
      }
    } finally {
      other.destroy();
    }
  });
});
