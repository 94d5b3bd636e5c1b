// Go's text/template as hull runs it: each construct, Go's printing of each kind of value, and
// Go's errors for templates that do not parse or fail while running. Expected texts are what Go
// (and so Docker) prints for the same template and data.
import { describe, expect, it } from 'vitest';
import { TemplateError } from '../../../src/errors.js';
import { parseDockerTemplate } from '../../../src/format/docker-templates.js';
import { GoTemplate, goStruct } from '../../../src/format/template/index.js';

const data = {
  Name: '/web',
  Config: { Env: ['A=1', 'B=2'], Labels: { 'com.example.role': 'db', a: 'b' }, Cmd: null, Entrypoint: ['sh', '-c'], Tty: false },
  State: { Status: 'running', Running: true, Pid: 4242, ExitCode: 0, Health: null },
  HostConfig: { Memory: 0, CpuShares: 512, Init: true },
  Sizes: [1, 2, 3],
  Empty: [],
  Nested: { b: 1, a: { d: 2, c: 3 } },
};

/** Runs `text` (with Docker's functions) on `d`. */
const run = (text: string, d: unknown = data, options?: Parameters<GoTemplate['execute']>[1]): string => parseDockerTemplate(text).execute(d, options);

/** The message of the TemplateError that parsing or running `text` throws. */
function failure(text: string, d: unknown = data): string {
  try {
    run(text, d);
  } catch (err) {
    expect(err).toBeInstanceOf(TemplateError);
    return (err as Error).message;
  }
  throw new Error(`${text} did not fail`);
}

describe('Go templates: fields, variables and pipelines', () => {
  it('walks fields, maps and the root', () => {
    expect(run('{{.Name}} {{.State.Status}} {{.State.Pid}}')).toBe('/web running 4242');
    expect(run('{{.Config.Labels.a}}')).toBe('b');
    expect(run('{{$.Name}}{{with .State}}{{$.Name}}{{.Status}}{{end}}')).toBe('/web/webrunning');
    expect(run('{{.}}', 'plain')).toBe('plain');
    expect(run('text only')).toBe('text only');
    expect(run('')).toBe('');
  });

  it('prints a missing key as <no value> and nil as <nil>; goes on through a missing map', () => {
    expect(run('{{.Nope}}')).toBe('<no value>');
    expect(run('{{.Nope.Deeper}}')).toBe('<no value>');
    expect(run('{{.Config.Cmd}}')).toBe('<nil>');
    expect(run('{{index .Config.Labels "missing"}}')).toBe('<no value>');
  });

  it('declares and assigns variables, scoped to their block', () => {
    expect(run('{{$x := .State.Pid}}{{$x}}')).toBe('4242');
    expect(run('{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}')).toBe('2');
    expect(run('{{$x := 1}}{{if true}}{{$x := 2}}{{$x}}{{end}}{{$x}}')).toBe('21');
    expect(run('{{$s := .State}}{{$s.Status}}')).toBe('running');
  });

  it('pipes a value in as the last argument', () => {
    expect(run('{{.Config.Env | len}}')).toBe('2');
    expect(run('{{"x" | printf "%s-%s" "y"}}')).toBe('y-x');
    expect(run('{{.Name | printf "%q" | len}}')).toBe('6');
    expect(run('{{(index .Config.Env 1) | printf "<%s>"}}')).toBe('<B=2>');
    expect(run('{{(.State).Status}}')).toBe('running');
  });

  it('reads literals as Go does', () => {
    expect(run('{{"a\\tb\\u00e9\\x41"}}|{{`raw\\n`}}')).toBe('a\tbéA|raw\\n');
    expect(run('{{1}} {{-5}} {{+7}} {{0x1F}} {{0o17}} {{017}} {{0b101}} {{1_000}} {{1.5}} {{1e3}} {{0x1p-2}}')).toBe('1 -5 7 31 15 15 5 1000 1.5 1000 0.25');
    expect(run("{{'a'}} {{'\\n'}} {{'é'}}")).toBe('97 10 233');
    expect(run('{{true}} {{false}}')).toBe('true false');
  });
});

