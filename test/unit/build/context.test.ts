// COPY/ADD sources in a context: Go's filepath.Match wildcards per component, `..` kept inside the
// root, symlinks followed inside the root, .dockerignore (Docker's rules: what the walk enters and
// yields, re-includes below excluded directories), the cache digest, the copy, and clear errors.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { componentRegExp, copySources, resolveSources, sourcesDigest, walkSource, type SourceRoot } from '../../../src/build/context.js';
import { readDockerignore } from '../../../src/build/dockerignore.js';
import { BuildError } from '../../../src/errors.js';

let dir: string;

function files(spec: Record<string, string>): void {
  for (const [name, content] of Object.entries(spec)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'hull-ctx-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const rels = (root: SourceRoot, pattern: string) => resolveSources(root, pattern, 'COPY').map((s) => s.rel);

describe('build context sources', () => {
  it('filepath.Match wildcards: * and ? stay within a component, classes, escapes', () => {
    expect(componentRegExp('*.txt').test('a.txt')).toBe(true);
    expect(componentRegExp('*.txt').test('a/b.txt')).toBe(false);
    expect(componentRegExp('file?').test('file1')).toBe(true);
    expect(componentRegExp('[a-c]x').test('bx')).toBe(true);
    expect(componentRegExp('[^a-c]x').test('bx')).toBe(false);
    expect(componentRegExp('\\*').test('*')).toBe(true);
    expect(componentRegExp('\\*').test('a')).toBe(false);
  });

  it('resolves plain paths, wildcards across directories, and names a missing source', () => {
    files({ 'a.txt': 'a', 'b.txt': 'b', 'c.md': 'c', 'sub/x.txt': 'x', 'sub/deeper/y.txt': 'y' });
    const root = { dir, what: 'the build context' };
    expect(rels(root, 'a.txt')).toEqual(['a.txt']);
    expect(rels(root, '*.txt')).toEqual(['a.txt', 'b.txt']);
    expect(rels(root, '*/*.txt')).toEqual(['sub/x.txt']);
    expect(rels(root, './sub/../a.txt')).toEqual(['a.txt']);
    expect(rels(root, '.')).toEqual(['']);
    expect(() => rels(root, 'nope.txt')).toThrow(BuildError);
    expect(() => rels(root, 'nope.txt')).toThrow(/source nope\.txt: no such file or directory in the build context/);
    expect(() => rels(root, '*.none')).toThrow(/matches nothing/);
  });

  it('stays inside the root: .. is clamped, symlinks resolve within it', () => {
    files({ 'inside.txt': 'in', 'etc/passwd': 'the context\'s' });
    symlinkSync('/etc', path.join(dir, 'abs'));
    const root = { dir, what: 'the build context' };
    expect(() => rels(root, '../../etc/passwd')).toThrow(/forbidden path outside the build context: \.\.\/\.\.\/etc\/passwd/);
    const [src] = resolveSources(root, 'abs/passwd', 'COPY');
    expect(src?.full).toBe(path.join(dir, 'etc/passwd'));
  });

  it('.dockerignore: patterns, exceptions, ignored sources are not copied', () => {
    files({ '.dockerignore': '# comment\n*.secret\nbuild\n!keep.secret\n', 'a.secret': '', 'keep.secret': '', 'build/out': '', 'src/ok': '' });
    const ignored = readDockerignore(dir);
    expect(ignored).toBeDefined();
    const root = { dir, ...(ignored ? { ignored } : {}) };
    expect(rels(root, '*.secret')).toEqual(['keep.secret']);
    expect(() => rels(root, 'a.secret')).toThrow(/excluded by \.dockerignore/);
  });

  it('the digest follows content, names and modes, not times', () => {
    files({ 'd/a': 'one', 'd/b': 'two' });
    const root = { dir };
    const digest = () => sourcesDigest(root, resolveSources(root, 'd', 'COPY'));
    const first = digest();
    expect(digest()).toBe(first);
    writeFileSync(path.join(dir, 'd/a'), 'one'); // same bytes, new mtime
    expect(digest()).toBe(first);
    writeFileSync(path.join(dir, 'd/a'), 'ONE');
    const second = digest();
    expect(second).not.toBe(first);
    chmodSync(path.join(dir, 'd/a'), 0o755);
    expect(digest()).not.toBe(second);
  });
});

describe('the build context with .dockerignore re-includes (Docker\'s context: the re-included path and the way to it)', () => {
  const TREE = {
    Dockerfile: 'FROM scratch', 'drop/deep/important.txt': 'kept', 'drop/deep/other.txt': 'no', 'drop/top.txt': 'no', 'drop/side/f': 'no',
    'keep.txt': 'k', 'dir/f': 'f', 'node_modules/m/index.js': 'no',
  };
  /** The context root with this .dockerignore over TREE. */
  function ctx(dockerignore: string): SourceRoot {
    files({ ...TREE, '.dockerignore': dockerignore });
    const ignored = readDockerignore(dir);
    return { dir, what: 'the build context', ...(ignored ? { ignored } : {}) };
  }
  /** What `COPY <pattern>` sees of the context: every path the walk yields. */
  const walked = (root: SourceRoot, pattern = '.') => resolveSources(root, pattern, 'COPY').flatMap((s) => [...walkSource(root, s)].map((e) => e.rel));

  it('`*`, `!Dockerfile`, `!drop/deep/important.txt`: the file, its parent directories and the Dockerfile only', () => {
    expect(walked(ctx('*\n!Dockerfile\n!drop/deep/important.txt\n'))).toEqual(['', 'Dockerfile', 'drop', 'drop/deep', 'drop/deep/important.txt']);
  });

  it('`drop`, `!drop/deep/important.txt`: the rest of the context, and of drop only the way to the file', () => {
    expect(walked(ctx('drop\n!drop/deep/important.txt\n'))).toEqual([
      '', '.dockerignore', 'Dockerfile', 'dir', 'dir/f', 'drop', 'drop/deep', 'drop/deep/important.txt', 'keep.txt', 'node_modules', 'node_modules/m', 'node_modules/m/index.js',
    ]);
  });

  it('a whole directory re-included under an excluded parent', () => {
    expect(walked(ctx('*\n!drop/deep\n'))).toEqual(['', 'drop', 'drop/deep', 'drop/deep/important.txt', 'drop/deep/other.txt']);
  });

  it('** patterns, in exclusions and exceptions', () => {
    expect(walked(ctx('**/*.txt\n!**/important.txt\nnode_modules\n.dockerignore\n'))).toEqual([
      '', 'Dockerfile', 'dir', 'dir/f', 'drop', 'drop/deep', 'drop/deep/important.txt', 'drop/side', 'drop/side/f',
    ]);
    expect(walked(ctx('**\n!**/important.txt\n'))).toEqual(['', 'drop', 'drop/deep', 'drop/deep/important.txt']);
    // `drop/**` takes what is below drop, not drop; `!drop` re-includes all of it when it comes last
    expect(walked(ctx('*\n!drop\ndrop/**\n!drop/deep/important.txt\n'))).toEqual(['', 'drop', 'drop/deep', 'drop/deep/important.txt']);
    expect(walked(ctx('*\ndrop/**\n!drop/deep/important.txt\n!drop\n'))).toEqual(['', 'drop', 'drop/deep', 'drop/deep/important.txt', 'drop/deep/other.txt', 'drop/side', 'drop/side/f', 'drop/top.txt']);
  });

  it('patterns with a leading / or ./, and comment lines', () => {
    expect(walked(ctx('# drop\n/*\n!./Dockerfile\n!/drop/deep/important.txt/\n'))).toEqual(['', 'Dockerfile', 'drop', 'drop/deep', 'drop/deep/important.txt']);
    expect(walked(ctx('#*\n/node_modules/\n./drop\n.dockerignore\n'))).toEqual(['', 'Dockerfile', 'dir', 'dir/f', 'keep.txt']);
  });

  it('a re-included file under a directory that a later pattern excludes again stays out, and so do its parents', () => {
    expect(walked(ctx('*\n!drop/deep/important.txt\ndrop/deep\n'))).toEqual(['']);
    expect(walked(ctx('*\n!drop/deep/important.txt\ndrop\n!drop/side\n'))).toEqual(['', 'drop', 'drop/side', 'drop/side/f']);
  });

  it('the Dockerfile and .dockerignore may exclude themselves: they are then not in the context', () => {
    expect(walked(ctx('Dockerfile\n.dockerignore\ndrop\nnode_modules\n'))).toEqual(['', 'dir', 'dir/f', 'keep.txt']);
  });

  it('COPY sources: an excluded directory on the way to a re-included file can be named; excluded files cannot', () => {
    const root = ctx('drop\n!drop/deep/important.txt\n');
    expect(walked(root, 'drop')).toEqual(['drop', 'drop/deep', 'drop/deep/important.txt']);
    expect(walked(root, 'drop/deep/important.txt')).toEqual(['drop/deep/important.txt']);
    expect(walked(root, 'dr*')).toEqual(['drop', 'drop/deep', 'drop/deep/important.txt']);
    expect(() => rels(root, 'drop/top.txt')).toThrow(/source drop\/top\.txt: excluded by \.dockerignore/);
    expect(() => rels(root, 'drop/side')).toThrow(/source drop\/side: excluded by \.dockerignore/);
    expect(() => rels(root, 'drop/*.txt')).toThrow(/matches nothing/);
  });

  it('the copy makes the parent directories of a re-included file, with their own modes', () => {
    const root = ctx('*\n!Dockerfile\n!drop/deep/important.txt\n');
    chmodSync(path.join(dir, 'drop'), 0o750);
    chmodSync(path.join(dir, 'drop/deep'), 0o705);
    const dest = mkdtempSync(path.join(tmpdir(), 'hull-dest-'));
    try {
      const opts = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, instruction: 'COPY' };
      copySources(root, resolveSources(root, '.', 'COPY'), dest, '/ctx', opts);
      const tree = (d: string, rel = ''): string[] => readdirSync(path.join(d, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))
        .flatMap((e) => [`${rel}${e.name}`, ...(e.isDirectory() ? tree(d, `${rel}${e.name}/`) : [])]);
      expect(tree(path.join(dest, 'ctx'))).toEqual(['Dockerfile', 'drop', 'drop/deep', 'drop/deep/important.txt']);
      expect(statSync(path.join(dest, 'ctx/drop')).mode & 0o7777).toBe(0o750);
      expect(statSync(path.join(dest, 'ctx/drop/deep')).mode & 0o7777).toBe(0o705);
    } finally {
      rmSync(dest, { recursive: true, force: true });
    }
  });

  it('the digest sees the re-included file, not what stays excluded beside it', () => {
    const root = ctx('*\n!drop/deep/important.txt\n');
    const digest = () => sourcesDigest(root, resolveSources(root, '.', 'COPY'));
    const first = digest();
    writeFileSync(path.join(dir, 'drop/deep/other.txt'), 'changed');
    expect(digest()).toBe(first);
    writeFileSync(path.join(dir, 'drop/deep/important.txt'), 'changed');
    expect(digest()).not.toBe(first);
  });

  it('a context that changes or cannot be read gives a BuildError naming the path, never a bare ENOENT', () => {
    const root = ctx('node_modules\n');
    const srcs = resolveSources(root, 'dir', 'Dockerfile:2: COPY');
    rmSync(path.join(dir, 'dir'), { recursive: true });
    expect(() => sourcesDigest(root, srcs, 'Dockerfile:2: COPY')).toThrow(BuildError);
    expect(() => sourcesDigest(root, srcs, 'Dockerfile:2: COPY')).toThrow(/^Dockerfile:2: COPY: read directory dir in the build context: ENOENT$/);
    rmSync(path.join(dir, '.dockerignore'));
    mkdirSync(path.join(dir, '.dockerignore'));
    expect(() => readDockerignore(dir)).toThrow(/unable to prepare context: cannot read \.dockerignore: it is a directory/);
    rmSync(path.join(dir, '.dockerignore'), { recursive: true });
    writeFileSync(path.join(dir, '.dockerignore'), 'a\n!\n');
    expect(() => readDockerignore(dir)).toThrow(/unable to prepare context: \.dockerignore: illegal exclusion pattern: "!"/);
    rmSync(path.join(dir, '.dockerignore'));
    expect(readDockerignore(dir)).toBeUndefined();
  });
});
