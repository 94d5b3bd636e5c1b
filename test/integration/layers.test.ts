// Issue 3, acceptance 1 (layer half): images made by other tools load and run correctly, and a
// 128-layer image mounts and runs. The multi-layer image deletes files and directories, replaces
// a file with a directory and back, and carries hardlinks (across directories), a setuid binary,
// a fifo and xattrs. It is written by scripts/make-busybox-image.mjs, rewritten by Debian's
// skopeo into an OCI layout and a docker-archive, loaded by hull in both forms and run; the merged
// view inside the container (type, mode, owner, size, link target; xattrs read through
// /proc/PID/root, busybox has no getfattr) must equal what Debian's umoci unpacks for the same image.
import { spawn, spawnSync } from 'node:child_process';
import { lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxLayerEntries, writeOciImage, type Entry } from '../../scripts/make-busybox-image.mjs';
import { sys } from '../../src/native/index.js';
import { HULL_BIN, HullEnv, canRunContainers, skipReason } from '../helpers/hull-env.js';

const have = (cmd: string): boolean => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
const toolsThere = have('skopeo') && have('umoci');
const enabled = canRunContainers && toolsThere;
const why = skipReason || (toolsThere ? '' : '; skipped: needs skopeo and umoci (scripts/install-deps.sh test)');

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

const CAPABILITY = Buffer.from('0100000200200000000000000000000000000000', 'hex'); // cap_net_raw+ep

/** The layers, bottom first: busybox and a /t tree, then changes to it. */
function testLayers(): Entry[][] {
  const dir = (p: string, extra: Partial<Entry> = {}): Entry => ({ path: p, type: 'dir', mode: 0o755, ...extra });
  const file = (p: string, content: string, extra: Partial<Entry> = {}): Entry => ({ path: p, content, mode: 0o644, ...extra });
  return [
    [
      ...busyboxLayerEntries(),
      dir('t'),
      file('t/keep', 'kept\n'),
      file('t/del-file', 'deleted later\n'),
      dir('t/del-dir'),
      file('t/del-dir/a', 'a'),
      dir('t/del-dir/sub'),
      file('t/del-dir/sub/b', 'b'),
      file('t/f2d', 'a file that becomes a directory\n'),
      dir('t/d2f'),
      file('t/d2f/child', 'a directory that becomes a file'),
      dir('t/opq'),
      file('t/opq/old1', '1'),
      file('t/opq/old2', '2'),
      file('t/f2d2f', 'file, then directory, then file again\n'),
    ],
    [
      dir('t'),
      { path: 't/del-file', type: 'whiteout' },
      { path: 't/del-dir', type: 'whiteout' },
      dir('t/f2d', { mode: 0o750 }),
      file('t/f2d/inner', 'inside the new directory\n'),
      file('t/d2f', 'now a file\n', { mode: 0o600, uid: 1000, gid: 1000 }),
      dir('t/opq'),
      { path: 't/opq', type: 'opaque' },
      file('t/opq/new', 'only this one shows\n'),
      dir('t/x'),
      file('t/x/data', 'hardlinked\n'),
      dir('t/y'),
      { path: 't/y/data-link', type: 'hardlink', linkname: 't/x/data' },
      { path: 't/x/data-link2', type: 'hardlink', linkname: 't/x/data' },
      file('t/suid', '#!/bin/sh\necho suid\n', { mode: 0o4755 }),
      file('t/sgid', '#!/bin/sh\n', { mode: 0o2755, gid: 50 }),
      dir('t/sticky', { mode: 0o1777 }),
      { path: 't/fifo', type: 'fifo', mode: 0o620, uid: 1000, gid: 1000 },
      file('t/xattrs', 'with xattrs\n', { xattrs: { 'user.note': 'hello', 'user.bin': new Uint8Array([0, 1, 254, 255]) } }),
      file('t/ping', 'ELF', { mode: 0o755, xattrs: { 'security.capability': CAPABILITY } }),
      { path: 't/link', type: 'symlink', linkname: '../t/keep', mode: 0o777 },
      { path: 't/abs-link', type: 'symlink', linkname: '/t/x/data', mode: 0o777, uid: 1000, gid: 1000 },
      dir('t/f2d2f'),
      file('t/f2d2f/inside', 'briefly a directory'),
    ],
    [dir('t'), file('t/f2d2f', 'a file again\n', { mode: 0o640 }), { path: 't/x/data-link2', type: 'whiteout' }, file('t/added-last', 'top layer\n')],
  ];
}

