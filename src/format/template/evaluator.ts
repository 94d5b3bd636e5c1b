/**
 * Runs a parsed template over JSON-shaped data (values.ts) with Go template semantics: fields
 * and methods, variables and their scopes, pipelines, if/with/range (slices, maps in key order,
 * integers) with else, break and continue, included templates, and the argument checks of
 * function calls. A failure names the position and the node being evaluated, as Go templates do:
 * `template: :1:2: executing "" at <.X.Y>: …`.
 */
import type { Body, Command, Expr, FieldChain, Include, Node, NumberConst, Pipeline, RangeBlock, Statement } from './ast.js';
import { sourceOf } from './ast.js';
import type { ParamType, TemplateFunc } from './builtins.js';
import { quote } from './literals.js';
import { formatValue } from './printf.js';
import { fieldsOf, goKind, goTypeName, isTrue } from './values.js';

/** What a missing map key gives: no value (`<no value>`, the default), or an error (`missingkey=error`). */
export type MissingKey = 'default' | 'error';

export interface Program {
  source: string;
  templates: ReadonlyMap<string, Body>;
}

export interface RunOptions {
  funcs: ReadonlyMap<string, TemplateFunc>;
  missingKey: MissingKey;
}

/** A failed run: the message, and what the template had written before it failed. */
export class ExecFailure extends Error {
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(message);
  }
}

/** Runs the top-level template of `program` on `data` and returns what it writes. */
export function run(program: Program, data: unknown, options: RunOptions): string {
  return new Evaluation(program, options).run(data);
}

/** The value a command receives from the previous stage of its pipeline, or this when it is the first. */
const NOTHING_PIPED = Symbol('nothing piped');
/** Thrown by {{break}} and {{continue}}, caught by the enclosing range. */
const BREAK = Symbol('break');
const CONTINUE = Symbol('continue');
/** How deeply {{template}} may nest. */
const MAX_INCLUDE_DEPTH = 1000;

/** Ends the run (the message is complete; run() adds the output so far). */
class Abort extends Error {}

interface Variable {
  name: string;
  value: unknown;
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const hasOwn = (o: object, key: string): boolean => Object.prototype.hasOwnProperty.call(o, key);

class Evaluation {
  private out = '';
  /** The node being evaluated: errors point at it. */
  private current: Node | undefined;
  /** Variables in scope, innermost last. */
  private vars: Variable[] = [];
  private templateName = '';
  private depth = 0;

  constructor(
    private readonly program: Program,
    private readonly options: RunOptions,
  ) {}

  run(data: unknown): string {
    try {
      const body = this.program.templates.get('');
      if (body === undefined) this.fail('"" is an incomplete or empty template');
      this.vars = [{ name: '$', value: data }];
      this.runBody(body, data);
      return this.out;
    } catch (err) {
      if (err instanceof Abort) throw new ExecFailure(err.message, this.out);
      throw err;
    }
  }

  // ---------------------------------------------------------------- errors and variables

  private touch(node: Node): void {
    this.current = node;
  }

  private fail(message: string): never {
    const node = this.current;
    if (node === undefined) throw new Abort(`template: ${this.templateName}: ${message}`);
    const before = this.program.source.slice(0, node.pos);
    const lineStart = before.lastIndexOf('\n') + 1;
    const line = before.split('\n').length;
    const column = Buffer.byteLength(before.slice(lineStart), 'utf8');
    throw new Abort(`template: :${line}:${column}: executing ${quote(this.templateName)} at <${sourceOf(node)}>: ${message}`);
  }

  private find(name: string): Variable {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i]!;
    this.fail(`undefined variable: ${name}`);
  }

  /** Runs `f`, then forgets the variables it declared. */
  private scoped<T>(f: () => T): T {
    const mark = this.vars.length;
    try {
      return f();
    } finally {
      this.vars.length = mark;
    }
  }

  // ---------------------------------------------------------------- statements

  private runBody(body: Body, dot: unknown): void {
    for (const statement of body) this.runStatement(statement, dot);
  }

  private runStatement(s: Statement, dot: unknown): void {
    this.touch(s);
    switch (s.kind) {
      case 'Text':
        this.out += s.text;
        return;
      case 'Output': {
        const value = this.pipeline(s.pipeline, dot);
        if (s.pipeline.bind === undefined) this.print(s, value);
        return;
      }
      case 'If':
      case 'With':
        return this.scoped(() => {
          const value = this.pipeline(s.guard, dot);
          if (isTrue(value)) this.runBody(s.then, s.kind === 'With' ? value : dot);
          else if (s.otherwise) this.runBody(s.otherwise, dot);
        });
      case 'Range':
        return this.scoped(() => this.range(s, dot));
      case 'Include':
        return this.include(s, dot);
      // {{break}} and {{continue}} unwind to the enclosing range as sentinels, not errors (range catches them).
      case 'Break':
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- a control-flow sentinel, caught by range()
        throw BREAK;
      case 'Continue':
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- a control-flow sentinel, caught by range()
        throw CONTINUE;
    }
  }

