// .dockerignore as Docker reads and matches it: moby's ignorefile.ReadAll and patternmatcher
// (their own test tables, ported), and which excluded directories the context walk must enter.
import { describe, expect, it } from 'vitest';
import { DockerIgnore } from '../../../src/build/dockerignore.js';
import { BuildError } from '../../../src/errors.js';

const ignores = (patterns: string[], file: string) => new DockerIgnore(patterns).ignores(file);

describe('.dockerignore matching (moby/patternmatcher)', () => {
  it('patternmatcher TestMatches: **, prefixes, suffixes, classes, regexp characters taken literally', () => {
    const cases: [string, string, boolean][] = [
      ['**', 'file', true], ['**', 'file/', true], ['**/', 'file', true], ['**/', 'file/', true], ['**', 'dir/file', true],
      ['**/', 'dir/file', true], ['**/**', 'dir/file', true], ['dir/**', 'dir/file', true], ['dir/**', 'dir/dir2/file', true],
      ['**/dir', 'dir', true], ['**/dir', 'dir/file', true], ['**/dir2/*', 'dir/dir2/file', true], ['**/dir2/**', 'dir/dir2/dir3/file', true],
      ['**file', 'file', true], ['**file', 'dir/file', true], ['**/file', 'dir/file', true], ['**file', 'dir/dir/file', true],
      ['**/file', 'dir/dir/file', true], ['**/file*', 'dir/dir/file', true], ['**/file*', 'dir/dir/file.txt', true],
      ['**/file*txt', 'dir/dir/file.txt', true], ['**/file*.txt', 'dir/dir/file.txt', true], ['**/file*.txt*', 'dir/dir/file.txt', true],
      ['**/**/*.txt', 'dir/dir/file.txt', true], ['**/**/*.txt2', 'dir/dir/file.txt', false], ['**/*.txt', 'file.txt', true],
      ['**/**/*.txt', 'file.txt', true], ['a**/*.txt', 'a/file.txt', true], ['a**/*.txt', 'a/dir/file.txt', true],
      ['a**/*.txt', 'a/dir/dir/file.txt', true], ['a/*.txt', 'a/dir/file.txt', false], ['a/*.txt', 'a/file.txt', true],
      ['a/*.txt**', 'a/file.txt', true], ['a[b-d]e', 'ae', false], ['a[b-d]e', 'ace', true], ['a[b-d]e', 'aae', false],
      ['a[^b-d]e', 'aze', true], ['.*', '.foo', true], ['.*', 'foo', false], ['abc.def', 'abcdef', false], ['abc.def', 'abc.def', true],
      ['abc.def', 'abcZdef', false], ['abc?def', 'abcZdef', true], ['abc?def', 'abcdef', false], ['a\\\\', 'a\\', true],
      ['**/foo/bar', 'foo/bar', true], ['**/foo/bar', 'dir/foo/bar', true], ['**/foo/bar', 'dir/dir2/foo/bar', true],
      ['abc/**', 'abc', false], ['abc/**', 'abc/def', true], ['abc/**', 'abc/def/ghi', true], ['**/.foo', '.foo', true],
      ['**/.foo', 'bar.foo', false], ['a(b)c/def', 'a(b)c/def', true], ['a(b)c/def', 'a(b)c/xyz', false], ['a.|)$(}+{bc', 'a.|)$(}+{bc', true],
      ['dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', true],
      ['dist/*.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', true], ['a\\*b', 'a*b', true],
    ];
    for (const [pattern, file, want] of cases) expect([pattern, file, ignores([pattern], file)]).toEqual([pattern, file, want]);
  });

  it('patternmatcher TestMatches, several patterns: the last match decides, parents included', () => {
    expect(ignores(['**', '!util/docker/web'], 'util/docker/web/foo')).toBe(false);
    expect(ignores(['**', '!util/docker/web', 'util/docker/web/foo'], 'util/docker/web/foo')).toBe(true);
    expect(ignores(['**', '!dist/*.whl'], 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl')).toBe(false);
    expect(ignores(['docs', '!docs/README.md'], 'docs/README.md')).toBe(false);
    expect(ignores(['docs/', '!docs/README.md'], 'docs/README.md')).toBe(false);
    expect(ignores(['docs/*', '!docs/README.md'], 'docs/README.md')).toBe(false);
    expect(ignores(['!fileutils.go', '*.go'], 'fileutils.go')).toBe(true);
    expect(ignores(['*.go', '!fileutils.go'], 'fileutils.go')).toBe(false);
    expect(ignores(['*'], '.')).toBe(false); // the context itself
    expect(ignores([], 'any/path/there')).toBe(false);
    // a parent at any depth, not only the pattern's own depth (MatchesOrParentMatches, not the old Matches)
    expect(ignores(['a/b'], 'a/b/c/d')).toBe(true);
    expect(ignores(['**/b'], 'x/a/b/c/d')).toBe(true);
  });

  it('filepath.Match semantics per component, and its syntax errors as BuildErrors', () => {
    const cases: [string, string, boolean][] = [
      ['abc', 'abc', true], ['*', 'abc', true], ['*c', 'abc', true], ['a*', 'a', true], ['a*', 'abc', true], ['a*', 'ab/c', true],
      ['a*/b', 'abc/b', true], ['a*/b', 'a/c/b', false], ['a*b*c*d*e*/f', 'axbxcxdxe/f', true], ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false],
      ['a*b?c*x', 'abxbbxdbxebxczzx', true], ['a*b?c*x', 'abxbbxdbxebxczzy', false], ['ab[c]', 'abc', true], ['ab[b-d]', 'abc', true],
      ['ab[e-g]', 'abc', false], ['ab[^c]', 'abc', false], ['ab[^e-g]', 'abc', true], ['a\\*b', 'ab', false], ['a?b', 'a☺b', true],
      ['a[^a]b', 'a☺b', true], ['[a-ζ]*', 'α', true], ['*[a-ζ]', 'A', false], ['a?b', 'a/b', false], ['a*b', 'a/b', false],
      ['[\\]a]', ']', true], ['[\\-]', '-', true], ['[x\\-]', '-', true], ['[x\\-]', 'z', false], ['[\\-x]', 'x', true], ['*x', 'xxx', true],
    ];
    for (const [pattern, file, want] of cases) expect([pattern, file, ignores([pattern], file)]).toEqual([pattern, file, want]);
    for (const bad of ['[]a]', '[-]', '[x-]', '[-x]', '\\', '[a-b-c]', '[', '[^', '[^bc', 'a[']) {
      expect(() => new DockerIgnore([bad]), bad).toThrow(BuildError);
      expect(() => new DockerIgnore([bad]), bad).toThrow(/syntax error in pattern/);
    }
    expect(() => new DockerIgnore(['!'])).toThrow(/illegal exclusion pattern: "!"/);
  });

  it('is case-sensitive, as Docker on Linux', () => {
    expect(ignores(['*.MD'], 'README.md')).toBe(false);
    expect(ignores(['*.md'], 'README.md')).toBe(true);
    expect(ignores(['Secret'], 'secret')).toBe(false);
  });
});

describe('.dockerignore files (moby ignorefile.ReadAll)', () => {
  it('comments only at the start of a line, trimmed lines, a BOM, CRLF, leading / and ./, trailing /', () => {
    const di = DockerIgnore.parse('\uFEFF# a comment\r\n  \n /lead\n./dot/\n! ./back/in \nsp ace\n # not a comment\n');
    expect(di.ignores('# a comment')).toBe(false);
    expect(di.ignores('lead/x')).toBe(true);
    expect(di.ignores('dot')).toBe(true);
    expect(di.ignores('dot/y')).toBe(true);
    expect(di.ignores('sp ace')).toBe(true);
    expect(di.ignores('# not a comment')).toBe(true); // `#` after a space is a pattern, as in Docker
    expect(di.ignores('other')).toBe(false);
    const back = DockerIgnore.parse('back\n! ./back/in \n');
    expect(back.ignores('back/out')).toBe(true);
    expect(back.ignores('back/in')).toBe(false);
    expect(DockerIgnore.parse('\uFEFF*.tmp\n').ignores('x.tmp')).toBe(true); // the BOM is not part of the first pattern
  });

  it('a lone ! and a malformed pattern are errors, not silently ignored', () => {
    expect(() => DockerIgnore.parse('a\n!\n')).toThrow(/illegal exclusion pattern/);
    expect(() => DockerIgnore.parse('  !   \n')).toThrow(/illegal exclusion pattern/);
    expect(() => DockerIgnore.parse('ok\nfile[\n')).toThrow(/syntax error in pattern "file\["/);
  });
});

describe('which excluded directories the context walk enters', () => {
  it('only those an exception could match below', () => {
    const di = DockerIgnore.parse('*\n!Dockerfile\n!drop/deep/important.txt\n');
    expect(di.mayReincludeBelow('drop')).toBe(true);
    expect(di.mayReincludeBelow('drop/deep')).toBe(true);
    expect(di.mayReincludeBelow('drop/other')).toBe(false);
    expect(di.mayReincludeBelow('node_modules')).toBe(false);
    expect(di.mayReincludeBelow('Dockerfile')).toBe(false);
    expect(DockerIgnore.parse('node_modules\n').mayReincludeBelow('node_modules')).toBe(false);
  });

  it('an exception with wildcards: per component where it can tell, always under **, classes or escapes', () => {
    const star = DockerIgnore.parse('*\n!dr*/d?ep/*.txt\n');
    expect(star.mayReincludeBelow('drop')).toBe(true);
    expect(star.mayReincludeBelow('drop/deep')).toBe(true);
    expect(star.mayReincludeBelow('drop/shallow')).toBe(false);
    expect(star.mayReincludeBelow('other')).toBe(false);
    expect(star.mayReincludeBelow('drop/deep/x')).toBe(false); // deeper than the pattern: `*.txt` names files there, not below
    expect(DockerIgnore.parse('*\n!**/important.txt\n').mayReincludeBelow('any/where')).toBe(true);
    expect(DockerIgnore.parse('*\n!a**\n').mayReincludeBelow('b')).toBe(true);
    expect(DockerIgnore.parse('*\n![ab]/x\n').mayReincludeBelow('c')).toBe(true);
  });

  it('an exception that names the directory itself (or a parent) re-includes nothing below it that it would not re-include in it', () => {
    // `drop/deep` excluded again after `!drop`: everything below it is decided like drop/deep itself.
    const di = DockerIgnore.parse('*\n!drop\ndrop/deep\n');
    expect(di.ignores('drop')).toBe(false);
    expect(di.ignores('drop/deep')).toBe(true);
    expect(di.mayReincludeBelow('drop/deep')).toBe(false);
  });
});