interface Row {
  path: string;
  mode: string;
  uid: number;
  gid: number;
  size: number | null;
  target: string | null;
}

/** `stat`-like rows of everything under /t and /bin/busybox of a tree on the host. */
function hostRows(root: string): Row[] {
  const rows: Row[] = [];
  const visit = (rel: string): void => {
    const st = lstatSync(path.join(root, rel));
    rows.push({
      path: rel,
      mode: st.mode.toString(16),
      uid: st.uid,
      gid: st.gid,
      size: st.isFile() || st.isSymbolicLink() ? st.size : null,
      target: st.isSymbolicLink() ? readlinkSync(path.join(root, rel)) : null,
    });
    if (st.isDirectory()) for (const name of readdirSync(path.join(root, rel)).sort()) visit(`${rel}/${name}`);
  };
  visit('t');
  visit('bin/busybox');
  return rows.sort((a, b) => a.path.localeCompare(b.path));
}

/** The same rows, from inside a container (busybox find + stat). */
const LIST_SCRIPT = `cd / && find t bin/busybox | sort | while read p; do
  if [ -L "$p" ]; then t=$(readlink "$p"); else t=-; fi
  stat -c "%n|%f|%u|%g|%s|%F" "$p" | tr -d '\\n'; echo "|$t"
done`;

function containerRows(out: string): Row[] {
  return out
    .trim()
    .split('\n')
    .map((line) => {
      const [p, mode, uid, gid, size, kind, target] = line.split('|');
      const sized = kind === 'regular file' || kind === 'regular empty file' || kind === 'symbolic link';
      return {
        path: p as string,
        mode: mode as string,
        uid: Number(uid),
        gid: Number(gid),
        size: sized ? Number(size) : null,
        target: kind === 'symbolic link' ? (target as string) : null,
      };
    })
    .sort((a, b) => a.path.localeCompare(b.path));
}

function xattrsOf(root: string, rows: Row[]): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const r of rows) {
    const p = path.join(root, r.path);
    const names = sys
      .llistxattr(p)
      .filter((n) => n.startsWith('user.') || n === 'security.capability')
      .sort();
    if (names.length > 0) out[r.path] = Object.fromEntries(names.map((n) => [n, sys.lgetxattr(p, n)?.toString('hex') ?? '']));
  }
  return out;
}

