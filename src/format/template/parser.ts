/**
 * The parser of Go's text/template (text/template/parse/parse.go): actions, pipelines with `|`,
 * declarations (`$x :=`, `$x =`, `range $i, $v :=`), if/else if/with/else with/range/else/end,
 * break/continue inside range, define/template/block, parenthesized pipelines and chained fields.
 * Unknown functions and undefined variables are parse errors, as in Go; every error is Go's text
 * (`template: :1: function "foo" not defined`).
 */
import { TemplateError } from '../../errors.js';
import { type Item, type ItemType, goQuote, itemString, lex } from './lexer.js';
import type { ArgNode, CommandNode, ElseNode, EndNode, ListNode, Node, NumberNode, PipeNode, TemplateNode, VariableNode } from './nodes.js';
import { nodeString } from './nodes.js';
import { parseGoNumber, unquoteChar, unquoteString } from './strconv.js';

/** The parsed templates of one text: '' is the top level, the rest come from define and block. */
export type TreeSet = Map<string, ListNode>;

const MAX_PAREN_DEPTH = 1000;

/** Parses `text`; `funcs` names every function it may call. Throws TemplateError with Go's message. */
export function parseTemplate(text: string, funcs: ReadonlySet<string>): TreeSet {
  const trees: TreeSet = new Map();
  new Parser(lex(text), funcs, trees).parse();
  return trees;
}

class Parser {
  private idx = 0;
  /** Index of the furthest item read: Go reports parse errors at that item's line. */
  private furthest = 0;
  private vars: string[] = ['$'];
  private actionLine = 0;
  private rangeDepth = 0;
  private parenDepth = 0;

  constructor(private readonly items: readonly Item[], private readonly funcs: ReadonlySet<string>, private readonly trees: TreeSet) {}

  private item(i: number): Item {
    const it = this.items[Math.min(i, this.items.length - 1)]!;
    if (i > this.furthest) this.furthest = Math.min(i, this.items.length - 1);
    return it;
  }

  private next(): Item {
    return this.item(this.idx++);
  }

  private backup(): void {
    this.idx--;
  }

  private peek(): Item {
    return this.item(this.idx);
  }

  private nextNonSpace(): Item {
    let t: Item;
    do t = this.next(); while (t.type === 'space');
    return t;
  }

  private peekNonSpace(): Item {
    const t = this.nextNonSpace();
    this.backup();
    return t;
  }

  private errorf(message: string): never {
    throw new TemplateError(`template: :${this.items[this.furthest]!.line}: ${message}`);
  }

  private expect(type: ItemType, context: string): Item {
    const t = this.nextNonSpace();
    if (t.type !== type) this.unexpected(t, context);
    return t;
  }

  private unexpected(t: Item, context: string): never {
    if (t.type === 'error') {
      let extra = '';
      if (this.actionLine !== 0 && this.actionLine !== t.line) {
        extra = ` in action started at :${this.actionLine}`;
        if (t.val.endsWith(' action')) extra = extra.slice(' in action'.length);
      }
      this.errorf(`${t.val}${extra}`);
    }
    this.errorf(`unexpected ${itemString(t)} in ${context}`);
  }

  parse(): void {
    const root: ListNode = { kind: 'list', pos: this.peek().pos, nodes: [] };
    while (this.peek().type !== 'eof') {
      if (this.peek().type === 'leftDelim') {
        const at = this.idx;
        this.next();
        if (this.nextNonSpace().type === 'define') {
          this.parseDefinition();
          continue;
        }
        this.idx = at;
      }
      const n = this.textOrAction();
      if (n.kind === 'end' || n.kind === 'else') this.errorf(`unexpected ${nodeString(n)}`);
      root.nodes.push(n);
    }
    this.add('', root);
  }

  private add(name: string, list: ListNode): void {
    const existing = this.trees.get(name);
    if (existing === undefined || isEmptyTree(existing)) this.trees.set(name, list);
    else if (!isEmptyTree(list)) this.errorf(`template: multiple definition of template ${goQuote(name)}`);
  }

  /** A sub-template (define's or block's body): its own variables, sharing the token stream. */
  private subTree(parse: () => ListNode): ListNode {
    const saved = { vars: this.vars, rangeDepth: this.rangeDepth };
    this.vars = ['$'];
    this.rangeDepth = 0;
    try {
      return parse();
    } finally {
      this.vars = saved.vars;
      this.rangeDepth = saved.rangeDepth;
    }
  }

  private parseDefinition(): void {
    const context = 'define clause';
    const t = this.nextNonSpace();
    if (t.type !== 'string' && t.type !== 'rawString') this.unexpected(t, context);
    const name = this.unquote(t.val);
    this.expect('rightDelim', context);
    const body = this.subTree(() => {
      const { list, end } = this.itemList();
      if (end.kind !== 'end') this.errorf(`unexpected ${nodeString(end)} in ${context}`);
      return list;
    });
    this.add(name, body);
  }

