// `hull build` end to end, as root: a multi-stage Dockerfile built, run, saved and read by skopeo
// and umoci; the build cache (hits, a changed source, --no-cache, a changed build arg, prune);
// layers as Docker writes them (whiteouts, opaque directories, hard links); contexts from stdin;
// .dockerignore; errors (Dockerfile line, failed RUN with its output and exit code, missing
// source) and Ctrl-C, each leaving no container, mount or temporary state behind.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HULL_BIN, HullEnv, canRunContainers, skipReason } from '../helpers/hull-env.js';

const hasTool = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

describe.skipIf(!canRunContainers)(`hull build (integration${skipReason})`, () => {
  let env: HullEnv;

  beforeAll(async () => {
    env = new HullEnv();
    await env.loadBusybox();
  });

  afterEach(() => {
    // Nothing of a build outlives it: no container, mount, cgroup, process or temporary directory.
    expect(env.leftovers()).toEqual([]);
    const tmp = path.join(env.root, 'tmp');
    expect(existsSync(tmp) ? readdirSync(tmp) : []).toEqual([]);
  });

  afterAll(() => env.destroy());

  /** A context directory with these files. */
  function context(files: Record<string, string>): string {
    const dir = mkdtempSync(path.join(env.base, 'ctx-'));
    for (const [name, content] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      writeFileSync(path.join(dir, name), content);
    }
    return dir;
  }

  function build(args: string[]) {
    return env.cli(['build', ...args]);
  }

  function ok(args: string[]): string {
    const r = env.cli(args);
    if (r.code !== 0) throw new Error(`hull ${args.join(' ')} exited ${r.code}: ${r.stderr}\n${r.stdout}`);
    return r.stdout;
  }

  const hits = (out: string) => (out.match(/^--> Using cache /gm) ?? []).length;
  /** STEP lines followed by a fresh result (not from the cache). */
  const ranSteps = (out: string) => {
    const ran: string[] = [];
    const lines = out.split('\n');
    lines.forEach((l, i) => {
      const m = /^STEP \d+\/\d+: (.*)$/.exec(l);
      if (!m || (m[1] as string).startsWith('FROM')) return;
      const next = lines.slice(i + 1).find((n) => n.startsWith('--> ') || n.startsWith('STEP '));
      if (next?.startsWith('--> ') && !next.startsWith('--> Using cache')) ran.push(m[1] as string);
    });
    return ran;
  };

  const MULTI_STAGE = `# syntax=docker/dockerfile:1
ARG BASE=busybox
FROM \${BASE} AS builder
ARG GREETING=hello
WORKDIR /work
COPY src/ ./src/
RUN echo "$GREETING from $(cat /work/src/name.txt)" > /work/out.txt
RUN <<EOF
echo made by a heredoc > /work/here.txt
EOF

FROM busybox
ARG GREETING
ENV APP_HOME=/app \\
    MODE="prod mode"
WORKDIR $APP_HOME
COPY --from=builder /work/out.txt /work/here.txt ./
COPY --chown=1000:1000 --chmod=640 src/name.txt data/
USER 1000:1000
EXPOSE 8080 53/udp
LABEL org.example.name="demo app" version=1
STOPSIGNAL SIGINT
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat out.txt here.txt; id -u; echo $MODE; pwd; stat -c '%a %u:%g' data/name.txt"]
`;

  it('acceptance 1: a multi-stage build runs as written; skopeo reads it saved, umoci unpacks it', () => {
    const ctx = context({ Dockerfile: MULTI_STAGE, 'src/name.txt': 'the build stage\n' });
    const out = ok(['build', '-t', 'demo:1', '--build-arg', 'GREETING=hey', '--label', 'extra=yes', ctx]);
    expect(out).toMatch(/^STEP 1\/\d+: FROM \$\{BASE\} AS builder$/m);
    expect(out).toMatch(/Successfully tagged demo:1\n[0-9a-f]{64}\n$/);
    const run = ok(['run', '--rm', 'demo:1']);
    expect(run).toBe('hey from the build stage\nmade by a heredoc\n1000\nprod mode\n/app\n640 1000:1000\n');

    const [inspect] = JSON.parse(ok(['image', 'inspect', 'demo:1'])) as [{ Config: Record<string, unknown>; RootFS: { Layers: string[] } }];
    expect(inspect.Config).toMatchObject({
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'APP_HOME=/app', 'MODE=prod mode'],
      WorkingDir: '/app',
      User: '1000:1000',
      ExposedPorts: { '8080/tcp': {}, '53/udp': {} },
      Labels: { 'org.example.name': 'demo app', version: '1', extra: 'yes' },
      StopSignal: 'SIGINT',
      Entrypoint: ['/bin/sh', '-c'],
    });
    expect(inspect.RootFS.Layers).toHaveLength(3); // busybox + two COPY layers; the build stage's layers stay out
    const history = ok(['history', '--no-trunc', 'demo:1']);
    expect(history).toMatch(/ENV APP_HOME=\/app MODE=prod mode/);
    expect(history).toMatch(/COPY --chown=1000:1000 --chmod=640 src\/name.txt \/app\/data\/ # buildkit/);

    const docker = path.join(env.base, 'demo-docker.tar');
    const oci = path.join(env.base, 'demo-oci.tar');
    ok(['save', '-o', docker, 'demo:1']);
    ok(['save', '--format', 'oci', '-o', oci, 'demo:1']);
    if (hasTool('skopeo')) {
      for (const ref of [`docker-archive:${docker}`, `oci-archive:${oci}`]) {
        const r = spawnSync('skopeo', ['inspect', ref], { encoding: 'utf8' });
        expect(r.stderr).toBe('');
        const info = JSON.parse(r.stdout) as { Layers: string[]; Labels: Record<string, string>; Env: string[] };
        expect(info.Layers).toHaveLength(3);
        expect(info.Labels).toMatchObject({ version: '1' });
      }
    }
    if (hasTool('umoci')) {
      const layout = path.join(env.base, 'demo-layout');
      mkdirSync(layout);
      expect(spawnSync('tar', ['-xf', oci, '-C', layout]).status).toBe(0);
      const bundle = path.join(env.base, 'demo-bundle');
      const r = spawnSync('umoci', ['unpack', '--image', `${layout}:1`, bundle], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(readFileSync(path.join(bundle, 'rootfs/app/out.txt'), 'utf8')).toBe('hey from the build stage\n');
      const config = JSON.parse(readFileSync(path.join(bundle, 'config.json'), 'utf8')) as { process: { cwd: string; user: { uid: number } } };
      expect(config.process.cwd).toBe('/app');
      expect(config.process.user.uid).toBe(1000);
      rmSync(bundle, { recursive: true, force: true });
    }
  });

  it('acceptance 2: unchanged rebuild is all hits; a changed source reruns from its COPY; --no-cache reruns all; a changed build arg invalidates its RUN', () => {
    const ctx = context({
      Dockerfile:
        'FROM busybox\nRUN echo base > /base\nCOPY a.txt /a.txt\nARG V=1\nRUN echo "v=$V" > /v && cat /a.txt > /copy\nENV X=1\nCMD ["cat", "/v", "/copy"]\n',
      'a.txt': 'one\n',
    });
    const first = ok(['build', '-t', 'cached', ctx]);
    expect(hits(first)).toBe(0);
    const id1 = first.trim().split('\n').pop();

    const again = ok(['build', '-t', 'cached', ctx]);
    expect(hits(again)).toBe(5); // RUN, COPY, RUN, ENV, CMD (ARG is no step of its own)
    expect(ranSteps(again)).toEqual([]);
    expect(again.trim().split('\n').pop()).toBe(id1); // same image

    writeFileSync(path.join(ctx, 'a.txt'), 'two\n');
    const changed = ok(['build', '-t', 'cached', ctx]);
    expect(ranSteps(changed)).toEqual(['COPY a.txt /a.txt', 'RUN echo "v=$V" > /v && cat /a.txt > /copy', 'ENV X=1', 'CMD ["cat", "/v", "/copy"]']);
    expect(hits(changed)).toBe(1);
    expect(ok(['run', '--rm', 'cached'])).toBe('v=1\ntwo\n');

    const noCache = ok(['build', '--no-cache', '-t', 'cached', ctx]);
    expect(hits(noCache)).toBe(0);
    expect(ranSteps(noCache)).toHaveLength(5);

    const arg = ok(['build', '--build-arg', 'V=2', '-t', 'cached', ctx]);
    // Build args are RUN's environment: every RUN after the ARG (and what follows it) reruns.
    expect(ranSteps(arg)).toEqual(['RUN echo "v=$V" > /v && cat /a.txt > /copy', 'ENV X=1', 'CMD ["cat", "/v", "/copy"]']);
    expect(hits(arg)).toBe(2);
    expect(ok(['run', '--rm', 'cached'])).toBe('v=2\ntwo\n');
  });

  it('a build arg only invalidates the steps that can see it', () => {
    const ctx = context({ Dockerfile: 'FROM busybox\nRUN echo before > /b\nARG V=1\nLABEL v=$V\nRUN echo after > /a\n' });
    ok(['build', '-t', 'argscope', ctx]);
    const out = ok(['build', '--build-arg', 'V=2', '-t', 'argscope', ctx]);
    expect(ranSteps(out)).toEqual(['LABEL v=$V', 'RUN echo after > /a']);
    expect(hits(out)).toBe(1); // the RUN before the ARG
  });

  it("prune: image prune keeps the cache's layers; system prune drops the cache", () => {
    const ctx = context({ Dockerfile: 'FROM busybox\nRUN echo x > /x\n' });
    ok(['build', '-t', 'prunable', ctx]);
    ok(['rmi', 'prunable']);
    ok(['image', 'prune', '-f']);
    expect(hits(ok(['build', '-t', 'prunable', ctx]))).toBe(1);
    ok(['rmi', 'prunable']);
    const cacheRow = () =>
      ok(['system', 'df'])
        .split('\n')
        .find((l) => l.startsWith('Build Cache')) ?? '';
    expect(cacheRow()).toMatch(/^Build Cache\s+[1-9]\d*\s+0\s+/);
    ok(['system', 'prune', '-f']);
    expect(cacheRow()).toMatch(/^Build Cache\s+0\s+0\s+0B\s+0B$/);
    expect(hits(ok(['build', '-t', 'prunable', ctx]))).toBe(0);
    expect(readdirSync(path.join(env.root, 'build-cache')).length).toBeGreaterThan(0);
  });

  it('layers as Docker writes them: whiteouts, opaque directories, hard links, modes and owners', () => {
    const ctx = context({
      Dockerfile: [
        'FROM busybox',
        'RUN mkdir -p /d/keep /gone && touch /d/a /d/b /d/keep/k /gone/g && echo x > /h1 && chown 12:34 /h1 && chmod 4755 /h1',
        'RUN rm /d/a && rm -rf /d/keep && mkdir /d/keep && touch /d/keep/new && ln /h1 /h2 && rm -rf /gone',
      ].join('\n'),
    });
    ok(['build', '-t', 'wh', ctx]);
    const r = ok(['run', '--rm', 'wh', 'sh', '-c', 'ls /d /d/keep; test -e /gone || echo gone; stat -c "%i %h %u:%g %a" /h1 /h2']);
    const lines = r.trim().split('\n');
    expect(lines.slice(0, 6)).toEqual(['/d:', 'b', 'keep', '', '/d/keep:', 'new']);
    expect(lines[6]).toBe('gone');
    const [s1, s2] = [lines[7] as string, lines[8] as string];
    expect(s1).toBe(s2); // the same inode: a hard link
    expect(s1).toMatch(/^\d+ 2 12:34 4755$/);

    const archive = path.join(env.base, 'wh.tar');
    ok(['save', '-o', archive, 'wh']);
    const dir = mkdtempSync(path.join(env.base, 'wh-'));
    spawnSync('tar', ['-xf', archive, '-C', dir]);
    const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { Layers: string[] }[];
    const top = manifest[0]?.Layers.at(-1) as string;
    const list = spawnSync('tar', ['-tvf', path.join(dir, top)], { encoding: 'utf8' }).stdout;
    expect(list).toMatch(/ d\/\.wh\.a\n/);
    expect(list).toMatch(/ d\/keep\/\.wh\.\.wh\.\.opq\n/);
    expect(list).toMatch(/ \.wh\.gone\n/);
    expect(list).toMatch(/^h.* h2 link to h1$/m);
    // Deterministic: entries in byte order of their (deleted entries: real) names, a directory before its contents
    const names = list
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/)[5] as string)
      .filter((n) => !n.endsWith('/.wh..wh..opq'))
      .map((n) => n.replace(/(^|\/)\.wh\./, '$1'));
    expect(names).toEqual([...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    expect(names).toContain('gone');
  });

  it('.dockerignore, COPY wildcards and directory semantics, ADD of a local tar', () => {
    const tarSrc = mkdtempSync(path.join(env.base, 'tarsrc-'));
    mkdirSync(path.join(tarSrc, 'pkg'));
    writeFileSync(path.join(tarSrc, 'pkg/inside.txt'), 'from the archive\n');
    const ctx = context({
      Dockerfile:
        'FROM busybox\nCOPY . /ctx/\nCOPY *.md /docs/\nCOPY dir /into\nCOPY dir/f1 /file-renamed\nADD pkg.tar.gz /opt/\nCMD ["sh","-c","find /ctx /docs /into /file-renamed /opt | sort"]\n',
      '.dockerignore': '*.secret\nnode_modules\n!keep.secret\n',
      'a.secret': 'no',
      'keep.secret': 'yes',
      'node_modules/m.js': 'no',
      'README.md': 'r',
      'NOTES.md': 'n',
      'dir/f1': '1',
      'dir/sub/f2': '2',
    });
    spawnSync('tar', ['-czf', path.join(ctx, 'pkg.tar.gz'), '-C', tarSrc, 'pkg']);
    ok(['build', '-t', 'ctx', ctx]);
    const found = ok(['run', '--rm', 'ctx']).trim().split('\n');
    expect(found).toContain('/ctx/keep.secret');
    expect(found).not.toContain('/ctx/a.secret');
    expect(found.filter((f) => f.startsWith('/ctx/node_modules'))).toEqual([]);
    expect(found).toEqual(expect.arrayContaining(['/docs/NOTES.md', '/docs/README.md', '/into/f1', '/into/sub/f2', '/file-renamed', '/opt/pkg/inside.txt']));
    expect(found).not.toContain('/into/dir');
  });

  it('.dockerignore re-includes below excluded directories: the file and the path to it are copied, nothing else of them', () => {
    const tree = { 'drop/deep/important.txt': 'kept', 'drop/deep/other.txt': 'no', 'drop/top.txt': 'no', 'drop/side/f': 'no', 'keep.txt': 'k', 'dir/f': 'f' };
    const find = (image: string) => ok(['run', '--rm', image, 'find', '/ctx']).trim().split('\n').sort();
    // Everything excluded but the Dockerfile and one file three levels down (the finding: a raw ENOENT before).
    const all = context({ ...tree, Dockerfile: 'FROM busybox\nCOPY . /ctx\n', '.dockerignore': '*\n!Dockerfile\n!drop/deep/important.txt\n' });
    ok(['build', '-t', 'reinc', all]);
    expect(find('reinc')).toEqual(['/ctx', '/ctx/Dockerfile', '/ctx/drop', '/ctx/drop/deep', '/ctx/drop/deep/important.txt']);
    expect(ok(['run', '--rm', 'reinc', 'cat', '/ctx/drop/deep/important.txt'])).toBe('kept');
    // One directory excluded, one file under it re-included; the rest of the context is there.
    const one = context({ ...tree, Dockerfile: 'FROM busybox\nCOPY . /ctx\nCOPY drop /named\n', '.dockerignore': 'drop\n!drop/deep/important.txt\n' });
    ok(['build', '-t', 'reinc2', one]);
    expect(find('reinc2')).toEqual([
      '/ctx',
      '/ctx/.dockerignore',
      '/ctx/Dockerfile',
      '/ctx/dir',
      '/ctx/dir/f',
      '/ctx/drop',
      '/ctx/drop/deep',
      '/ctx/drop/deep/important.txt',
      '/ctx/keep.txt',
    ]);
    // The excluded directory, named as a source, holds only the re-included path.
    expect(ok(['run', '--rm', 'reinc2', 'find', '/named']).trim().split('\n').sort()).toEqual(['/named', '/named/deep', '/named/deep/important.txt']);
    // A Dockerfile that .dockerignore excludes is still read; it is just not in the context.
    const hidden = context({
      ...tree,
      Dockerfile: 'FROM busybox\nCOPY . /ctx\n',
      '.dockerignore': '# all of it\n/Dockerfile\n./.dockerignore\n**/*.txt\n!**/important.txt\n',
    });
    ok(['build', '-t', 'reinc3', hidden]);
    expect(find('reinc3')).toEqual([
      '/ctx',
      '/ctx/dir',
      '/ctx/dir/f',
      '/ctx/drop',
      '/ctx/drop/deep',
      '/ctx/drop/deep/important.txt',
      '/ctx/drop/side',
      '/ctx/drop/side/f',
    ]);
    // A bad .dockerignore is one clear line and exit 1, before any step.
    const bad = build([context({ Dockerfile: 'FROM busybox\n', '.dockerignore': 'a\n!\n' })]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe('hull: unable to prepare context: .dockerignore: illegal exclusion pattern: "!"');
    ok(['rmi', 'reinc', 'reinc2', 'reinc3']);
  });

  it("RUN has a network namespace with only lo; --network host (or RUN --network=host) shares the host's", () => {
    // Other programs add and remove interfaces on this host meanwhile: compare with those that stay.
    const before = readdirSync('/sys/class/net');
    const sees = (out: string) => {
      const stable = before.filter((i) => readdirSync('/sys/class/net').includes(i));
      const seen = out.trim().split(' ');
      expect(seen.length).toBeGreaterThan(1);
      for (const i of stable) expect(seen).toContain(i);
    };
    const ctx = context({
      Dockerfile: 'FROM busybox\nRUN ls /sys/class/net | sort | xargs > /none\nRUN --network=host ls /sys/class/net | sort | xargs > /host\n',
    });
    ok(['build', '-t', 'net', ctx]);
    expect(ok(['run', '--rm', 'net', 'cat', '/none'])).toBe('lo\n');
    sees(ok(['run', '--rm', 'net', 'cat', '/host']));
    const all = context({ Dockerfile: 'FROM busybox\nRUN ls /sys/class/net | sort | xargs > /all\n' });
    ok(['build', '--network', 'host', '-t', 'net2', all]);
    sees(ok(['run', '--rm', 'net2', 'cat', '/all']));
    expect(build(['--network', 'bridge', all]).stderr).toMatch(/--network bridge: hull build supports none and host/);
  });

  it('VOLUME: RUN writes under it go into the layer (as BuildKit); no volume is made for a build step', () => {
    const ctx = context({ Dockerfile: 'FROM busybox\nVOLUME /data\nRUN mkdir -p /data && echo kept > /data/f\n' });
    ok(['build', '-t', 'withvol', ctx]);
    expect(ok(['volume', 'ls', '-q'])).toBe('');
    expect(ok(['run', '--rm', 'withvol', 'cat', '/data/f'])).toBe('kept\n');
    expect(ok(['volume', 'ls', '-q'])).toBe('');
  });

  it('heredocs: RUN <<EOF as a shell script, a #! script run by its interpreter, a command reading one, COPY <<EOF with variables', () => {
    const ctx = context({
      Dockerfile: [
        'FROM busybox',
        'ENV WHO=world',
        'RUN <<EOF',
        'echo "hello $WHO" > /sh.txt',
        'echo second line >> /sh.txt',
        'EOF',
        'RUN <<SCRIPT',
        '#!/usr/bin/awk -f',
        'BEGIN { print "from awk" > "/awk.txt" }',
        'SCRIPT',
        'RUN cat > /cat.txt <<-EOT',
        '\tindented $WHO',
        '\tEOT',
        'COPY <<A <<"B" /docs/',
        'expanded ${WHO}',
        'A',
        'literal ${WHO}',
        'B',
        'CMD ["sh", "-c", "cat /sh.txt /awk.txt /cat.txt /docs/A /docs/B"]',
      ].join('\n'),
    });
    ok(['build', '-t', 'heredocs', ctx]);
    expect(ok(['run', '--rm', 'heredocs'])).toBe('hello world\nsecond line\nfrom awk\nindented world\nexpanded world\nliteral ${WHO}\n');
  });

  it('concurrent builds of one Dockerfile all succeed, beside a prune', async () => {
    const ctx = context({ Dockerfile: 'FROM busybox\nRUN echo concurrent > /c\nCOPY f /f\n', f: 'file\n' });
    const runs = await Promise.all([...[1, 2, 3, 4].map((i) => env.cliAsync(['build', '-q', '-t', `conc:${i}`, ctx])), env.cliAsync(['image', 'prune', '-f'])]);
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    for (const i of [1, 2, 3, 4]) expect(ok(['run', '--rm', `conc:${i}`, 'cat', '/c', '/f'])).toBe('concurrent\nfile\n');
  });

  it('context and Dockerfile from stdin', () => {
    const bare = env.cli(['build', '-q', '-t', 'fromstdin', '-'], { input: 'FROM busybox\nRUN echo piped > /p\n' });
    expect(bare.code).toBe(0);
    expect(bare.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    expect(ok(['run', '--rm', 'fromstdin', 'cat', '/p'])).toBe('piped\n');

    const ctx = context({ Dockerfile: 'FROM busybox\nCOPY f /f\n', f: 'in a tar\n' });
    const tar = spawnSync('tar', ['-c', '-C', ctx, '.']).stdout;
    const r = spawnSync(process.execPath, [HULL_BIN, ...env.globalArgs(), 'build', '--cgroup-parent', env.cgroupParent, '-t', 'tarctx', '-'], {
      input: tar,
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(ok(['run', '--rm', 'tarctx', 'cat', '/f'])).toBe('in a tar\n');

    const iid = path.join(env.base, 'iid');
    const f = env.cli(['build', '-q', '--iidfile', iid, '-f', '-', ctx], { input: 'FROM busybox\nCOPY f /g\n' });
    expect(f.code).toBe(0);
    expect(readFileSync(iid, 'utf8')).toBe(f.stdout.trim());
  });

  it('errors: the Dockerfile line, a failed RUN with its output and exit code, a missing COPY source; exit 1', () => {
    const bad = build([context({ Dockerfile: 'FROM busybox\n\nRUNN echo\n' })]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('hull: Dockerfile:3: unknown instruction: RUNN (RUNN echo)\n');

    const failing = build([context({ Dockerfile: 'FROM busybox\nRUN echo some output; echo on stderr >&2; exit 3\n' })]);
    expect(failing.code).toBe(1);
    expect(failing.stdout).toContain('some output\non stderr\n');
    expect(failing.stderr).toMatch(/process "\/bin\/sh -c echo some output; echo on stderr >&2; exit 3" did not complete successfully: exit code: 3/);
    const quiet = build(['-q', context({ Dockerfile: 'FROM busybox\nRUN echo quiet failure; exit 2\n' })]);
    expect(quiet.code).toBe(1);
    expect(quiet.stdout).toBe('');
    expect(quiet.stderr).toMatch(/exit code: 2\nquiet failure\n$/);

    const notFound = build([context({ Dockerfile: 'FROM busybox\nRUN ["/no/such/program"]\n' })]);
    expect(notFound.code).toBe(1);
    expect(notFound.stderr).toMatch(/process "\/no\/such\/program" did not complete successfully: .*ENOENT/);

    const missing = build([context({ Dockerfile: 'FROM busybox\nCOPY nothere.txt /x\n' })]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/Dockerfile:2: COPY nothere\.txt: source nothere\.txt: no such file or directory in the build context/);

    // A base image that is not stored is pulled: from a loopback address where no registry listens.
    const noBase = env.cli(['build', context({ Dockerfile: 'FROM 127.0.0.1:9/no-such-image\n' })], {
      env: { ...process.env, HULL_REGISTRY_RETRIES: '0' },
    });
    expect(noBase.code).toBe(1);
    expect(noBase.stderr).toMatch(/^hull: Dockerfile:1: FROM 127\.0\.0\.1:9\/no-such-image: .*(ECONNREFUSED|refused)/);
    const noContext = build([path.join(env.base, 'no-such-dir')]);
    expect([noContext.code, noContext.stderr]).toEqual([1, `hull: unable to prepare context: path "${path.join(env.base, 'no-such-dir')}" not found\n`]);
    const noTarget = build(['--target', 'nope', context({ Dockerfile: 'FROM busybox AS a\n' })]);
    expect([noTarget.code, noTarget.stderr]).toEqual([1, 'hull: target stage "nope" could not be found\n']);
    const stage = build([context({ Dockerfile: 'FROM busybox\nCOPY --from=nostage /a /b\n' })]);
    expect(stage.stderr).toMatch(/Dockerfile:2: --from=nostage: no stage or image of that name/);
  });

  it('--target builds only the stages it needs; ONBUILD triggers run in the child; scratch', () => {
    const ctx = context({
      Dockerfile:
        'FROM busybox AS one\nRUN echo one > /one\nFROM busybox AS broken\nRUN exit 1\nFROM one AS two\nRUN cat /one > /two\nONBUILD RUN echo triggered > /t\nFROM scratch AS empty\nCOPY --from=two /two /two\n',
    });
    const out = ok(['build', '--target', 'two', '-t', 'two', ctx]);
    expect(out).not.toMatch(/exit 1/);
    expect(ok(['run', '--rm', 'two', 'cat', '/two'])).toBe('one\n');
    const child = context({ Dockerfile: 'FROM two\nRUN cat /t\n' });
    expect(ok(['build', '-t', 'child', child])).toMatch(/ONBUILD RUN echo triggered > \/t[\s\S]*triggered\n/);
    const empty = ok(['build', '--target', 'empty', '-t', 'empty', ctx]);
    expect(empty).toMatch(/Successfully tagged empty:latest/);
    const [inspect] = JSON.parse(ok(['image', 'inspect', 'empty'])) as [{ RootFS: { Layers: string[] } }];
    expect(inspect.RootFS.Layers).toHaveLength(1);
  });

  it('kill -9 of a build: the next build removes its mounts and temporary state; rm -f its container', async () => {
    const ctx = context({
      Dockerfile: 'FROM busybox AS two\nRUN echo a > /a\nRUN echo b > /b\nFROM busybox\nCOPY --from=two /a /b /ab/\nRUN echo started; sleep 30\n',
    });
    const child = spawn(process.execPath, [HULL_BIN, ...env.globalArgs(), 'build', '--cgroup-parent', env.cgroupParent, ctx], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (/^started$/m.test(out)) resolve(); // the RUN's own output, not its STEP line
      }),
    );
    const mountsBefore = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((l) => l.includes(path.join(env.root, 'tmp')));
    expect(mountsBefore).toHaveLength(1); // the view of stage `two` (two layers: an overlay)
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('close', resolve));
    ok(['build', '-q', context({ Dockerfile: 'FROM busybox\n' })]);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(path.join(env.root, 'tmp'));
    const left = ok(['ps', '-aq']).trim().split('\n').filter(Boolean);
    expect(left).toHaveLength(1); // the RUN's container, killed with its hull (as `hull run`'s)
    ok(['rm', '-f', ...left]);
  });

  it('Ctrl-C during a RUN stops the build and removes its container and temporary state', async () => {
    const ctx = context({ Dockerfile: 'FROM busybox\nRUN echo started; sleep 30\n' });
    const child = spawn(process.execPath, [HULL_BIN, ...env.globalArgs(), 'build', '--cgroup-parent', env.cgroupParent, ctx], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (/^started$/m.test(out)) resolve();
      }),
    );
    const t0 = Date.now();
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(code).toBe(130);
    expect(err).toMatch(/build canceled/);
  });
});
