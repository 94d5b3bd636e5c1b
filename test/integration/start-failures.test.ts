// Native failures forced through the library: each reaches the caller as one ContainerStartError
// naming the step, the syscall, the path and the errno; and nothing is left behind.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContainerStartError } from '../../src/errors.js';
import { Hull } from '../../src/hull.js';
import { ANNOTATION_CREATE_WORKDIR } from '../../src/runtime/runtime.js';
import type { RuntimeSpec } from '../../src/runtime/spec.js';
import { HullEnv, canRunContainers, skipReason } from '../helpers/hull-env.js';

describe.skipIf(!canRunContainers)(`start failures (integration${skipReason})`, () => {
  let env: HullEnv;
  let hull: Hull;

  beforeAll(async () => {
    env = new HullEnv();
    await env.loadBusybox();
    hull = new Hull({ root: env.root, runRoot: env.runRoot });
  });
  afterAll(() => env.destroy());

  /** create, let `edit` change the bundle's config.json (as an OCI bundle user would), start. */
  async function startEdited(edit: (spec: RuntimeSpec) => void, cmd = ['true']): Promise<ContainerStartError> {
    const { record } = await hull.runtime.create({ image: 'busybox', cmd, remove: true, cgroupParent: env.cgroupParent });
    const file = path.join(hull.runtime.containers.dir(record.id), 'config.json');
    const spec = JSON.parse(readFileSync(file, 'utf8')) as RuntimeSpec;
    edit(spec);
    writeFileSync(file, JSON.stringify(spec));
    const err = await hull.runtime.start(record, { stdout: 'pipe', stderr: 'pipe' }).then(
      () => {
        throw new Error('the container started');
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ContainerStartError);
    expect(env.leftovers()).toEqual([]);
    return err as ContainerStartError;
  }

  const ONE_LINE = /^[^\n]+: E[A-Z]+ \(step \d+ of \d+\)$/;

  it('a mount target that cannot exist (under a file)', async () => {
    const err = await startEdited((spec) => spec.mounts.push({ destination: '/etc/passwd/sub', type: 'tmpfs', source: 'tmpfs' }));
    expect(err.message).toMatch(ONE_LINE);
    expect(err.syscall).toBe('openat2');
    expect(err.errno).toBe('ENOTDIR');
    expect(err.message).toContain(`${env.runRoot}/containers/`);
    expect(err.message).toContain('/rootfs/etc/passwd/sub');
    expect(err.exitCode).toBe(125);
  });

  it('a bind mount whose source is missing', async () => {
    const err = await startEdited((spec) => spec.mounts.push({ destination: '/mnt/data', source: '/nonexistent/hull-source', options: ['rbind'] }));
    expect(err.message).toMatch(ONE_LINE);
    expect(err.syscall).toBe('mount');
    expect(err.errno).toBe('ENOENT');
    expect(err.message).toMatch(/^mount \/nonexistent\/hull-source on .*\/rootfs\/mnt\/data: ENOENT/);
  });

  it("a working directory the bundle lacks (runc's contract: it must exist)", async () => {
    const err = await startEdited((spec) => {
      spec.process.cwd = '/no/such/dir';
      delete spec.annotations?.[ANNOTATION_CREATE_WORKDIR];
    });
    expect(err.message).toMatch(ONE_LINE);
    expect(err.syscall).toBe('chdir');
    expect(err.errno).toBe('ENOENT');
    expect(err.message).toMatch(/^chdir to working directory \/no\/such\/dir: ENOENT \(step \d+ of \d+\)$/);
  });

  it('a working directory that cannot be made (Docker run semantics)', async () => {
    const err = await startEdited((spec) => {
      spec.process.cwd = '/etc/passwd/sub';
    });
    expect(err.syscall).toBe('mkdir');
    expect(err.errno).toBe('ENOTDIR');
    expect(err.message).toMatch(/^mkdir \/etc\/passwd\/sub: ENOTDIR \(step \d+ of \d+\)$/);
  });

  it('a non-executable entrypoint: 126', async () => {
    const err = await startEdited((spec) => {
      spec.process.args = ['/etc/hostname'];
    });
    expect(err.message).toMatch(/^exec \/etc\/hostname: EACCES \(step (\d+) of (\d+)\)$/);
    const [, step, steps] = /step (\d+) of (\d+)/.exec(err.message)!;
    expect(step).toBe(steps); // exec is the last step
    expect(err.exitCode).toBe(126);
  });

  it("a terminal: the console is the container's own pty, and resizing it reaches the container", async () => {
    const running = await hull.start({
      image: 'busybox',
      remove: true,
      cgroupParent: env.cgroupParent,
      tty: true,
      consoleSize: { rows: 24, cols: 80 },
      cmd: ['sh', '-c', 'stty size; read line; stty size; tty'],
    });
    const terminal = running.terminal!;
    let out = '';
    terminal.stream.on('data', (d: Buffer) => (out += d.toString()));
    const waitFor = async (text: RegExp) => {
      while (!text.test(out)) await new Promise((r) => setTimeout(r, 10));
    };
    await waitFor(/24 80/);
    terminal.resize(50, 132);
    terminal.stream.write('go\n');
    await waitFor(/\/dev\/pts\/0/);
    expect(await running.wait()).toBe(0);
    expect(
      out
        .replace(/\r/g, '')
        .split('\n')
        .filter((l) => /^\d+ \d+$|^\/dev/.test(l)),
    ).toEqual(['24 80', '50 132', '/dev/pts/0']);
    expect(env.leftovers()).toEqual([]);
  });

  it('a command not in PATH: 127', async () => {
    const err = await startEdited(() => undefined, ['missing-tool']);
    expect(err.exitCode).toBe(127);
    expect(err.syscall).toBe('execve');
  });
});
