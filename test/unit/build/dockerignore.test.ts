// .dockerignore as the Dockerfile reference describes it: each construct of a pattern, exceptions,
// the file's lines, errors, and which excluded directories the context walk must still enter.
import { describe, expect, it } from 'vitest';
import { DockerIgnore } from '../../../src/build/dockerignore.js';
import { BuildError } from '../../../src/errors.js';

/** Each [patterns, path, excluded] row, reported with its inputs when it fails. */
function expectRows(rows: [string | string[], string, boolean][]): void {
  for (const [patterns, file, want] of rows) {
    const list = typeof patterns === 'string' ? [patterns] : patterns;
    expect({ list, file, excluded: new DockerIgnore(list).ignores(file) }).toEqual({ list, file, excluded: want });
  }
}

describe('.dockerignore patterns', () => {
  it('a plain name or path matches itself and everything below it, nothing else', () => {
    expectRows([
      ['logs', 'logs', true], ['logs', 'logs/today/app.log', true], ['logs', 'logsx', false], ['logs', 'old/logs', false],
      ['web/static', 'web/static', true], ['web/static', 'web/static/css/site.css', true], ['web/static', 'web', false], ['web/static', 'web/staticx', false],
      ['web/static', 'other/web/static', false],
    ]);
  });

  it('* and ? stay within one path component and match dotfiles', () => {
    expectRows([
      ['*.log', 'app.log', true], ['*.log', 'sub/app.log', false], ['*/*.log', 'sub/app.log', true], ['*/*.log', 'sub/deeper/app.log', false],
      ['*', 'anything', true], ['*', 'any/thing', true], ['*', '.hidden', true], ['.*', '.env', true], ['.*', 'env', false],
      ['v?.txt', 'v1.txt', true], ['v?.txt', 'v.txt', false], ['v?.txt', 'v10.txt', false], ['x?y', 'x/y', false], ['x*y', 'x/y', false],
      ['n?me', 'näme', true], ['?', '😀', true], ['pre*mid*end', 'pre-a-mid-b-end', true], ['pre*mid*end', 'pre-end', false],
      ['src/*', 'src', false], ['src/*', 'src/main.ts', true], ['src/*', 'src/lib/util.ts', true],
    ]);
  });

  it('** as a whole component: any number of directories at the start, in the middle and at the end', () => {
    expectRows([
      ['**/cache', 'cache', true], ['**/cache', 'a/cache', true], ['**/cache', 'a/b/c/cache/file', true], ['**/cache', 'a/xcache', false],
      ['**/*.o', 'main.o', true], ['**/*.o', 'lib/x/y.o', true], ['**/*.o', 'lib/x/y.c', false],
      ['app/**/test', 'app/test', true], ['app/**/test', 'app/one/test', true], ['app/**/test', 'app/one/two/test/data', true],
      ['app/**/test', 'test', false], ['app/**/test', 'other/one/test', false], ['app/**/*.spec.ts', 'app/x/y.spec.ts', true],
      ['dist/**', 'dist', false], ['dist/**', 'dist/a', true], ['dist/**', 'dist/a/b/c', true], ['dist/**', 'distx/a', false],
      ['**', 'one', true], ['**', 'one/two/three', true], ['**/**/**', 'one', true], ['a/**/**/b', 'a/b', true], ['a/**/**/b', 'a/x/y/b', true],
      ['**/a/**/b/**', 'a/b', false], ['**/a/**/b/**', 'x/a/y/b/z', true], ['**/a/**/b/**', 'x/a/y/z', false],
    ]);
  });

  it('** glued to other text runs across directories', () => {
    expectRows([
      ['**.pyc', 'mod.pyc', true], ['**.pyc', 'pkg/sub/mod.pyc', true], ['**.pyc', 'pkg/mod.py', false],
      ['build**', 'build', true], ['build**', 'builder', true], ['build**', 'builds/x/y', true], ['build**', 'rebuild', false],
      ['doc/**.md', 'doc/a/b/readme.md', true], ['doc/**.md', 'doc/readme.md', true], ['doc/**.md', 'other/readme.md', false],
      ['a**z', 'a/b/z', true], ['a**z', 'abz', true], ['a**z', 'a/b/zz/q', true], ['a**z', 'b/a/z', false],
    ]);
  });

  it('[...] classes: members, ranges, ^ negation, escapes inside; never the separator', () => {
    expectRows([
      ['file[0-9].txt', 'file7.txt', true], ['file[0-9].txt', 'fileA.txt', false], ['file[0-9a-f]', 'filec', true], ['file[0-9a-f]', 'fileg', false],
      ['[^.]*', 'visible', true], ['[^.]*', '.hidden', false], ['x[^0-9]', 'xa', true], ['x[^0-9]', 'x5', false],
      ['[abc]', 'b', true], ['[abc]', 'd', false], ['[[]x', '[x', true], ['[!a]', '!', true], ['[!a]', 'b', false],
      ['[\\]]', ']', true], ['[\\-z]', '-', true], ['[\\-z]', 'y', false], ['[a\\-]', '-', true], ['[\\^a]', '^', true],
      ['[а-я]', 'ж', true], ['[а-я]', 'z', false], ['[z-a]x', 'mx', false], ['[^z-a]x', 'mx', true],
      ['x[!-0]**', 'x.y', true], ['x[!-0]**', 'x/y', false], ['x[^a]**', 'x/y', false], ['[A-Z]*', 'readme', false],
    ]);
  });

  it('\\ takes the next character literally', () => {
    expectRows([
      ['star\\*', 'star*', true], ['star\\*', 'starry', false], ['what\\?', 'what?', true], ['what\\?', 'whats', false],
      ['\\[x\\]', '[x]', true], ['\\[x\\]', 'x', false], ['back\\\\slash', 'back\\slash', true], ['\\a\\b\\c', 'abc', true],
      ['dir\\/file', 'dir/file', true],
    ]);
  });

  it('regexp metacharacters are ordinary characters', () => {
    expectRows([
      ['a+b', 'a+b', true], ['a+b', 'aab', false], ['a(b)c', 'a(b)c', true], ['a(b)c', 'abc', false], ['x|y', 'x|y', true], ['x|y', 'x', false],
      ['{a,b}', '{a,b}', true], ['{a,b}', 'a', false], ['cost$', 'cost$', true], ['^top', '^top', true], ['v1.2', 'v1.2', true], ['v1.2', 'v1x2', false],
      ['a{2}', 'aa', false], ['pkg-1.0+build.5(1)', 'pkg-1.0+build.5(1)', true], ['*+*', 'c++', true], ['*.tar.gz', 'x.tar.gz', true], ['*.tar.gz', 'x.tarxgz', false],
      [']', ']', true], ['}', '}', true],
    ]);
  });

  it('is case-sensitive, as on Linux', () => {
    expectRows([['*.JPG', 'photo.jpg', false], ['*.JPG', 'photo.JPG', true], ['Build', 'build', false], ['[A-Z]x', 'ax', false]]);
  });

  it('the last matching line decides; ! re-includes; a parent excluded excludes what is below it', () => {
    expectRows([
      [['*.md', '!README.md'], 'README.md', false], [['*.md', '!README.md'], 'NOTES.md', true], [['!README.md', '*.md'], 'README.md', true],
      [['*.md', '!README.md', 'README*'], 'README.md', true], [['*', '!keep'], 'keep', false], [['*', '!keep'], 'keep/deep/file', false],
      [['*', '!keep'], 'other', true], [['vendor', '!vendor/lib/needed.go'], 'vendor/lib/needed.go', false],
      [['vendor', '!vendor/lib/needed.go'], 'vendor/lib/other.go', true], [['vendor', '!vendor/lib'], 'vendor/lib/x/y', false],
      [['vendor', '!vendor/lib', 'vendor/lib/x'], 'vendor/lib/x/y', true], [['vendor', '!vendor/lib', 'vendor/lib/x'], 'vendor/lib/z', false],
      [['**', '!src/**', 'src/**/*.bak'], 'src/a/b.bak', true], [['**', '!src/**', 'src/**/*.bak'], 'src/a/b.ts', false],
      [['**', '!src/**'], 'src', true], // `src/**` is what is inside src, not src itself
      [['tmp/'], 'tmp/x', true], [['tmp/*', '!tmp/.keep'], 'tmp/.keep', false], [['!only-an-exception'], 'only-an-exception', false],
      [[], 'anything/at/all', false], [['*'], '.', false], [['*'], '', false], // the context itself is never excluded
    ]);
  });

  it('patterns and paths are cleaned as paths', () => {
    expectRows([
      ['/abs', 'abs', true], ['./dot', 'dot/x', true], ['trail/', 'trail', true], ['a//b', 'a/b', true], ['a/./b', 'a/b', true], ['a/x/../b', 'a/b', true],
      ['  spaced  ', 'spaced', true], [['*', '! spaced-exception '], 'spaced-exception', false], ['name', './name/', true], ['name', 'name//x', true],
      ['/', 'x', false], ['.', 'x', false], // patterns that name the context itself match nothing
    ]);
    expect(new DockerIgnore(['*', '!  ./back/in/ ']).ignores('back/in')).toBe(false);
  });

  it('a malformed pattern or a lone ! is a BuildError naming it', () => {
    const bad = ['[', 'a[', '[]', '[]x]', '[^', '[^]', '[a', '[a-', '[a-]', '[-a]', '[-]', '[a-b-c]', '[\\', 'x\\', 'ok/[bad', '[a/b]'];
    for (const pattern of bad) {
      expect(() => new DockerIgnore([pattern]), pattern).toThrow(BuildError);
      expect(() => new DockerIgnore(['fine', `!${pattern}`]), pattern).toThrow(/^syntax error in pattern "/);
    }
    expect(() => new DockerIgnore(['x\\'])).toThrow('syntax error in pattern "x\\\\"');
    for (const lone of ['!', ' ! ', '!   ']) expect(() => new DockerIgnore(['a', lone]), lone).toThrow(/^illegal exclusion pattern: "!"$/);
    // `!!x` is an exception for the name `!x`
    expect(new DockerIgnore(['*', '!!x']).ignores('!x')).toBe(false);
    expect(new DockerIgnore(['*', '!!x']).ignores('x')).toBe(true);
  });
});

describe('.dockerignore files', () => {
  it('a # in the first column is a comment, anywhere else a pattern; a BOM, CRLF, blank lines', () => {
    const di = DockerIgnore.parse('\uFEFF*.tmp\r\n#skip\r\n\r\n   \r\n  #kept\r\nlast');
    expect(di.ignores('x.tmp')).toBe(true); // the BOM is not part of the first pattern
    expect(di.ignores('#skip')).toBe(false);
    expect(di.ignores('#kept')).toBe(true);
    expect(di.ignores('last')).toBe(true);
    expect(di.ignores('other')).toBe(false);
    expect(DockerIgnore.parse('').ignores('x')).toBe(false);
    expect(DockerIgnore.parse('# only\n# comments\n').ignores('# only')).toBe(false);
    expect(DockerIgnore.parse('a\\#b\n\\#c\n').ignores('#c')).toBe(true);
  });

  it('errors name the line that is wrong', () => {
    expect(() => DockerIgnore.parse('good\n  !  \n')).toThrow(/^illegal exclusion pattern: "!"$/);
    expect(() => DockerIgnore.parse('good\n!src/[0-9\n')).toThrow('syntax error in pattern "src/[0-9"');
    expect(() => DockerIgnore.parse('#[\n')).not.toThrow();
  });
});

describe('mayReincludeBelow: which excluded directories the context walk enters', () => {
  /** For each directory, could something below it be re-included? */
  const below = (text: string, dirs: string[]) => Object.fromEntries(dirs.map((d) => [d, DockerIgnore.parse(text).mayReincludeBelow(d)]));

  it('a literal exception: the directories on the way to it, nothing else', () => {
    expect(below('*\n!Dockerfile\n!assets/img/logo.png\n', ['assets', 'assets/img', 'assets/css', 'assets/img/logo.png', 'Dockerfile', 'other'])).toEqual({
      assets: true, 'assets/img': true, 'assets/css': false, 'assets/img/logo.png': false, Dockerfile: false, other: false,
    });
    expect(below('build\n', ['build'])).toEqual({ build: false });
  });

  it('wildcards and classes are matched component by component', () => {
    expect(below('*\n!pkg-*/v?/[a-c]*.json\n', ['pkg-core', 'pkg-core/v1', 'pkg-core/v10', 'lib', 'pkg-core/v1/x.json', 'pkg-core/v1/d'])).toEqual({
      'pkg-core': true, 'pkg-core/v1': true, 'pkg-core/v10': false, lib: false, 'pkg-core/v1/x.json': false, 'pkg-core/v1/d': false,
    });
  });

  it('** can always go on below; glued ** when the directory starts as it must', () => {
    expect(below('*\n!**/keep.txt\n', ['a', 'a/b/c'])).toEqual({ a: true, 'a/b/c': true });
    expect(below('*\n!docs/**\n', ['docs', 'src'])).toEqual({ docs: true, src: false }); // docs/deep is not excluded: the walk enters it anyway
    expect(below('*\n!cfg/**/local.yml\n', ['cfg', 'cfg/a/b', 'etc'])).toEqual({ cfg: true, 'cfg/a/b': true, etc: false });
    // (a directory the exception matches itself is not excluded: the walk enters it anyway, and does not ask)
    expect(below('*\n!gen**.ts\n', ['generated', 'gen', 'src'])).toEqual({ generated: true, gen: true, src: false });
    expect(below('*\n!x/a**b\n', ['x/abc', 'x/q', 'x'])).toEqual({ 'x/abc': true, 'x/q': false, x: true });
  });

  it('an exception before the line that excludes the directory again cannot re-include below it', () => {
    const text = '*\n!src/**\nsrc/secrets\n';
    expect(below(text, ['src', 'src/secrets', 'src/secrets/deeper'])).toEqual({ src: true, 'src/secrets': false, 'src/secrets/deeper': false });
    expect(DockerIgnore.parse(text).ignores('src/secrets/deeper/key')).toBe(true);
    // An exception that names the directory itself decides for everything below it: nothing more below.
    expect(below('*\n!drop\ndrop/deep\n', ['drop/deep'])).toEqual({ 'drop/deep': false });
    // A later exception still can.
    expect(below('*\n!src/**\nsrc/secrets\n!src/secrets/public.pem\n', ['src/secrets'])).toEqual({ 'src/secrets': true });
  });

  it('agrees with ignores: whatever is re-included below an excluded directory was announced', () => {
    const text = '*\n!a/b/c.txt\n!**/keep\n!x*/y\nz\n!z/w**\n';
    const di = DockerIgnore.parse(text);
    const dirs = ['a', 'a/b', 'a/q', 'x1', 'x1/n', 'z', 'z/v', 'm', 'm/n'];
    const files = ['c.txt', 'keep', 'y', 'w', 'wide', 'other'];
    let reincluded = 0;
    for (const dir of dirs) {
      if (!di.ignores(dir)) continue;
      for (const file of files) {
        if (di.ignores(`${dir}/${file}`)) continue;
        reincluded++;
        expect({ dir, file, announced: di.mayReincludeBelow(dir) }).toEqual({ dir, file, announced: true });
      }
    }
    expect(reincluded).toBeGreaterThan(5);
    expect(di.mayReincludeBelow('a/q')).toBe(true); // `**/keep` could be there
    expect(below('*\n!a/b/c.txt\n', ['a/q'])).toEqual({ 'a/q': false });
  });
});
