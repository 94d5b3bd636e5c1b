/**
 * The parse tree of a Go template (text/template/parse's node kinds), and each node's text as Go
 * writes it in execution errors (`executing "" at <index .Config.Labels 1>`). `pos` is the node's
 * offset in the template text (a string index; errors turn it into Go's line:byte column).
 */

export interface TextNode { kind: 'text'; pos: number; text: string }
export interface CommentNode { kind: 'comment'; pos: number; text: string }
export interface ActionNode { kind: 'action'; pos: number; line: number; pipe: PipeNode }
export interface BreakNode { kind: 'break'; pos: number; line: number }
export interface ContinueNode { kind: 'continue'; pos: number; line: number }
export interface ListNode { kind: 'list'; pos: number; nodes: Node[] }
export interface IfNode { kind: 'if'; pos: number; line: number; pipe: PipeNode; list: ListNode; elseList: ListNode | undefined }
export interface WithNode { kind: 'with'; pos: number; line: number; pipe: PipeNode; list: ListNode; elseList: ListNode | undefined }
export interface RangeNode { kind: 'range'; pos: number; line: number; pipe: PipeNode; list: ListNode; elseList: ListNode | undefined }
export interface TemplateNode { kind: 'template'; pos: number; line: number; name: string; pipe: PipeNode | undefined }
/** `{{end}}` and `{{else}}` exist only while parsing: they close lists. */
export interface EndNode { kind: 'end'; pos: number }
export interface ElseNode { kind: 'else'; pos: number; line: number }

export interface PipeNode { kind: 'pipe'; pos: number; line: number; isAssign: boolean; decl: VariableNode[]; cmds: CommandNode[] }
export interface CommandNode { kind: 'command'; pos: number; args: ArgNode[] }
/** `.A.B`: ident is ['A', 'B']. */
export interface FieldNode { kind: 'field'; pos: number; ident: string[] }
/** `$x.A`: ident is ['$x', 'A']. */
export interface VariableNode { kind: 'variable'; pos: number; ident: string[] }
/** `(pipeline).A.B`: fields of a term that is not a field or variable. */
export interface ChainNode { kind: 'chain'; pos: number; node: ArgNode; field: string[] }
export interface IdentifierNode { kind: 'identifier'; pos: number; ident: string }
export interface DotNode { kind: 'dot'; pos: number }
export interface NilNode { kind: 'nil'; pos: number }
export interface BoolNode { kind: 'bool'; pos: number; value: boolean }
/** A number constant: what Go's parser knows of it (isInt when it has an exact integer value). */
export interface NumberNode { kind: 'number'; pos: number; text: string; isInt: boolean; isFloat: boolean; value: number }
export interface StringNode { kind: 'string'; pos: number; quoted: string; text: string }

export type ArgNode = FieldNode | VariableNode | ChainNode | IdentifierNode | DotNode | NilNode | BoolNode | NumberNode | StringNode | PipeNode;
export type Node = TextNode | CommentNode | ActionNode | BreakNode | ContinueNode | ListNode | IfNode | WithNode | RangeNode | TemplateNode | EndNode | ElseNode
  | PipeNode | CommandNode | ArgNode;

/** The node as Go's String() writes it. */
export function nodeString(n: Node): string {
  switch (n.kind) {
    case 'text': return n.text;
    case 'comment': return `{{${n.text}}}`;
    case 'action': return `{{${nodeString(n.pipe)}}}`;
    case 'break': return '{{break}}';
    case 'continue': return '{{continue}}';
    case 'list': return n.nodes.map(nodeString).join('');
    case 'if':
    case 'with':
    case 'range':
      return `{{${n.kind} ${nodeString(n.pipe)}}}${nodeString(n.list)}${n.elseList ? `{{else}}${nodeString(n.elseList)}` : ''}{{end}}`;
    case 'template': return n.pipe ? `{{template ${JSON.stringify(n.name)} ${nodeString(n.pipe)}}}` : `{{template ${JSON.stringify(n.name)}}}`;
    case 'end': return '{{end}}';
    case 'else': return '{{else}}';
    case 'pipe': {
      const decl = n.decl.length > 0 ? `${n.decl.map(nodeString).join(', ')} ${n.isAssign ? '=' : ':='} ` : '';
      return decl + n.cmds.map(nodeString).join(' | ');
    }
    case 'command': return n.args.map((a) => (a.kind === 'pipe' ? `(${nodeString(a)})` : nodeString(a))).join(' ');
    case 'field': return n.ident.map((i) => `.${i}`).join('');
    case 'variable': return n.ident.join('.');
    case 'chain': return `${n.node.kind === 'pipe' ? `(${nodeString(n.node)})` : nodeString(n.node)}${n.field.map((f) => `.${f}`).join('')}`;
    case 'identifier': return n.ident;
    case 'dot': return '.';
    case 'nil': return 'nil';
    case 'bool': return String(n.value);
    case 'number': return n.text;
    case 'string': return n.quoted;
  }
}
