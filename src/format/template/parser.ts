/**
 * A recursive-descent parser from the scanner's pieces to the syntax tree (ast.ts):
 *
 *   template  = { text | action | define }
 *   action    = if | with | range | template | block | break | continue | pipeline
 *   pipeline  = [ variables (":=" | "=") ] command { "|" command }
 *   command   = operand { space operand }
 *   operand   = term { .Field }
 *   term      = literal | function | . | nil | $variable | .Field | "(" pipeline ")"
 *
 * It checks what Go templates check when they are parsed: functions must exist, variables must
 * be declared in an enclosing scope, break and continue belong inside range, a template may be
 * defined once. Errors carry Go's texts and the line Go names (that of the furthest part of the
 * template the parser had looked at): `template: :1: function "foo" not defined`.
 */
import { TemplateError } from '../../errors.js';
import type { Body, Command, Expr, Include, NumberConst, Pipeline, Statement } from './ast.js';
import { sourceOf } from './ast.js';
import { quote, readChar, readNumber, readString } from './literals.js';
import { type Piece, type Token, scan } from './scanner.js';

/** A template's bodies by name: '' is the top level, the others come from define and block. */
export type Templates = Map<string, Body>;

/** How deeply parentheses may nest. */
const MAX_PARENS = 1000;

/** Parses `src`; `funcs` names the functions it may call. Throws a TemplateError with Go's message. */
export function parseTemplates(src: string, funcs: ReadonlySet<string>): Templates {
  return new Parser(src, funcs).parseAll();
}

/** `{{end}}` or `{{else}}`: closes the body being parsed. `chained` is the `if`/`with` token of `{{else if …}}`, left unread. */
type Closer = { kind: 'End' } | { kind: 'Else'; chained: Token | undefined };

const isCloser = (x: Statement | Closer): x is Closer => x.kind === 'End' || x.kind === 'Else';
const closerText = (c: Closer): string => (c.kind === 'End' ? '{{end}}' : '{{else}}');

/** Token kinds an operand may start with. */
const OPERAND_START: ReadonlySet<string> = new Set(['bool', 'char', 'complex', 'dot', 'field', 'ident', 'number', 'nil', 'string', 'var']);

/** A command that starts with one of these cannot take a piped value. */
const CONSTANT_KINDS: ReadonlySet<string> = new Set(['Bool', 'Dot', 'Nil', 'Number', 'String']);

class Parser {
  private readonly pieces: Piece[];
  private nextPiece = 0;
  /** The tokens of the action being parsed, and the next one to read. */
  private tokens: Token[] = [];
  private nextToken = 0;
  /** The furthest position the parser has looked at: parse errors name its line. */
  private furthest = 0;
  /** The line of the action being parsed, for errors that end an action begun on an earlier line. Cleared when any action is done. */
  private actionLine: number | undefined;
  /** Variables in scope, innermost last. */
  private scope: string[] = ['$'];
  private rangeDepth = 0;
  private parenDepth = 0;
  private readonly newlines: number[] = [];
  private readonly templates: Templates = new Map();

  constructor(
    private readonly src: string,
    private readonly funcs: ReadonlySet<string>,
  ) {
    this.pieces = scan(src);
    for (let i = src.indexOf('\n'); i >= 0; i = src.indexOf('\n', i + 1)) this.newlines.push(i);
  }

  parseAll(): Templates {
    const body: Body = [];
    for (let piece = this.peekPiece(); piece !== undefined; piece = this.peekPiece()) {
      if (piece.kind === 'action' && this.see(piece.tokens[0]!).kind === 'keyword' && piece.tokens[0]!.text === 'define') {
        this.takePiece();
        this.enter(piece, 1);
        this.define();
        continue;
      }
      const item = this.item();
      if (isCloser(item)) this.fail(`unexpected ${closerText(item)}`);
      body.push(item);
    }
    this.register('', body);
    return this.templates;
  }

  // ---------------------------------------------------------------- reading