  private print(s: Statement, value: unknown): void {
    this.touch(s);
    if (value === undefined) this.out += '<no value>';
    else if (typeof value === 'function') this.fail(`can't print ${sourceOf(s)} of type ${goTypeName(value)}`);
    else this.out += formatValue(value);
  }

  /** The [key, element] pairs range visits: a slice's indexes, a map's keys in order, 0…n-1 for an integer n; none for no value or nil. */
  private *visits(r: RangeBlock, value: unknown): Generator<[unknown, unknown]> {
    switch (goKind(value)) {
      case 'slice':
        yield* (value as unknown[]).map((elem, i): [unknown, unknown] => [i, elem]);
        return;
      case 'map':
        yield* fieldsOf(value as object).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        return;
      case 'int':
        if ((r.over.bind?.names.length ?? 0) > 1) this.fail(`can't use ${formatValue(value)} to iterate over more than one variable`);
        for (let i = 0; i < Number(value); i++) yield [undefined, i];
        return;
      case 'invalid':
      case 'nil':
        return;
      default:
        this.fail(`range can't iterate over ${formatValue(value)}`);
    }
  }

  private range(r: RangeBlock, dot: unknown): void {
    const value = this.pipeline(r.over, dot);
    const bind = r.over.bind;
    const mark = this.vars.length;
    let visited = false;
    try {
      for (const [key, elem] of this.visits(r, value)) {
        visited = true;
        if (bind?.reassign) {
          this.find(bind.names[0]!).value = bind.names.length > 1 ? key : elem;
          if (bind.names.length > 1) this.find(bind.names[1]!).value = elem;
        } else if (bind) {
          // Declared loop variables are the last ones pushed: `$v`, or `$i, $v`.
          this.vars[mark - 1]!.value = elem;
          if (bind.names.length > 1) this.vars[mark - 2]!.value = key;
        }
        try {
          this.runBody(r.body, elem);
        } catch (err) {
          if (err !== CONTINUE) throw err;
        } finally {
          this.vars.length = mark;
        }
      }
    } catch (err) {
      if (err === BREAK) return;
      throw err;
    }
    if (!visited && r.otherwise) this.runBody(r.otherwise, dot);
  }

  private include(s: Include, dot: unknown): void {
    const body = this.program.templates.get(s.name);
    if (body === undefined) this.fail(`template ${quote(s.name)} not defined`);
    if (this.depth >= MAX_INCLUDE_DEPTH) this.fail(`exceeded maximum template depth (${MAX_INCLUDE_DEPTH})`);
    const arg = s.argument ? this.pipeline(s.argument, dot) : undefined;
    const saved = { vars: this.vars, templateName: this.templateName };
    this.vars = [{ name: '$', value: arg }];
    this.templateName = s.name;
    this.depth++;
    try {
      this.runBody(body, arg);
    } finally {
      Object.assign(this, saved);
      this.depth--;
    }
  }

  // ---------------------------------------------------------------- pipelines and commands

  private pipeline(p: Pipeline, dot: unknown): unknown {
    this.touch(p);
    let value: unknown = NOTHING_PIPED;
    for (const stage of p.stages) value = this.command(stage, dot, value);
    for (const name of p.bind?.names ?? []) {
      if (p.bind!.reassign) this.find(name).value = value;
      else this.vars.push({ name, value });
    }
    return value;
  }

  /** A command that is not a call (a constant, a variable, a pipeline) takes no arguments. */
  private noArguments(op: Expr, rest: readonly Expr[], piped: unknown): void {
    if (rest.length > 0 || piped !== NOTHING_PIPED) this.fail(`can't give argument to non-function ${sourceOf(op)}`);
  }

  private command(cmd: Command, dot: unknown, piped: unknown): unknown {
    const [op, ...rest] = cmd.args as [Expr, ...Expr[]];
    switch (op.kind) {
      case 'FieldChain':
        return this.fieldChain(op, dot, rest, piped);
      case 'Func':
        this.touch(op);
        return this.callNamed(op.name, cmd, dot, rest, piped);
      case 'Pipeline':
        this.noArguments(op, rest, piped);
        return this.pipeline(op, dot);
      case 'Var': {
        this.touch(op);
        const value = this.find(op.name).value;
        this.noArguments(op, rest, piped);
        return value;
      }
    }
    this.touch(op);
    this.noArguments(op, rest, piped);
    switch (op.kind) {
      case 'Bool':
        return op.value;
      case 'Dot':
        return dot;
      case 'Nil':
        return this.fail('nil is not a command');
      case 'Number':
        return this.constant(op);
      case 'String':
        return op.value;
    }
  }

