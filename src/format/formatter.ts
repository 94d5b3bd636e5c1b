/**
 * `--format` for lists and inspect, with the output and errors of Docker's CLI, on top of the
 * template engine:
 *
 * - lists (ps, images, volume ls, …): `json` is one JSON object a line (`{{json .}}`, keys sorted
 *   and HTML escaped, as `docker ps --format json` prints them); `table TEMPLATE` adds a header row
 *   made from the column names and aligns the columns (columns.ts); any other value is a template
 *   run once per row. `\t` and `\n` typed literally become tab and newline, as in Docker.
 * - inspect: `json` is the compact JSON array; any other value a template run once per item.
 *
 * Errors are Docker's: `template parsing error: template: :1: …`.
 */
import { TemplateError } from '../errors.js';
import { DOCKER_HEADER_FUNCS, parseDockerTemplate } from './docker-templates.js';
import { DOCKER_TABLE_COLUMNS, alignColumns } from './columns.js';
import { type GoTemplate, goJson, goJsonSorted, goStruct } from './template/index.js';

/** A row of a list as Docker's list templates see it: fields, and methods such as Label(name). */
export type ContextFields = Record<string, unknown>;

/**
 * A row of a list: a Go struct named `typeName` (`{{.Nope}}` is an error naming that type, as on
 * Docker's), which `{{json .}}` prints as an object of its fields with the keys sorted.
 */
export function formatterContext<T extends ContextFields>(typeName: string, fields: T): T {
  return goStruct(typeName, fields, () => goJsonSorted(fields, { escapeHTML: true }));
}

/** The template text of a --format value: `json` and `table` expanded, the spaces around it gone, `\\t` and `\\n` made tab and newline. */
export function templateText(format: string): string {
  if (format === 'table') return '';
  if (format === 'json') return '{{json .}}';
  const body = format.startsWith('table') ? format.slice('table'.length) : format;
  return body
    .replace(/^ +| +$/g, '')
    .replace(/\\t/g, '\t')
    .replace(/\\n/g, '\n');
}

/** Whether a --format value asks for Docker's default table ('table' alone, or nothing). */
export const isDefaultTable = (format: string | undefined): boolean => format === undefined || format === '' || format === 'table';

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** A --format for a list, parsed once, executed per row. */
export class ListFormat {
  private constructor(
    private readonly table: boolean,
    private readonly template: GoTemplate,
    private readonly headers: Readonly<Record<string, string>>,
  ) {}

  /**
   * `format` as Docker reads it; `headers` are the column names of the fields (what the header
   * row shows for `{{.ID}}`). Throws `template parsing error: …` for a template that does not parse.
   */
  static parse(format: string, headers: Readonly<Record<string, string>>): ListFormat {
    let template: GoTemplate;
    try {
      template = parseDockerTemplate(templateText(format));
    } catch (err) {
      throw new TemplateError(`template parsing error: ${errorText(err)}`, { cause: err });
    }
    return new ListFormat(format.startsWith('table'), template, headers);
  }

  /** One row, with its newline. Throws `template parsing error: … executing …` as Docker's. */
  private row(context: object): string {
    try {
      return `${this.template.execute(context)}\n`;
    } catch (err) {
      throw new TemplateError(`template parsing error: ${errorText(err)}`, { cause: err });
    }
  }

  /** The whole output for `contexts`: with a `table` format, the header and aligned columns. */
  render(contexts: readonly object[]): string {
    const rows = contexts.map((c) => this.row(c)).join('');
    if (!this.table) return rows;
    return alignColumns(`${this.header()}\n${rows}`, DOCKER_TABLE_COLUMNS);
  }

  /**
   * The header row: the template run on the column names, with functions that leave them as they
   * are. Docker ignores a failure here and keeps what was written before it.
   */
  private header(): string {
    const label = (name: string): string => (name.split('.').pop() ?? '').replace(/[-_]/g, ' ');
    try {
      return this.template.execute({ ...this.headers, Label: label }, { funcs: DOCKER_HEADER_FUNCS });
    } catch (err) {
      return err instanceof TemplateError ? err.output : '';
    }
  }
}

/** What `inspect --format` printed, and the items whose template failed. */
export interface InspectOutput {
  output: string;
  errors: TemplateError[];
}

/**
 * `inspect -f FORMAT` over the inspected items: 'json' prints the compact array; a template prints
 * one line per item (a failing item is an error, the others still print; with no line at all, one
 * empty line, as Docker's). Throws, with Docker's exit status 64, for a template that does not parse.
 */
export function formatInspect(format: string, items: readonly unknown[]): InspectOutput {
  if (format === 'json') return { output: `${goJson(items, { escapeHTML: true })}\n`, errors: [] };
  let template: GoTemplate;
  try {
    template = parseDockerTemplate(format);
  } catch (err) {
    throw new TemplateError(`template parsing error: ${errorText(err)}`, { exitCode: 64, cause: err });
  }
  let output = '';
  const errors: TemplateError[] = [];
  for (const item of items) {
    try {
      output += `${template.execute(item)}\n`;
    } catch (err) {
      errors.push(new TemplateError(`template parsing error: ${errorText(err)}`, { cause: err }));
    }
  }
  return { output: output === '' ? '\n' : output, errors };
}
