// The Engine API's image verbs (`hull system service`) driven by Debian's docker CLI 20.10
// (/usr/bin/docker) and python3-docker: build (the classic builder's POST /build), login and push
// to a local htpasswd registry over TLS (X-Registry-Auth), pull back, save | load, commit,
// history, system df; and clients that go away mid-build and mid-pull, leaving nothing half-made.
// Private server, root and registries; everything is stopped by pid and removed.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineApiServer, hasDocker, hasPythonSdk, message } from '../helpers/engine-api.js';
import { HullEnv, canRunContainers, skipReason } from '../helpers/hull-env.js';
import { Proxy, Registry, hasRegistry, makeTlsFiles } from '../helpers/registry.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A tar of `files` (paths → text), made by tar(1) from a temp directory. */
function tarOf(dir: string, files: Record<string, string | Buffer>): Buffer {
  const src = mkdtempSync(path.join(dir, 'ctx-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(src, name)), { recursive: true });
    writeFileSync(path.join(src, name), text);
  }
  const r = spawnSync('tar', ['-C', src, '-cf', '-', '.'], { maxBuffer: 64 * 1024 * 1024 });
  rmSync(src, { recursive: true, force: true });
  return r.stdout;
}

describe.skipIf(!canRunContainers || !hasDocker || !hasRegistry())(
  `Engine API images: build, push with login, pull, save | load, commit, history, df (integration${skipReason}${hasDocker ? '' : '; skipped: needs /usr/bin/docker (docker.io)'}${hasRegistry() ? '' : '; skipped: needs docker-registry, htpasswd, openssl, skopeo'})`,
  () => {
    let env: HullEnv;
    let api: EngineApiServer;
    let reg: Registry;
    let work: string;
    const saved: Record<string, string | undefined> = {};

    const docker = (args: string[], opts: { input?: string } = {}) => api.docker(args, opts);
    const run = (args: string[]) => api.run(args);
    /** What a build or a pull may leave in the store's temp directory and containers: nothing, once it is over. */
    const leftovers = () => ({
      tmp: existsSync(path.join(env.root, 'tmp')) ? readdirSync(path.join(env.root, 'tmp')) : [],
      containers: existsSync(path.join(env.root, 'containers')) ? readdirSync(path.join(env.root, 'containers')) : [],
      layers: existsSync(path.join(env.root, 'layers')) ? readdirSync(path.join(env.root, 'layers')).sort() : [],
    });

    beforeAll(async () => {
      env = new HullEnv();
      await env.loadBusybox();
      work = path.join(env.base, 'work');
      mkdirSync(work, { recursive: true });
      // A registry with htpasswd Basic auth over TLS; the server trusts its CA through HULL_CERTS_D and has no stored credentials
      // of its own (its DOCKER_CONFIG is empty): a push or pull can only authenticate with the client's X-Registry-Auth.
      const tls = makeTlsFiles(path.join(work, 'tls'));
      reg = await Registry.start({ tls, htpasswd: { hull: 's3cret pass' } });
      const certsD = path.join(work, 'certs.d');
      mkdirSync(path.join(certsD, reg.host), { recursive: true });
      copyFileSync(tls.caCert, path.join(certsD, reg.host, 'ca.crt'));
      for (const [k, v] of Object.entries({ HULL_CERTS_D: certsD, DOCKER_CONFIG: path.join(work, 'server-docker-config') })) {
        saved[k] = process.env[k];
        process.env[k] = v;
      }
      api = new EngineApiServer(env);
      await api.start();
    }, 120_000);

    afterAll(async () => {
      await api?.destroy();
      await reg?.stop();
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) Reflect.deleteProperty(process.env, k);
        else process.env[k] = v;
      }
    });

    it('docker build -t a -t b --iidfile of a multi-stage Dockerfile with a build-arg and a label: the image is named, labelled and runs', () => {
      const ctx = path.join(work, 'app');
      mkdirSync(ctx, { recursive: true });
      writeFileSync(
        path.join(ctx, 'Dockerfile'),
        [
          'FROM busybox AS builder',
          'ARG GREETING=hello',
          'RUN echo "$GREETING from the builder" > /greeting',
          'FROM busybox',
          'LABEL stage=final',
          'COPY --from=builder /greeting /greeting',
          'COPY note.txt /note.txt',
          'CMD ["cat", "/greeting", "/note.txt"]',
          '',
        ].join('\n'),
      );
      writeFileSync(path.join(ctx, 'note.txt'), 'from the context\n');
      const iid = path.join(work, 'iid');
      const b = docker([
        'build',
        '--cgroup-parent',
        env.cgroupParent,
        '-t',
        'app:1',
        '-t',
        'app:2',
        '--iidfile',
        iid,
        '--build-arg',
        'GREETING=howdy',
        '--label',
        'team=hull',
        ctx,
      ]);
      expect(b.stderr).toBe('');
      expect(b.code).toBe(0);
      expect(b.stdout).toContain('Sending build context to Docker daemon');
      expect(b.stdout).toContain('Step 1/8 : FROM busybox AS builder');
      expect(b.stdout).toContain('Step 8/8 : CMD ["cat", "/greeting", "/note.txt"]');
      expect(b.stdout).toMatch(/ ---> [0-9a-f]{12}\n/);
      const id = readFileSync(iid, 'utf8');
      expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(b.stdout).toContain(`Successfully built ${id.slice(7, 19)}\n`);
      expect(b.stdout).toContain('Successfully tagged app:1\nSuccessfully tagged app:2\n');
      const inspect = docker(['image', 'inspect', '--format', '{{.Id}} {{index .Config.Labels "team"}} {{index .Config.Labels "stage"}}', 'app:2']);
      expect(inspect.stdout.trim()).toBe(`${id} hull final`);
      const ran = run(['run', '--rm', '--network', 'none', 'app:1']);
      expect(ran.stdout).toBe('howdy from the builder\nfrom the context\n');
      expect(ran.code).toBe(0);
      // Again: every step from the cache; -q prints only the id.
      const again = docker(['build', '-q', '--cgroup-parent', env.cgroupParent, '-t', 'app:1', '--build-arg', 'GREETING=howdy', '--label', 'team=hull', ctx]);
      expect(again.stderr).toBe('');
      expect(again.stdout.trim()).toBe(id);
      expect(leftovers().tmp).toEqual([]);
    });

    it("a failing build: Docker's message and exit code; a refused option is named; a bzip2 context is a 400", async () => {
      const ctx = path.join(work, 'bad');
      mkdirSync(ctx, { recursive: true });
      writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo trying && false\n');
      const failed = docker(['build', '--cgroup-parent', env.cgroupParent, ctx]);
      expect(failed.code).toBe(1);
      expect(failed.stdout).toContain('Step 2/2 : RUN echo trying && false');
      expect(failed.stdout).toContain('trying\n');
      expect(failed.stderr).toBe("The command '/bin/sh -c echo trying && false' returned a non-zero code: 1\n");
      writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM busybox\nFROBNICATE now\n');
      const unknown = docker(['build', ctx]);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(/^Error response from daemon: .*FROBNICATE/i);
      const limited = docker(['build', '--memory', '64m', ctx]);
      expect(limited.code).toBe(1);
      expect(limited.stderr).toContain("Error response from daemon: memory: build resource limits are not honoured by hull's builder");
      const bz = spawnSync('bzip2', ['-c'], { input: tarOf(work, { Dockerfile: 'FROM busybox\n' }) }).stdout;
      const answer = await api.request('POST', '/v1.41/build', bz, { 'Content-Type': 'application/x-tar' });
      expect(answer.status).toBe(400);
      expect(message(answer)).toBe('the build context is bzip2-compressed: hull takes a plain or gzip-compressed tar');
      // A gzip context is taken, as Docker's.
      const gz = spawnSync('gzip', ['-c'], { input: tarOf(work, { 'sub/Build.file': 'FROM busybox\nLABEL gz=yes\n' }) }).stdout;
      const gzipped = await api.request('POST', '/v1.41/build?dockerfile=sub/Build.file&t=gz:1', gz, { 'Content-Type': 'application/x-tar' });
      expect(gzipped.status).toBe(200);
      expect(gzipped.body).toMatch(/"aux":\{"ID":"sha256:[0-9a-f]{64}"\}/);
      expect(docker(['image', 'inspect', '--format', '{{index .Config.Labels "gz"}}', 'gz:1']).stdout.trim()).toBe('yes');
      expect(leftovers().tmp).toEqual([]);
    });

    it('docker login (a bad password fails as Docker), tag, push with X-Registry-Auth, rmi, pull back and run', () => {
      const bad = docker(['login', '-u', 'hull', '--password-stdin', reg.host], { input: 'wrong\n' });
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/^Error response from daemon: .*unauthorized: incorrect username or password/);
      // Logged out, the push has no credentials: the server's own (none) are not enough.
      expect(docker(['tag', 'app:1', `${reg.host}/team/app:1`]).code).toBe(0);
      const anonymous = docker(['push', `${reg.host}/team/app:1`]);
      expect(anonymous.code).toBe(1);
      const good = docker(['login', '-u', 'hull', '--password-stdin', reg.host], { input: 's3cret pass\n' });
      expect(good.stderr).toMatch(/^(WARNING! Your password will be stored unencrypted[^\n]*\n(Configure[^\n]*\n)?(https:[^\n]*\n)?\n?)?$/);
      expect(good.stdout).toContain('Login Succeeded');
      const push = docker(['push', `${reg.host}/team/app:1`]);
      expect(push.stderr).toBe('');
      expect(push.code).toBe(0);
      expect(push.stdout).toContain(`The push refers to repository [${reg.host}/team/app]`);
      expect(push.stdout).toMatch(/[0-9a-f]{12}: Pushed/);
      expect(push.stdout).toMatch(/1: digest: sha256:[0-9a-f]{64} size: \d+/);
      const id = docker(['image', 'inspect', '--format', '{{.Id}}', 'app:1']).stdout.trim();
      expect(docker(['rmi', `${reg.host}/team/app:1`]).code).toBe(0);
      const pull = docker(['pull', `${reg.host}/team/app:1`]);
      expect(pull.stderr).toBe('');
      expect(pull.stdout).toContain(`Status: Downloaded newer image for ${reg.host}/team/app:1`);
      expect(docker(['image', 'inspect', '--format', '{{.Id}}', `${reg.host}/team/app:1`]).stdout.trim()).toBe(id);
      const ran = run(['run', '--rm', '--network', 'none', `${reg.host}/team/app:1`]);
      expect(ran.stdout).toBe('howdy from the builder\nfrom the context\n');
      expect(docker(['logout', reg.host]).code).toBe(0);
    });

    it('docker save | docker load (the image removed in between comes back whole), and history', () => {
      const file = path.join(work, 'app.tar');
      const id = docker(['image', 'inspect', '--format', '{{.Id}}', 'app:1']).stdout.trim();
      const save = docker(['save', '-o', file, 'app:1', 'app:2']);
      expect(save.stderr).toBe('');
      const names = spawnSync('tar', ['-tf', file], { encoding: 'utf8' }).stdout.split('\n');
      expect(names).toContain('manifest.json');
      expect(docker(['rmi', '-f', id]).code).toBe(0);
      expect(docker(['image', 'inspect', 'app:1']).code).toBe(1);
      const load = docker(['load', '-i', file]);
      expect(load.stderr).toBe('');
      expect(load.stdout).toBe('Loaded image: app:1\nLoaded image: app:2\n');
      expect(docker(['image', 'inspect', '--format', '{{.Id}}', 'app:2']).stdout.trim()).toBe(id);
      expect(run(['run', '--rm', '--network', 'none', 'app:2']).stdout).toBe('howdy from the builder\nfrom the context\n');

      const history = docker(['history', '--no-trunc', '--format', '{{.ID}}|{{.CreatedBy}}|{{.Size}}', 'app:1']);
      expect(history.stderr).toBe('');
      const rows = history.stdout.trim().split('\n');
      expect(rows[0]).toMatch(new RegExp(`^${id}\\|.*/greeting.*/note\\.txt`));
      expect(rows.slice(1).every((r) => r.startsWith('<missing>|'))).toBe(true);
      expect(rows.some((r) => r.includes('COPY') && r.includes('note.txt'))).toBe(true);
      const missing = docker(['save', 'no-such-image:1']);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('Error response from daemon');
    });

    it('docker commit (changes, message, author) and a commit body Config (applied, or refused naming the field)', async () => {
      const c = run(['run', '-d', '--name', 'tocommit', '--network', 'none', 'busybox', 'sh', '-c', 'echo made > /made; exec sleep 60']);
      expect(c.stderr).toBe('');
      for (let i = 0; i < 100 && docker(['exec', 'tocommit', 'cat', '/made']).stdout !== 'made\n'; i++) await sleep(20);
      const commit = docker(['commit', '-c', 'CMD ["cat", "/made"]', '-m', 'a message', '-a', 'me', 'tocommit', 'committed:1']);
      expect(commit.stderr).toBe('');
      const id = commit.stdout.trim();
      expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(docker(['inspect', '--format', '{{.State.Status}}', 'tocommit']).stdout.trim()).toBe('running');
      expect(docker(['image', 'inspect', '--format', '{{.Author}}|{{.Comment}}', 'committed:1']).stdout.trim()).toBe('me|a message');
      expect(run(['run', '--rm', '--network', 'none', 'committed:1']).stdout).toBe('made\n');
      const withBody = await api.request(
        'POST',
        '/v1.41/commit?container=tocommit&repo=committed&tag=2',
        JSON.stringify({ Env: ['GREETING=hi $there'], Labels: { 'x.y': 'z' }, User: '', Cmd: null, Tty: false }),
        { 'Content-Type': 'application/json' },
      );
      expect(withBody.status).toBe(201);
      expect(JSON.parse(withBody.body)).toEqual({ Id: expect.stringMatching(/^sha256:/) });
      expect(docker(['image', 'inspect', '--format', '{{json .Config.Env}} {{index .Config.Labels "x.y"}}', 'committed:2']).stdout).toContain(
        '"GREETING=hi $there"',
      );
      const refused = await api.request('POST', '/v1.41/commit?container=tocommit', JSON.stringify({ Tty: true }), { 'Content-Type': 'application/json' });
      expect(refused.status).toBe(400);
      expect(message(refused)).toBe("Config.Tty: not applied by hull's commit (it has no --change line)");
      expect((await api.request('POST', '/v1.41/commit?container=no-such')).status).toBe(404);
      expect(docker(['rm', '-f', 'tocommit']).code).toBe(0);
    });

    it("docker system df (Docker's rows, from the API's lists), and search refused clearly", () => {
      const df = docker(['system', 'df', '--format', '{{.Type}}|{{.TotalCount}}|{{.Active}}']);
      expect(df.stderr).toBe('');
      const images = new Set(docker(['images', '-q', '--no-trunc']).stdout.trim().split('\n')).size;
      expect(df.stdout.trim().split('\n')).toEqual([
        `Images|${images}|0`,
        'Containers|0|0',
        'Local Volumes|0|0',
        expect.stringMatching(/^Build Cache\|\d+\|0$/),
      ]);
      const verbose = docker(['system', 'df', '-v']);
      expect(verbose.code).toBe(0);
      expect(verbose.stdout).toContain('app');
      const search = docker(['search', 'busybox']);
      expect(search.code).toBe(1);
      expect(search.stderr).toContain('image search is not served');
    });

    it.skipIf(!hasPythonSdk)('python3-docker: client.images.build(path=…, tag=…)', () => {
      const ctx = path.join(work, 'py');
      mkdirSync(ctx, { recursive: true });
      writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM busybox\nLABEL made.by=python\nCOPY hello.txt /hello.txt\nCMD ["cat", "/hello.txt"]\n');
      writeFileSync(path.join(ctx, 'hello.txt'), 'hello from python\n');
      const script = [
        'import docker, json, sys',
        'client = docker.from_env()',
        `image, logs = client.images.build(path=${JSON.stringify(ctx)}, tag="py:1", rm=True)`,
        'streamed = "".join(l.get("stream", "") for l in logs)',
        'print(json.dumps({"tags": image.tags, "label": image.labels.get("made.by"), "id": image.id, "steps": "Step 4/4" in streamed}))',
      ].join('\n');
      const r = spawnSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8', env: api.clientEnv(), timeout: 60_000 });
      expect(r.stderr).toBe('');
      const out = JSON.parse(r.stdout) as { tags: string[]; label: string; id: string; steps: boolean };
      expect(out).toEqual({ tags: ['py:1'], label: 'python', id: expect.stringMatching(/^sha256:/), steps: true });
      expect(run(['run', '--rm', '--network', 'none', 'py:1']).stdout).toBe('hello from python\n');
    });

    /** A raw request whose answer is read until `until` shows in it; then the client goes away. */
    const goAwayWhen = (method: string, urlPath: string, body: Buffer | undefined, until: RegExp) =>
      new Promise<string>((resolve, reject) => {
        let text = '';
        const req = http.request({ socketPath: api.socket, method, path: urlPath, headers: { 'Content-Type': 'application/x-tar' } }, (res) => {
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            text += d;
            if (until.test(text)) {
              req.destroy();
              resolve(text);
            }
          });
          res.on('end', () => reject(new Error(`the answer ended before ${String(until)}: ${text}`)));
        });
        req.on('error', () => undefined);
        req.end(body);
      });

    it('a client that goes away mid-build (during a RUN, or while sending the context) leaves nothing; the server serves on', async () => {
      const before = leftovers();
      const context = tarOf(work, { Dockerfile: 'FROM busybox\nRUN echo started; sleep 30\n' });
      const seen = await goAwayWhen('POST', `/v1.41/build?t=never:1&cgroupparent=${env.cgroupParent}`, context, /started/);
      expect(seen).toContain('Step 2/2 : RUN echo started; sleep 30');
      // The build is aborted: its RUN process killed, its container, mounts and temp directories gone.
      for (let i = 0; i < 200 && JSON.stringify(leftovers()) !== JSON.stringify(before); i++) await sleep(50);
      expect(leftovers()).toEqual(before);
      expect(docker(['image', 'inspect', 'never:1']).code).toBe(1);
      expect(env.leftovers().filter((l) => /^(mount|process|container dir|run dir):/.test(l))).toEqual([]);
      // Half a context: the client sends a Content-Length it never fulfils, then goes.
      await new Promise<void>((resolve) => {
        const req = http.request({
          socketPath: api.socket,
          method: 'POST',
          path: '/v1.41/build?t=never:2',
          headers: { 'Content-Length': String(10 * 1024 * 1024) },
        });
        req.on('error', () => undefined);
        req.write(Buffer.alloc(1024 * 1024));
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 300);
      });
      for (let i = 0; i < 100 && JSON.stringify(leftovers()) !== JSON.stringify(before); i++) await sleep(50);
      expect(leftovers()).toEqual(before);
      expect((await api.request('GET', '/_ping')).body).toBe('OK');
      const ok = docker(['build', '-q', '-t', 'after:1', path.join(work, 'py')]);
      expect(ok.stderr).toBe('');
      expect(ok.stdout).toMatch(/^sha256:/);
    }, 90_000);

    it('a client that goes away mid-pull (a stalled layer) cancels the pull: nothing stored, nothing left; the server serves on', async () => {
      const plain = await Registry.start();
      const proxy = new Proxy(plain.port);
      try {
        // An image with a layer the store does not have (2 MiB that do not compress), pushed, then removed here
        // (imported, not built: the build cache would keep its layer).
        const tar = path.join(work, 'stall.tar');
        writeFileSync(tar, tarOf(work, { 'big.bin': randomBytes(2 * 1024 * 1024) }));
        expect(env.cli(['import', tar, `${plain.host}/stall/busybox:1`]).code).toBe(0);
        const pushed = docker(['push', `${plain.host}/stall/busybox:1`]);
        expect(pushed.stderr).toBe('');
        expect(docker(['rmi', `${plain.host}/stall/busybox:1`]).code).toBe(0);
        await proxy.start();
        // Enough for the manifest and config, then the layer stalls half-way.
        proxy.stallAfter = 64 * 1024;
        const before = leftovers();
        const seen = await goAwayWhen('POST', `/v1.41/images/create?fromImage=${proxy.host}/stall/busybox&tag=1`, undefined, /Downloading/);
        expect(seen).toContain('Pulling fs layer');
        for (let i = 0; i < 100 && JSON.stringify(leftovers()) !== JSON.stringify(before); i++) await sleep(50);
        await sleep(200);
        expect(leftovers()).toEqual(before);
        expect(docker(['image', 'inspect', `${proxy.host}/stall/busybox:1`]).code).toBe(1);
        expect((await api.request('GET', '/_ping')).body).toBe('OK');
        // The same pull, not stalled, completes.
        proxy.stallAfter = undefined;
        const pulled = docker(['pull', `${plain.host}/stall/busybox:1`]);
        expect(pulled.stderr).toBe('');
        expect(pulled.code).toBe(0);
      } finally {
        await proxy.stop();
        await plain.stop();
      }
    }, 90_000);
  },
);
