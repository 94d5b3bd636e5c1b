// Docker's --format on top of the Go templates: list formats (json, table with its header row and
// aligned columns, plain templates), inspect formats, and Docker's error texts and exit codes.
import { describe, expect, it } from 'vitest';
import { TemplateError } from '../../../src/errors.js';
import { ListFormat, formatInspect, formatterContext, templateText } from '../../../src/format/formatter.js';
import { alignColumns } from '../../../src/format/columns.js';

const HEADERS = { ID: 'CONTAINER ID', Names: 'NAMES', Image: 'IMAGE', Command: 'COMMAND', Labels: 'LABELS' };
const row = (ID: string, Names: string, Command = '"sh"') =>
  formatterContext('*formatter.ContainerContext', { Command, ID, Image: 'busybox', Labels: 'a=b', Names, Label: (name: string) => (name === 'a' ? 'b' : '') });
const rows = [row('0123456789ab', 'web'), row('ba9876543210', 'a-much-longer-name', '"sh -c \'a > b && c\'"')];

describe('list --format', () => {
  it('a template runs once per row', () => {
    expect(ListFormat.parse('{{.Names}}', HEADERS).render(rows)).toBe('web\na-much-longer-name\n');
    expect(ListFormat.parse('{{.ID}}: {{.Label "a"}}{{.Label "x"}}', HEADERS).render(rows)).toBe('0123456789ab: b\nba9876543210: b\n');
    expect(ListFormat.parse('{{.Names}}', HEADERS).render([])).toBe('');
  });

  it('\\t and \\n typed literally are a tab and a newline, and the spaces around the format go', () => {
    expect(templateText('  {{.ID}}\\t{{.Names}}\\n ')).toBe('{{.ID}}\t{{.Names}}\n');
    expect(ListFormat.parse('{{.Names}}\\t{{.Image}}', HEADERS).render(rows.slice(0, 1))).toBe('web\tbusybox\n');
  });

  it('json is one object a line, keys sorted, HTML escaped, methods left out (Docker marshals its contexts so)', () => {
    const out = ListFormat.parse('json', HEADERS).render(rows).split('\n');
    expect(out[0]).toBe('{"Command":"\\"sh\\"","ID":"0123456789ab","Image":"busybox","Labels":"a=b","Names":"web"}');
    expect(out[1]).toContain('"Command":"\\"sh -c \'a \\u003e b \\u0026\\u0026 c\'\\""');
    expect(out.length).toBe(3);
    expect(ListFormat.parse('{{json .Command}}', HEADERS).render(rows.slice(1))).toBe('"\\"sh -c \'a > b && c\'\\""\n');
  });

  it('table: a header row of the column names and aligned columns (min width 10, padding 3)', () => {
    expect(ListFormat.parse('table {{.ID}}\\t{{.Names}}\\t{{.Image}}', HEADERS).render(rows)).toBe(
      ['CONTAINER ID   NAMES                IMAGE', '0123456789ab   web                  busybox', 'ba9876543210   a-much-longer-name   busybox', ''].join(
        '\n',
      ),
    );
    expect(ListFormat.parse('table {{.Names}}:{{.Image}}', HEADERS).render(rows.slice(0, 1))).toBe('NAMES:IMAGE\nweb:busybox\n');
    expect(ListFormat.parse('table {{.Image}}\t{{.Names}}', HEADERS).render(rows.slice(0, 1))).toBe('IMAGE     NAMES\nbusybox   web\n');
  });

  it("the header leaves column names as they are through Docker's functions, and names labels", () => {
    const t = ListFormat.parse(
      'table {{upper .Names}}\\t{{json .ID}}\\t{{truncate .Image 3}}\\t{{.Label "com.example.my-label"}}\\t{{pad .Labels 1 1}}',
      HEADERS,
    );
    expect(t.render(rows.slice(0, 1)).split('\n')[0]).toBe('NAMES     CONTAINER ID     IMAGE     my label    LABELS ');
    // A field without a column name is <no value> in the header; a header that fails keeps what it
    // wrote before the failure (here `lower` of no value), as Docker's.
    const { Image: _, ...noImage } = HEADERS;
    expect(ListFormat.parse('table {{.Names}}\\t{{.Image}}', noImage).render(rows.slice(0, 1))).toBe('NAMES     <no value>\nweb       busybox\n');
    expect(ListFormat.parse('table {{.Names}}\\t{{lower .Image}}', noImage).render(rows.slice(0, 1))).toBe('NAMES     \nweb       busybox\n');
  });

  it("errors are Docker's: a template that does not parse, or a field the context lacks", () => {
    expect(() => ListFormat.parse('{{.Names', HEADERS)).toThrow(new TemplateError('template parsing error: template: :1: unclosed action'));
    expect(() => ListFormat.parse('table {{nope .Names}}', HEADERS)).toThrow('template parsing error: template: :1: function "nope" not defined');
    const bad = ListFormat.parse('{{.Nope}}', HEADERS);
    expect(() => bad.render(rows)).toThrow(
      'template parsing error: template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.ContainerContext',
    );
    try {
      bad.render(rows);
    } catch (err) {
      expect((err as TemplateError).exitCode).toBe(1);
    }
  });
});

