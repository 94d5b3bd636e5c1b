/**
 * The executor of Go's text/template (text/template/exec.go) over JSON-shaped data (values.ts):
 * pipelines, fields and methods, variables, if/with/range (slices, maps in key order, integers)
 * with else, break and continue, templates, and Go's checks of function arguments. A failure is
 * Go's message with the position and the failing node: `template: :1:2: executing "" at <.X.Y>: …`.
 */
import { formatValue } from './fmt.js';
import type { ParamType, TemplateFunc } from './funcs.js';
import { goQuote } from './strconv.js';
import { type ArgNode, type ChainNode, type CommandNode, type FieldNode, type IdentifierNode, type ListNode, type Node, type NumberNode, type PipeNode, type RangeNode, type VariableNode, nodeString } from './nodes.js';
import { fieldsOf, goKind, goTypeName, isTrue } from './values.js';

/** What a missing map key gives: no value (`<no value>`, Go's default), or an error (`missingkey=error`). */
export type MissingKey = 'default' | 'error';

export interface ExecContext {
  text: string;
  trees: ReadonlyMap<string, ListNode>;
  funcs: ReadonlyMap<string, TemplateFunc>;
  builtins: ReadonlySet<string>;
  missingKey: MissingKey;
}

/** A failed execution: Go's message and what was written before it. */
export class ExecFailure extends Error {
  constructor(message: string, readonly output: string) {
    super(message);
  }
}

/** No value piped in: what a pipeline's first command gets as its final argument. */
const MISSING = Symbol('missing');
/** The previous command's value in a pipeline (the last argument of the next), or MISSING. */
type Final = unknown;
/** Thrown by {{break}} and {{continue}}, caught by the enclosing range. */
const BREAK = Symbol('break');
const CONTINUE = Symbol('continue');
/** Nested {{template}} calls allowed (Go allows 100000; a JavaScript stack holds fewer). */
const MAX_DEPTH = 1000;

/** Ends the execution with Go's message (execute() turns it into an ExecFailure with the output so far). */
class Abort extends Error {}

interface Variable {
  name: string;
  value: unknown;
}

export function execute(ctx: ExecContext, name: string, data: unknown): string {
  const s: State = new State(ctx, name, data);
  const root = ctx.trees.get(name);
  try {
    if (!root) s.errorf(`${goQuote(name)} is an incomplete or empty template`);
    s.walk(data, root);
  } catch (err) {
    if (err instanceof Abort) throw new ExecFailure(err.message, s.out.join(''));
    throw err;
  }
  return s.out.join('');
}

class State {
  readonly out: string[] = [];
  private node: Node | undefined;
  private vars: Variable[];
  private depth = 0;

  constructor(private readonly ctx: ExecContext, private name: string, data: unknown) {
    this.vars = [{ name: '$', value: data }];
  }

  private at(node: Node): void {
    this.node = node;
  }

  errorf(message: string): never {
    if (this.node === undefined) throw new Abort(`template: ${this.name}: ${message}`);
    const before = this.ctx.text.slice(0, this.node.pos);
    const nl = before.lastIndexOf('\n');
    const line = before.split('\n').length;
    const col = Buffer.byteLength(before.slice(nl + 1), 'utf8');
    throw new Abort(`template: :${line}:${col}: executing ${goQuote(this.name)} at <${nodeString(this.node)}>: ${message}`);
  }

