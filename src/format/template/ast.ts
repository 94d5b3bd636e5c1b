/**
 * The syntax tree of a parsed template, and how a node is written back as template text (what an
 * execution error shows after `at`: `executing "" at <index .Config.Labels 1>: …`).
 *
 * `pos` is where the node starts in the template text (a string index; errors show it as
 * line:byte-column). For a field chain it is where its fields start.
 */
import { quote } from './literals.js';

/** The statements of a template body, run in order. */
export type Body = Statement[];

export type Statement = TextRun | Output | Conditional | RangeBlock | Include | LoopJump;

/** Text outside actions, printed as it is. */
export interface TextRun {
  kind: 'Text';
  pos: number;
  text: string;
}
/** `{{pipeline}}`: prints the pipeline's value, unless the pipeline declares or assigns variables. */
export interface Output {
  kind: 'Output';
  pos: number;
  pipeline: Pipeline;
}
/** `{{if}}` runs `then` when its value is true; `{{with}}` also sets dot to it. `{{else if}}` chains are nested conditionals in `otherwise`. */
export interface Conditional {
  kind: 'If' | 'With';
  pos: number;
  guard: Pipeline;
  then: Body;
  otherwise: Body | undefined;
}
/** `{{range}}` over a slice, map or integer; `otherwise` runs when there is nothing to visit. */
export interface RangeBlock {
  kind: 'Range';
  pos: number;
  over: Pipeline;
  body: Body;
  otherwise: Body | undefined;
}
/** `{{template "name" pipeline}}`, and where a `{{block}}` stands. */
export interface Include {
  kind: 'Include';
  pos: number;
  name: string;
  argument: Pipeline | undefined;
}
export interface LoopJump {
  kind: 'Break' | 'Continue';
  pos: number;
}

/** Variables a pipeline declares (`$x :=`, `$i, $v :=`) or assigns (`$x =`). */
export interface Binding {
  names: string[];
  reassign: boolean;
}

/** Commands joined by `|`: each one's value is the last argument of the next. */
export interface Pipeline {
  kind: 'Pipeline';
  pos: number;
  bind: Binding | undefined;
  stages: Command[];
}
/** An operation and its arguments: `index .Config.Env 0`, `.Label "x"`, or a single operand. */
export interface Command {
  kind: 'Command';
  pos: number;
  args: Expr[];
}

export type Expr = Dot | Nil | BoolConst | NumberConst | StringConst | FuncName | Var | FieldChain | Pipeline;

export interface Dot {
  kind: 'Dot';
  pos: number;
}
export interface Nil {
  kind: 'Nil';
  pos: number;
}
export interface BoolConst {
  kind: 'Bool';
  pos: number;
  value: boolean;
}
/** A number or character constant: its text, its value, and whether that is an integer within Go's int. */
export interface NumberConst {
  kind: 'Number';
  pos: number;
  source: string;
  value: number;
  isInt: boolean;
}
export interface StringConst {
  kind: 'String';
  pos: number;
  source: string;
  value: string;
}
export interface FuncName {
  kind: 'Func';
  pos: number;
  name: string;
}
/** `$` or `$name` alone. */
export interface Var {
  kind: 'Var';
  pos: number;
  name: string;
}
/**
 * Fields looked up one after the other: on dot (`.A.B`), on a variable (`$x.A`), or on the value
 * of a function or a parenthesized pipeline (`(index . 0).A`).
 */
export interface FieldChain {
  kind: 'FieldChain';
  pos: number;
  from: 'dot' | Var | FuncName | Pipeline;
  names: string[];
}

export type Node = Statement | Pipeline | Command | Expr;

/** An argument as written inside a command: a pipeline in parentheses. */
const asArgument = (e: Expr): string => (e.kind === 'Pipeline' ? `(${sourceOf(e)})` : sourceOf(e));

const elseOf = (otherwise: Body | undefined): string => (otherwise === undefined ? '' : `{{else}}${otherwise.map(sourceOf).join('')}`);

/** The node written as template text, as Go templates print it. */
export function sourceOf(n: Node): string {
  switch (n.kind) {
    case 'Text':
      return n.text;
    case 'Output':
      return `{{${sourceOf(n.pipeline)}}}`;
    case 'If':
    case 'With':
      return `{{${n.kind.toLowerCase()} ${sourceOf(n.guard)}}}${n.then.map(sourceOf).join('')}${elseOf(n.otherwise)}{{end}}`;
    case 'Range':
      return `{{range ${sourceOf(n.over)}}}${n.body.map(sourceOf).join('')}${elseOf(n.otherwise)}{{end}}`;
    case 'Include':
      return `{{template ${quote(n.name)}${n.argument ? ` ${sourceOf(n.argument)}` : ''}}}`;
    case 'Break':
      return '{{break}}';
    case 'Continue':
      return '{{continue}}';
    case 'Pipeline': {
      const bind = n.bind ? `${n.bind.names.join(', ')} ${n.bind.reassign ? '=' : ':='} ` : '';
      return bind + n.stages.map(sourceOf).join(' | ');
    }
    case 'Command':
      return n.args.map(asArgument).join(' ');
    case 'Dot':
      return '.';
    case 'Nil':
      return 'nil';
    case 'Bool':
      return String(n.value);
    case 'Number':
    case 'String':
      return n.source;
    case 'Func':
      return n.name;
    case 'Var':
      return n.name;
    case 'FieldChain': {
      const fields = n.names.map((f) => `.${f}`).join('');
      return n.from === 'dot' ? fields : asArgument(n.from) + fields;
    }
  }
}
