// The image verbs end to end through the CLI, as root: images / tag / rmi / image inspect /
// history / save / load / system df / prune / check, with Docker's output shapes and exit codes;
// archives hull saves are read by skopeo and unpacked by umoci, and `hull save | hull load`
// round-trips with identical ids and digests.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxImage } from '../helpers/busybox-image.js';
import { HULL_BIN, HullEnv, canRunContainers, skipReason } from '../helpers/hull-env.js';

const hasTool = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

describe.skipIf(!canRunContainers)(`image verbs (integration${skipReason})`, () => {
  let env: HullEnv;
  let other: HullEnv;
  let id: string;
  let manifestDigest: string;

  beforeAll(async () => {
    env = new HullEnv();
    other = new HullEnv();
    await env.loadBusybox();
    const image = await busyboxImage();
    id = image.configDigest;
    manifestDigest = image.manifestDigest;
  });

  afterAll(() => {
    env.destroy();
    other.destroy();
  });

  function ok(e: HullEnv, args: string[], input?: string): string {
    const r = e.cli(args, input === undefined ? {} : { input });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r.stdout;
  }

  /** `hull save ARGS | hull --root OTHER load`, through a shell pipe. */
  function pipeSaveLoad(saveArgs: string[]): string {
    const q = (a: string) => `'${a}'`;
    const save = [process.execPath, HULL_BIN, ...env.globalArgs(), 'save', ...saveArgs].map(q).join(' ');
    const load = [process.execPath, HULL_BIN, ...other.globalArgs(), 'load'].map(q).join(' ');
    return execFileSync('bash', ['-c', `set -o pipefail; ${save} | ${load}`], { encoding: 'utf8' });
  }

  it('images: table, -q, --digests, --format json; tag adds a row; image ls is the same verb', () => {
    expect(ok(env, ['images'])).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\nbusybox\s+latest\s+[0-9a-f]{12}\s/);
    ok(env, ['tag', 'busybox', 'example.com/me/box:1']);
    expect(ok(env, ['images', '-q'])).toBe(`${id.slice(7, 19)}\n`.repeat(2));
    const digests = ok(env, ['images', '--digests']);
    expect(digests.split('\n')[0]).toMatch(/^REPOSITORY\s+TAG\s+DIGEST\s+IMAGE ID\s+CREATED\s+SIZE$/);
    expect(digests).toContain(manifestDigest);
    const json = ok(env, ['image', 'ls', '--format', 'json'])
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, string>);
    expect(json.map((j) => `${j.Repository}:${j.Tag}`).sort()).toEqual(['busybox:latest', 'example.com/me/box:1']);
    expect(json[0]).toMatchObject({ ID: id.slice(7, 19), Digest: manifestDigest, CreatedAt: expect.stringMatching(/ \+0000 UTC$/) });
    expect(ok(env, ['images', 'example.com/me/box'])).toMatch(/\nexample.com\/me\/box\s+1\s/);
    const bad = env.cli(['tag', 'nope', 'x']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('hull: image not found: nope\n');
  });

  it("image inspect: a JSON array in Docker's shape; a missing image is an error after the array, exit 1", () => {
    const out = JSON.parse(ok(env, ['image', 'inspect', 'busybox'])) as Record<string, unknown>[];
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      Id: id,
      RepoTags: ['busybox:latest', 'example.com/me/box:1'],
      RepoDigests: [`busybox@${manifestDigest}`, `example.com/me/box@${manifestDigest}`],
      Architecture: expect.any(String),
      Os: 'linux',
      Config: { Cmd: ['sh'] },
      RootFS: { Type: 'layers', Layers: [expect.stringMatching(/^sha256:/)] },
      Size: expect.any(Number),
      Created: expect.any(String),
    });
    const r = env.cli(['image', 'inspect', 'busybox', 'nope']);
    expect(r.code).toBe(1);
    expect((JSON.parse(r.stdout) as unknown[]).length).toBe(1);
    expect(r.stderr).toBe('hull: image not found: nope\n');
  });

  it("history: newest first, Docker's columns", () => {
    const lines = ok(env, ['history', 'busybox']).trim().split('\n');
    expect(lines[0]).toMatch(/^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
    expect(lines[1]).toMatch(new RegExp(`^${id.slice(7, 19)}\\s`));
    expect(ok(env, ['image', 'history', '-q', 'busybox'])).toBe(`${id.slice(7, 19)}\n`);
  });

  it('rmi: refused while a container (exited) uses the image, unless -f; Untagged/Deleted lines', () => {
    ok(env, ['run', '--name', 'user', 'busybox', 'true']);
    // a name with another name beside it is only untagged (allowed)
    expect(ok(env, ['rmi', 'example.com/me/box:1'])).toBe('Untagged: example.com/me/box:1\n');
    const refused = env.cli(['rmi', 'busybox']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^hull: conflict: unable to remove repository reference "busybox:latest" \(must force\) - container [0-9a-f]{12} \(user, stopped\) is using its referenced image/,
    );
    const byId = env.cli(['image', 'rm', id.slice(7, 19)]);
    expect(byId.code).toBe(1);
    expect(byId.stderr).toMatch(/must be forced\) - image is being used by stopped container/);
    expect(ok(env, ['images', '-q'])).toBe(`${id.slice(7, 19)}\n`);
    // -f: gone from the list; the container still runs from its layers
    expect(ok(env, ['rmi', '-f', 'busybox'])).toBe(`Untagged: busybox:latest\nDeleted: ${id}\n`);
    expect(ok(env, ['images', '-q'])).toBe('');
    expect(readdirSync(path.join(env.root, 'layers'))).toHaveLength(1);
    ok(env, ['system', 'prune', '-f']);
    expect(readdirSync(path.join(env.root, 'layers'))).toHaveLength(0);
    expect(readdirSync(path.join(env.root, 'l'))).toEqual(['init']);
    expect(existsSync(path.join(env.root, 'init-layer'))).toBe(true);
    expect(env.cli(['rmi', 'busybox']).code).toBe(1);
    expect(env.leftovers()).toEqual([]);
  });

  it('save | load round-trips (docker-archive and OCI) with identical ids and digests; skopeo reads, umoci unpacks', async () => {
    await env.loadBusybox();
    const before = JSON.parse(ok(env, ['image', 'inspect', 'busybox'])) as Record<string, unknown>[];

    expect(pipeSaveLoad(['busybox'])).toBe('Loaded image: busybox:latest\n');
    let after = JSON.parse(ok(other, ['image', 'inspect', 'busybox'])) as Record<string, unknown>[];
    expect(after[0]?.Id).toBe(id);
    expect(after[0]?.RootFS).toEqual(before[0]?.RootFS);
    ok(other, ['rmi', 'busybox']);

    expect(pipeSaveLoad(['--format', 'oci', 'busybox'])).toBe('Loaded image: busybox:latest\n');
    after = JSON.parse(ok(other, ['image', 'inspect', 'busybox'])) as Record<string, unknown>[];
    expect(after[0]).toMatchObject({ Id: id, RepoDigests: [`busybox@${manifestDigest}`], RootFS: before[0]?.RootFS });
    expect(ok(other, ['run', '--rm', 'busybox', 'echo', 'round trip'])).toBe('round trip\n');

    const docker = path.join(env.base, 'busybox-docker.tar');
    const oci = path.join(env.base, 'busybox-oci.tar');
    ok(env, ['save', '-o', docker, 'busybox']);
    ok(env, ['image', 'save', '--format', 'oci', '-o', oci, 'busybox']);
    // saving twice gives the same bytes
    ok(env, ['save', '-o', `${docker}.2`, 'busybox']);
    expect(readFileSync(`${docker}.2`).equals(readFileSync(docker))).toBe(true);
    // load -i of a saved file into the same store changes nothing
    expect(ok(env, ['load', '-i', docker])).toBe('Loaded image: busybox:latest\n');

    if (hasTool('skopeo')) {
      const d = JSON.parse(execFileSync('skopeo', ['inspect', `docker-archive:${docker}`], { encoding: 'utf8' })) as Record<string, unknown>;
      expect(d.Layers).toEqual(before[0]?.RootFS && (before[0].RootFS as { Layers: string[] }).Layers);
      const o = JSON.parse(execFileSync('skopeo', ['inspect', `oci-archive:${oci}`], { encoding: 'utf8' })) as Record<string, unknown>;
      expect(o.Digest).toBe(manifestDigest);
      const cfg = JSON.parse(execFileSync('skopeo', ['inspect', '--config', `oci-archive:${oci}`], { encoding: 'utf8' })) as { rootfs: { diff_ids: string[] } };
      expect(cfg.rootfs.diff_ids).toEqual((before[0]?.RootFS as { Layers: string[] }).Layers);
    }
    if (hasTool('umoci')) {
      const layout = path.join(env.base, 'oci-layout');
      const bundle = path.join(env.base, 'bundle');
      mkdirSync(layout);
      execFileSync('tar', ['xf', oci, '-C', layout]);
      execFileSync('umoci', ['unpack', '--image', `${layout}:latest`, bundle], { stdio: 'pipe' });
      const list = (dir: string) => execFileSync('sh', ['-c', `cd '${dir}' && find . -printf '%P %y %m %U:%G %s %l\\n' | sort`], { encoding: 'utf8' });
      const layerHex = (before[0]?.RootFS as { Layers: string[] }).Layers[0]?.slice(7) ?? '';
      expect(list(path.join(bundle, 'rootfs'))).toBe(list(path.join(env.root, 'layers', layerHex, 'diff')));
    }
  });

  it('image prune asks first (no on EOF); system df; system prune -f reclaims', () => {
    ok(other, ['tag', 'busybox', 'spare:1']);
    ok(other, ['rmi', 'busybox']);
    // an unnamed image: the same config under a name, then that name removed
    const declined = other.cli(['image', 'prune'], { input: 'n\n' });
    expect(declined.code).toBe(0);
    expect(declined.stdout).toBe('WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] \n');
    const df = ok(other, ['system', 'df']).split('\n');
    expect(df[0]).toMatch(/^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE$/);
    expect(df[1]).toMatch(/^Images\s+1\s+0\s+\S+\s+\S+ \(100%\)$/);
    expect(df[2]).toMatch(/^Containers\s+0\s+0\s+0B\s+0B$/);
    expect(ok(other, ['image', 'prune', '-f'])).toBe('Total reclaimed space: 0B\n'); // nothing dangling
    const all = ok(other, ['image', 'prune', '-a'], 'y\n');
    expect(all).toMatch(/Deleted Images:\nuntagged: spare:1\ndeleted: sha256:[0-9a-f]{64}\n/);
    expect(all).toMatch(/Total reclaimed space: [1-9][\d.]*[kM]B\n$/);
    expect(readdirSync(path.join(other.root, 'layers'))).toEqual([]);
    expect(ok(other, ['system', 'check'])).toMatch(/: no problems\n$/);
  });

  it('system check finds a damaged blob and a tampered layer; --repair removes them; a reload restores', async () => {
    const layer = readdirSync(path.join(env.root, 'layers'))[0] as string;
    writeFileSync(path.join(env.root, 'layers', layer, 'diff', 'etc', 'passwd'), 'tampered\n');
    const config = path.join(env.root, 'blobs/sha256', id.slice(7));
    writeFileSync(config, '{}');
    const r = env.cli(['system', 'check']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`blob ${id}: content hashes to sha256:`);
    expect(r.stdout).toContain(`layer sha256:${layer}: files differ from the layer: /etc/passwd:`);
    expect(r.stdout).toMatch(/problems \(run with --repair/);
    const repaired = env.cli(['system', 'check', '--repair']);
    expect(repaired.code).toBe(0);
    expect(repaired.stdout).toMatch(/repaired/);
    expect(ok(env, ['system', 'check'])).toMatch(/: no problems\n$/);
    expect(ok(env, ['images', '-q'])).toBe('');
    await env.loadBusybox();
    expect(ok(env, ['run', '--rm', 'busybox', 'cat', '/etc/passwd'])).toMatch(/^root:/);
    expect(ok(env, ['system', 'check'])).toMatch(/: no problems\n$/);
  });

  it('load from stdin; save refuses a terminal-less mistake: unknown format', () => {
    const r = env.cli(['save', '--format', 'zip', 'busybox']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--format: 'docker-archive' or 'oci'/);
    const bad = env.cli(['load'], { input: 'not a tar' });
    expect(bad.code).not.toBe(0);
  });
});