  /** An untyped number constant as a value: a float literal is a float, anything else must fit an int. */
  private constant(n: NumberConst): number {
    this.touch(n);
    const isChar = n.source.startsWith("'");
    const hexInteger = /^[+-]?0[xX]/.test(n.source) && !/[pP]/.test(n.source);
    if (!isChar && !hexInteger && /[.eEpP]/.test(n.source)) return n.value;
    if (n.isInt) return n.value;
    this.fail(`${n.source} overflows int`);
  }

  // ---------------------------------------------------------------- fields and methods

  /** `.A.B`, `$x.A.B` or `(pipeline).A.B`: each field looked up on the value of the one before; the last one takes the arguments. */
  private fieldChain(chain: FieldChain, dot: unknown, rest: readonly Expr[], piped: unknown): unknown {
    this.touch(chain);
    let receiver: unknown;
    if (chain.from === 'dot') receiver = dot;
    else if (chain.from.kind === 'Var') receiver = this.find(chain.from.name).value;
    else receiver = this.argument(chain.from, dot, undefined);
    const last = chain.names.length - 1;
    chain.names.forEach((name, i) => {
      receiver = i < last ? this.member(receiver, name, chain, dot, [], NOTHING_PIPED) : this.member(receiver, name, chain, dot, rest, piped);
    });
    return receiver;
  }

  /**
   * A field of a value: a map's entry (no value when missing), a struct's field (an error when it
   * has none), or a method called with the arguments.
   */
  private member(receiver: unknown, name: string, node: Node, dot: unknown, rest: readonly Expr[], piped: unknown): unknown {
    if (receiver === undefined) {
      if (this.options.missingKey === 'error') this.fail(`nil data; no entry for key ${quote(name)}`);
      return undefined;
    }
    if (receiver === null) this.fail(`nil pointer evaluating interface {}.${name}`);
    const kind = goKind(receiver);
    const own = (kind === 'map' || kind === 'struct') && hasOwn(receiver, name);
    const value = own ? (receiver as Record<string, unknown>)[name] : undefined;
    if (typeof value === 'function') {
      const method = value as (...args: unknown[]) => unknown;
      const asFunc: TemplateFunc = { params: Array.from({ length: method.length }, () => 'any' as const), fn: (...args) => method.apply(receiver, args) };
      return this.call(asFunc, name, node, dot, rest, piped);
    }
    const withArguments = rest.length > 0 || piped !== NOTHING_PIPED;
    if (kind === 'struct' && own) {
      if (withArguments) this.fail(`${name} has arguments but cannot be invoked as function`);
      return value;
    }
    if (kind !== 'map') this.fail(`can't evaluate field ${name} in type ${goTypeName(receiver)}`);
    if (withArguments) this.fail(`${name} is not a method but has arguments`);
    if (value !== undefined) return value;
    if (this.options.missingKey === 'error') this.fail(`map has no entry for key ${quote(name)}`);
    return undefined;
  }

  // ---------------------------------------------------------------- calls

  /** A call of the function `name`; `node` is what its failure points at. */
  private callNamed(name: string, node: Node, dot: unknown, rest: readonly Expr[], piped: unknown): unknown {
    const fn = this.options.funcs.get(name);
    if (fn === undefined) this.fail(`${quote(name)} is not a defined function`);
    return this.call(fn, name, node, dot, rest, piped);
  }