describe.skipIf(!enabled)(`layers made by other tools (integration${why})`, () => {
  let env: HullEnv;
  let umociRows: Row[];
  let umociXattrs: Record<string, Record<string, string>>;
  let ociDir: string;
  let dockerArchive: string;

  beforeAll(async () => {
    env = new HullEnv();
    const made = path.join(env.base, 'made');
    ociDir = path.join(env.base, 'oci');
    dockerArchive = path.join(env.base, 'image.docker.tar');
    await writeOciImage({ layers: testLayers(), name: 'layers-test:latest', outDir: made });
    // Rewritten by skopeo: the layout and the docker-archive hull loads are skopeo's.
    sh('skopeo', ['copy', '-q', 'oci:' + made + ':latest', `oci:${ociDir}:latest`]);
    sh('skopeo', ['copy', '-q', 'oci:' + made + ':latest', `docker-archive:${dockerArchive}:layers-test:docker`]);
    // The reference view: umoci's unpack of the same image.
    const bundle = path.join(env.base, 'bundle');
    sh('umoci', ['unpack', '--image', `${ociDir}:latest`, bundle]);
    umociRows = hostRows(path.join(bundle, 'rootfs'));
    umociXattrs = xattrsOf(path.join(bundle, 'rootfs'), umociRows);
  }, 120_000);

  afterAll(() => {
    env?.destroy();
  });

  it('umoci sees what the layers mean (sanity of the reference)', () => {
    const paths = umociRows.map((r) => r.path);
    expect(paths).not.toContain('t/del-file');
    expect(paths.filter((p) => p.startsWith('t/del-dir'))).toEqual([]);
    expect(paths.filter((p) => p.startsWith('t/opq/'))).toEqual(['t/opq/new']);
    expect(umociRows.find((r) => r.path === 't/f2d')?.mode).toBe((0o040750).toString(16));
    expect(umociRows.find((r) => r.path === 't/d2f')?.mode).toBe((0o100600).toString(16));
    expect(umociRows.find((r) => r.path === 't/f2d2f')?.mode).toBe((0o100640).toString(16));
    expect(umociXattrs['t/ping']).toEqual({ 'security.capability': CAPABILITY.toString('hex') });
    expect(umociXattrs['t/xattrs']).toEqual({ 'user.bin': '0001feff', 'user.note': Buffer.from('hello').toString('hex') });
  });

  for (const form of ['oci', 'docker'] as const) {
    it(`loads the ${form === 'oci' ? 'OCI layout' : 'docker-archive'} and the container's merged view equals umoci's unpack`, async () => {
      const load = env.cli(['load', '-i', form === 'oci' ? ociDir : dockerArchive]);
      expect(load.stderr).toBe('');
      expect(load.code).toBe(0);
      // skopeo names the OCI layout's image only by its tag ('latest'): run it by the loaded id.
      const image = form === 'oci' ? (/sha256:[0-9a-f]{64}/.exec(load.stdout)?.[0] ?? load.stdout.trim()) : 'layers-test:docker';

      const r = env.cli(['run', '--rm', image, 'sh', '-c', LIST_SCRIPT]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(containerRows(r.stdout)).toEqual(umociRows);

      // Hardlinks across directories survive into the merged view.
      // (The link count is the layer's: overlay shows the lower inode, a later whiteout of a
      // third name does not change it.)
      const links = env.cli(['run', '--rm', image, 'sh', '-c', 'stat -c %i /t/x/data /t/y/data-link; /t/suid']);
      const [a, b, suid] = links.stdout.trim().split('\n');
      expect(a).toBe(b);
      expect(suid).toBe('suid');

      // xattrs of the merged view, read from the host through the running container's root.
      const token = `hull-layers-${process.pid}-${form}`;
      const child = spawn(
        process.execPath,
        [HULL_BIN, ...env.globalArgs(), 'run', '--cgroup-parent', env.cgroupParent, '--rm', '-i', image, 'sh', '-c', `echo ${token}; read x`],
        { stdio: ['pipe', 'pipe', 'pipe'] },
      );
      const stdin = child.stdin;
      try {
        await new Promise<void>((resolve, reject) => {
          child.stdout.on('data', (d: Buffer) => (d.toString().includes(token) ? resolve() : undefined));
          child.on('exit', (code) => reject(new Error(`container exited early (${code})`)));
        });
        // The container's sh (argv[0] 'sh'; the hull CLI's own argv has the same words after node's).
        const pid = readdirSync('/proc').find((p) => {
          try {
            return /^\d+$/.test(p) && readFileSync(`/proc/${p}/cmdline`, 'utf8') === `sh\0-c\0echo ${token}; read x\0`;
          } catch {
            return false;
          }
        });
        expect(pid).toBeDefined();
        expect(xattrsOf(`/proc/${pid}/root`, umociRows)).toEqual(umociXattrs);
      } finally {
        stdin?.end('\n');
        await new Promise((resolve) => child.once('close', resolve));
      }
      expect(env.leftovers()).toEqual([]);
    }, 120_000);
  }

  it('runs a 128-layer image (overlay lowerdir within one page)', async () => {
    const layers: Entry[][] = [busyboxLayerEntries()];
    for (let i = 1; i < 128; i++) {
      layers.push([
        { path: 'layers', type: 'dir', mode: 0o755 },
        { path: `layers/${i}`, content: `layer ${i}\n` },
        ...(i > 1 ? [{ path: 'layers/previous', type: 'whiteout' as const }] : []),
        { path: 'layers/previous', content: `${i}\n` },
      ]);
    }
    const archive = path.join(env.base, 'deep.docker.tar');
    const made = await writeOciImage({ layers, name: 'deep:latest', dockerArchive: archive });
    expect(made.diffIds).toHaveLength(128);
    const load = env.cli(['load', '-i', archive]);
    expect(load.code, load.stderr).toBe(0);
    const r = env.cli(['run', '--rm', 'deep:latest', 'sh', '-c', 'cat /layers/1 /layers/127 /layers/previous; ls /layers | wc -l']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => l.trim()),
    ).toEqual(['layer 1', 'layer 127', '127', '128']);
    expect(env.leftovers()).toEqual([]);
  }, 180_000);
});