describe('Go templates: control structures', () => {
  it('if / else if / else, with Go truth', () => {
    const t = '{{if .A}}a{{else if .B}}b{{else}}c{{end}}';
    expect(run(t, { A: 1, B: 1 })).toBe('a');
    expect(run(t, { A: 0, B: 'x' })).toBe('b');
    expect(run(t, { A: '', B: [] })).toBe('c');
    const truth = parseDockerTemplate('{{if .}}t{{else}}f{{end}}');
    for (const falsy of [false, 0, 0.0, '', [], {}, null, undefined]) expect(truth.execute(falsy)).toBe('f');
    for (const truthy of [true, 1, -1, 0.5, 'x', [0], { a: 0 }, goStruct('T', {})]) expect(truth.execute(truthy)).toBe('t');
    expect(run('{{if $x := .State.Pid}}{{$x}}{{end}}')).toBe('4242');
  });

  it('with sets dot; else and else with run when it is empty', () => {
    expect(run('{{with .State}}{{.Status}}{{end}}')).toBe('running');
    expect(run('{{with .Nope}}x{{else}}none{{end}}')).toBe('none');
    expect(run('{{with .Nope}}x{{else with .Name}}{{.}}{{else}}none{{end}}')).toBe('/web');
  });

  it('range over slices, maps (keys in order) and integers, with variables and else', () => {
    expect(run('{{range .Config.Env}}{{.}} {{end}}')).toBe('A=1 B=2 ');
    expect(run('{{range $i, $e := .Config.Env}}{{$i}}:{{$e}},{{end}}')).toBe('0:A=1,1:B=2,');
    expect(run('{{range $e := .Sizes}}{{$e}}{{end}}')).toBe('123');
    expect(run('{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}')).toBe('a=b;com.example.role=db;');
    expect(run('{{range .Nested}}{{.}} {{end}}')).toBe('map[c:3 d:2] 1 ');
    expect(run('{{range 3}}{{.}}{{end}}')).toBe('012');
    expect(run('{{range .Empty}}x{{else}}empty{{end}}|{{range .Nope}}x{{else}}none{{end}}|{{range .Config.Cmd}}x{{else}}nil{{end}}')).toBe('empty|none|nil');
    expect(run('{{$v := 0}}{{range $v = .Sizes}}{{end}}{{$v}}')).toBe('3');
    expect(run('{{range .Sizes}}{{$.Name}}{{end}}')).toBe('/web/web/web');
  });

  it('break and continue inside range', () => {
    expect(run('{{range .Sizes}}{{if eq . 2}}{{break}}{{end}}{{.}}{{end}}')).toBe('1');
    expect(run('{{range .Sizes}}{{if eq . 2}}{{continue}}{{end}}{{.}}{{end}}')).toBe('13');
  });

  it('define, template and block', () => {
    expect(run('{{define "item"}}[{{.}}]{{end}}{{range .Sizes}}{{template "item" .}}{{end}}')).toBe('[1][2][3]');
    expect(run('{{define "n"}}{{.Name}}{{end}}{{template "n" .}}')).toBe('/web');
    expect(run('{{block "b" .State}}{{.Status}}{{end}}!')).toBe('running!');
  });

  it('trim markers take the spaces, tabs and newlines beside them; comments print nothing', () => {
    expect(run('a  \n\t{{- .Name -}}\n  b')).toBe('a/webb');
    expect(run('{{- " a " -}}  x  {{- 3 -}}')).toBe(' a x3');
    expect(run('{{-3}} {{- 3}}')).toBe('-33');
    expect(run('x {{/* a comment */}} y')).toBe('x  y');
    expect(run('x {{- /* a comment */ -}} y')).toBe('xy');
    expect(run('{{.Name\n}}')).toBe('/web');
  });
});