  private itemList(): { list: ListNode; end: EndNode | ElseNode } {
    const list: ListNode = { kind: 'list', pos: this.peekNonSpace().pos, nodes: [] };
    while (this.peekNonSpace().type !== 'eof') {
      const n = this.textOrAction();
      if (n.kind === 'end' || n.kind === 'else') return { list, end: n };
      list.nodes.push(n);
    }
    this.errorf('unexpected EOF');
  }

  private textOrAction(): Node {
    const t = this.nextNonSpace();
    if (t.type === 'text') return { kind: 'text', pos: t.pos, text: t.val };
    if (t.type === 'leftDelim') {
      this.actionLine = t.line;
      try {
        return this.action();
      } finally {
        this.actionLine = 0;
      }
    }
    this.unexpected(t, 'input');
  }

  private action(): Node {
    const t = this.nextNonSpace();
    switch (t.type) {
      case 'block': return this.blockControl();
      case 'break':
      case 'continue': {
        const close = this.nextNonSpace();
        if (close.type !== 'rightDelim') this.unexpected(close, `{{${t.type}}}`);
        if (this.rangeDepth === 0) this.errorf(`{{${t.type}}} outside {{range}}`);
        return { kind: t.type, pos: t.pos, line: t.line };
      }
      case 'else': return this.elseControl();
      case 'end': return { kind: 'end', pos: this.expect('rightDelim', 'end').pos };
      case 'if':
      case 'range':
      case 'with':
        return this.control(t.type);
      case 'template': return this.templateControl();
    }
    this.backup();
    const first = this.peek();
    // Variables declared here are not popped: they live until the enclosing {{end}}.
    return { kind: 'action', pos: first.pos, line: first.line, pipe: this.pipeline('command', 'rightDelim') };
  }

  private elseControl(): ElseNode {
    const p = this.peekNonSpace();
    // "{{else if …" and "{{else with …" are "{{else}}{{if …": leave the keyword for control().
    if (p.type === 'if' || p.type === 'with') return { kind: 'else', pos: p.pos, line: p.line };
    const t = this.expect('rightDelim', 'else');
    return { kind: 'else', pos: t.pos, line: t.line };
  }

  private control(context: 'if' | 'range' | 'with'): Node {
    const mark = this.vars.length;
    try {
      const pipe = this.pipeline(context, 'rightDelim');
      if (context === 'range') this.rangeDepth++;
      const { list, end } = this.itemList();
      if (context === 'range') this.rangeDepth--;
      let elseList: ListNode | undefined;
      if (end.kind === 'else') {
        if ((context === 'if' || context === 'with') && this.peek().type === context) {
          this.next();
          elseList = { kind: 'list', pos: end.pos, nodes: [this.control(context)] };
        } else {
          const rest = this.itemList();
          if (rest.end.kind !== 'end') this.errorf(`expected end; found ${nodeString(rest.end)}`);
          elseList = rest.list;
        }
      }
      return { kind: context, pos: pipe.pos, line: pipe.line, pipe, list, elseList };
    } finally {
      this.vars.length = mark;
    }
  }

  private templateName(t: Item, context: string): string {
    if (t.type !== 'string' && t.type !== 'rawString') this.unexpected(t, context);
    return this.unquote(t.val);
  }

  private templateControl(): TemplateNode {
    const context = 'template clause';
    const t = this.nextNonSpace();
    const name = this.templateName(t, context);
    let pipe: PipeNode | undefined;
    if (this.nextNonSpace().type !== 'rightDelim') {
      this.backup();
      pipe = this.pipeline(context, 'rightDelim');
    }
    return { kind: 'template', pos: t.pos, line: t.line, name, pipe };
  }

  private blockControl(): TemplateNode {
    const context = 'block clause';
    const t = this.nextNonSpace();
    const name = this.templateName(t, context);
    const pipe = this.pipeline(context, 'rightDelim');
    const body = this.subTree(() => {
      const { list, end } = this.itemList();
      if (end.kind !== 'end') this.errorf(`unexpected ${nodeString(end)} in ${context}`);
      return list;
    });
    this.add(name, body);
    return { kind: 'template', pos: t.pos, line: t.line, name, pipe };
  }