describe('inspect --format', () => {
  const items = [
    { Id: 'a1', Config: { Env: ['X=1'] } },
    { Id: 'b2', Config: { Env: [] } },
  ];

  it('a template per item, a line each', () => {
    expect(formatInspect('{{.Id}}', items)).toEqual({ output: 'a1\nb2\n', errors: [] });
    expect(formatInspect('{{range .Config.Env}}{{.}} {{end}}', items).output).toBe('X=1 \n\n');
    expect(formatInspect('{{.Id}}', []).output).toBe('\n');
  });

  it('json: the compact array', () => {
    expect(formatInspect('json', [{ a: '<b>' }, { c: 1 }]).output).toBe('[{"a":"\\u003cb\\u003e"},{"c":1}]\n');
  });

  it('an item whose template fails is an error, the others still print', () => {
    const { output, errors } = formatInspect('{{index .Config.Env 0}}', items);
    expect(output).toBe('X=1\n');
    expect(errors.map((e) => [e.message, e.exitCode])).toEqual([
      ['template parsing error: template: :1:2: executing "" at <index .Config.Env 0>: error calling index: reflect: slice index out of range', 1],
    ]);
  });

  it("a template that does not parse is exit status 64, as Docker's inspect", () => {
    let err: unknown;
    try {
      formatInspect('{{.Id', items);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TemplateError);
    expect((err as TemplateError).message).toBe('template parsing error: template: :1: unclosed action');
    expect((err as TemplateError).exitCode).toBe(64);
  });
});

describe('table columns', () => {
  it('aligns tab-terminated cells of adjacent lines; a line without that cell ends the column', () => {
    expect(alignColumns('a\tb\tc\naaaaaaaaaaaa\tbb\tc\n', { minWidth: 0, padding: 1 })).toBe('a            b  c\naaaaaaaaaaaa bb c\n');
    expect(alignColumns('aa\tb\nno tabs here\nx\ty\n', { minWidth: 0, padding: 2 })).toBe('aa  b\nno tabs here\nx  y\n');
    expect(alignColumns('a\t\tc\n\tb\tc\n', { minWidth: 4, padding: 1 })).toBe('a       c\n    b   c\n');
    expect(alignColumns('é\tx\nab\ty\n', { minWidth: 0, padding: 1 })).toBe('é  x\nab y\n');
    // A line with fewer cells ends only the deeper columns' blocks.
    expect(alignColumns('a\tb\tc\nxx\ty\nzzz\twwww\tv\n', { minWidth: 0, padding: 1 })).toBe('a   b c\nxx  y\nzzz wwww v\n');
    expect(alignColumns('a\tb\tc\nxxxxxx\nzzz\tw\tv\n', { minWidth: 0, padding: 1 })).toBe('a b c\nxxxxxx\nzzz w v\n');
  });
});