describe('Go templates: builtins', () => {
  it('and / or return an operand and stop early; not', () => {
    expect(run('{{and 1 0 "x"}}|{{and 1 "x"}}|{{or 0 "" "z"}}|{{or 0 ""}}|{{not 0}}|{{not .Name}}')).toBe('0|x|z||true|false');
    expect(run('{{or .Name (index .Nope 1)}}')).toBe('/web'); // the erroring operand is never evaluated
    expect(run('{{and .Nope (index .Nope 1)}}')).toBe('<no value>');
  });

  it('len counts bytes of strings, elements and keys', () => {
    expect(run('{{len .Config.Env}} {{len .Config.Labels}} {{len "héllo"}} {{len .Empty}}')).toBe('2 2 6 0');
  });

  it('index and slice', () => {
    expect(run('{{index .Config.Env 1}} {{index .Config.Labels "com.example.role"}} {{index .Nested "a" "c"}} {{index "abc" 1}}')).toBe('B=2 db 3 98');
    expect(run('{{slice .Sizes 1}} {{slice .Sizes 1 2}} {{slice "hello" 1 3}} {{slice .Sizes}}')).toBe('[2 3] [2] el [1 2 3]');
  });

  it('comparisons', () => {
    expect(run('{{eq .State.Pid 4242}} {{eq "a" "b" "a"}} {{eq .Nope nil}} {{ne 1 2}} {{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}} {{lt 1.5 2}}')).toBe(
      'true true true true true true true false true',
    );
    expect(run('{{if eq .State.Status "running"}}up{{end}}')).toBe('up');
  });

  it('print, printf, println and the escapers', () => {
    expect(run('{{print 1 2 "a" 3 "b"}}|{{println 1 "x"}}|{{printf "%05.1f|%-4s|" 3.14159 "ab"}}')).toBe('1 2a3b|1 x\n|003.1|ab  |');
    expect(run('{{print .Nope}} {{printf "%v" .Nope}}')).toBe('<nil> <nil>');
    expect(run('{{html "<a href=\\"x\\">&\'"}}')).toBe('&lt;a href=&#34;x&#34;&gt;&amp;&#39;');
    expect(run('{{js "a\'b\\"c<d>="}}')).toBe('a\\\'b\\"c\\u003Cd\\u003E\\u003D');
    expect(run('{{urlquery "a b&c=d/é"}}')).toBe('a+b%26c%3Dd%2F%C3%A9');
  });

  it('calls methods and function values', () => {
    const ctx = { Label: (name: string) => `label:${name}`, F: (a: number, b: number) => a + b, Now: () => 'now' };
    expect(run('{{.Label "x"}} {{.Now}} {{call .F 1 2}}', ctx)).toBe('label:x now 3');
    expect(run('{{"y" | .Label}}', ctx)).toBe('label:y');
  });
});

describe("Go's printing of values", () => {
  it('slices, maps (sorted keys), nested values, nil inside', () => {
    expect(run('{{.Config.Env}}')).toBe('[A=1 B=2]');
    expect(run('{{.Config.Labels}}')).toBe('map[a:b com.example.role:db]');
    expect(run('{{.Nested}}')).toBe('map[a:map[c:3 d:2] b:1]');
    expect(run('{{.}}', [1, 'a', null, [2], { b: true }])).toBe('[1 a <nil> [2] map[b:true]]');
    expect(run('{{.Empty}} {{.}}', { Empty: [] })).toBe('[] map[Empty:[]]');
  });

  it("numbers: integers without decimals, floats as Go's %v", () => {
    expect(run('{{.}}', 4242)).toBe('4242');
    expect(run('{{.}}', -7)).toBe('-7');
    // eslint-disable-next-line no-loss-of-precision -- the point: 2^53 + 1 written out is the float64 2^53, and prints as such
    expect(run('{{.}}', 9007199254740993)).toBe('9007199254740992');
    const floats: [number, string][] = [
      [0.1, '0.1'],
      [1.5, '1.5'],
      [123456.7, '123456.7'],
      [1234567.8, '1.2345678e+06'],
      [0.0001, '0.0001'],
      [0.00001234, '1.234e-05'],
      [1e21, '1e+21'],
      [-2.5, '-2.5'],
    ];
    for (const [v, text] of floats) expect(run('{{.}}', v)).toBe(text);
  });

  it('bools and structs', () => {
    expect(run('{{.State.Running}} {{.Config.Tty}}')).toBe('true false');
    expect(run('{{.}}', goStruct('*formatter.T', { A: 1, B: 'x', C: [true] }))).toBe('{1 x [true]}');
    expect(run('{{printf "%+v" .}}', goStruct('*formatter.T', { A: 1, B: 'x' }))).toBe('{A:1 B:x}');
  });

  it('json as Docker: compact, HTML not escaped, struct order kept', () => {
    expect(run('{{json .State}}')).toBe('{"Status":"running","Running":true,"Pid":4242,"ExitCode":0,"Health":null}');
    expect(run('{{json .Config.Env}} {{json .Nope}} {{json "<a&b>"}} {{json 1.5}}')).toBe('["A=1","B=2"] null "<a&b>" 1.5');
    expect(run('{{json .}}', { s: 'a\u2028b\n"\\' })).toBe('{"s":"a\\u2028b\\n\\"\\\\"}');
  });
});

