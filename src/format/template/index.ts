/**
 * Go templates, for the `--format` templates Docker's users type: parsed once, run once per item,
 * with the syntax, printing of values, argument checks and error messages of Go templates (no npm
 * package follows them closely enough, and a Docker-compatible CLI and API server need exactly
 * those).
 *
 *   scanner.ts → parser.ts (ast.ts) → evaluator.ts, with the builtin functions (builtins.ts), how
 *   values print (printf.ts) and encode as JSON (json.ts), literals (literals.ts), and how
 *   JavaScript values stand for Go's (values.ts).
 *
 * Docker's own functions and formats (json, join, table …) are in ../docker-templates.ts.
 */
import { TemplateError } from '../../errors.js';
import type { Body } from './ast.js';
import { BUILTINS, type TemplateFunc } from './builtins.js';
import { ExecFailure, type MissingKey, run } from './evaluator.js';
import { parseTemplates } from './parser.js';

export { FuncError, type ParamType, type TemplateFunc, func } from './builtins.js';
export { GO_JSON, goStruct } from './values.js';
export { goJson, goJsonSorted } from './json.js';
export { formatValue, sprint, sprintf, sprintln } from './printf.js';
export type { MissingKey } from './evaluator.js';

export interface ExecuteOptions {
  /** Functions that replace the template's for this run (the header row of a table uses this). */
  funcs?: Readonly<Record<string, TemplateFunc>>;
  missingKey?: MissingKey;
}

export class GoTemplate {
  private constructor(
    readonly text: string,
    private readonly templates: ReadonlyMap<string, Body>,
    private readonly funcs: ReadonlyMap<string, TemplateFunc>,
  ) {}

  /**
   * Parses `text` with the builtin functions and `funcs` (which may replace a builtin). Throws a
   * TemplateError with Go's message (`template: :1: unclosed action`).
   */
  static parse(text: string, funcs: Readonly<Record<string, TemplateFunc>> = {}): GoTemplate {
    const all = new Map<string, TemplateFunc>([...Object.entries(BUILTINS), ...Object.entries(funcs)]);
    return new GoTemplate(text, parseTemplates(text, new Set(all.keys())), all);
  }

  /** Runs the template on `data`. Throws a TemplateError with Go's message and the output written before the failure. */
  execute(data: unknown, options: ExecuteOptions = {}): string {
    const funcs = options.funcs ? new Map([...this.funcs, ...Object.entries(options.funcs)]) : this.funcs;
    try {
      return run({ source: this.text, templates: this.templates }, data, { funcs, missingKey: options.missingKey ?? 'default' });
    } catch (err) {
      if (err instanceof ExecFailure) throw new TemplateError(err.message, { output: err.output });
      throw err;
    }
  }
}