  /** The 1-based line of a position. */
  private lineOf(pos: number): number {
    let lo = 0;
    let hi = this.newlines.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.newlines[mid]! < pos) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  }

  private see<T extends { pos: number }>(x: T): T {
    if (x.pos > this.furthest) this.furthest = x.pos;
    return x;
  }

  /** The next piece, undefined at the end of the template. */
  private peekPiece(): Piece | undefined {
    const piece = this.pieces[this.nextPiece];
    if (piece === undefined) this.see({ pos: this.src.length });
    return piece && this.see(piece);
  }

  private takePiece(): Piece | undefined {
    const piece = this.peekPiece();
    this.nextPiece++;
    return piece;
  }

  private enter(action: Piece & { kind: 'action' }, from: number): void {
    this.tokens = action.tokens;
    this.nextToken = from;
  }

  private peek(ahead = 0): Token {
    return this.see(this.tokens[this.nextToken + ahead]!);
  }

  private take(): Token {
    return this.see(this.tokens[this.nextToken++]!);
  }

  private isPunct(t: Token, text: string): boolean {
    return t.kind === 'punct' && t.text === text;
  }

  // ---------------------------------------------------------------- errors

  private fail(message: string): never {
    throw new TemplateError(`template: :${this.lineOf(this.furthest)}: ${message}`);
  }

  /** How a token is named in `unexpected X in Y`: keywords in angle brackets, the rest quoted (cut after 10 characters). */
  private describe(t: Token): string {
    if (t.kind === 'keyword' || t.kind === 'nil' || t.kind === 'dot') return `<${t.text}>`;
    const chars = Array.from(t.text);
    return chars.length > 10 ? `${quote(chars.slice(0, 10).join(''))}...` : quote(t.text);
  }

  /** Fails on a token that does not fit: a scan error says what is wrong there, anything else is unexpected. */
  private unexpected(t: Token, context: string): never {
    if (t.kind !== 'error') this.fail(`unexpected ${this.describe(t)} in ${context}`);
    const line = this.lineOf(t.pos);
    if (this.actionLine === undefined || this.actionLine === line) this.fail(t.text);
    this.fail(t.text.endsWith(' action') ? `${t.text} started at :${this.actionLine}` : `${t.text} in action started at :${this.actionLine}`);
  }

  private expectClose(context: string): void {
    const t = this.take();
    if (t.kind !== 'close') this.unexpected(t, context);
  }

  // ---------------------------------------------------------------- templates and bodies

  /** Adds a named body; an empty one (only white space) never replaces another, and two non-empty ones are an error. */
  private register(name: string, body: Body): void {
    const blank = (b: Body): boolean => b.every((s) => s.kind === 'Text' && s.text.trim() === '');
    const existing = this.templates.get(name);
    if (existing === undefined || blank(existing)) this.templates.set(name, body);
    else if (!blank(body)) this.fail(`template: multiple definition of template ${quote(name)}`);
  }

  /** A body up to its `{{end}}` or `{{else}}`. */
  private body(): { body: Body; closer: Closer } {
    const body: Body = [];
    for (;;) {
      if (this.peekPiece() === undefined) this.fail('unexpected EOF');
      const item = this.item();
      if (isCloser(item)) return { body, closer: item };
      body.push(item);
    }
  }

  /** A body parsed as a template of its own (define and block): its own variables, outside any range. */
  private separateBody(context: string): Body {
    const saved = { scope: this.scope, rangeDepth: this.rangeDepth };
    this.scope = ['$'];
    this.rangeDepth = 0;
    try {
      const { body, closer } = this.body();
      if (closer.kind !== 'End') this.fail(`unexpected ${closerText(closer)} in ${context}`);
      return body;
    } finally {
      Object.assign(this, saved);
    }
  }

  /** The next text, action, or a closer. */
  private item(): Statement | Closer {
    const piece = this.takePiece()!;
    if (piece.kind === 'text') return { kind: 'Text', pos: piece.pos, text: piece.text };
    if (piece.kind === 'error') this.unexpected({ kind: 'error', text: piece.message, pos: piece.pos, spaced: false }, 'input');
    this.enter(piece, 0);
    this.actionLine = this.lineOf(piece.pos);
    try {
      return this.action();
    } finally {
      this.actionLine = undefined;
    }
  }

  private action(): Statement | Closer {
    const first = this.take();
    if (first.kind === 'keyword') {
      switch (first.text) {
        case 'if':
        case 'with':
        case 'range':
          return this.control(first.text);
        case 'else': {
          const next = this.peek();
          if (next.kind === 'keyword' && (next.text === 'if' || next.text === 'with')) return { kind: 'Else', chained: next };
          this.expectClose('else');
          return { kind: 'Else', chained: undefined };
        }
        case 'end':
          this.expectClose('end');
          return { kind: 'End' };
        case 'template':
          return this.include();
        case 'block':
          return this.block();
        case 'break':
        case 'continue': {
          const close = this.take();
          if (close.kind !== 'close') this.unexpected(close, `{{${first.text}}}`);
          if (this.rangeDepth === 0) this.fail(`{{${first.text}}} outside {{range}}`);
          return { kind: first.text === 'break' ? 'Break' : 'Continue', pos: first.pos };
        }
      }
    }
    this.nextToken--;
    // Variables declared here stay in scope up to the end of the enclosing block.
    const pipeline = this.pipeline('command', 'close');
    return { kind: 'Output', pos: pipeline.pos, pipeline };
  }

  /** if, with and range: the pipeline, the body, and an else part (`{{else if …}}` nests another conditional). */
  private control(kind: 'if' | 'with' | 'range'): Statement {
    const outer = this.scope.length;
    try {
      const guard = this.pipeline(kind, 'close');
      if (kind === 'range') this.rangeDepth++;
      const { body, closer } = this.body();
      if (kind === 'range') this.rangeDepth--;
      let otherwise: Body | undefined;
      if (closer.kind === 'Else') {
        if (closer.chained !== undefined) {
          if (closer.chained.text !== kind) this.unexpected(this.take(), 'input');
          this.take();
          otherwise = [this.control(kind)];
        } else {
          const rest = this.body();
          if (rest.closer.kind !== 'End') this.fail(`expected end; found ${closerText(rest.closer)}`);
          otherwise = rest.body;
        }
      }
      if (kind === 'range') return { kind: 'Range', pos: guard.pos, over: guard, body, otherwise };
      return { kind: kind === 'if' ? 'If' : 'With', pos: guard.pos, guard, then: body, otherwise };
    } finally {
      this.scope.length = outer;
    }
  }

  /** The quoted name after template, block and define. */
  private templateName(context: string): { name: string; pos: number } {
    const t = this.take();
    if (t.kind !== 'string') this.unexpected(t, context);
    return { name: this.unquote(t.text), pos: t.pos };
  }

  private include(): Include {
    const { name, pos } = this.templateName('template clause');
    if (this.peek().kind === 'close') {
      this.take();
      return { kind: 'Include', pos, name, argument: undefined };
    }
    return { kind: 'Include', pos, name, argument: this.pipeline('template clause', 'close') };
  }

  /** `{{block "name" pipeline}}body{{end}}`: defines the template and includes it here. */
  private block(): Include {
    const { name, pos } = this.templateName('block clause');
    const argument = this.pipeline('block clause', 'close');
    this.register(name, this.separateBody('block clause'));
    return { kind: 'Include', pos, name, argument };
  }

  /** `{{define "name"}}body{{end}}`, at the top level only. */
  private define(): void {
    const { name } = this.templateName('define clause');
    this.expectClose('define clause');
    this.register(name, this.separateBody('define clause'));
  }

  // ---------------------------------------------------------------- pipelines

  /** Declared or assigned variables at the start of a pipeline: `$x :=`, `$x =`, and for range `$i, $v :=`. */
  private binding(context: string): Pipeline['bind'] {
    const names: string[] = [];
    for (;;) {
      const v = this.peek();
      if (v.kind !== 'var') break;
      const after = this.peek(1);
      if (this.isPunct(after, ':=') || this.isPunct(after, '=')) {
        this.nextToken += 2;
        names.push(v.text);
        this.scope.push(v.text);
        return { names, reassign: after.text === '=' };
      }
      if (!this.isPunct(after, ',')) break;
      this.nextToken += 2;
      names.push(v.text);
      this.scope.push(v.text);
      if (context !== 'range' || names.length >= 2) this.fail(`too many declarations in ${context}`);
      const next = this.peek();
      if (next.kind !== 'var' && next.kind !== 'close' && !this.isPunct(next, ')')) this.fail('range can only initialize variables');
    }
    return names.length > 0 ? { names, reassign: false } : undefined;
  }

  /** A pipeline up to `}}` or (inside parentheses) `)`, which it consumes. */
  private pipeline(context: string, end: 'close' | ')'): Pipeline {
    const pos = this.peek().pos;
    const bind = this.binding(context);
    const stages: Command[] = [];
    for (;;) {
      const t = this.take();
      if (end === 'close' ? t.kind === 'close' : this.isPunct(t, ')')) break;
      if (!OPERAND_START.has(t.kind) && !this.isPunct(t, '(')) this.unexpected(t, context);
      this.nextToken--;
      stages.push(this.command());
    }
    if (stages.length === 0) this.fail(`missing value for ${context}`);
    stages.forEach((stage, i) => {
      if (i > 0 && CONSTANT_KINDS.has(stage.args[0]!.kind)) this.fail(`non executable command in pipeline stage ${i + 1}`);
    });
    return { kind: 'Pipeline', pos, bind, stages };
  }

  /** Operands separated by white space, up to `|` (consumed), `)` or `}}` (left for the pipeline). */
  private command(): Command {
    const pos = this.peek().pos;
    const args: Expr[] = [];
    for (;;) {
      const operand = this.operand();
      if (operand !== undefined) args.push(operand);
      const t = this.peek();
      if (t.kind === 'close' || this.isPunct(t, ')')) break;
      if (this.isPunct(t, '|')) {
        this.take();
        break;
      }
      if (operand === undefined || !t.spaced) this.unexpected(t, 'operand');
    }
    return { kind: 'Command', pos, args };
  }

  /** A term and the fields that follow it without a space. */
  private operand(): Expr | undefined {
    const term = this.term();
    if (term === undefined || this.peek().kind !== 'field' || this.peek().spaced) return term;
    const pos = this.peek().pos;
    const names: string[] = [];
    while (this.peek().kind === 'field' && !this.peek().spaced) names.push(this.take().text.slice(1));
    switch (term.kind) {
      case 'FieldChain': // a field on dot: `.A` then `.B`
        return { ...term, pos, names: [...term.names, ...names] };
      case 'Var':
        return { kind: 'FieldChain', pos, from: term, names };
      case 'Func':
      case 'Pipeline':
        return { kind: 'FieldChain', pos, from: term, names };
      default:
        this.fail(`unexpected . after term ${quote(sourceOf(term))}`);
    }
  }

  private term(): Expr | undefined {
    const t = this.take();
    switch (t.kind) {
      case 'ident':
        if (!this.funcs.has(t.text)) this.fail(`function ${quote(t.text)} not defined`);
        return { kind: 'Func', pos: t.pos, name: t.text };
      case 'dot':
        return { kind: 'Dot', pos: t.pos };
      case 'nil':
        return { kind: 'Nil', pos: t.pos };
      case 'var':
        if (!this.scope.includes(t.text)) this.fail(`undefined variable ${quote(t.text)}`);
        return { kind: 'Var', pos: t.pos, name: t.text };
      case 'field':
        return { kind: 'FieldChain', pos: t.pos, from: 'dot', names: [t.text.slice(1)] };
      case 'bool':
        return { kind: 'Bool', pos: t.pos, value: t.text === 'true' };
      case 'char':
      case 'complex':
      case 'number':
        return this.number(t);
      case 'string':
        return { kind: 'String', pos: t.pos, source: t.text, value: this.unquote(t.text) };
      case 'punct':
        if (t.text === '(') return this.parenthesized();
    }
    this.nextToken--;
    return undefined;
  }

  private parenthesized(): Pipeline {
    if (this.parenDepth >= MAX_PARENS) this.fail('max expression depth exceeded');
    this.parenDepth++;
    try {
      return this.pipeline('parenthesized pipeline', ')');
    } finally {
      this.parenDepth--;
    }
  }

  private unquote(literal: string): string {
    const text = readString(literal);
    if (text === undefined) this.fail('invalid syntax');
    return text;
  }

  private number(t: Token): NumberConst {
    if (t.kind === 'complex' || t.text.endsWith('i')) this.fail(`complex constant ${t.text} is not supported`);
    if (t.kind === 'char') {
      const cp = readChar(t.text);
      if (cp === undefined) this.fail('invalid syntax');
      if (cp === 'malformed') this.fail(`malformed character constant: ${t.text}`);
      return { kind: 'Number', pos: t.pos, source: t.text, value: cp, isInt: true };
    }
    const n = readNumber(t.text);
    if (typeof n === 'string') this.fail(n);
    return { kind: 'Number', pos: t.pos, source: t.text, ...n };
  }
}
