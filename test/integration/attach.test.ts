// Attaching to detached containers through their monitor's control socket (native/monitor-control.h):
// `start -a` sees the output from the first byte, `start -ai` and `attach` give the container its
// stdin, several clients may attach at once, and each exits with the container's code.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HullEnv, canRunContainers, skipReason } from '../helpers/hull-env.js';

describe.skipIf(!canRunContainers)(`attach (integration${skipReason})`, () => {
  let env: HullEnv;

  beforeAll(async () => {
    env = new HullEnv();
    await env.loadBusybox();
  });
  afterAll(() => env.destroy());

  /** Resolves once `text` has been seen on the child's stdout. */
  function seen(child: { stdout: NodeJS.ReadableStream; stderr: NodeJS.ReadableStream }, text: string, ms = 10_000): Promise<string> {
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`did not see ${JSON.stringify(text)} within ${ms} ms; saw ${JSON.stringify(out)}, stderr ${JSON.stringify(err)}`)),
        ms,
      );
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes(text)) {
          clearTimeout(timer);
          resolve(out);
        }
      });
    });
  }

  it("start -a shows the output from its first byte and exits with the code; start -ai gives it stdin, whose end is the container's", () => {
    expect(env.cli(['create', '--name', 'first', 'busybox', 'sh', '-c', 'echo one; echo two >&2; exit 4']).code).toBe(0);
    const r = env.cli(['start', '-a', 'first']);
    expect(r).toMatchObject({ code: 4, stdout: 'one\n', stderr: 'two\n' });
    expect(env.cli(['logs', 'first']).stdout).toBe('one\n');

    expect(env.cli(['create', '-i', '--name', 'reader', 'busybox', 'sh', '-c', 'read x; echo "got $x"; cat; echo eof; exit 3']).code).toBe(0);
    const ri = env.cli(['start', '-ai', 'reader'], { input: 'abc\nrest\n' });
    expect(ri).toMatchObject({ code: 3, stdout: 'got abc\nrest\neof\n' });
    expect(env.cli(['start', '-a', '-i', 'first', 'reader']).code).toBe(1); // Docker: one container at a time
    expect(env.cli(['rm', 'first', 'reader']).code).toBe(0);
    expect(env.leftovers()).toEqual([]);
  });

  it("attach gives a running -i container its stdin; a second client sees the same output; a client's end of input leaves the container running", async () => {
    const id = env.cli(['run', '-d', '-i', '--name', 'echoer', 'busybox', 'cat']).stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const first = env.spawnCliWithStdin(['attach', 'echoer']);
    const second = env.spawnCliWithStdin(['attach', '--no-stdin', 'echoer']);
    const firstExit = new Promise<number | null>((resolve) => first.once('exit', resolve));
    const secondExit = new Promise<number | null>((resolve) => second.once('exit', resolve));
    // Lines are written until both clients have seen one come back (they may still be connecting).
    const saw = Promise.all([seen(first, 'hello\n'), seen(second, 'hello\n')]);
    const writer = setInterval(() => first.stdin.write('hello\n'), 100);
    try {
      await saw;
    } finally {
      clearInterval(writer);
    }
    first.stdin.end(); // this client's end of input: not the container's (it was not started with it)
    second.stdin.end();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(JSON.parse(env.cli(['inspect', '-f', '{{json .State.Running}}', 'echoer']).stdout)).toBe(true);
    expect(env.cli(['stop', '-t', '1', 'echoer']).code).toBe(0);
    expect([await firstExit, await secondExit]).toEqual([137, 137]); // cat, PID 1, ignores SIGTERM: killed after -t 1
    expect(env.cli(['attach', 'echoer'])).toMatchObject({ code: 1, stderr: 'hull: you cannot attach to a stopped container, start it first\n' });
    expect(env.cli(['rm', 'echoer']).code).toBe(0);
    expect(env.cli(['attach', 'echoer']).code).toBe(1);
    expect(env.leftovers()).toEqual([]);
  });

  it('wait from several clients returns the code when the container ends, and at once for one that has', async () => {
    env.cli(['run', '-d', '--name', 'brief', 'busybox', 'sh', '-c', 'sleep 0.5; exit 6']);
    const waits = await Promise.all([env.cliAsync(['wait', 'brief']), env.cliAsync(['wait', 'brief'])]);
    expect(waits.map((w) => w.stdout)).toEqual(['6\n', '6\n']);
    expect(env.cli(['wait', 'brief']).stdout).toBe('6\n');
    expect(env.cli(['rm', 'brief']).code).toBe(0);
    expect(env.leftovers()).toEqual([]);
  });
});
