// Go's fmt as template values print (Sprintf's verbs, flags, widths, precisions and error forms,
// Sprint's spacing). Expected texts are Go's own.
import { describe, expect, it } from 'vitest';
import { formatValue, goStruct, sprint, sprintf, sprintln } from '../../../src/format/template/index.js';

describe("Go's Sprintf", () => {
  it('integers', () => {
    expect(sprintf('%d|%5d|%-5d|%05d|%+d|% d|%.3d', [42, 42, 42, 42, 42, 42, 7])).toBe('42|   42|42   |00042|+42| 42|007');
    expect(sprintf('%x %X %o %O %b %#x %#o %#b %x', [255, 255, 255, 255, 5, 255, 8, 5, -255])).toBe('ff FF 377 0o377 101 0xff 010 0b101 -ff');
    expect(sprintf('%c %q %U %#U %05d', [0x41, 0x41, 0x41, 0x41, -42])).toBe("A 'A' U+0041 U+0041 'A' -0042");
    expect(sprintf('%v %d', [9007199254740992, -1])).toBe('9007199254740992 -1');
  });

  it('floats: shortest for %v, exact rounding half to even with a precision', () => {
    expect(sprintf('%v %v %v %v %v', [3.25, 0.1, 1e21, 1.5e-7, 1234567.5])).toBe('3.25 0.1 1e+21 1.5e-07 1.2345675e+06');
    expect(sprintf('%e %E %f %g %G', [1234.5678, 1234.5678, 1234.5678, 1234.5678, 1e-7])).toBe('1.234568e+03 1.234568E+03 1234.567800 1234.5678 1E-07');
    expect(sprintf('%.2f|%8.3f|%-8.2f|%+.1e|%6.2f|%06.2f', [3.14159, 3.14159, 2.5, 12345.678, -3.14159, -3.14159])).toBe(
      '3.14|   3.142|2.50    |+1.2e+04| -3.14|-03.14',
    );
    expect(sprintf('%.0f %.0f %.0f %.0f %.1f %.2f %.1f', [0.5, 1.5, 2.5, 3.5, 0.25, 1.005, 0.05])).toBe('0 2 2 4 0.2 1.00 0.1');
    expect(sprintf('%.3g %.10g %g %g %g %.3e', [1234567.5, 1.5, 0.0001, 0.00001, 100000.5, 0])).toBe('1.23e+06 1.5 0.0001 1e-05 100000.5 0.000e+00');
    expect(sprintf('%5.1f%%', [99.5])).toBe(' 99.5%');
    expect(sprintf('%.2f %e', [2, 3])).toBe('2.00 3.000000e+00');
  });

  it('strings, bools and composites', () => {
    expect(sprintf('%s|%q|%v|%x|%X|% x|%#x', ['hi', 'hi', 'hi', 'hi', 'hi', 'hi', 'hi'])).toBe('hi|"hi"|hi|6869|6869|68 69|0x6869');
    expect(sprintf('%10s|%-10s|%.2s|%5.1s|%q|%+q|%#q', ['abc', 'abc', 'abc', 'abc', 'a"b\n', 'é', 'raw'])).toBe(
      '       abc|abc       |ab|    a|"a\\"b\\n"|"\\u00e9"|`raw`',
    );
    expect(sprintf('%t %v %5t', [true, false, true])).toBe('true false  true');
    expect(
      sprintf('%v|%d|%q|%3v', [
        [1, 'a'],
        [1, 2],
        ['a', 'b'],
        [1, 2],
      ]),
    ).toBe('[1 a]|[1 2]|["a" "b"]|[  1   2]');
    expect(sprintf('%v|%s|%#v', [{ b: 1, a: 'x' }, { a: 'x' }, { b: 1, a: 'x' }])).toBe('map[a:x b:1]|map[a:x]|map[string]interface {}{"a":"x", "b":1}');
    const s = goStruct('formatter.T', { A: 1, B: 'x' });
    expect(sprintf('%v|%+v|%#v', [s, s, s])).toBe('{1 x}|{A:1 B:x}|formatter.T{A:1, B:"x"}');
    expect(sprintf('%T %T %T %T %T %T %T', [1, 1.5, 's', true, [1], { a: 1 }, null])).toBe(
      'int float64 string bool []interface {} map[string]interface {} <nil>',
    );
  });

  it('nil and mistakes, as Go marks them', () => {
    expect(sprintf('%v %d %s', [null, null, undefined])).toBe('<nil> %!d(<nil>) %!s(<nil>)');
    expect(sprintf('%d|%s|%t|%z', ['x', 5, 1, 1])).toBe('%!d(string=x)|%!s(int=5)|%!t(int=1)|%!z(int=1)');
    expect(sprintf('%d %d', [1])).toBe('1 %!d(MISSING)');
    expect(sprintf('%d', [1, 'a', null])).toBe('1%!(EXTRA string=a, <nil>)');
    expect(sprintf('%', [])).toBe('%!(NOVERB)');
    expect(sprintf('%[2]d %[1]d|%[3]d', [1, 2])).toBe('2 1|%!d(BADINDEX)');
    expect(sprintf('%*d|%-*d|%.*f|%*d', [5, 1, 4, 2, 2, 3.14159, 'x', 1])).toBe('    1|2   |3.14|%!(BADWIDTH)1');
    expect(sprintf('100%%', [])).toBe('100%');
    expect(sprintf('%[2]*[1]d|%-*d|', [7, 4, 3, 2])).toBe('   7|3   |');
    expect(sprintf('%[3]v %v %[1]v %v', [1, 2, 3])).toBe('3 %!v(MISSING) 1 2');
    expect(sprintf('%U %#U %c|%6.2f%%|%08.3f', [0x1f600, 0x1f600, 0x1f600, 99.555, -3.14159])).toBe("U+1F600 U+1F600 '😀' 😀| 99.56%|-003.142");
    expect(sprintf('%v %+v %#v', [{ a: [1, null] }, null, [null]])).toBe('map[a:[1 <nil>]] <nil> []interface {}{interface {}(nil)}');
  });
});

describe("Go's Sprint, Sprintln and %v", () => {
  it('spaces between operands that are not strings', () => {
    expect(sprint([1, 2, 'a', 3, 'b', 'c'])).toBe('1 2a3bc');
    expect(sprint([null, true])).toBe('<nil> true');
    expect(sprintln([1, 'a', null])).toBe('1 a <nil>\n');
  });

  it('prints every kind', () => {
    expect(formatValue([1, 'a', null, [2.5], { z: true, a: [] }])).toBe('[1 a <nil> [2.5] map[a:[] z:true]]');
    expect(formatValue(-0.5)).toBe('-0.5');
    expect(formatValue('')).toBe('');
  });
});
