// The docker CLI tour of the Engine API (issue 18, acceptance 1 and 4), each step checked: Debian's
// docker CLI 20.10 (/usr/bin/docker) against a `hull system service` on a private socket over a
// private root, with a local registry for the pull. Also what the tour leans on: the archive
// endpoints (docker cp) and their escapes, an exec under its own monitor that outlives a restart
// of the server, and bad input answered with Docker's statuses while the server goes on.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxImage } from '../helpers/busybox-image.js';
import { type Answer, DOCKER, EngineApiServer, hasDocker, message } from '../helpers/engine-api.js';
import { HullEnv, canRunContainers, skipReason } from '../helpers/hull-env.js';
import { Registry, freePort, hasRegistry } from '../helpers/registry.js';
import { eventually, httpGet } from '../helpers/net-checks.js';

const hasNetTools = ['ip', 'nft'].every((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0);
const hasScript = spawnSync('sh', ['-c', 'command -v script']).status === 0;
/** A tar of `dir`'s entries (GNU tar), as a client sends it. */
function tarOf(dir: string, entries: string[] = ['.'], extra: string[] = []): Buffer {
  const r = spawnSync('tar', ['-C', dir, ...extra, '-cf', '-', ...entries]);
  if (r.status !== 0) throw new Error(`tar: ${r.stderr.toString()}`);
  return r.stdout;
}

/** The entries of a tar, and the files extracted into `into`. */
function untar(tar: Buffer, into: string): string[] {
  mkdirSync(into, { recursive: true });
  const list = spawnSync('tar', ['-tf', '-'], { input: tar, encoding: 'utf8' });
  const x = spawnSync('tar', ['-C', into, '-xf', '-'], { input: tar });
  if (list.status !== 0 || x.status !== 0) throw new Error(`tar: ${list.stderr}${x.stderr.toString()}`);
  return list.stdout.trim().split('\n');
}

describe.skipIf(!canRunContainers || !hasDocker)(
  `Engine API: the docker CLI tour, docker cp, exec under a monitor, bad input (integration${skipReason}${hasDocker ? '' : '; skipped: needs /usr/bin/docker (docker.io)'})`,
  () => {
    let env: HullEnv;
    let api: EngineApiServer;
    const since = Math.floor(Date.now() / 1000) - 1;
    const docker = (args: string[], opts: { input?: string; timeout?: number } = {}) => api.docker(args, opts);
    const run = (args: string[], opts: { input?: string; timeout?: number } = {}) => api.run(args, opts);
    const json = { 'Content-Type': 'application/json' };
    const request = (method: string, urlPath: string, body?: string | Buffer, headers: Record<string, string> = {}) =>
      api.request(method, urlPath, body, headers);
    /** Docker's X-Docker-Container-Path-Stat of an answer. */
    const pathStat = (a: Answer) =>
      JSON.parse(Buffer.from(String(a.headers['x-docker-container-path-stat']), 'base64').toString()) as {
        name: string;
        size: number;
        mode: number;
        mtime: string;
        linkTarget: string;
      };
    /** A whole binary answer (GET archive). */
    const fetchBytes = (urlPath: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> =>
      new Promise((resolve, reject) => {
        const req = http.request({ socketPath: api.socket, method: 'GET', path: urlPath }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        });
        req.on('error', reject);
        req.end();
      });
    /** A command run under script(1): the docker CLI gets a pty of its own. */
    const inPty = (command: string, input = '') =>
      spawnSync(
        'script',
        ['-qec', `stty cols 91 rows 33; DOCKER_HOST=${api.dockerHost} DOCKER_CONFIG=${path.join(env.base, 'docker-config')} ${command}`, '/dev/null'],
        {
          input,
          encoding: 'utf8',
          timeout: 60_000,
        },
      );

    beforeAll(async () => {
      env = new HullEnv();
      await env.loadBusybox();
      api = new EngineApiServer(env);
      await api.start();
    }, 60_000);

    afterAll(async () => {
      await api?.destroy();
    });

    it('version, info, images; run --rm exits 3; run -it through a pty', () => {
      const v = docker(['version', '--format', '{{.Client.Version}} {{.Server.APIVersion}}']);
      expect(v.stderr).toBe('');
      expect(v.stdout.trim()).toMatch(/^20\.10\.\S+ 1\.41$/);
      const info = docker(['info', '--format', '{{.OSType}} {{.Driver}} {{.Images}}']);
      expect(info.stderr).toBe('');
      expect(info.stdout.trim()).toBe('linux overlay2 1');
      expect(docker(['images', '--format', '{{.Repository}}:{{.Tag}}']).stdout.trim()).toBe('busybox:latest');

      const three = run(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'exit 3']);
      expect(three.stderr).toBe('');
      expect(three.code).toBe(3);
      expect(docker(['ps', '-aq']).stdout).toBe('');

      if (!hasScript) return;
      const it = inPty(`${DOCKER} run --rm -it --cgroup-parent ${env.cgroupParent} --network none busybox sh`, 'echo tour-$((6*7))\nexit 4\n');
      expect(it.stdout).toContain('tour-42');
      expect(it.status).toBe(4);
    });

    it.skipIf(!hasRegistry())('pull from a local registry the test starts', async () => {
      const reg = await Registry.start();
      try {
        const bb = await busyboxImage();
        const pushed = spawnSync('skopeo', ['copy', '--dest-tls-verify=false', `oci:${bb.ociDir}`, `docker://${reg.host}/tour/busybox:1`], {
          encoding: 'utf8',
        });
        expect(pushed.stderr).toBe('');
        const pull = docker(['pull', `${reg.host}/tour/busybox:1`]);
        expect(pull.stderr).toBe('');
        expect(pull.stdout).toContain(`Status: Downloaded newer image for ${reg.host}/tour/busybox:1`);
        expect(docker(['images', '--format', '{{.Repository}}:{{.Tag}}']).stdout.split('\n')).toContain(`${reg.host}/tour/busybox:1`);
        const ran = run(['run', '--rm', '--network', 'none', `${reg.host}/tour/busybox:1`, 'echo', 'pulled']);
        expect(ran.stdout).toBe('pulled\n');
        expect(docker(['rmi', `${reg.host}/tour/busybox:1`]).code).toBe(0);
      } finally {
        await reg.stop();
      }
    });

    it.skipIf(!hasNetTools)('run -d -p serves HTTP on the published port; ps with filters; top; stats; exec; inspect; stop; kill; rm', async () => {
      const port = await freePort();
      const web = run([
        'run',
        '-d',
        '--name',
        'web',
        '--label',
        'tour=1',
        '-p',
        `127.0.0.1:${port}:80`,
        'busybox',
        'sh',
        '-c',
        'mkdir -p /www && echo tour-page > /www/index.html && exec httpd -f -p 80 -h /www',
      ]);
      expect(web.stderr).toBe('');
      const id = web.stdout.trim();
      expect(await eventually(() => httpGet(port))).toBe('tour-page\n');

      expect(run(['run', '-d', '--name', 'idle', '--network', 'none', 'busybox', 'sleep', '60']).code).toBe(0);
      expect(docker(['ps', '--filter', 'label=tour=1', '--format', '{{.Names}}']).stdout.trim()).toBe('web');
      expect(docker(['ps', '--filter', 'name=idle', '--filter', 'status=running', '-q']).stdout.trim()).toMatch(/^[0-9a-f]{12}$/);
      expect(docker(['ps', '--filter', `publish=${port}/tcp`, '--format', '{{.Names}}']).stdout.trim()).toBe('web');
      expect(docker(['ps', '--filter', 'status=exited', '-q']).stdout).toBe('');
      expect(docker(['ps', '--format', '{{.Names}} {{.Ports}}', '--filter', 'name=web']).stdout.trim()).toBe(`web 127.0.0.1:${port}->80/tcp`);

      const top = docker(['top', 'web']);
      expect(top.stderr).toBe('');
      expect(top.stdout).toMatch(/^UID\s+PID\s+PPID/);
      expect(top.stdout).toContain('httpd -f -p 80 -h /www');
      const stats = docker(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}}', 'web']);
      expect(stats.stderr).toBe('');
      expect(stats.stdout).toBe('web 1\n');

      // exec: its exit code; -it through a pty.
      const code = docker(['exec', 'web', 'sh', '-c', 'cat /www/index.html; exit 9']);
      expect(code.stdout).toBe('tour-page\n');
      expect(code.code).toBe(9);
      const notFound = docker(['exec', 'web', 'no-such-command']);
      expect(notFound.code).toBe(126);
      expect(notFound.stderr).toContain('no-such-command');
      if (hasScript) {
        const ei = inPty(`${DOCKER} exec -it web sh`, 'echo exec-$((6*7)) $(tty)\nexit 6\n');
        expect(ei.stdout).toMatch(/exec-42 \/dev\/pts\/\d+/);
        expect(ei.status).toBe(6);
      }

      expect(docker(['inspect', '--format', '{{.Id}} {{.State.Running}} {{.Config.Labels.tour}}', 'web']).stdout.trim()).toBe(`${id} true 1`);
      expect(docker(['image', 'inspect', '--format', '{{.Os}} {{.Architecture}}', 'busybox']).stdout.trim()).toMatch(/^linux \w+$/);

      const stop = docker(['stop', '-t', '1', 'web']);
      expect(stop.stdout.trim()).toBe('web');
      expect(docker(['inspect', '--format', '{{.State.Status}}', 'web']).stdout.trim()).toBe('exited');
      await expect(httpGet(port)).rejects.toThrow();
      const kill = docker(['kill', 'idle']);
      expect(kill.stdout.trim()).toBe('idle');
      expect(docker(['wait', 'idle']).stdout.trim()).toBe('137');
      expect(docker(['rm', 'web', 'idle']).stdout.trim().split('\n')).toEqual(['web', 'idle']);
      expect(docker(['ps', '-aq']).stdout).toBe('');
    });

    it('logs -f follows until the container ends', () => {
      expect(
        run(['run', '-d', '--name', 'talker', '--network', 'none', 'busybox', 'sh', '-c', 'echo one; sleep 1; echo two >&2; sleep 0.5; echo three']).code,
      ).toBe(0);
      const t0 = Date.now();
      const follow = docker(['logs', '-f', 'talker'], { timeout: 20_000 });
      expect(follow.code).toBe(0);
      expect(follow.stdout).toBe('one\nthree\n');
      expect(follow.stderr).toBe('two\n');
      expect(Date.now() - t0).toBeGreaterThan(800); // it followed: the lines came over time
      expect(docker(['rm', 'talker']).code).toBe(0);
    });

    it('networks and volumes: create, connect, inspect, rm', () => {
      expect(docker(['network', 'create', '--label', 'tour=1', 'tournet']).stderr).toBe('');
      expect(docker(['network', 'inspect', '--format', '{{.Name}} {{.Driver}} {{index .Labels "tour"}}', 'tournet']).stdout.trim()).toBe('tournet bridge 1');
      expect(docker(['volume', 'create', '--label', 'tour=1', 'tourvol']).stdout.trim()).toBe('tourvol');
      expect(docker(['volume', 'inspect', '--format', '{{.Name}} {{.Driver}} {{.Labels.tour}}', 'tourvol']).stdout.trim()).toBe('tourvol local 1');
      expect(run(['run', '-d', '--name', 'joiner', '--network', 'none', '-v', 'tourvol:/data', 'busybox', 'sleep', '60']).code).toBe(0);
      if (hasNetTools) {
        // On the default bridge, then connected to tournet too, with an alias there.
        expect(run(['run', '-d', '--name', 'member', 'busybox', 'sleep', '60']).code).toBe(0);
        const connect = docker(['network', 'connect', '--alias', 'other', 'tournet', 'member']);
        expect(connect.stderr).toBe('');
        expect(connect.code).toBe(0);
        expect(docker(['inspect', '--format', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}', 'member']).stdout.trim()).toBe('bridge tournet');
        expect(docker(['inspect', '--format', '{{json .NetworkSettings.Networks.tournet.Aliases}}', 'member']).stdout).toContain('"other"');
        expect(docker(['network', 'inspect', '--format', '{{range .Containers}}{{.Name}}{{end}}', 'tournet']).stdout.trim()).toBe('member');
        const twice = docker(['network', 'connect', 'tournet', 'member']);
        expect(twice.code).toBe(1); // already there: refused, as Docker's
        expect(docker(['rm', '-f', 'member']).code).toBe(0);
      }
      expect(docker(['volume', 'rm', 'tourvol']).code).toBe(1); // in use
      expect(docker(['rm', '-f', 'joiner']).code).toBe(0);
      expect(docker(['volume', 'rm', 'tourvol']).stdout.trim()).toBe('tourvol');
      expect(docker(['network', 'rm', 'tournet']).stdout.trim()).toBe('tournet');
      expect(docker(['volume', 'ls', '-q']).stdout).toBe('');
    });

    it('docker cp both ways; the archive endpoints: HEAD stat, GET tar, PUT extract, Docker 404 and 400', async () => {
      expect(
        run(['run', '-d', '--name', 'files', '--network', 'none', 'busybox', 'sh', '-c', 'mkdir -p /srv/d && echo in-d > /srv/d/f && exec sleep 60']).code,
      ).toBe(0);
      const host = path.join(env.base, 'cp');
      mkdirSync(path.join(host, 'up', 'sub'), { recursive: true });
      writeFileSync(path.join(host, 'up', 'a.txt'), 'alpha\n');
      writeFileSync(path.join(host, 'up', 'sub', 'b.txt'), 'beta\n', { mode: 0o751 });

      // host → container: a directory, then one file under a new name.
      const upDir = docker(['cp', path.join(host, 'up'), 'files:/tmp/']);
      expect(upDir.stderr).toBe('');
      expect(docker(['exec', 'files', 'sh', '-c', 'cat /tmp/up/a.txt /tmp/up/sub/b.txt; stat -c %a /tmp/up/sub/b.txt']).stdout).toBe('alpha\nbeta\n751\n');
      const one = docker(['cp', path.join(host, 'up', 'a.txt'), 'files:/tmp/renamed.txt']);
      expect(one.stderr).toBe('');
      expect(docker(['exec', 'files', 'cat', '/tmp/renamed.txt']).stdout).toBe('alpha\n');

      // container → host: a file, a directory, a directory's contents.
      expect(docker(['cp', 'files:/srv/d/f', path.join(host, 'f')]).stderr).toBe('');
      expect(readFileSync(path.join(host, 'f'), 'utf8')).toBe('in-d\n');
      expect(docker(['cp', 'files:/srv/d', path.join(host, 'down')]).stderr).toBe('');
      expect(readFileSync(path.join(host, 'down', 'f'), 'utf8')).toBe('in-d\n');
      mkdirSync(path.join(host, 'into'));
      expect(docker(['cp', 'files:/tmp/up/.', path.join(host, 'into')]).stderr).toBe('');
      expect(readdirSync(path.join(host, 'into')).sort()).toEqual(['a.txt', 'sub']);
      const missing = docker(['cp', 'files:/no/such', path.join(host, 'x')]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toBe('Error: No such container:path: files:/no/such\n'); // the CLI's words for the stat's 404

      // The endpoints themselves.
      const head = await request('HEAD', '/v1.41/containers/files/archive?path=/srv/d');
      expect(head.status).toBe(200);
      expect(head.body).toBe('');
      const dirStat = pathStat(head);
      expect(dirStat.name).toBe('d');
      expect(dirStat.mode >>> 31).toBe(1); // Go's ModeDir
      expect(dirStat.linkTarget).toBe('');
      const got = await fetchBytes('/v1.41/containers/files/archive?path=/srv/d');
      expect(got.status).toBe(200);
      expect(got.headers['content-type']).toBe('application/x-tar');
      expect(untar(got.body, path.join(host, 'got')).sort()).toEqual(['d/', 'd/f']);
      const contents = await fetchBytes('/v1.41/containers/files/archive?path=/srv/d/.');
      expect(untar(contents.body, path.join(host, 'contents'))).toEqual(['./f']);
      const none = await request('HEAD', '/containers/files/archive?path=/nope');
      expect(none.status).toBe(404);
      const noneGet = await request('GET', '/containers/files/archive?path=/nope');
      expect(noneGet.status).toBe(404);
      expect(JSON.parse(noneGet.body)).toEqual({ message: 'Could not find the file /nope in container files' });
      const toFile = await request('PUT', '/containers/files/archive?path=/srv/d/f', tarOf(path.join(host, 'up'), ['a.txt']));
      expect(toFile.status).toBe(400);
      expect(message(toFile)).toBe('extraction point is not a directory');
      const toMissing = await request('PUT', '/containers/files/archive?path=/srv/none', tarOf(path.join(host, 'up'), ['a.txt']));
      expect(toMissing.status).toBe(404);
      const put = await request('PUT', '/containers/files/archive?path=/srv&noOverwriteDirNonDir=1', tarOf(path.join(host, 'up'), ['a.txt', 'sub']));
      expect(put.status).toBe(200);
      expect(docker(['exec', 'files', 'cat', '/srv/a.txt', '/srv/sub/b.txt']).stdout).toBe('alpha\nbeta\n');
      // A file where a directory is: refused, the directory kept.
      mkdirSync(path.join(host, 'clash'));
      writeFileSync(path.join(host, 'clash', 'd'), 'not a dir\n');
      const clash = await request('PUT', '/containers/files/archive?path=/srv&noOverwriteDirNonDir=1', tarOf(path.join(host, 'clash'), ['d']));
      expect(clash.status).toBe(400);
      expect(message(clash)).toMatch(/cannot overwrite directory/);
      expect(docker(['exec', 'files', 'cat', '/srv/d/f']).stdout).toBe('in-d\n');
      expect(docker(['exec', 'files', 'stat', '-c', '%u:%g', '/srv/a.txt', '/srv/sub']).stdout).toBe('0:0\n0:0\n');
      expect(docker(['rm', '-f', 'files']).code).toBe(0);

      // cp -a (copyUIDGID): the files belong to the container's user.
      expect(run(['run', '-d', '--name', 'owned', '--user', '1234:5678', '--network', 'none', 'busybox', 'sleep', '60']).code).toBe(0);
      const archived = docker(['cp', '-a', path.join(host, 'up'), 'owned:/tmp/']);
      expect(archived.stderr).toBe('');
      expect(docker(['exec', 'owned', 'stat', '-c', '%u:%g %a', '/tmp/up', '/tmp/up/a.txt', '/tmp/up/sub/b.txt']).stdout).toBe(
        '1234:5678 755\n1234:5678 644\n1234:5678 751\n',
      );
      // A figure for the report: the whole root as a tar, and how long pings waited meanwhile (the copy into staging is synchronous).
      const pings: number[] = [];
      let pinging = true;
      const pinger = (async () => {
        while (pinging) {
          const t = process.hrtime.bigint();
          await request('GET', '/_ping');
          pings.push(Number(process.hrtime.bigint() - t) / 1e6);
        }
      })();
      const t0 = process.hrtime.bigint();
      const whole = await fetchBytes('/containers/owned/archive?path=/');
      const took = Number(process.hrtime.bigint() - t0) / 1e6;
      pinging = false;
      await pinger;
      expect(whole.status).toBe(200);
      console.log(
        `GET archive of / (${(whole.body.length / 1e6).toFixed(1)} MB): ${took.toFixed(0)} ms; pings meanwhile: n=${pings.length} median=${[...pings].sort((a, b) => a - b)[Math.floor(pings.length / 2)]!.toFixed(1)} ms max=${Math.max(...pings).toFixed(1)} ms`,
      );
      // Every staging directory has gone (tmp/ of the root), a client's dropped GET included.
      await new Promise<void>((resolve) => {
        const req = http.request({ socketPath: api.socket, method: 'GET', path: '/containers/owned/archive?path=/' });
        req.on('error', () => resolve());
        req.end();
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 100);
      });
      await eventually(() => expect(readdirSync(path.join(env.root, 'tmp')).filter((n) => n.startsWith('archive-'))).toEqual([]));
      expect(docker(['rm', '-f', 'owned']).code).toBe(0);
      rmSync(host, { recursive: true, force: true });
    });

    it('docker cp on containers that are not running: create, cp in, start -a sees it; cp out of the exited one; a read-only rootfs refused', () => {
      const host = path.join(env.base, 'cp-stopped');
      mkdirSync(host, { recursive: true });
      writeFileSync(path.join(host, 'app.conf'), 'from-cp\n');
      expect(run(['create', '--name', 'later', '--network', 'none', 'busybox', 'sh', '-c', 'cat /etc/app.conf; echo made > /made']).code).toBe(0);
      expect(docker(['cp', path.join(host, 'app.conf'), 'later:/etc/']).stderr).toBe('');
      expect(docker(['start', '-a', 'later']).stdout).toBe('from-cp\n');
      expect(docker(['cp', 'later:/made', path.join(host, 'made')]).stderr).toBe('');
      expect(readFileSync(path.join(host, 'made'), 'utf8')).toBe('made\n');
      expect(run(['create', '--name', 'sealed', '--read-only', '--network', 'none', 'busybox', 'true']).code).toBe(0);
      expect(docker(['cp', path.join(host, 'app.conf'), 'sealed:/etc/']).stderr).toBe('Error response from daemon: container rootfs is marked read-only\n');
      expect(docker(['rm', 'later', 'sealed']).code).toBe(0);
      rmSync(host, { recursive: true, force: true });
    });

    it('the archive never leaves the container: ../ paths, a link to /, ../ entries in the tar', async () => {
      expect(run(['run', '-d', '--name', 'vault', '--network', 'none', 'busybox', 'sleep', '60']).code).toBe(0);
      const host = path.join(env.base, 'attack');
      mkdirSync(host, { recursive: true });
      const marker = `hull-escape-${randomBytes(6).toString('hex')}`;
      writeFileSync(path.join(host, marker), 'inside\n');
      // The container's hostname differs from the host's: what GET reads says which root it came from.
      expect(docker(['exec', 'vault', 'sh', '-c', 'echo container-etc > /etc/tour-mark && ln -s / /escape && ln -s ../../../.. /up']).code).toBe(0);

      for (const p of ['../../etc/tour-mark', '/escape/etc/tour-mark', '/up/etc/tour-mark', '/escape/../../etc/tour-mark']) {
        const got = await fetchBytes(`/containers/vault/archive?path=${encodeURIComponent(p)}`);
        expect(got.status, p).toBe(200);
        const into = path.join(host, `got-${randomBytes(3).toString('hex')}`);
        expect(untar(got.body, into)).toEqual(['tour-mark']);
        expect(readFileSync(path.join(into, 'tour-mark'), 'utf8')).toBe('container-etc\n');
      }
      const hostOnly = await request('HEAD', `/containers/vault/archive?path=${encodeURIComponent('../../../' + path.join(env.base, 'attack', marker))}`);
      expect(hostOnly.status).toBe(404); // the host's file is not there: the path is the container's
      const hostOnlyGet = await request('GET', `/containers/vault/archive?path=${encodeURIComponent('../../../' + path.join(env.base, 'attack', marker))}`);
      expect(message(hostOnlyGet)).toMatch(/^Could not find the file .* in container vault$/);
      const link = pathStat(await request('HEAD', '/containers/vault/archive?path=/escape'));
      expect(link.linkTarget).toBe('/');
      expect(link.mode & (1 << 27)).not.toBe(0); // Go's ModeSymlink: described as a link

      // PUT through ../ and through the links: the file lands in the container's /tmp, never the host's.
      for (const p of ['../../../tmp', '/escape/tmp', '/up/tmp']) {
        const put = await request('PUT', `/containers/vault/archive?path=${encodeURIComponent(p)}`, tarOf(host, [marker]));
        expect(put.status, p).toBe(200);
        expect(existsSync(`/tmp/${marker}`)).toBe(false);
        expect(docker(['exec', 'vault', 'cat', `/tmp/${marker}`]).stdout).toBe('inside\n');
        expect(docker(['exec', 'vault', 'rm', `/tmp/${marker}`]).code).toBe(0);
      }
      // Entries that climb (../ in their names, -P keeps them): refused, nothing written outside.
      mkdirSync(path.join(host, 'deep', 'deeper'), { recursive: true });
      const climbing = tarOf(path.join(host, 'deep', 'deeper'), [`../../${marker}`], ['-P']);
      expect(spawnSync('tar', ['-tPf', '-'], { input: climbing, encoding: 'utf8' }).stdout.trim()).toBe(`../../${marker}`);
      const bad = await request('PUT', '/containers/vault/archive?path=/tmp', climbing);
      expect(bad.status).toBeGreaterThanOrEqual(400);
      expect(message(bad)).toMatch(/\.\./);
      expect(existsSync(`/tmp/${marker}`)).toBe(false);
      expect(docker(['exec', 'vault', 'sh', '-c', `ls / /tmp | grep -c ${marker} || true`]).stdout.trim()).toBe('0');
      expect(docker(['rm', '-f', 'vault']).code).toBe(0);
      rmSync(host, { recursive: true, force: true });
    });

    it('an exec runs under its own monitor, not the server: a server restart leaves it running, its exit code recorded', async () => {
      expect(run(['run', '-d', '--name', 'host', '--network', 'none', 'busybox', 'sleep', '120']).code).toBe(0);
      const make = async (cmd: string[], attach: boolean) => {
        const r = await request('POST', '/v1.41/containers/host/exec', JSON.stringify({ Cmd: cmd, AttachStdout: attach, AttachStderr: attach }), json);
        expect(r.status).toBe(201);
        return (JSON.parse(r.body) as { Id: string }).Id;
      };
      const inspect = async (id: string) => {
        const r = await request('GET', `/v1.41/exec/${id}/json`);
        expect(r.status).toBe(200);
        return JSON.parse(r.body) as { Running: boolean; ExitCode: number | null; Pid: number; ContainerID: string };
      };
      const parentOf = (pid: number) => Number(/^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
      const comm = (pid: number) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim();

      // Detached: started, and its parent is a hull-monitor.
      const detached = await make(['sh', '-c', 'sleep 3; exit 42'], false);
      expect((await request('POST', `/v1.41/exec/${detached}/start`, JSON.stringify({ Detach: true }), json)).status).toBe(200);
      const before = await inspect(detached);
      expect(before.Running).toBe(true);
      expect(before.ExitCode).toBe(null);
      expect(before.Pid).toBeGreaterThan(0);
      expect(comm(parentOf(before.Pid))).toBe('hull-monitor');
      expect(parentOf(before.Pid)).not.toBe(api.pid);

      // Attached (its stream is the server's to relay): the client is cut off by the restart, the exec goes on.
      const attached = await make(['sh', '-c', 'echo started; sleep 3; exit 5'], true);
      const stream = await new Promise<{ socket: net.Socket; text: () => string }>((resolve, reject) => {
        let text = '';
        const socket = net.createConnection(api.socket, () => {
          const body = '{"Detach":false,"Tty":false}';
          socket.write(
            `POST /v1.41/exec/${attached}/start HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n${body}`,
          );
        });
        socket.on('data', (d: Buffer) => {
          text += d.toString('latin1');
          if (text.includes('started')) resolve({ socket, text: () => text });
        });
        socket.on('error', reject);
      });
      expect(stream.text()).toMatch(/^HTTP\/1.1 101 /);
      const attachedPid = (await inspect(attached)).Pid;
      expect(comm(parentOf(attachedPid))).toBe('hull-monitor');

      await api.restart();
      stream.socket.destroy();
      for (const id of [detached, attached]) {
        const now = await inspect(id);
        expect(now.Running).toBe(true);
        expect(now.ExitCode).toBe(null);
      }
      expect(() => process.kill(before.Pid, 0)).not.toThrow();

      const ended = await eventually(async () => {
        const s = await inspect(detached);
        if (s.Running) throw new Error('still running');
        return s;
      });
      expect(ended.ExitCode).toBe(42);
      expect(ended.Pid).toBe(0);
      const attachedEnded = await eventually(async () => {
        const s = await inspect(attached);
        if (s.Running) throw new Error('still running');
        return s;
      });
      expect(attachedEnded.ExitCode).toBe(5);
      // Its monitor logged its end (the server that started it had gone by then).
      const events = docker([
        'events',
        '--since',
        String(since),
        '--until',
        String(Math.floor(Date.now() / 1000) + 1),
        '--filter',
        'container=host',
        '--format',
        '{{.Action}} {{.Actor.Attributes.exitCode}}',
      ]);
      expect(events.stdout).toContain('exec_die 42');
      expect(events.stdout).toContain('exec_die 5');
      // An exec that ran cannot start again; an unknown one is Docker's 404.
      const again = await request('POST', `/v1.41/exec/${detached}/start`, JSON.stringify({ Detach: true }), json);
      expect(again.status).toBe(409);
      const unknown = await request('GET', `/v1.41/exec/${'0'.repeat(64)}/json`);
      expect(unknown.status).toBe(404);
      expect(message(unknown)).toBe(`No such exec instance: ${'0'.repeat(64)}`);

      // And through the CLI after the restart: stdin, and the exit code.
      const piped = docker(['exec', '-i', 'host', 'sh', '-c', 'cat; exit 3'], { input: 'through-monitor\n' });
      expect(piped.stdout).toBe('through-monitor\n');
      expect(piped.code).toBe(3);
      expect(docker(['rm', '-f', 'host']).code).toBe(0);
      expect((await request('GET', `/v1.41/exec/${detached}/json`)).status).toBe(404); // gone with its container, as Docker's
      // No monitor of an exec is left.
      const monitors = spawnSync('pgrep', ['-x', 'hull-monitor', '-a'], { encoding: 'utf8' }).stdout;
      expect(monitors).not.toContain(env.base);
    });

    it('events --since lists the tour in order', () => {
      const until = Math.floor(Date.now() / 1000) + 1;
      const events = docker([
        'events',
        '--since',
        String(since),
        '--until',
        String(until),
        '--filter',
        'type=container',
        '--filter',
        'container=talker',
        '--format',
        '{{.Action}}',
      ]);
      expect(events.stderr).toBe('');
      expect(events.stdout.trim().split('\n')).toEqual(['create', 'start', 'die', 'destroy']);
      const all = docker(['events', '--since', String(since), '--until', String(until), '--format', '{{.Type}} {{.Action}}']);
      expect(all.stdout).toContain('network create');
      expect(all.stdout).toContain('volume destroy');
      // An exec's create (at POST /containers/{id}/exec), start and die (its monitor's), in order.
      const execs = docker(['events', '--since', String(since), '--until', String(until), '--filter', 'container=host', '--format', '{{.Action}}'])
        .stdout.trim()
        .split('\n');
      const created = execs.indexOf('exec_create: sh -c cat; exit 3');
      const started = execs.indexOf('exec_start: sh -c cat; exit 3');
      expect(created).toBeGreaterThanOrEqual(0);
      expect(started).toBeGreaterThan(created);
      expect(execs.lastIndexOf('exec_die')).toBeGreaterThan(started);
      expect(execs.filter((a) => a.startsWith('exec_create: ')).length).toBe(execs.filter((a) => a.startsWith('exec_start: ')).length);
    });

    it('bad input: Docker statuses and messages, nothing half-made, the server goes on serving', async () => {
      expect(run(['run', '-d', '--name', 'target', '--network', 'none', 'busybox', 'sleep', '60']).code).toBe(0);
      const containersBefore = docker(['ps', '-aq', '--no-trunc']).stdout;
      const networksBefore = docker(['network', 'ls', '-q']).stdout;

      // Malformed JSON and a wrong content type on the other endpoints that take JSON: 400, nothing made.
      const badExec = await request('POST', '/v1.41/containers/target/exec', '{"Cmd": ["true"', json);
      expect(badExec.status).toBe(400);
      expect(message(badExec)).toMatch(/JSON/);
      const badNet = await request('POST', '/v1.41/networks/create', '{"Name": "half"', json);
      expect(badNet.status).toBe(400);
      const typedNet = await request('POST', '/v1.41/networks/create', '{"Name":"typed"}', { 'Content-Type': 'text/plain' });
      expect(typedNet.status).toBe(400);
      expect(message(typedNet)).toBe("Content-Type specified (text/plain) must be 'application/json'");
      const notObject = await request('POST', '/v1.41/containers/target/exec', '["true"]', json);
      expect(notObject.status).toBe(400);

      // 100 MB without a Content-Length (chunked): cut at the limit with 413, the rest never read.
      const big = await new Promise<Answer>((resolve, reject) => {
        const req = http.request({ socketPath: api.socket, method: 'POST', path: '/v1.41/containers/create', headers: json }, (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        });
        req.on('error', () => undefined); // the server closes after its answer: a write after it fails
        const chunk = Buffer.alloc(1024 * 1024, 0x20);
        let sent = 0;
        const pump = () => {
          while (sent < 100 && !req.destroyed) {
            sent++;
            if (!req.write(chunk)) {
              req.once('drain', pump);
              return;
            }
          }
          req.end();
        };
        pump();
        setTimeout(() => reject(new Error('no answer to a 100 MB body')), 30_000).unref();
      });
      expect(big.status).toBe(413);
      expect(message(big)).toMatch(/too large/);

      // Unknown endpoints and methods.
      for (const [method, p] of [
        ['GET', '/v1.41/containers/target/nothing'],
        ['DELETE', '/v1.41/exec/x'],
        ['PATCH', '/v1.41/containers/target/json'],
      ] as const) {
        const r = await request(method, p);
        expect(r.status, `${method} ${p}`).toBe(404);
        expect(JSON.parse(r.body)).toEqual({ message: 'page not found' });
      }

      // The archive: ../ that names nothing in the container, and no path at all.
      const climb = await request('GET', `/containers/target/archive?path=${encodeURIComponent('../../../../no-such-dir/f')}`);
      expect(climb.status).toBe(404);
      expect(message(climb)).toBe('Could not find the file ../../../../no-such-dir/f in container target');
      expect((await request('GET', '/containers/target/archive')).status).toBe(400);
      expect((await request('GET', '/containers/ghost/archive?path=/')).status).toBe(404);

      // Attach (plain, not upgraded) and exec on a container that does not exist: 404 with Docker's words.
      const attach = await request('POST', '/v1.41/containers/ghost/attach?stream=1&stdout=1');
      expect(attach.status).toBe(404);
      expect(message(attach)).toMatch(/^No such container: ghost$/i);
      const execGhost = await request('POST', '/v1.41/containers/ghost/exec', JSON.stringify({ Cmd: ['true'] }), json);
      expect(execGhost.status).toBe(404);

      // Nothing half-made, and the server goes on: a ping, a run.
      expect(docker(['ps', '-aq', '--no-trunc']).stdout).toBe(containersBefore);
      expect(docker(['network', 'ls', '-q']).stdout).toBe(networksBefore);
      expect((await request('GET', '/_ping')).status).toBe(200);
      expect(run(['run', '--rm', '--network', 'none', 'busybox', 'echo', 'still-serving']).stdout).toBe('still-serving\n');
      expect(docker(['rm', '-f', 'target']).code).toBe(0);
      expect(docker(['ps', '-aq']).stdout).toBe('');
    });
  },
);