  /** Calls a function or method with the arguments written after it and the value piped in last, checked against its parameters. */
  private call(fn: TemplateFunc, name: string, node: Node, dot: unknown, rest: readonly Expr[], piped: unknown): unknown {
    const count = rest.length + (piped === NOTHING_PIPED ? 0 : 1);
    const fixed = fn.params.length;
    if (fn.variadic !== undefined && count < fixed) this.fail(`wrong number of args for ${name}: want at least ${fixed} got ${rest.length}`);
    if (fn.variadic === undefined && count !== fixed) this.fail(`wrong number of args for ${name}: want ${fixed} got ${count}`);
    const typeOf = (i: number): ParamType | undefined => (i < fixed ? fn.params[i] : fn.variadic);
    if (fn.special === 'and' || fn.special === 'or') {
      // The first operand that decides the result is the result; the others are not evaluated.
      let value: unknown;
      for (const arg of rest) {
        value = this.argument(arg, dot, 'value');
        if (isTrue(value) === (fn.special === 'or')) return value;
      }
      return piped === NOTHING_PIPED ? value : piped;
    }
    const values = rest.map((arg, i) => (i === 0 && fn.special === 'call' ? this.callee(arg, dot) : this.argument(arg, dot, typeOf(i))));
    if (piped !== NOTHING_PIPED) values.push(this.conform(piped, typeOf(count - 1)));
    if (fn.special === 'call') return this.callValue(node, rest[0] ? sourceOf(rest[0]) : 'call', values);
    try {
      return fn.fn(...values);
    } catch (err) {
      if (err instanceof Abort) throw err;
      this.touch(node);
      this.fail(`error calling ${name}: ${messageOf(err)}`);
    }
  }

  /**
   * The function `call` calls. A field or variable holding a function gives the function itself
   * (elsewhere a function-valued field is a method, and is called).
   */
  private callee(arg: Expr, dot: unknown): unknown {
    if (arg.kind === 'Var') {
      this.touch(arg);
      return this.find(arg.name).value;
    }
    if (arg.kind !== 'FieldChain' || (arg.from !== 'dot' && arg.from.kind !== 'Var')) return this.argument(arg, dot, 'value');
    this.touch(arg);
    let receiver = arg.from === 'dot' ? dot : this.find(arg.from.name).value;
    const names = arg.names;
    for (const name of names.slice(0, -1)) receiver = this.member(receiver, name, arg, dot, [], NOTHING_PIPED);
    const last = names[names.length - 1]!;
    if (typeof receiver === 'object' && receiver !== null && hasOwn(receiver, last)) {
      const value = (receiver as Record<string, unknown>)[last];
      if (typeof value === 'function') return value;
    }
    return this.member(receiver, last, arg, dot, [], NOTHING_PIPED);
  }

  private callValue(node: Node, calleeText: string, values: unknown[]): unknown {
    const [target, ...args] = values;
    let problem: string;
    if (target === undefined || target === null) problem = 'call of nil';
    else if (typeof target !== 'function') problem = `non-function ${calleeText} of type ${goTypeName(target)}`;
    else if (args.length !== target.length) problem = `wrong number of args for ${calleeText}: got ${args.length} want ${target.length}`;
    else {
      try {
        return (target as (...a: unknown[]) => unknown)(...args);
      } catch (err) {
        problem = messageOf(err);
      }
    }
    this.touch(node);
    this.fail(`error calling call: ${problem}`);
  }

  // ---------------------------------------------------------------- arguments

  /** A value passed for a parameter of type `type`: no value becomes nil for 'any'; string, int and bool must be that kind. */
  private conform(value: unknown, type: ParamType | undefined): unknown {
    if (type === undefined || type === 'value') return value;
    if (value === undefined) {
      if (type === 'any') return null;
      this.fail(`invalid value; expected ${type}`);
    }
    if (type === 'any') return value;
    if (goKind(value) === type) return type === 'int' ? Number(value) : value;
    this.fail(`wrong type for value; expected ${type}; got ${value === null ? 'interface {}' : goTypeName(value)}`);
  }

  /** An argument's value for a parameter of `type` (undefined: no parameter type, as for a receiver). A constant must be of the parameter's kind. */
  private argument(arg: Expr, dot: unknown, type: ParamType | undefined): unknown {
    this.touch(arg);
    switch (arg.kind) {
      case 'Dot':
        return this.conform(dot, type);
      case 'Nil':
        if (type === 'string' || type === 'int' || type === 'bool') this.fail(`cannot assign nil to ${type}`);
        return null;
      case 'FieldChain':
        return this.conform(this.fieldChain(arg, dot, [], NOTHING_PIPED), type);
      case 'Var':
        return this.conform(this.find(arg.name).value, type);
      case 'Pipeline':
        return this.conform(this.pipeline(arg, dot), type);
      case 'Func':
        return this.conform(this.callNamed(arg.name, arg, dot, [], NOTHING_PIPED), type);
    }
    const literal = { bool: ['Bool', 'bool'], int: ['Number', 'integer'], string: ['String', 'string'] } as const;
    if (type === 'bool' || type === 'int' || type === 'string') {
      const [kind, word] = literal[type];
      if (arg.kind !== kind || (arg.kind === 'Number' && !arg.isInt)) this.fail(`expected ${word}; found ${sourceOf(arg)}`);
    }
    return arg.kind === 'Number' && type !== 'int' ? this.constant(arg) : arg.value;
  }
}
