import { describe, expect, it } from 'vitest';
import { parseDockerfile } from '../../../src/build/dockerfile.js';
import { expandWord, expandWords, keyValuePairs } from '../../../src/build/shell-words.js';
import { DockerfileError } from '../../../src/errors.js';

const env = (o: Record<string, string>) => new Map(Object.entries(o));

function parseError(text: string): DockerfileError {
  try {
    parseDockerfile(text, 'Dockerfile.test');
  } catch (err) {
    expect(err).toBeInstanceOf(DockerfileError);
    return err as DockerfileError;
  }
  throw new Error('expected a DockerfileError');
}

describe('Dockerfile parser', () => {
  it('reads instructions with their lines, case-insensitive keywords, comments and blank lines', () => {
    const df = parseDockerfile('# a comment\n\nfrom busybox\n  # indented comment\nRun echo hi\n', 'Dockerfile');
    expect(df.instructions.map((i) => [i.keyword, i.args, i.line])).toEqual([
      ['FROM', 'busybox', 3],
      ['RUN', 'echo hi', 5],
    ]);
  });

  it('parser directives only at the top: escape, syntax accepted; later ones are comments', () => {
    const df = parseDockerfile('# syntax=docker/dockerfile:1\n# escape=`\nFROM busybox\nRUN echo a `\n  b\n# escape=\\\n', 'D');
    expect(df.directives).toEqual({ syntax: 'docker/dockerfile:1', escape: '`' });
    expect(df.escape).toBe('`');
    expect(df.instructions[1]?.args).toBe('echo a   b');
    const late = parseDockerfile('FROM busybox\n# escape=`\nRUN echo a \\\n b\n', 'D');
    expect(late.escape).toBe('\\');
    expect(late.instructions[1]?.args).toBe('echo a  b');
    // a blank line ends the directives
    expect(parseDockerfile('\n# escape=`\nFROM x\n', 'D').escape).toBe('\\');
  });

  it('joins continuation lines, dropping comments and blank lines inside them', () => {
    const df = parseDockerfile('FROM x\nRUN apt-get update && \\\n# comment inside\n\n    apt-get install -y a \\\n    b\nCMD ["a"]\n', 'D');
    const run = df.instructions[1];
    expect(run?.args).toBe('apt-get update &&     apt-get install -y a     b');
    expect([run?.line, run?.endLine]).toEqual([2, 6]);
    expect(df.instructions[2]?.line).toBe(7);
  });

  it('JSON (exec) form and shell form', () => {
    const df = parseDockerfile('FROM x\nCMD ["echo", "a b"]\nENTRYPOINT echo hi\nRUN [ "not json\nSHELL ["/bin/bash", "-c"]\n', 'D');
    expect(df.instructions[1]?.json).toEqual(['echo', 'a b']);
    expect(df.instructions[2]?.json).toBeUndefined();
    expect(df.instructions[3]?.json).toBeUndefined(); // invalid JSON: shell form
    expect(df.instructions[4]?.json).toEqual(['/bin/bash', '-c']);
  });

  it('flags before the arguments', () => {
    const df = parseDockerfile('FROM --platform=linux/amd64 busybox AS b\nCOPY --from=b --chown=1:2 --chmod=755 a /b\nHEALTHCHECK --interval=5s CMD true\n', 'D');
    expect(df.instructions[0]?.flags).toEqual([{ name: 'platform', value: 'linux/amd64' }]);
    expect(df.instructions[0]?.args).toBe('busybox AS b');
    expect(df.instructions[1]?.flags).toEqual([{ name: 'from', value: 'b' }, { name: 'chown', value: '1:2' }, { name: 'chmod', value: '755' }]);
    expect(df.instructions[1]?.args).toBe('a /b');
    expect(df.instructions[2]?.flags).toEqual([{ name: 'interval', value: '5s' }]);
  });

  it('heredocs after RUN and COPY (<<EOF, <<-EOF, quoted), several in one instruction', () => {
    const df = parseDockerfile('FROM x\nRUN <<EOF\necho a\necho b\nEOF\nCOPY <<-"ONE" <<TWO /dst/\n\tone $X\n\tONE\ntwo\nTWO\nRUN echo after\n', 'D');
    const run = df.instructions[1];
    expect(run?.heredocs).toEqual([{ name: 'EOF', content: 'echo a\necho b\n', expand: true, chomp: false }]);
    expect([run?.line, run?.endLine]).toEqual([2, 5]);
    const copy = df.instructions[2];
    expect(copy?.heredocs).toEqual([
      { name: 'ONE', content: 'one $X\n', expand: false, chomp: true },
      { name: 'TWO', content: 'two\n', expand: true, chomp: false },
    ]);
    expect(df.instructions[3]).toMatchObject({ keyword: 'RUN', args: 'echo after', line: 11 });
  });

  it('ONBUILD wraps an instruction; ONBUILD ONBUILD and ONBUILD FROM are errors', () => {
    const df = parseDockerfile('FROM x\nONBUILD RUN echo hi\n', 'D');
    expect(df.instructions[1]?.onbuild).toMatchObject({ keyword: 'RUN', args: 'echo hi' });
    expect(parseError('FROM x\nONBUILD ONBUILD RUN a\n').message).toMatch(/^Dockerfile\.test:2: chaining ONBUILD/);
    expect(parseError('FROM x\nONBUILD FROM y\n').message).toMatch(/^Dockerfile\.test:2: FROM isn't allowed as an ONBUILD trigger/);
  });

  it('errors name the file, the line and the instruction', () => {
    const e = parseError('FROM busybox\n\nRUNN echo hi\n');
    expect(e.message).toBe('Dockerfile.test:3: unknown instruction: RUNN (RUNN echo hi)');
    expect(e.line).toBe(3);
    expect(e.exitCode).toBe(1);
    expect(parseError('FROM x\nCOPY onlyone\n').message).toMatch(/^Dockerfile\.test:2: COPY requires at least two arguments/);
    expect(parseError('FROM x\nSHELL /bin/sh -c\n').message).toMatch(/^Dockerfile\.test:2: SHELL requires the arguments to be in JSON form/);
    expect(parseError('FROM a b c d\n').message).toMatch(/^Dockerfile\.test:1: FROM requires either one argument, or three/);
    expect(parseError('FROM x\nRUN <<EOF\necho never closed\n').message).toMatch(/^Dockerfile\.test:2: unterminated heredoc <<EOF/);
    expect(parseError('FROM x\n\nWORKDIR\n').message).toMatch(/^Dockerfile\.test:3: WORKDIR requires exactly one argument/);
    expect(parseError('# escape=x\nFROM x\n').message).toMatch(/invalid escape token/);
    expect(parseError('FROM x\nENV\n').message).toMatch(/^Dockerfile\.test:2: ENV requires at least one argument/);
  });

  it('knows every instruction of the reference', () => {
    const text = ['FROM scratch AS s', 'RUN a', 'CMD a', 'LABEL a=b', 'EXPOSE 80', 'ENV a=b', 'ADD a b', 'COPY a b', 'ENTRYPOINT a', 'VOLUME /a',
      'USER a', 'WORKDIR /a', 'ARG a', 'ONBUILD RUN a', 'STOPSIGNAL SIGTERM', 'HEALTHCHECK NONE', 'SHELL ["sh"]', 'MAINTAINER me'].join('\n');
    expect(parseDockerfile(text, 'D').instructions.map((i) => i.keyword)).toEqual([
      'FROM', 'RUN', 'CMD', 'LABEL', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME', 'USER', 'WORKDIR', 'ARG', 'ONBUILD',
      'STOPSIGNAL', 'HEALTHCHECK', 'SHELL', 'MAINTAINER',
    ]);
  });
});

describe('variable substitution', () => {
  const e = env({ A: 'alpha', EMPTY: '', SP: 'x y', PATH_V: '/usr/local/bin/app.tar.gz' });

  it('$VAR, ${VAR}, unset → empty', () => {
    expect(expandWord('$A-${A}_$UNSET.', e)).toBe('alpha-alpha_.');
  });

  it('${VAR:-x} ${VAR-x} ${VAR:+x} ${VAR+x}', () => {
    expect(expandWord('${UNSET:-def} ${EMPTY:-def} ${A:-def}', e)).toBe('def def alpha');
    expect(expandWord('${UNSET-def}|${EMPTY-def}', e)).toBe('def|');
    expect(expandWord('${UNSET:+alt}|${EMPTY:+alt}|${A:+alt}', e)).toBe('||alt');
    expect(expandWord('${EMPTY+alt}|${UNSET+alt}', e)).toBe('alt|');
    expect(expandWord('${UNSET:-$A}', e)).toBe('alpha');
  });

  it('${VAR:?msg} fails on unset', () => {
    expect(() => expandWord('${UNSET:?must be set}', e)).toThrow(/UNSET: must be set/);
  });

  it('pattern removal and replacement', () => {
    expect(expandWord('${PATH_V##*/}', e)).toBe('app.tar.gz');
    expect(expandWord('${PATH_V%.*}', e)).toBe('/usr/local/bin/app.tar');
    expect(expandWord('${PATH_V%%.*}', e)).toBe('/usr/local/bin/app');
    expect(expandWord('${PATH_V#/usr}', e)).toBe('/local/bin/app.tar.gz');
    expect(expandWord('${A/a/A}|${A//a/A}', e)).toBe('Alpha|AlphA');
  });

  it('quotes: single literal, double expands; escapes', () => {
    expect(expandWord(`'$A' "$A" \\$A "\\$A" "a\\b"`, e)).toBe('$A alpha $A $A a\\b');
    expect(expandWord('`$A', e, '`')).toBe('$A');
  });

  it('word splitting outside quotes, including expanded values', () => {
    expect(expandWords('a "b c" $SP "$SP"', e)).toEqual(['a', 'b c', 'x', 'y', 'x y']);
    expect(expandWords('  ', e)).toEqual([]);
  });

  it('unterminated quotes and bad substitutions are errors', () => {
    expect(() => expandWord('"abc', e)).toThrow(/double-quote/);
    expect(() => expandWord("'abc", e)).toThrow(/single-quote/);
    expect(() => expandWord('${A', e)).toThrow(/missing '}'/);
    expect(() => expandWord('${}', e)).toThrow(/bad substitution/);
  });

  it('ENV/LABEL key=value pairs and the legacy `ENV key value` form', () => {
    expect(keyValuePairs('A=1 B="two words" C=three\\ words', '\\', true)).toEqual([
      { key: 'A', value: '1' },
      { key: 'B', value: '"two words"' },
      { key: 'C', value: 'three\\ words' },
    ]);
    expect(keyValuePairs('NAME some value here', '\\', true)).toEqual([{ key: 'NAME', value: 'some value here' }]);
    expect(keyValuePairs('A B=2', '\\', false)).toEqual([{ key: 'A', value: undefined }, { key: 'B', value: '2' }]);
  });
});