  private varValue(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i]!.value;
    this.errorf(`undefined variable: ${name}`);
  }

  private setVar(name: string, value: unknown): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) {
        this.vars[i]!.value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }

  private setTopVar(n: number, value: unknown): void {
    this.vars[this.vars.length - n]!.value = value;
  }

  walk(dot: unknown, node: Node): void {
    this.at(node);
    switch (node.kind) {
      case 'action': {
        const val = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node, val);
        return;
      }
      case 'break': throw BREAK;
      case 'continue': throw CONTINUE;
      case 'comment': return;
      case 'if':
      case 'with': {
        const mark = this.vars.length;
        try {
          const val = this.evalPipeline(dot, node.pipe);
          if (isTrue(val)) this.walk(node.kind === 'with' ? val : dot, node.list);
          else if (node.elseList) this.walk(dot, node.elseList);
        } finally {
          this.vars.length = mark;
        }
        return;
      }
      case 'list':
        for (const n of node.nodes) this.walk(dot, n);
        return;
      case 'range': return this.walkRange(dot, node);
      case 'template': {
        const tree = this.ctx.trees.get(node.name);
        if (!tree) this.errorf(`template ${goQuote(node.name)} not defined`);
        if (this.depth >= MAX_DEPTH) this.errorf(`exceeded maximum template depth (${MAX_DEPTH})`);
        const newDot = this.evalPipeline(dot, node.pipe);
        const saved = { vars: this.vars, name: this.name };
        this.vars = [{ name: '$', value: newDot }];
        this.name = node.name;
        this.depth++;
        try {
          this.walk(newDot, tree);
        } finally {
          this.vars = saved.vars;
          this.name = saved.name;
          this.depth--;
        }
        return;
      }
      case 'text':
        this.out.push(node.text);
        return;
      default:
        this.errorf(`unknown node: ${nodeString(node)}`);
    }
  }

  private walkRange(dot: unknown, r: RangeNode): void {
    this.at(r);
    const outer = this.vars.length;
    try {
      const val = this.evalPipeline(dot, r.pipe);
      const mark = this.vars.length;
      const decl = r.pipe.decl;
      const one = (index: unknown, elem: unknown): void => {
        if (decl.length > 0) {
          if (r.pipe.isAssign) this.setVar(decl[0]!.ident[0]!, decl.length > 1 ? index : elem);
          else this.setTopVar(1, elem);
        }
        if (decl.length > 1) {
          if (r.pipe.isAssign) this.setVar(decl[1]!.ident[0]!, elem);
          else this.setTopVar(2, index);
        }
        try {
          this.walk(elem, r.list);
        } catch (err) {
          if (err !== CONTINUE) throw err;
        } finally {
          this.vars.length = mark;
        }
      };
      let ran = false;
      try {
        switch (goKind(val)) {
          case 'slice':
            (val as unknown[]).forEach((elem, i) => {
              ran = true;
              one(i, elem);
            });
            break;
          case 'map':
            for (const [k, elem] of fieldsOf(val as object).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
              ran = true;
              one(k, elem);
            }
            break;
          case 'int':
            if (decl.length > 1) this.errorf(`can't use ${formatValue(val)} to iterate over more than one variable`);
            for (let i = 0; i < Number(val); i++) {
              ran = true;
              one(undefined, i);
            }
            break;
          case 'invalid':
          case 'nil':
            break; // acts as an empty map
          default:
            this.errorf(`range can't iterate over ${formatValue(val)}`);
        }
      } catch (err) {
        if (err !== BREAK) throw err;
        return;
      }
      if (!ran && r.elseList) this.walk(dot, r.elseList);
    } finally {
      this.vars.length = outer;
    }
  }

  private printValue(node: Node, v: unknown): void {
    this.at(node);
    if (v === undefined) {
      this.out.push('<no value>');
      return;
    }
    if (typeof v === 'function') this.errorf(`can't print ${nodeString(node)} of type ${goTypeName(v)}`);
    this.out.push(formatValue(v));
  }

  private evalPipeline(dot: unknown, pipe: PipeNode | undefined): unknown {
    if (!pipe) return undefined;
    this.at(pipe);
    let value: Final = MISSING;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value);
    for (const v of pipe.decl) {
      if (pipe.isAssign) this.setVar(v.ident[0]!, value);
      else this.vars.push({ name: v.ident[0]!, value });
    }
    return value;
  }

  private notAFunction(args: readonly ArgNode[] | undefined, final: Final): void {
    if ((args && args.length > 1) || final !== MISSING) this.errorf(`can't give argument to non-function ${nodeString(args![0]!)}`);
  }

  private evalCommand(dot: unknown, cmd: CommandNode, final: Final): unknown {
    const args = cmd.args;
    const first = args[0]!;
    switch (first.kind) {
      case 'field': return this.evalFieldNode(dot, first, args, final);
      case 'chain': return this.evalChainNode(dot, first, args, final);
      case 'identifier': return this.evalFunction(dot, first, cmd, args, final);
      case 'pipe':
        this.notAFunction(args, final);
        return this.evalPipeline(dot, first);
      case 'variable': return this.evalVariableNode(dot, first, args, final);
    }
    this.at(first);
    this.notAFunction(args, final);
    switch (first.kind) {
      case 'bool': return first.value;
      case 'dot': return dot;
      case 'nil': this.errorf('nil is not a command');
      case 'number': return this.idealConstant(first);
      case 'string': return first.text;
    }
  }

  private idealConstant(n: NumberNode): number {
    this.at(n);
    const hexInt = /^[+-]?0[xX]/.test(n.text) && !/[pP]/.test(n.text);
    if (n.isFloat && !hexInt && !n.text.startsWith("'") && /[.eEpP]/.test(n.text)) return n.value;
    if (n.isInt) return n.value;
    this.errorf(`${n.text} overflows int`);
  }

  private evalFieldNode(dot: unknown, field: FieldNode, args: readonly ArgNode[] | undefined, final: Final): unknown {
    this.at(field);
    return this.evalFieldChain(dot, dot, field, field.ident, args, final);
  }

  private evalChainNode(dot: unknown, chain: ChainNode, args: readonly ArgNode[] | undefined, final: Final): unknown {
    this.at(chain);
    if (chain.node.kind === 'nil') this.errorf(`indirection through explicit nil in ${nodeString(chain)}`);
    const pipe = this.evalArg(dot, undefined, chain.node);
    return this.evalFieldChain(dot, pipe, chain, chain.field, args, final);
  }

  private evalVariableNode(dot: unknown, v: VariableNode, args: readonly ArgNode[] | undefined, final: Final): unknown {
    this.at(v);
    const value = this.varValue(v.ident[0]!);
    if (v.ident.length === 1) {
      this.notAFunction(args, final);
      return value;
    }
    return this.evalFieldChain(dot, value, v, v.ident.slice(1), args, final);
  }

  private evalFieldChain(dot: unknown, receiver: unknown, node: Node, ident: readonly string[], args: readonly ArgNode[] | undefined, final: Final): unknown {
    for (let i = 0; i < ident.length - 1; i++) receiver = this.evalField(dot, ident[i]!, node, undefined, MISSING, receiver);
    return this.evalField(dot, ident[ident.length - 1]!, node, args, final, receiver);
  }

  private evalFunction(dot: unknown, node: IdentifierNode, cmd: Node, args: readonly ArgNode[] | undefined, final: Final): unknown {
    this.at(node);
    const fn = this.ctx.funcs.get(node.ident);
    if (!fn) this.errorf(`${goQuote(node.ident)} is not a defined function`);
    return this.evalCall(dot, fn, this.ctx.builtins.has(node.ident), cmd, node.ident, args, final);
  }

  private evalField(dot: unknown, fieldName: string, node: Node, args: readonly ArgNode[] | undefined, final: Final, receiver: unknown): unknown {
    if (receiver === undefined) {
      if (this.ctx.missingKey === 'error') this.errorf(`nil data; no entry for key ${goQuote(fieldName)}`);
      return undefined;
    }
    if (receiver === null) this.errorf(`nil pointer evaluating interface {}.${fieldName}`);
    const kind = goKind(receiver);
    const own = (kind === 'map' || kind === 'struct') && Object.prototype.hasOwnProperty.call(receiver, fieldName);
    const value = own ? (receiver as Record<string, unknown>)[fieldName] : undefined;
    if (typeof value === 'function') {
      const method = value as (...a: unknown[]) => unknown;
      const desc: TemplateFunc = { params: Array.from({ length: method.length }, () => 'any' as const), fn: (...a: unknown[]) => method.apply(receiver, a) };
      return this.evalCall(dot, desc, false, node, fieldName, args, final);
    }
    const hasArgs = (args !== undefined && args.length > 1) || final !== MISSING;
    if (kind === 'struct' && own) {
      if (hasArgs) this.errorf(`${fieldName} has arguments but cannot be invoked as function`);
      return value;
    }
    if (kind === 'map') {
      if (hasArgs) this.errorf(`${fieldName} is not a method but has arguments`);
      if (own && value !== undefined) return value;
      if (this.ctx.missingKey === 'error') this.errorf(`map has no entry for key ${goQuote(fieldName)}`);
      return undefined;
    }
    this.errorf(`can't evaluate field ${fieldName} in type ${goTypeName(receiver)}`);
  }

  private evalCall(dot: unknown, fn: TemplateFunc, isBuiltin: boolean, node: Node, name: string, args: readonly ArgNode[] | undefined, final: Final): unknown {
    const argNodes = args ? args.slice(1) : [];
    const numIn = argNodes.length + (final !== MISSING ? 1 : 0);
    const numFixed = fn.params.length;
    if (fn.variadic !== undefined) {
      if (numIn < numFixed) this.errorf(`wrong number of args for ${name}: want at least ${numFixed} got ${argNodes.length}`);
    } else if (numIn !== numFixed) {
      this.errorf(`wrong number of args for ${name}: want ${numFixed} got ${numIn}`);
    }
    if (isBuiltin && (name === 'and' || name === 'or')) {
      let v: unknown;
      for (const a of argNodes) {
        v = this.evalArg(dot, 'value', a);
        if (isTrue(v) === (name === 'or')) return v;
      }
      return final !== MISSING ? final : v;
    }
    const argv: unknown[] = [];
    let i = 0;
    if (isBuiltin && name === 'call' && argNodes.length > 0) {
      argv.push(this.evalCallee(dot, argNodes[0]!));
      i = 1;
    }
    for (; i < numFixed && i < argNodes.length; i++) argv.push(this.evalArg(dot, fn.params[i], argNodes[i]!));
    if (fn.variadic !== undefined) for (; i < argNodes.length; i++) argv.push(this.evalArg(dot, fn.variadic, argNodes[i]!));
    if (final !== MISSING) {
      const t = fn.variadic !== undefined && numIn - 1 >= numFixed ? fn.variadic : fn.params[numIn - 1];
      argv.push(this.validateType(final, t));
    }
    if (isBuiltin && name === 'call') return this.callFunction(node, argNodes[0] ? nodeString(argNodes[0]) : 'call', argv);
    try {
      return fn.fn(...argv);
    } catch (err) {
      if (err instanceof Abort) throw err;
      this.at(node);
      this.errorf(`error calling ${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /**
   * The function `call` calls: a function-valued field is taken as it is, not run as a method
   * (Go tells a func field from a method by its type; JSON-shaped data has only the property).
   */
  private evalCallee(dot: unknown, n: ArgNode): unknown {
    let receiver: unknown;
    let ident: readonly string[];
    switch (n.kind) {
      case 'field':
        this.at(n);
        [receiver, ident] = [dot, n.ident];
        break;
      case 'variable':
        this.at(n);
        if (n.ident.length === 1) return this.varValue(n.ident[0]!);
        [receiver, ident] = [this.varValue(n.ident[0]!), n.ident.slice(1)];
        break;
      default:
        return this.evalArg(dot, 'value', n);
    }
    for (const f of ident.slice(0, -1)) receiver = this.evalField(dot, f, n, undefined, MISSING, receiver);
    const last = ident[ident.length - 1]!;
    if (typeof receiver === 'object' && receiver !== null && Object.prototype.hasOwnProperty.call(receiver, last)) {
      const v = (receiver as Record<string, unknown>)[last];
      if (typeof v === 'function') return v;
    }
    return this.evalField(dot, last, n, undefined, MISSING, receiver);
  }

  /** The `call` builtin: its first argument is the function. */
  private callFunction(node: Node, calleeName: string, argv: unknown[]): unknown {
    const [fn, ...rest] = argv;
    let message: string | undefined;
    if (fn === undefined || fn === null) message = 'call of nil';
    else if (typeof fn !== 'function') message = `non-function ${calleeName} of type ${goTypeName(fn)}`;
    else if (rest.length !== fn.length) message = `wrong number of args for ${calleeName}: got ${rest.length} want ${fn.length}`;
    else {
      try {
        return (fn as (...a: unknown[]) => unknown)(...rest);
      } catch (err) {
        message = err instanceof Error ? err.message : String(err);
      }
    }
    this.at(node);
    this.errorf(`error calling call: ${message}`);
  }

  private validateType(value: unknown, type: ParamType | undefined): unknown {
    if (type === undefined || type === 'value') return value;
    if (value === undefined) {
      if (type === 'any') return null;
      this.errorf(`invalid value; expected ${type}`);
    }
    if (type === 'any') return value;
    const kind = goKind(value);
    if ((type === 'string' && kind === 'string') || (type === 'int' && kind === 'int') || (type === 'bool' && kind === 'bool')) return type === 'int' ? Number(value) : value;
    this.errorf(`wrong type for value; expected ${type}; got ${value === null ? 'interface {}' : goTypeName(value)}`);
  }

  private evalArg(dot: unknown, type: ParamType | undefined, n: ArgNode): unknown {
    this.at(n);
    switch (n.kind) {
      case 'dot': return this.validateType(dot, type);
      case 'nil':
        if (type === undefined || type === 'value' || type === 'any') return null;
        this.errorf(`cannot assign nil to ${type}`);
      case 'field': return this.validateType(this.evalFieldNode(dot, n, [n], MISSING), type);
      case 'variable': return this.validateType(this.evalVariableNode(dot, n, undefined, MISSING), type);
      case 'pipe': return this.validateType(this.evalPipeline(dot, n), type);
      case 'identifier': return this.validateType(this.evalFunction(dot, n, n, undefined, MISSING), type);
      case 'chain': return this.validateType(this.evalChainNode(dot, n, undefined, MISSING), type);
    }
    switch (type) {
      case 'bool':
        if (n.kind === 'bool') return n.value;
        this.errorf(`expected bool; found ${nodeString(n)}`);
      case 'int':
        if (n.kind === 'number' && n.isInt) return n.value;
        this.errorf(`expected integer; found ${nodeString(n)}`);
      case 'string':
        if (n.kind === 'string') return n.text;
        this.errorf(`expected string; found ${nodeString(n)}`);
    }
    switch (n.kind) {
      case 'bool': return n.value;
      case 'number': return this.idealConstant(n);
      case 'string': return n.text;
    }
  }
}