describe("Docker's template functions", () => {
  it('join, split, lower, upper, title, pad, truncate', () => {
    expect(run('{{join .Config.Env ","}}|{{join .Sizes "+"}}|{{join .Config.Labels ","}}|{{join .Nope ","}}')).toBe('A=1,B=2|1+2+3|b,db|');
    expect(run('{{split "a,b,c" ","}} {{len (split "a,b" ",")}} {{index (split .Name "/") 1}} {{split "ab" ""}}')).toBe('[a b c] 2 web [a b]');
    expect(run('{{lower "ÀBC"}} {{upper "abç"}} {{title "hello wide-world_x"}}')).toBe('àbc ABÇ Hello Wide-World_x');
    expect(run('[{{pad "x" 1 2}}][{{pad "" 1 2}}]')).toBe('[ x  ][]');
    expect(run('{{truncate "abcdef" 3}} {{truncate "ab" 3}} {{truncate "abc" 3}}')).toBe('abc ab abc');
  });
});

describe('Go template errors', () => {
  it("parse errors carry Go's text and line", () => {
    expect(failure('{{.Foo')).toBe('template: :1: unclosed action');
    expect(failure('a\nb {{.Foo')).toBe('template: :2: unclosed action');
    expect(failure('{{foo}}')).toBe('template: :1: function "foo" not defined');
    expect(failure('{{.Name | nope "x"}}')).toBe('template: :1: function "nope" not defined');
    expect(failure('{{if .A}}x')).toBe('template: :1: unexpected EOF');
    expect(failure('{{end}}')).toBe('template: :1: unexpected {{end}}');
    expect(failure('{{else}}')).toBe('template: :1: unexpected {{else}}');
    expect(failure('{{if}}{{end}}')).toBe('template: :1: missing value for if');
    expect(failure('{{}}')).toBe('template: :1: missing value for command');
    expect(failure('{{$x}}')).toBe('template: :1: undefined variable "$x"');
    expect(failure('{{if true}}{{$y := 1}}{{end}}{{$y}}')).toBe('template: :1: undefined variable "$y"');
    expect(failure('{{1 | 2}}')).toBe('template: :1: non executable command in pipeline stage 2');
    expect(failure('{{"abc}}')).toBe('template: :1: unterminated quoted string');
    expect(failure('{{1x}}')).toBe('template: :1: bad number syntax: "1x"');
    expect(failure('{{break}}')).toBe('template: :1: {{break}} outside {{range}}');
    expect(failure('{{range $i, $v, $w := .}}{{end}}')).toBe('template: :1: too many declarations in range');
    expect(failure('{{with $x, $y := .}}{{end}}')).toBe('template: :1: too many declarations in with');
    expect(failure('{{/* open')).toBe('template: :1: unclosed comment');
    expect(failure('{{/* c */ }}')).toBe('template: :1: comment ends before closing delimiter');
    expect(failure('{{(.A}}')).toBe('template: :1: unclosed left paren');
    expect(failure('{{.A)}}')).toBe('template: :1: unexpected right paren');
    expect(failure('{{.A é}}')).toBe('template: :1: function "é" not defined');
    expect(failure('{{.A ;}}')).toBe('template: :1: unexpected ";" in operand');
    expect(failure('{{"x".Y}}')).toBe('template: :1: unexpected . after term "\\"x\\""');
    expect(failure('{{define "a"}}x{{end}}{{define "a"}}y{{end}}')).toBe('template: :1: template: multiple definition of template "a"');
  });

  it('execution errors carry the line, the byte column and the failing node', () => {
    expect(failure('{{.State.Pid.X}}')).toBe('template: :1:8: executing "" at <.State.Pid.X>: can\'t evaluate field X in type int');
    expect(failure('{{.State.Health.Status}}')).toBe('template: :1:8: executing "" at <.State.Health.Status>: nil pointer evaluating interface {}.Status');
    expect(failure('a\né{{.Config.Env.X}}')).toBe('template: :2:11: executing "" at <.Config.Env.X>: can\'t evaluate field X in type []interface {}');
    expect(failure('{{index .Config.Env 5}}')).toBe('template: :1:2: executing "" at <index .Config.Env 5>: error calling index: index out of range: 5');
    expect(failure('{{index .Name "x"}}')).toBe(
      'template: :1:2: executing "" at <index .Name "x">: error calling index: cannot index slice/array with type string',
    );
    expect(failure('{{len 3}}')).toBe('template: :1:2: executing "" at <len 3>: error calling len: len of type int');
    expect(failure('{{len 1 2}}')).toBe('template: :1:2: executing "" at <len>: wrong number of args for len: want 1 got 2');
    expect(failure('{{printf}}')).toBe('template: :1:2: executing "" at <printf>: wrong number of args for printf: want at least 1 got 0');
    expect(failure('{{eq 1 "a"}}')).toBe('template: :1:2: executing "" at <eq 1 "a">: error calling eq: incompatible types for comparison: int and string');
    expect(failure('{{lt true false}}')).toBe('template: :1:2: executing "" at <lt true false>: error calling lt: invalid type for comparison');
    expect(failure('{{lower 1}}')).toBe('template: :1:8: executing "" at <1>: expected string; found 1');
    expect(failure('{{lower .State.Pid}}')).toBe('template: :1:14: executing "" at <.State.Pid>: wrong type for value; expected string; got int');
    expect(failure('{{truncate "abc" "x"}}')).toBe('template: :1:17: executing "" at <"x">: expected integer; found "x"');
    expect(failure('{{join 1 ","}}')).toBe('template: :1:2: executing "" at <join 1 ",">: error calling join: expected slice, got int');
    expect(failure('{{.Name 1}}')).toBe('template: :1:2: executing "" at <.Name>: Name is not a method but has arguments');
    expect(failure('{{1 2}}')).toBe('template: :1:2: executing "" at <1>: can\'t give argument to non-function 1');
    expect(failure('{{nil}}')).toBe('template: :1:2: executing "" at <nil>: nil is not a command');
    expect(failure('{{range .Name}}{{end}}')).toBe('template: :1:8: executing "" at <.Name>: range can\'t iterate over /web');
    expect(failure('{{range $i, $v := 3}}{{end}}')).toBe('template: :1:18: executing "" at <3>: can\'t use 3 to iterate over more than one variable');
    expect(failure('{{template "x"}}')).toBe('template: :1:11: executing "" at <{{template "x"}}>: template "x" not defined');
    expect(failure('{{.Label}}', { Label: (name: string) => name })).toBe(
      'template: :1:2: executing "" at <.Label>: wrong number of args for Label: want 1 got 0',
    );
    expect(failure('{{.Nope}}', goStruct('*formatter.ContainerContext', { ID: 'x' }))).toBe(
      'template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.ContainerContext',
    );
    expect(
      failure('{{.F}}', {
        F: () => {
          throw new Error('boom');
        },
      }),
    ).toBe('template: :1:2: executing "" at <.F>: error calling F: boom');
  });

  it('keeps what was written before the failure', () => {
    try {
      run('ok {{.Name}} {{.State.Pid.X}} never');
      expect.unreachable();
    } catch (err) {
      expect((err as TemplateError).output).toBe('ok /web ');
    }
  });

  it('missingkey=error makes a missing key an error', () => {
    expect(() => run('{{.Nope}}', data, { missingKey: 'error' })).toThrow('template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope"');
    expect(run('{{.Name}}', data, { missingKey: 'error' })).toBe('/web');
  });

  it('names the line Go names in multi-line templates, and the line where an unfinished action began', () => {
    expect(failure('{{.Name\n')).toBe('template: :2: unclosed action started at :1');
    expect(failure('{{.Name\n"abc}}')).toBe('template: :2: unterminated quoted string in action started at :1');
    expect(failure('x\n{{if .A}}\n{{.B}}\n{{end')).toBe('template: :4: unclosed action');
    expect(failure('{{.A\n|\nfoo}}')).toBe('template: :3: function "foo" not defined');
    expect(failure('{{ $x\nfoo }}')).toBe('template: :2: undefined variable "$x"');
    expect(run('{{ if\n.A }}x{{ end }}')).toBe('');
  });

  it('else if / else with continue only the same kind of block', () => {
    expect(failure('{{if .A}}a{{else with .B}}b{{end}}')).toBe('template: :1: unexpected <with> in input');
    expect(failure('{{range .Sizes}}{{else if .}}{{end}}')).toBe('template: :1: unexpected <if> in input');
    expect(failure('{{else if .A}}')).toBe('template: :1: unexpected {{else}}');
  });

  it('number and character constants: overflow, octal, hex floats, underscores', () => {
    expect(failure('{{9223372036854775808}}')).toBe('template: :1:2: executing "" at <9223372036854775808>: 9223372036854775808 overflows int');
    expect(failure('{{18446744073709551616}}')).toBe('template: :1: integer overflow: "18446744073709551616"');
    expect(failure('{{08}}')).toBe('template: :1: integer overflow: "08"');
    expect(failure('{{1e}}')).toBe('template: :1: illegal number syntax: "1e"');
    expect(failure('{{1__0}}')).toBe('template: :1: illegal number syntax: "1__0"');
    expect(failure("{{'ab'}}")).toBe("template: :1: malformed character constant: 'ab'");
    expect(failure('{{"\\q"}}')).toBe('template: :1: invalid syntax');
    expect(failure('{{- -}}')).toBe('template: :1: illegal number syntax: "-"');
    expect(run('{{0x1.8p1}} {{0x_1F}}')).toBe('3 31');
  });

  it("an error inside a field chain points at the node evaluated last, as Go's does", () => {
    expect(failure('{{(.State.Pid).X}}')).toBe('template: :1:9: executing "" at <.State.Pid>: can\'t evaluate field X in type int');
    expect(failure('{{$s := .State}}{{$s.Pid.X}}')).toBe('template: :1:20: executing "" at <$s.Pid.X>: can\'t evaluate field X in type int');
    expect(failure('{{$.Name.X}}')).toBe('template: :1:3: executing "" at <$.Name.X>: can\'t evaluate field X in type string');
    expect(failure('{{len.Name}}')).toBe('template: :1:2: executing "" at <len>: wrong number of args for len: want 1 got 0');
    expect(failure('{{1 | (2)}}')).toBe('template: :1:2: executing "" at <1>: can\'t give argument to non-function 2');
    expect(failure('{{call .Name}}')).toBe('template: :1:2: executing "" at <call .Name>: error calling call: non-function .Name of type string');
  });

  it('variables: a declaration parses as visible in the else branch of its block (but is unset there), not after it; range can assign', () => {
    expect(failure('{{if .Nope}}{{$x := 1}}{{else}}{{$x}}{{end}}')).toBe('template: :1:33: executing "" at <$x>: undefined variable: $x');
    expect(failure('{{$x := $x}}')).toBe('template: :1:8: executing "" at <$x>: undefined variable: $x');
    expect(run('{{$k := ""}}{{$v := ""}}{{range $k, $v = .Config.Labels}}{{end}}{{$k}}={{$v}}')).toBe('com.example.role=db');
    expect(failure('{{range $k, $v = .Config.Labels}}{{end}}')).toBe('template: :1:24: executing "" at <.Config.Labels>: undefined variable: $k');
  });

  it('templates may be defined after they are used, and a block can be included again', () => {
    expect(run('{{template "b" 1}}{{define "b"}}{{.}}{{end}}')).toBe('1');
    expect(run('{{block "c" .Name}}[{{.}}]{{end}}{{template "c" 2}}')).toBe('[/web][2]');
    expect(run('{{define "a"}}{{.}}{{end}}{{template "a" .Name}}{{template "a"}}')).toBe('/web<no value>');
  });

  it('is parsed once and runs for each item', () => {
    const t = GoTemplate.parse('{{.N}}-');
    expect([1, 2, 3].map((N) => t.execute({ N })).join('')).toBe('1-2-3-');
  });
});
