// COPY/ADD sources in a context: Go's filepath.Match wildcards per component, `..` kept inside the
// root, symlinks followed inside the root, .dockerignore (Docker's rules), the cache digest.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { componentRegExp, readDockerignore, resolveSources, sourcesDigest, type SourceRoot } from '../../../src/build/context.js';
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
