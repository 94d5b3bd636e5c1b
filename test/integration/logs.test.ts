// `hull logs` on logs too big to hold in memory, as root on the host kernel: a few hundred MB
// generated into an exited container's json-file log, and a log a container rotated with
// --log-opt max-size/max-file. The output is right and the hull process's peak RSS stays bounded
// (it used to read every file whole: V8 died on a big log, and a spread of a rotated file's
// entries overflowed the stack).
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HULL_BIN, HullEnv, canRunContainers, skipReason } from '../helpers/hull-env.js';

/** What a `hull logs` process may hold: Node and the CLI take ~50 MB; the logs here are 3 to 6 times the bound. */
const RSS_BOUND_MB = 100;

describe.skipIf(!canRunContainers)(`logs of any size (integration${skipReason})`, () => {
  let env: HullEnv;
  let preload: string;

  beforeAll(async () => {
    env = new HullEnv();
    await env.loadBusybox();
    // The child's own peak RSS (ru_maxrss), written when it exits.
    preload = path.join(env.base, 'maxrss.cjs');
    writeFileSync(
      preload,
      "process.on('exit', () => require('node:fs').writeFileSync(process.env.HULL_TEST_MAXRSS, String(process.resourceUsage().maxRSS)));\n",
    );
  });
  afterAll(() => {
    // a failed test's containers go first, so that only its assertion reports
    for (const name of ['big', 'rot']) env.cli(['rm', '-f', name]);
    env.destroy();
  });

  /**
   * `hull ARGS` with its peak RSS in MB; stdout is counted, and kept whole only while small. With
   * `pauseMs` the reader does not read for that long first: hull must wait for it, not buffer.
   */
  async function measured(
    args: string[],
    pauseMs = 0,
  ): Promise<{ code: number | null; out: string; bytes: number; tail: string; stderr: string; rssMb: number }> {
    const rssFile = path.join(env.base, `maxrss-${Date.now()}`);
    const child = spawn(process.execPath, ['--require', preload, HULL_BIN, ...env.globalArgs(), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, HULL_TEST_MAXRSS: rssFile },
    });
    let out = '';
    let bytes = 0;
    let tail = '';
    let stderr = '';
    if (pauseMs > 0) {
      child.stdout.pause();
      setTimeout(() => child.stdout.resume(), pauseMs);
    }
    child.stdout.on('data', (d: Buffer) => {
      bytes += d.length;
      if (bytes <= 1 << 20) out += d.toString();
      tail = (tail + d.toString('latin1')).slice(-200);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    return { code, out, bytes, tail, stderr, rssMb: Number(readFileSync(rssFile, 'utf8')) / 1024 };
  }

  it('--tail 3 and -f (an exited container, a slow reader) on a 300 MB log: right output, bounded memory', async () => {
    const id = env.cli(['run', '-d', '--name', 'big', 'busybox', 'true']).stdout.trim();
    expect(env.cli(['wait', id]).stdout).toBe('0\n');
    // ~300 MB of lines as hull-monitor writes them: one 4 MiB block of distinct lines, again and again.
    const lines: string[] = [];
    let logBytes = 0;
    let size = 0;
    for (let i = 0; size < 4 << 20; i++) {
      const log = `line ${String(i).padStart(8, '0')} ${'x'.repeat(60 + (i % 40))} é✓\n`;
      const line = `${JSON.stringify({ log, stream: i % 100 === 0 ? 'stderr' : 'stdout', time: `2024-01-01T00:00:${String(i % 60).padStart(2, '0')}.000000000Z` })}\n`;
      lines.push(line);
      size += Buffer.byteLength(line);
      if (i % 100 !== 0) logBytes += Buffer.byteLength(log);
    }
    const block = Buffer.from(lines.join(''));
    const last = ['the end -2\n', 'the end -1\n', 'the end\n'];
    const fd = openSync(path.join(env.root, 'containers', id, `${id}-json.log`), 'w');
    const repeats = Math.ceil((300 << 20) / block.length);
    for (let r = 0; r < repeats; r++) writeSync(fd, block);
    writeSync(fd, last.map((log) => `${JSON.stringify({ log, stream: 'stdout', time: '2024-01-01T00:01:00.000000000Z' })}\n`).join(''));
    closeSync(fd);

    const tail = await measured(['logs', '--tail', '3', 'big']);
    expect(tail.stderr).toBe('');
    expect(tail.out).toBe(last.join(''));
    expect(tail.rssMb).toBeLessThan(RSS_BOUND_MB);

    // -f on an exited container follows to the end and stops; the reader starts a second late.
    const followed = await measured(['logs', '-f', 'big'], 1000);
    expect(followed.code).toBe(0);
    expect(followed.bytes).toBe(repeats * logBytes + Buffer.byteLength(last.join('')));
    expect(followed.tail.endsWith('the end -1\nthe end\n')).toBe(true);
    expect(followed.rssMb).toBeLessThan(RSS_BOUND_MB);

    // A reader that goes away (`| head`): hull stops reading there and exits quietly.
    const started = Date.now();
    const child = spawn(process.execPath, [HULL_BIN, ...env.globalArgs(), 'logs', 'big'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.once('data', () => child.stdout.destroy());
    expect(await new Promise((resolve) => child.once('close', resolve))).toBe(0);
    expect(stderr).not.toMatch(/hull:|EPIPE|Error/); // (the log's own stderr entries go there)
    expect(Date.now() - started).toBeLessThan(5000);
    expect(env.cli(['rm', 'big']).code).toBe(0);
    expect(env.leftovers()).toEqual([]);
  });

  it('--log-opt max-size=10m max-file=3: logs --tail 2 and logs read across the rotated files', async () => {
    const n = 500_000;
    const id = env.cli(['run', '-d', '--name', 'rot', '--log-opt', 'max-size=10m', '--log-opt', 'max-file=3', 'busybox', 'seq', '1', String(n)]).stdout.trim();
    expect(env.cli(['wait', id]).stdout).toBe('0\n');
    const dir = path.join(env.root, 'containers', id);
    expect(
      readdirSync(dir)
        .filter((f) => f.includes('-json.log'))
        .sort(),
    ).toEqual([`${id}-json.log`, `${id}-json.log.1`, `${id}-json.log.2`]);

    const tail = await measured(['logs', '--tail', '2', 'rot']);
    expect(tail.stderr).toBe('');
    expect(tail.out).toBe(`${n - 1}\n${n}\n`);
    expect(tail.rssMb).toBeLessThan(RSS_BOUND_MB);

    // Everything kept: the newest output, contiguous, up to the last line (two full files and more).
    const all = await measured(['logs', 'rot']);
    expect(all.code).toBe(0);
    const first = Number(
      readFileSync(path.join(dir, `${id}-json.log.2`), 'utf8')
        .slice(0, 100)
        .match(/"log":"(\d+)\\n"/)?.[1],
    );
    const expected = Array.from({ length: n - first + 1 }, (_, i) => `${first + i}\n`).join('');
    expect(all.bytes).toBe(expected.length);
    expect(all.tail).toBe(expected.slice(-200));
    expect(n - first).toBeGreaterThan(250_000);
    expect(all.rssMb).toBeLessThan(RSS_BOUND_MB);
    expect(env.cli(['rm', 'rot']).code).toBe(0);
    expect(env.leftovers()).toEqual([]);
  });
});
