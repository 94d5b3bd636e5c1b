/**
 * Go's text/template, for the `--format` templates Docker's users type: parsed once, executed once
 * per item. Written here because no npm package follows text/template closely enough (its
 * grammar, trim markers, Go's printing of values, argument checks and error messages), and a
 * Docker-compatible CLI and API server both need exactly those.
 *
 *   lexer.ts → parser.ts (nodes.ts) → exec.ts, with Go's builtins (funcs.ts), Go's fmt (fmt.ts),
 *   Go's JSON (json.ts), literals (strconv.ts) and how JS values stand for Go's (values.ts).
 *
 * Docker's own functions and formats (json, join, table …) are in ../docker-templates.ts.
 */
import { TemplateError } from '../../errors.js';
import { type ExecContext, ExecFailure, type MissingKey, execute } from './exec.js';
import { GO_BUILTINS, type TemplateFunc } from './funcs.js';
import type { ListNode } from './nodes.js';
import { parseTemplate } from './parser.js';

export { FuncError, type ParamType, type TemplateFunc, func } from './funcs.js';
export { GO_JSON, goStruct } from './values.js';
export { goJson, goJsonSorted } from './json.js';
export { formatValue, sprint, sprintf, sprintln } from './fmt.js';
export type { MissingKey } from './exec.js';

const BUILTIN_NAMES: ReadonlySet<string> = new Set(Object.keys(GO_BUILTINS));

export interface ExecuteOptions {
  /** Functions that replace the template's for this execution (Go's Template.Funcs after Parse). */
  funcs?: Readonly<Record<string, TemplateFunc>>;
  missingKey?: MissingKey;
}

export class GoTemplate {
  private constructor(
    readonly text: string,
    private readonly trees: ReadonlyMap<string, ListNode>,
    private readonly funcs: ReadonlyMap<string, TemplateFunc>,
  ) {}

  /**
   * Parses `text` with Go's builtins and `funcs` (which may replace a builtin). Throws a
   * TemplateError with Go's message (`template: :1: unclosed action`).
   */
  static parse(text: string, funcs: Readonly<Record<string, TemplateFunc>> = {}): GoTemplate {
    const all = new Map<string, TemplateFunc>([...Object.entries(GO_BUILTINS), ...Object.entries(funcs)]);
    const trees = parseTemplate(text, new Set(all.keys()));
    return new GoTemplate(text, trees, all);
  }

  /** Runs the template on `data`. Throws a TemplateError with Go's message and the output written before the failure. */
  execute(data: unknown, options: ExecuteOptions = {}): string {
    const funcs = options.funcs ? new Map([...this.funcs, ...Object.entries(options.funcs)]) : this.funcs;
    const builtins = new Set([...BUILTIN_NAMES].filter((n) => funcs.get(n) === GO_BUILTINS[n]));
    const ctx: ExecContext = { text: this.text, trees: this.trees, funcs, builtins, missingKey: options.missingKey ?? 'default' };
    try {
      return execute(ctx, '', data);
    } catch (err) {
      if (err instanceof ExecFailure) throw new TemplateError(err.message, { output: err.output });
      throw err;
    }
  }
}
