// A container never holds a host file (issue: hardening, finding 1): when hull's stdin, stdout or
// stderr is a file, or /dev/null, the container gets a pipe of hull's or its own /dev/null, so
// reopening /proc/self/fd/N cannot chmod, chown, truncate or read the host's file. And `exec -d`
// returns at once (finding 7).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HULL_BIN, HullEnv, canRunContainers, skipReason } from '../helpers/hull-env.js';

/** A file's mode, owner, size, content and ctime: any change through the container shows here. */
function fingerprint(file: string): string {
  const st = statSync(file);
  return JSON.stringify({ mode: (st.mode & 0o7777).toString(8), uid: st.uid, gid: st.gid, content: readFileSync(file, 'utf8'), ctime: st.ctimeMs });
}

describe.skipIf(!canRunContainers)(`a container's stdio never is a host file (integration${skipReason})`, () => {
  let env: HullEnv;
  let hull: string;
  let dir: string;
  let running: string;

  beforeAll(async () => {
    env = new HullEnv();
    await env.loadBusybox();
    dir = env.base;
    // $HULL in the scripts below: this env's hull, as a command of its own.
    hull = path.join(dir, 'hull');
    writeFileSync(hull, `#!/bin/sh\nexec ${[process.execPath, HULL_BIN, ...env.globalArgs()].map((a) => `'${a}'`).join(' ')} "$@"\n`, { mode: 0o755 });
    const r = env.cli(['run', '-d', '--network', 'none', '--name', 'target', 'busybox', 'sleep', '300']);
    expect(r.code).toBe(0);
    running = r.stdout.trim();
  });

  afterAll(() => {
    env.cli(['rm', '-f', running]);
    expect(env.leftovers()).toEqual([]);
    env.destroy();
  });

  /** `sh -c SCRIPT` on the host, where $HULL is this env's hull. */
  function shell(script: string): { code: number | null; stdout: string; stderr: string } {
    const r = spawnSync('sh', ['-c', script], { cwd: dir, encoding: 'utf8', env: { ...process.env, HULL: hull }, timeout: 60_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  function makeFile(name: string, content: string): string {
    const file = path.join(dir, name);
    writeFileSync(file, content);
    chmodSync(file, 0o644);
    return file;
  }

  // What a hostile container does to each of its stdio fds.
  const attack = (fd: number) =>
    `chmod 4666 /proc/self/fd/${fd}; chown 99:99 /proc/self/fd/${fd}; echo x >> /proc/self/fd/${fd}; : > /proc/self/fd/${fd}; true`;

  for (const verb of ['run', 'exec'] as const) {
    const prefix = verb === 'run' ? '$HULL run --rm -i --network none busybox' : '$HULL exec -i target';

    it(`${verb}: a file on stdin is not changed (mode, owner, content)`, () => {
      const file = makeFile(`${verb}-in.txt`, 'secret input\n');
      const before = fingerprint(file);
      const r = shell(`${prefix} sh -c '${attack(0)}; cat' < ${file}`);
      expect(r.code).toBe(0);
      expect(fingerprint(file)).toBe(before);
    });

    it(`${verb}: a file on stdout and on stderr is not changed, and what the container writes reaches it`, () => {
      for (const fd of [1, 2]) {
        const file = makeFile(`${verb}-out${fd}.txt`, 'earlier content\n');
        const redirect = fd === 1 ? `>> ${file}` : `2>> ${file}`;
        const other = 3 - fd;
        // Reading the fd back (a host file would show its earlier content), then the attack.
        const r = shell(
          `${prefix.replace(' -i', '')} sh -c '{ got=$(timeout 1 head -c 100 /proc/self/fd/${fd} </dev/null); } 2>/dev/null; echo "read:$got" >&${other}; ${attack(fd)}; echo done >&${fd}' ${redirect}`,
        );
        expect(r.code).toBe(0);
        const readBack = fd === 1 ? r.stderr : r.stdout;
        expect(readBack).toMatch(/^read:$/m); // nothing: a pipe of hull's, empty
        expect(readBack).not.toContain('earlier');
        const st = statSync(file);
        expect((st.mode & 0o7777).toString(8)).toBe('644');
        expect([st.uid, st.gid]).toEqual([0, 0]);
        // Appended through the relay (x, reopened, is one more writer of hull's pipe); never truncated.
        expect(readFileSync(file, 'utf8')).toBe('earlier content\nx\ndone\n');
      }
    });

    it(`${verb}: the host's /dev/null is never the container's`, () => {
      const before = statSync('/dev/null').ctimeMs;
      const r = shell(
        `${prefix.replace(' -i', '')} sh -c 'chmod 666 /proc/self/fd/0 /proc/self/fd/1; stat -L -c "%t:%T %i" /proc/self/fd/0 /dev/null' < /dev/null`,
      );
      expect(r.code).toBe(0);
      const [fd0, own] = r.stdout.trim().split('\n');
      expect(fd0).toBe(own); // the container's own null device, not the host's node
      expect(fd0).toMatch(/^1:3 /);
      expect(statSync('/dev/null').ctimeMs).toBe(before);
    });
  }

  it('run -d: the monitor gives the container its own /dev/null as stdin', () => {
    const before = statSync('/dev/null').ctimeMs;
    const r = env.cli(['run', '-d', '--network', 'none', 'busybox', 'sh', '-c', 'chmod 666 /proc/self/fd/0; stat -L -c "%t:%T %i" /proc/self/fd/0 /dev/null']);
    expect(r.code).toBe(0);
    const id = r.stdout.trim();
    expect(env.cli(['wait', id]).stdout.trim()).toBe('0');
    const [fd0, own] = env.cli(['logs', id]).stdout.trim().split('\n');
    expect(fd0).toBe(own);
    expect(statSync('/dev/null').ctimeMs).toBe(before);
    expect(env.cli(['rm', id]).code).toBe(0);
  });

  it('ordinary redirection still works: > file, < file, | pipe, and a missing stdin', () => {
    const input = makeFile('plain-in.txt', 'line one\nline two\n');
    const out = path.join(dir, 'plain-out.txt');
    expect(shell(`$HULL run --rm --network none busybox echo hi > ${out}`).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe('hi\n');
    expect(shell(`$HULL run --rm -i --network none busybox wc -l < ${input} > ${out}`).code).toBe(0);
    expect(readFileSync(out, 'utf8').trim()).toBe('2');
    const piped = shell(`printf 'a\\nb\\nc\\n' | $HULL run --rm -i --network none busybox sort -r | head -n 2`);
    expect(piped.stdout).toBe('c\nb\n');
    // Without -i the container's stdin is its /dev/null: it reads EOF at once.
    expect(shell(`$HULL run --rm --network none busybox cat < ${input}`).stdout).toBe('');
    const big = shell(`$HULL run --rm --network none busybox sh -c 'yes 0123456789 | head -c 5000000' | wc -c`);
    expect(big.stdout.trim()).toBe('5000000');
    const exec = shell(`$HULL exec -i target cat < ${input}`);
    expect(exec.stdout).toBe('line one\nline two\n');
  });

  it('relayed output: a slow or non-blocking reader loses nothing, a reader that leaves ends the container', () => {
    // The caller's pipe made O_NONBLOCK (its flags are shared with hull), and read only after 1 s:
    // the relay waits for room instead of failing with EAGAIN.
    const nonblocking = `python3 -c 'import fcntl, os, sys; fcntl.fcntl(1, fcntl.F_SETFL, fcntl.fcntl(1, fcntl.F_GETFL) | os.O_NONBLOCK); os.execvp(sys.argv[1], sys.argv[1:])'`;
    const slow = shell(`${nonblocking} $HULL run --rm --network none busybox sh -c 'yes 0123456789 | head -c 3000000' | (sleep 1; wc -c)`);
    expect(slow.stdout.trim()).toBe('3000000');
    // head leaves after one line: the relay's write fails with EPIPE, the container's next write too.
    const t0 = Date.now();
    const early = shell(`$HULL run --rm --network none busybox yes | head -n 1`);
    expect(early.stdout).toBe('y\n');
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it('relayed input: hull returns when the container ends, though its own stdin stays open', async () => {
    const child = spawn(process.execPath, [HULL_BIN, ...env.globalArgs(), 'run', '--rm', '-i', '--network', 'none', 'busybox', 'head', '-n', '1'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stdin.write('first\nsecond\n'); // and never ended
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(null);
      }, 20_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    child.stdin.destroy();
    expect(code).toBe(0);
    expect(out).toBe('first\n');
  });

  it('exec -d returns at once, leaving the command running in the container', () => {
    const t0 = Date.now();
    const r = env.cli(['exec', '-d', 'target', 'sh', '-c', 'while :; do sleep 1; done']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(Date.now() - t0).toBeLessThan(4000);
    const ps = env.cli(['exec', 'target', 'ps', '-o', 'args']).stdout;
    expect(ps).toContain('while :; do sleep 1; done');
    const t1 = Date.now();
    expect(env.cli(['exec', '-d', 'target', 'sleep', '5']).code).toBe(0);
    expect(Date.now() - t1).toBeLessThan(4000);
  });
});
