// Docker's verbs on containers and the store, end to end through the CLI as root: commit (then run
// the committed image), diff, export | import round trips, container and image prune with their
// filters and prompt, info and version (text and JSON), and the container/image/system groups.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sys } from '../../src/native/index.js';
import { HULL_BIN, HullEnv, canRunContainers, skipReason } from '../helpers/hull-env.js';

describe.skipIf(!canRunContainers)(`docker verbs: commit, diff, export, import, prune, info, version (integration${skipReason})`, () => {
  let env: HullEnv;

  beforeAll(async () => {
    env = new HullEnv();
    await env.loadBusybox();
  });

  afterAll(() => env.destroy());

  function ok(args: string[], input?: string): string {
    const r = env.cli(args, input === undefined ? {} : { input });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r.stdout;
  }

  function fails(args: string[], message: string, code = 1): void {
    const r = env.cli(args);
    expect(r.stderr).toBe(`hull: ${message}\n`);
    expect(r.code).toBe(code);
  }

  const hull = (args: string[]) => [process.execPath, HULL_BIN, ...env.globalArgs(), ...args].map((a) => `'${a}'`).join(' ');
  const upperOf = (name: string) => ok(['inspect', name, '-f', '{{.GraphDriver.Data.UpperDir}}']).trim();

  it('diff lists A, C and D as Docker does; commit makes an image whose containers see the change, with -c, -m, -a', () => {
    ok(['run', '--name', 'changed', 'busybox', 'sh', '-c', 'echo hi > /new.txt && rm /etc/group && mkdir -p /d/e && touch /d/e/f && chmod 600 /etc/passwd']);
    expect(ok(['diff', 'changed'])).toBe(['A /d', 'A /d/e', 'A /d/e/f', 'C /etc', 'D /etc/group', 'C /etc/passwd', 'A /new.txt', ''].join('\n'));
    expect(ok(['container', 'diff', 'changed'])).toBe(ok(['diff', 'changed']));

    const id = ok([
      'commit',
      '-c',
      'CMD ["cat", "/new.txt"]',
      '-c',
      'ENV A=1',
      '-c',
      'ENV B=$A C=$B',
      '-c',
      'LABEL x=y',
      '-m',
      'a message',
      '-a',
      'me',
      'changed',
      'committed:1',
    ]).trim();
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(ok(['run', '--rm', 'committed:1'])).toBe('hi\n');
    expect(ok(['run', '--rm', 'committed:1', 'sh', '-c', 'test ! -e /etc/group && stat -c %a /etc/passwd && ls /d/e'])).toBe('600\nf\n');
    const image = (JSON.parse(ok(['image', 'inspect', 'committed:1'])) as unknown[])[0] as {
      Id: string;
      Comment: string;
      Author: string;
      Config: { Cmd: string[]; Env: string[]; Labels: Record<string, string> };
      RootFS: { Layers: string[] };
    };
    expect(image.Id).toBe(id);
    expect(image.Comment).toBe('a message');
    expect(image.Author).toBe('me');
    expect(image.Config.Cmd).toEqual(['cat', '/new.txt']);
    // Each line expands with the Env before it (in one ENV line too, as Docker's: C is empty).
    expect(image.Config.Env).toEqual(expect.arrayContaining(['A=1', 'B=1', 'C=']));
    expect(image.Config.Env.some((e) => e.startsWith('HOSTNAME='))).toBe(false);
    expect(image.Config.Labels).toEqual({ x: 'y' });
    expect(image.RootFS.Layers).toHaveLength(2);
    const history = ok(['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Comment}}', 'committed:1']).split('\n');
    expect(history[0]).toBe('sh -c echo hi > /new.txt && rm /etc/group && mkdir -p /d/e && touch /d/e/f && chmod 600 /etc/passwd|a message');

    // An unchanged container: no layer, one more history entry.
    ok(['create', '--name', 'unchanged', 'busybox', 'true']);
    ok(['commit', 'unchanged', 'same:1']);
    expect(((JSON.parse(ok(['image', 'inspect', 'same:1'])) as unknown[])[0] as { RootFS: { Layers: string[] } }).RootFS.Layers).toHaveLength(1);
    ok(['rm', 'changed', 'unchanged']);
  });

  it('commit --pause freezes a running container while its layer is read, and it runs on; --pause=false does not', () => {
    ok(['run', '-d', '--name', 'busy', 'busybox', 'sh', '-c', 'echo x > /live; exec sleep 60']);
    for (let i = 0; i < 50 && spawnSync('sh', ['-c', `test -e '${upperOf('busy')}/live'`]).status !== 0; i++) spawnSync('sleep', ['0.1']);
    ok(['commit', 'busy', 'live:1']);
    expect(ok(['inspect', 'busy', '-f', '{{.State.Status}}'])).toBe('running\n');
    ok(['commit', '--pause=false', 'busy', 'live:2']);
    ok(['commit', '-p', 'busy', 'live:3']); // -p is a flag: busy is the container
    ok(['commit', '-p', 'false', 'busy']);
    expect(ok(['run', '--rm', 'live:2', 'cat', '/live'])).toBe('x\n');
    ok(['rm', '-f', 'busy']);
  });

  it("commit and diff refuse Docker's way: a missing container, a bad --change", () => {
    fails(['commit', 'nope'], 'no such container: nope');
    fails(['diff', 'nope'], 'no such container: nope');
    fails(['export', 'nope'], 'no such container: nope');
    ok(['create', '--name', 'target', 'busybox', 'true']);
    fails(['commit', '-c', 'RUN echo hi', 'target'], 'run is not a valid change command');
    fails(['commit', '-c', 'FROM busybox', 'target'], 'from is not a valid change command');
    fails(['commit', '--change', 'BOGUS x', 'target'], 'bogus is not a valid change command');
    ok(['rm', 'target']);
  });

  it('export | import round-trips a file system: modes with setuid, owners, symlinks, hard links, an xattr', () => {
    ok([
      'run',
      '--name',
      'fs',
      'busybox',
      'sh',
      '-c',
      'mkdir /x && echo s > /x/suid && chmod 4755 /x/suid && echo o > /x/owned && chown 1000:50 /x/owned && ln -s ../etc/passwd /x/link && echo h > /x/hard1 && ln /x/hard1 /x/hard2 && chmod 1777 /x',
    ]);
    sys.lsetxattr(path.join(upperOf('fs'), 'x', 'owned'), 'user.x', Buffer.from('hello'), 0);
    const imported = execFileSync('bash', ['-c', `set -o pipefail; ${hull(['export', 'fs'])} | ${hull(['import', '-c', 'CMD ["sh"]', '-', 'roundtrip:1'])}`], {
      encoding: 'utf8',
    });
    expect(imported).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    const stat = ok(['run', '--rm', 'roundtrip:1', 'sh', '-c', 'stat -c "%n %a %u %g %h" /x /x/*; readlink /x/link; test /x/hard1 -ef /x/hard2 && echo same']);
    expect(stat).toBe(
      [
        '/x 1777 0 0 2',
        '/x/hard1 644 0 0 2',
        '/x/hard2 644 0 0 2',
        '/x/link 777 0 0 1',
        '/x/owned 644 1000 50 1',
        '/x/suid 4755 0 0 1',
        '../etc/passwd',
        'same',
        '',
      ].join('\n'),
    );
    // The whole busybox root came along (its applet links too), and the xattr is in the imported layer.
    expect(ok(['run', '--rm', 'roundtrip:1', 'ls', '/bin/ls'])).toBe('/bin/ls\n');
    const inspect = (JSON.parse(ok(['image', 'inspect', 'roundtrip:1'])) as unknown[])[0] as {
      RootFS: { Layers: string[] };
      Config: { Cmd: string[] };
      Comment: string;
    };
    expect(inspect.RootFS.Layers).toHaveLength(1);
    expect(inspect.Config.Cmd).toEqual(['sh']);
    expect(inspect.Comment).toBe('Imported from -');
    const layer = path.join(env.root, 'layers', inspect.RootFS.Layers[0]!.slice('sha256:'.length), 'diff');
    expect(sys.lgetxattr(path.join(layer, 'x', 'owned'), 'user.x')?.toString()).toBe('hello');

    // -o FILE, a gzip of it imported by path: the same files.
    const tar = path.join(env.base, 'fs.tar');
    ok(['export', '-o', tar, 'fs']);
    execFileSync('gzip', ['-k', tar]);
    ok(['import', '-m', 'from a file', `${tar}.gz`, 'roundtrip:2']);
    expect(ok(['run', '--rm', 'roundtrip:2', 'stat', '-c', '%a %u', '/x/suid', '/x/owned'])).toBe('4755 0\n644 1000\n');
    expect(ok(['image', 'inspect', '-f', '{{.Comment}}', 'roundtrip:2'])).toBe('from a file\n');
    ok(['rm', 'fs']);
  });

  it("export refuses a terminal; import refuses what is not a tar, with Docker's messages", () => {
    ok(['create', '--name', 'quiet', 'busybox', 'true']);
    const onTty = spawnSync('script', ['-qec', hull(['export', 'quiet']), '/dev/null'], { encoding: 'utf8' });
    expect(onTty.stdout).toContain('hull: cowardly refusing to save to a terminal. Use the -o flag or redirect');
    expect(onTty.status).toBe(1);
    ok(['rm', 'quiet']);
    const junk = path.join(env.base, 'junk.txt');
    writeFileSync(junk, 'not a tar\n'.repeat(200));
    fails(['import', junk], 'archive/tar: invalid tar header');
    fails(['import', path.join(env.base, 'missing.tar')], `open ${path.join(env.base, 'missing.tar')}: no such file or directory`);
    fails(['import', '-c', 'RUN x', junk], 'run is not a valid change command');
  });

  it("container prune removes what is not running, asks first (stdin, y proceeds), prints Docker's lines; --filter until and label", () => {
    const created = ok(['create', 'busybox', 'true']).trim();
    ok(['run', '--name', 'exited', 'busybox', 'sh', '-c', 'echo data > /file']);
    const exited = ok(['inspect', 'exited', '-f', '{{.Id}}']).trim();
    ok(['run', '-d', '--name', 'running', 'busybox', 'sleep', '60']);

    const no = env.cli(['container', 'prune'], { input: 'n\n' });
    expect(no.stdout).toBe('WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] \n');
    expect(no.code).toBe(0);
    expect(ok(['container', 'prune', '-f', '--filter', 'until=1h'])).toBe('Total reclaimed space: 0B\n');
    // Labels: the container's (-l over the image's).
    const labelled = ok(['create', '-l', 'tier=web', '-l', 'keep=no', 'busybox', 'true']).trim();
    expect(ok(['container', 'prune', '-f', '--filter', 'label=tier=db'])).toBe('Total reclaimed space: 0B\n');
    expect(ok(['container', 'prune', '-f', '--filter', 'label=tier=web', '--filter', 'label!=keep=yes'])).toMatch(
      new RegExp(`^Deleted Containers:\n${labelled}\n\n`),
    );
    fails(['container', 'prune', '-f', '--filter', 'nope=1'], "Invalid filter 'nope'");

    const yes = env.cli(['container', 'prune'], { input: 'y\n' });
    expect(yes.code).toBe(0);
    const lines = yes.stdout.split('\n');
    expect(lines[0]).toBe('WARNING! This will remove all stopped containers.');
    expect(lines[1]).toBe('Are you sure you want to continue? [y/N] ');
    expect(lines[2]).toBe('Deleted Containers:');
    expect(lines.slice(3, 5).sort()).toEqual([created, exited].sort());
    expect(lines.slice(5)).toEqual(['', expect.stringMatching(/^Total reclaimed space: \d+(\.\d+)?k?B$/), '']);
    expect(ok(['ps', '-aq', '--no-trunc'])).toBe(ok(['inspect', 'running', '-f', '{{.Id}}']));
    ok(['rm', '-f', 'running']);
  });

  it('image prune: dangling images only, -a every unused one, --filter label= and label!= on the image labels, until', () => {
    const junk = path.join(env.base, 'one.tar');
    writeFileSync(junk, readFileSync(path.join(env.base, 'fs.tar')));
    const dangling = ok(['import', junk]).trim();
    const labelled = ok(['import', '-c', 'LABEL keep=no', junk, 'labelled:1']).trim();
    const kept = ok(['import', '-c', 'LABEL keep=yes', junk, 'kept:1']).trim();
    expect(ok(['image', 'prune', '-f', '--filter', 'until=1h'])).toBe('Total reclaimed space: 0B\n');
    const pruned = ok(['image', 'prune', '-f']);
    expect(pruned).toMatch(/^Deleted Images:\n(deleted: sha256:[0-9a-f]{64}\n)+\nTotal reclaimed space: /); // the commit without a name too
    expect(pruned).toContain(`deleted: ${dangling}\n`);
    const short = (id: string) => id.slice(7, 19);
    expect(ok(['images', '-q'])).toContain(short(labelled));
    const byLabel = ok(['image', 'prune', '-a', '-f', '--filter', 'label=keep', '--filter', 'label!=keep=yes']);
    expect(byLabel).toContain('untagged: labelled:1\n');
    expect(byLabel).toContain(`deleted: ${labelled}\n`);
    const left = ok(['images', '-q']);
    expect(left).toContain(short(kept));
    expect(left).not.toContain(short(labelled));
    fails(['image', 'prune', '-f', '--filter', 'name=x'], "Invalid filter 'name'"); // dangling=false is -a (test/integration/filters.test.ts)
  });

  it("info and version: Docker's text layouts and JSON field names; --format templates", () => {
    ok(['run', '-d', '--name', 'up', 'busybox', 'sleep', '60']);
    ok(['create', '--name', 'down', 'busybox', 'true']);
    const text = ok(['info']);
    expect(text).toMatch(
      /^Client:\n Context: {4}default\n Debug Mode: false\n\nServer:\n Containers: 2\n {2}Running: 1\n {2}Paused: 0\n {2}Stopped: 1\n Images: \d+\n/,
    );
    for (const line of [
      ' Storage Driver: overlay2',
      ' Cgroup Driver: cgroupfs',
      ' Logging Driver: json-file',
      ` Docker Root Dir: ${env.root}`,
      ' OSType: linux',
    ]) {
      expect(text).toContain(`${line}\n`);
    }
    expect(text).toMatch(/\n Cgroup Version: [12]\n/);
    expect(text).toMatch(/\n Kernel Version: \S+\n/);
    expect(text).toMatch(/\n CPUs: \d+\n Total Memory: [\d.]+[KMGT]iB\n/);
    const info = JSON.parse(ok(['system', 'info', '--format', '{{json .}}'])) as Record<string, unknown>;
    expect(info).toMatchObject({
      Containers: 2,
      ContainersRunning: 1,
      ContainersPaused: 0,
      ContainersStopped: 1,
      Driver: 'overlay2',
      DockerRootDir: env.root,
      OSType: 'linux',
    });
    for (const key of ['Images', 'CgroupVersion', 'KernelVersion', 'OperatingSystem', 'Architecture', 'NCPU', 'MemTotal', 'ServerVersion', 'Name', 'ID'])
      expect(info).toHaveProperty(key);
    ok(['pause', 'up']);
    expect(ok(['info', '--format', '{{.ContainersRunning}} {{.ContainersPaused}} {{.ContainersStopped}}'])).toBe('0 1 1\n');
    ok(['rm', '-f', 'up', 'down']);

    const version = ok(['version']);
    expect(version).toMatch(/^Client:\n Version: {11}\S+\n API version: {7}1\.41\n Node version: {6}v\d+\.\d+\.\d+\n/);
    expect(version).toMatch(/\nServer: hull\n Engine:\n {2}Version: {10}\S+\n {2}API version: {6}1\.41 \(minimum version 1\.12\)\n {2}Node version: {5}v\d+/);
    const v = JSON.parse(ok(['version', '--format', '{{json .}}'])) as { Client: Record<string, unknown>; Server: Record<string, unknown> };
    expect(v.Client).toMatchObject({ ApiVersion: '1.41', Os: 'linux', GoVersion: process.version });
    expect(v.Server).toMatchObject({ ApiVersion: '1.41', MinAPIVersion: '1.12', Os: 'linux' });
    expect(ok(['version', '-f', '{{.Server.ApiVersion}}'])).toBe('1.41\n');
  });

  it("the groups run the top-level verbs: container ls/ps/list, image ls/list, system info; container run has run's exit codes", () => {
    ok(['create', '--name', 'listed', 'busybox', 'true']);
    const ps = ok(['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Names}} {{.Command}}']);
    expect(ps).toContain(' listed "true"');
    for (const alias of ['ls', 'list', 'ps']) expect(ok(['container', alias, '-a', '--no-trunc', '--format', '{{.ID}} {{.Names}} {{.Command}}'])).toBe(ps);
    expect(ok(['image', 'list', '-q'])).toBe(ok(['images', '-q']));
    expect(ok(['container', 'run', '--rm', '--cgroup-parent', env.cgroupParent, 'busybox', 'echo', 'grouped'])).toBe('grouped\n');
    expect(env.cli(['container', 'run', '--rm', '--cgroup-parent', env.cgroupParent, 'busybox', 'sh', '-c', 'exit 3']).code).toBe(3);
    expect(env.cli(['container', 'run', '--rm', '--cgroup-parent', env.cgroupParent, 'busybox', 'no-such-command']).code).toBe(127);
    ok(['container', 'rm', 'listed']);
    expect(ok(['system', 'info', '-f', '{{.Driver}}'])).toBe('overlay2\n');
    const help = ok(['container', '--help']);
    for (const sub of ['ls|ps', 'commit', 'diff', 'export', 'prune']) expect(help).toContain(`  ${sub}`);
  });
});
