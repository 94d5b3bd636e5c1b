// Issue 17's attach flags end to end: `run -a` (which streams a foreground run shows; the log keeps
// all), `--detach-keys` through a real terminal (script(1) gives hull a pty of its own) for run -it,
// attach and start -ai, and `--link` on user networks; every invalid value refused as Docker
// refuses it (exit 125, its message, nothing created).
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HULL_BIN, HullEnv, canRunContainers, skipReason } from '../helpers/hull-env.js';

describe.skipIf(!canRunContainers)(`attach streams, detach keys and links (integration${skipReason})`, () => {
  let env: HullEnv;

  beforeAll(async () => {
    env = new HullEnv();
    await env.loadBusybox();
  });

  afterAll(() => {
    env.destroy();
  });

  function ok(args: string[]): string {
    const r = env.cli(args);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r.stdout;
  }

  /** The run or create is refused as Docker refuses it: exit 125, the message, and no container made. */
  function refused(args: string[], message: string): void {
    const before = ok(['ps', '-aq']);
    const r = env.cli(args);
    expect(r.stderr).toBe(`hull: ${message}\n`);
    expect(r.code).toBe(125);
    expect(ok(['ps', '-aq'])).toBe(before);
  }

  /**
   * hull on a terminal of its own: script(1) runs it on a new pty and copies what the test writes
   * to that pty's input. `until(text)` resolves once `text` has been seen in its output.
   */
  function onTerminal(
    args: string[],
    env2: NodeJS.ProcessEnv = {},
  ): {
    child: ChildProcessWithoutNullStreams;
    until: (text: string) => Promise<void>;
    exit: Promise<number | null>;
    output: () => string;
  } {
    const withParent = args[0] === 'run' ? ['run', '--cgroup-parent', env.cgroupParent, ...args.slice(1)] : args;
    const line = [process.execPath, HULL_BIN, ...env.globalArgs(), ...withParent].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const child = spawn('script', ['-qfec', `stty rows 24 cols 80; ${line}`, '/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      cwd: path.dirname(HULL_BIN),
      env: { ...process.env, ...env2 },
    });
    let out = '';
    const waiters: { text: string; resolve: () => void }[] = [];
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      for (const w of waiters.splice(0)) {
        if (out.includes(w.text)) w.resolve();
        else waiters.push(w);
      }
    });
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const until = (text: string): Promise<void> =>
      new Promise((resolve, reject) => {
        if (out.includes(text)) return resolve();
        const timer = setTimeout(() => reject(new Error(`did not see ${JSON.stringify(text)}; saw ${JSON.stringify(out)}`)), 15_000);
        waiters.push({
          text,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    return { child, until, exit, output: () => out };
  }

  function running(name: string): boolean {
    return JSON.parse(ok(['inspect', '-f', '{{json .State.Running}}', name])) as boolean;
  }

  it('run -a shows only the streams asked for (the log keeps both); -a with -d, and an unknown stream, are refused', () => {
    const out = env.cli(['run', '--name', 'streams', '-a', 'stdout', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(out).toMatchObject({ code: 3, stdout: 'out\n', stderr: '' });
    const logs = env.cli(['logs', 'streams']);
    expect([logs.stdout, logs.stderr]).toEqual(['out\n', 'err\n']);
    const cfg = JSON.parse(ok(['inspect', '-f', '{{json .Config}}', 'streams'])) as Record<string, unknown>;
    expect([cfg.AttachStdin, cfg.AttachStdout, cfg.AttachStderr]).toEqual([false, true, false]);
    expect(env.cli(['run', '--rm', '-a', 'STDERR', 'busybox', 'sh', '-c', 'echo out; echo err >&2'])).toMatchObject({ code: 0, stdout: '', stderr: 'err\n' });
    // -a stdin with -i: stdin goes in, and only stdout comes back.
    expect(
      env.cli(['run', '--rm', '-i', '-a', 'stdin', '-a', 'stdout', 'busybox', 'sh', '-c', 'read x; echo "got $x"; echo err >&2'], { input: 'abc\n' }),
    ).toMatchObject({
      code: 0,
      stdout: 'got abc\n',
      stderr: '',
    });
    ok(['create', '--name', 'made', '-a', 'stderr', 'busybox', 'true']);
    const made = JSON.parse(ok(['inspect', '-f', '{{json .Config}}', 'made'])) as Record<string, unknown>;
    expect([made.AttachStdin, made.AttachStdout, made.AttachStderr]).toEqual([false, false, true]);
    ok(['run', '-d', '--name', 'bg', 'busybox', 'true']);
    const bg = JSON.parse(ok(['inspect', '-f', '{{json .Config}}', 'bg'])) as Record<string, unknown>;
    expect([bg.AttachStdin, bg.AttachStdout, bg.AttachStderr]).toEqual([false, false, false]);
    ok(['rm', '-f', 'streams', 'made', 'bg']);

    refused(['run', '-d', '-a', 'stdout', 'busybox', 'true'], 'Conflicting options: -a and -d');
    refused(['run', '-a', 'stdall', 'busybox', 'true'], 'invalid argument "stdall" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR');
    refused(['create', '-a', 'x', 'busybox', 'true'], 'invalid argument "x" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR');
    expect(env.leftovers()).toEqual([]);
  });

  it('--detach-keys: run -it detaches (exit 0, the container runs on), attach detaches with "read escape sequence" (exit 1), start -ai with the keys create kept', async () => {
    // run -it with the default keys, ctrl-p ctrl-q: hull exits 0 and says nothing; the shell goes on.
    const run = onTerminal(['run', '-it', '--name', 'shell', 'busybox', 'sh']);
    await run.until('# ');
    run.child.stdin.write('echo $((6*7))\r');
    await run.until('42');
    run.child.stdin.write('\x10\x11');
    expect(await run.exit).toBe(0);
    run.child.stdin.end();
    expect(running('shell')).toBe(true);

    // attach with keys of its own (`ctrl-x,y`) instead of the container's.
    const att = onTerminal(['attach', '--detach-keys', 'ctrl-x,y', 'shell']);
    await new Promise((resolve) => setTimeout(resolve, 500)); // attached (nothing is printed until the shell writes)
    att.child.stdin.write('echo at$((1+1))\r');
    await att.until('at2');
    att.child.stdin.write('\x18y');
    expect(await att.exit).toBe(1);
    att.child.stdin.end();
    expect(att.output()).toContain('read escape sequence');
    expect(running('shell')).toBe(true);
    ok(['rm', '-f', 'shell']);

    // create --detach-keys: start -ai uses them; the default ones then go to the container.
    ok(['create', '-it', '--name', 'kept', '--detach-keys', 'ctrl-@,a', 'busybox', 'sh']);
    const start = onTerminal(['start', '-ai', 'kept']);
    await start.until('# ');
    start.child.stdin.write('echo k$((2+3))\r');
    await start.until('k5');
    start.child.stdin.write('\x00a');
    expect(await start.exit).toBe(0);
    start.child.stdin.end();
    expect(running('kept')).toBe(true);
    ok(['rm', '-f', 'kept']);

    // Docker's config.json `detachKeys` when neither the flag nor the container names any.
    const config = path.join(env.base, 'docker-config');
    mkdirSync(config);
    writeFileSync(path.join(config, 'config.json'), JSON.stringify({ detachKeys: 'ctrl-e,e' }));
    const configured = onTerminal(['run', '-it', '--name', 'conf', 'busybox', 'sh'], { DOCKER_CONFIG: config });
    await configured.until('# ');
    configured.child.stdin.write('\x05e');
    expect(await configured.exit).toBe(0);
    configured.child.stdin.end();
    expect(running('conf')).toBe(true);
    ok(['rm', '-f', 'conf']);

    refused(['run', '--detach-keys', 'ctrl-ä', 'busybox', 'true'], 'Invalid detach keys (ctrl-ä) provided');
    refused(['create', '--detach-keys', 'a,bc', 'busybox', 'true'], 'Invalid detach keys (a,bc) provided');
    expect(env.cli(['attach', '--detach-keys', 'nope', 'x'])).toMatchObject({ code: 1, stderr: 'hull: Invalid detach keys (nope) provided\n' });
    expect(env.leftovers()).toEqual([]);
  });

  it("--link on a user network: the alias reaches the other container from the linking one only; on the default bridge, Docker's legacy entry (the linked container must run); refusals make nothing", () => {
    ok(['network', 'create', '--subnet', env.privateSubnet(2), 'linknet']);
    ok(['run', '-d', '--network', 'linknet', '--name', 'srv', 'busybox', 'nc', '-ll', '-p', '5000', '-e', 'echo', 'pong']);
    const ip = ok(['inspect', '-f', '{{.NetworkSettings.Networks.linknet.IPAddress}}', 'srv']).trim();
    expect(ip).toMatch(/^10\./);
    // The alias: in this container's /etc/hosts with srv's address, and a connection through it works.
    const linked = env.cli([
      'run',
      '--name',
      'client',
      '--network',
      'linknet',
      '--link',
      'srv:db',
      'busybox',
      'sh',
      '-c',
      'grep -w db /etc/hosts; nc -w 3 db 5000 </dev/null',
    ]);
    expect(linked.stderr).toBe('');
    expect(linked.stdout).toBe(`${ip}\tsrv db ${ok(['inspect', '-f', '{{.Id}}', 'srv']).trim().slice(0, 12)}\npong\n`);
    expect(JSON.parse(ok(['inspect', '-f', '{{json .HostConfig.Links}}', 'client']))).toEqual(['/srv:/client/db']);
    // Another container on the network does not have it; srv's own name still resolves there.
    const other = env.cli(['run', '--rm', '--network', 'linknet', 'busybox', 'sh', '-c', 'grep -cw db /etc/hosts; nc -w 3 srv 5000 </dev/null']);
    expect(other).toMatchObject({ code: 0, stdout: '0\npong\n' });
    // --link NAME: the alias is the name.
    expect(env.cli(['run', '--rm', '--network', 'linknet', '--link', 'srv', 'busybox', 'nc', '-w', '3', 'srv', '5000'], { input: '' }).stdout).toBe('pong\n');

    // The default bridge: the entry of Docker's legacy link (alias, short id, name), while the linked container runs.
    ok(['run', '-d', '--name', 'legacy', 'busybox', 'nc', '-ll', '-p', '5000', '-e', 'echo', 'old']);
    const legacyIp = ok(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'legacy']).trim();
    const legacyId = ok(['inspect', '-f', '{{.Id}}', 'legacy']).trim();
    const onBridge = env.cli(['run', '--rm', '--link', 'legacy:store', 'busybox', 'sh', '-c', 'grep -w store /etc/hosts; nc -w 3 store 5000 </dev/null']);
    expect(onBridge).toMatchObject({ code: 0, stdout: `${legacyIp}\tstore ${legacyId.slice(0, 12)} legacy\nold\n`, stderr: '' });
    ok(['stop', '-t', '0', 'legacy']);
    const stopped = env.cli(['run', '--rm', '--link', 'legacy:store', 'busybox', 'true']);
    expect(stopped.code).toBe(125);
    expect(stopped.stderr).toMatch(/^hull: Cannot link to a non running container: \/legacy AS \/[a-z_]+\/store\n$/);

    refused(['run', '--rm', '--link', 'nosuch:db', 'busybox', 'true'], 'could not get container for nosuch: No such container: nosuch');
    refused(
      ['create', '--network', 'linknet', '--link', 'a:b:c', 'busybox', 'true'],
      'invalid argument "a:b:c" for "--link" flag: bad format for links: a:b:c',
    );
    refused(
      ['run', '--rm', '--network', 'host', '--link', 'srv:db', 'busybox', 'true'],
      "conflicting options: host type networking can't be used with links. This would result in undefined behavior",
    );
    ok(['rm', '-f', 'srv', 'client', 'legacy']);
    ok(['network', 'rm', 'linknet']);
    expect(env.leftovers()).toEqual([]);
  });
});
