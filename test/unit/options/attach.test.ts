// -a/--attach and --detach-keys (src/options/attach.ts), and the detach sequence's filter over a
// terminal's input (src/runtime/escape-proxy.ts, moby/term's escapeProxy).
import { describe, expect, it } from 'vitest';
import { DEFAULT_DETACH_KEYS, parseAttachStreams, parseDetachKeys } from '../../../src/options/attach.js';
import { EscapeProxy } from '../../../src/runtime/escape-proxy.js';
import { refused } from './refused.js';

describe('-a/--attach', () => {
  it('none: stdout and stderr, stdin with -i; given: those (any case), stdin also with -i', () => {
    expect(parseAttachStreams([], false)).toEqual({ stdin: false, stdout: true, stderr: true });
    expect(parseAttachStreams([], true)).toEqual({ stdin: true, stdout: true, stderr: true });
    expect(parseAttachStreams(['stdout'], false)).toEqual({ stdin: false, stdout: true, stderr: false });
    expect(parseAttachStreams(['STDERR', 'StdIn'], false)).toEqual({ stdin: true, stdout: false, stderr: true });
    expect(parseAttachStreams(['stdout'], true)).toEqual({ stdin: true, stdout: true, stderr: false });
  });

  it("refuses any other stream with Docker's message", () => {
    expect(refused(() => parseAttachStreams(['stdall'], false))).toBe(
      'invalid argument "stdall" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR',
    );
    expect(refused(() => parseAttachStreams([''], false))).toBe('invalid argument "" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR');
  });
});

describe('--detach-keys', () => {
  it("moby/term's syntax: single characters, ctrl-@ … ctrl-_, DEL, comma-separated", () => {
    expect(DEFAULT_DETACH_KEYS).toEqual(parseDetachKeys('ctrl-p,ctrl-q'));
    expect(parseDetachKeys('ctrl-p,ctrl-q')).toEqual([16, 17]);
    expect(parseDetachKeys('a')).toEqual([97]);
    expect(parseDetachKeys('ctrl-@,ctrl-a,ctrl-z,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_')).toEqual([0, 1, 26, 27, 28, 29, 30, 31]);
    expect(parseDetachKeys('DEL,x,Z,1')).toEqual([127, 120, 90, 49]);
  });

  it('refuses anything else, naming the whole spec', () => {
    for (const spec of ['', 'ab', 'ctrl-A', 'ctrl-', 'ctrl-p,', 'del', 'ctrl-ä', 'é', 'ctrl-p,,ctrl-q']) {
      expect(refused(() => parseDetachKeys(spec))).toBe(`Invalid detach keys (${spec}) provided`);
    }
  });
});

describe('EscapeProxy', () => {
  const feed = (keys: number[], chunks: string[]): { passed: string; detached: boolean } => {
    const proxy = new EscapeProxy(keys);
    let passed = '';
    for (const c of chunks) passed += proxy.filter(Buffer.from(c, 'latin1')).toString('latin1');
    return { passed, detached: proxy.detached };
  };

  it('passes input through and detaches on the sequence, keeping what came before it and nothing after', () => {
    expect(feed([16, 17], ['ls\r'])).toEqual({ passed: 'ls\r', detached: false });
    expect(feed([16, 17], ['ab\x10\x11cd'])).toEqual({ passed: 'ab', detached: true });
    expect(feed([16, 17], ['ab\x10', '\x11', 'more'])).toEqual({ passed: 'ab', detached: true });
    expect(feed([0x61], ['xya'])).toEqual({ passed: 'xy', detached: true });
  });

  it('holds a begun sequence and passes it on when it is not one (a mismatching byte does not begin it again, as moby/term)', () => {
    expect(feed([16, 17], ['a\x10'])).toEqual({ passed: 'a', detached: false });
    expect(feed([16, 17], ['a\x10', 'b'])).toEqual({ passed: 'a\x10b', detached: false });
    expect(feed([16, 17], ['\x10\x10\x11'])).toEqual({ passed: '\x10\x10\x11', detached: false });
    expect(feed([1, 2, 3], ['\x01\x02', '\x01\x02\x03'])).toEqual({ passed: '\x01\x02\x01\x02\x03', detached: false });
    expect(feed([1, 2, 3], ['\x01\x02', 'x\x01\x02\x03'])).toEqual({ passed: '\x01\x02x', detached: true });
  });
});