  private pipeline(context: string, end: ItemType): PipeNode {
    const first = this.peekNonSpace();
    const pipe: PipeNode = { kind: 'pipe', pos: first.pos, line: first.line, isAssign: false, decl: [], cmds: [] };
    for (let more = true; more;) {
      more = false;
      const v = this.peekNonSpace();
      if (v.type !== 'variable') break;
      const at = this.idx;
      this.next();
      const after = this.peekNonSpace();
      if (after.type === 'assign' || after.type === 'declare') {
        pipe.isAssign = after.type === 'assign';
        this.nextNonSpace();
        pipe.decl.push(this.variable(v.pos, v.val));
        this.vars.push(v.val);
      } else if (after.type === 'char' && after.val === ',') {
        this.nextNonSpace();
        pipe.decl.push(this.variable(v.pos, v.val));
        this.vars.push(v.val);
        if (context === 'range' && pipe.decl.length < 2) {
          const t = this.peekNonSpace().type;
          if (t !== 'variable' && t !== 'rightDelim' && t !== 'rightParen') this.errorf('range can only initialize variables');
          more = true; // the second variable of a range
          continue;
        }
        this.errorf(`too many declarations in ${context}`);
      } else {
        this.idx = at; // "$x foo" or "$x}}": the variable is an argument, not a declaration
      }
    }
    for (;;) {
      const t = this.nextNonSpace();
      if (t.type === end) {
        this.checkPipeline(pipe, context);
        return pipe;
      }
      switch (t.type) {
        case 'bool': case 'charConstant': case 'complex': case 'dot': case 'field': case 'identifier':
        case 'number': case 'nil': case 'rawString': case 'string': case 'variable': case 'leftParen':
          this.backup();
          pipe.cmds.push(this.command());
          break;
        default:
          this.unexpected(t, context);
      }
    }
  }

  private checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`);
    pipe.cmds.slice(1).forEach((c, i) => {
      const k = c.args[0]!.kind;
      if (k === 'bool' || k === 'dot' || k === 'nil' || k === 'number' || k === 'string') this.errorf(`non executable command in pipeline stage ${i + 2}`);
    });
  }

  private command(): CommandNode {
    const cmd: CommandNode = { kind: 'command', pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand) cmd.args.push(operand);
      const t = this.next();
      if (t.type === 'space') continue;
      if (t.type === 'rightDelim' || t.type === 'rightParen') this.backup();
      else if (t.type !== 'pipe') this.unexpected(t, 'operand');
      break;
    }
    if (cmd.args.length === 0) this.errorf('empty command');
    return cmd;
  }

  private operand(): ArgNode | undefined {
    const node = this.term();
    if (!node || this.peek().type !== 'field') return node;
    const pos = this.peek().pos;
    const fields: string[] = [];
    while (this.peek().type === 'field') fields.push(this.next().val.slice(1));
    switch (node.kind) {
      case 'field': return { kind: 'field', pos, ident: [...node.ident, ...fields] };
      case 'variable': return { kind: 'variable', pos, ident: [...node.ident, ...fields] };
      case 'bool': case 'string': case 'number': case 'nil': case 'dot':
        this.errorf(`unexpected . after term ${goQuote(nodeString(node))}`);
      default:
        return { kind: 'chain', pos, node, field: fields };
    }
  }

  private term(): ArgNode | undefined {
    const t = this.nextNonSpace();
    switch (t.type) {
      case 'identifier':
        if (!this.funcs.has(t.val)) this.errorf(`function ${goQuote(t.val)} not defined`);
        return { kind: 'identifier', pos: t.pos, ident: t.val };
      case 'dot': return { kind: 'dot', pos: t.pos };
      case 'nil': return { kind: 'nil', pos: t.pos };
      case 'variable': {
        const v = this.variable(t.pos, t.val);
        if (!this.vars.includes(v.ident[0]!)) this.errorf(`undefined variable ${goQuote(v.ident[0]!)}`);
        return v;
      }
      case 'field': return { kind: 'field', pos: t.pos, ident: [t.val.slice(1)] };
      case 'bool': return { kind: 'bool', pos: t.pos, value: t.val === 'true' };
      case 'charConstant': case 'complex': case 'number': return this.number(t);
      case 'leftParen': {
        if (this.parenDepth >= MAX_PAREN_DEPTH) this.errorf('max expression depth exceeded');
        this.parenDepth++;
        try {
          return this.pipeline('parenthesized pipeline', 'rightParen');
        } finally {
          this.parenDepth--;
        }
      }
      case 'string': case 'rawString':
        return { kind: 'string', pos: t.pos, quoted: t.val, text: this.unquote(t.val) };
    }
    this.backup();
    return undefined;
  }

  private variable(pos: number, name: string): VariableNode {
    return { kind: 'variable', pos, ident: name.split('.') };
  }

  private unquote(quoted: string): string {
    const s = unquoteString(quoted);
    if (s === undefined) this.errorf('invalid syntax');
    return s;
  }

  private number(t: Item): NumberNode {
    if (t.type === 'complex' || t.val.endsWith('i')) this.errorf(`complex constant ${t.val} is not supported`);
    if (t.type === 'charConstant') {
      const r = unquoteChar(t.val);
      if (r === undefined) this.errorf('invalid syntax');
      if (r === 'malformed') this.errorf(`malformed character constant: ${t.val}`);
      return { kind: 'number', pos: t.pos, text: t.val, isInt: true, isFloat: true, value: r };
    }
    const n = parseGoNumber(t.val);
    if (typeof n === 'string') this.errorf(n);
    return { kind: 'number', pos: t.pos, text: t.val, ...n };
  }
}

function isEmptyTree(n: Node): boolean {
  switch (n.kind) {
    case 'list': return n.nodes.every(isEmptyTree);
    case 'comment': return true;
    case 'text': return n.text.trim() === '';
    default: return false;
  }
}
