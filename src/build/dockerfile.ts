/**
 * The Dockerfile parser: text → instructions with their line numbers, following the Dockerfile
 * reference and BuildKit's parser (moby/buildkit frontend/dockerfile/parser):
 *
 *   - parser directives (`# escape=`` ` ``, `# syntax=…`, `# check=…`) only at the very top, before
 *     any comment, blank line or instruction; unknown ones are comments;
 *   - comment lines (`#` as the first non-blank character) and blank lines are dropped, also in
 *     the middle of a continued instruction;
 *   - the escape character at the end of a line continues the instruction on the next line;
 *   - heredocs (`<<EOF`, `<<-EOF`, `<<"EOF"`) after RUN, COPY and ADD: the following lines up to the
 *     terminator are the heredoc's body, kept verbatim;
 *   - `--flag=value` options before the arguments, JSON (exec) form `["a", "b"]` or shell form.
 *
 * Variables are not expanded here (./shell-words.ts does that while building, with the state of
 * the stage). Errors are DockerfileError with the file, line and instruction.
 */

import { DockerfileError } from '../errors.js';

export interface Heredoc {
  /** The terminator word (EOF). */
  name: string;
  /** The body, lines joined with \n and a final \n (tabs stripped for `<<-`). */
  content: string;
  /** False for `<<"EOF"` / `<<'EOF'`: no variable expansion in the body. */
  expand: boolean;
  /** `<<-EOF`: leading tabs stripped. */
  chomp: boolean;
}

export interface Instruction {
  /** Upper-case keyword: RUN, COPY, … */
  keyword: string;
  /** The `--name=value` options, in order (a bare `--name` has value ''). */
  flags: { name: string; value: string }[];
  /** The arguments after the flags, as written (continuations joined). */
  args: string;
  /** The exec form, when the arguments are a JSON array of strings. */
  json?: string[];
  heredocs: Heredoc[];
  /** 1-based line where the instruction starts, and where it ends. */
  line: number;
  endLine: number;
  /** The instruction as written (continuations joined with the escape character removed). */
  original: string;
  /** ONBUILD's instruction. */
  onbuild?: Instruction;
}

export interface Dockerfile {
  file: string;
  directives: Record<string, string>;
  escape: string;
  instructions: Instruction[];
}

export const KEYWORDS = new Set([
  'ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'FROM', 'HEALTHCHECK', 'LABEL',
  'MAINTAINER', 'ONBUILD', 'RUN', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR',
]);

/** Instructions whose arguments may be JSON (exec form). */
const JSON_FORM = new Set(['RUN', 'CMD', 'ENTRYPOINT', 'SHELL', 'COPY', 'ADD', 'VOLUME', 'HEALTHCHECK']);
/** Instructions that may take heredocs (BuildKit). */
const HEREDOC_FORM = new Set(['RUN', 'COPY', 'ADD']);
/** Instructions that take `--flag` options. */
const FLAG_FORM = new Set(['FROM', 'RUN', 'COPY', 'ADD', 'HEALTHCHECK']);

const DIRECTIVE_RE = /^#[ \t]*([a-zA-Z][a-zA-Z0-9_-]*)[ \t]*=[ \t]*(.*?)[ \t]*$/;
const HEREDOC_RE = /<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g;

interface Line {
  text: string;
  no: number;
}

/** Parses a Dockerfile's text; `file` names it in errors. */
export function parseDockerfile(text: string, file = 'Dockerfile'): Dockerfile {
  const lines: Line[] = text.replace(/^\uFEFF/, '').split(/\r?\n/).map((t, i) => ({ text: t, no: i + 1 }));
  if (lines.length > 0 && (lines[lines.length - 1] as Line).text === '') lines.pop();

  // Parser directives: only before anything else.
  const directives: Record<string, string> = {};
  let i = 0;
  for (; i < lines.length; i++) {
    const m = DIRECTIVE_RE.exec((lines[i] as Line).text);
    if (!m) break;
    const name = (m[1] as string).toLowerCase();
    if (!['escape', 'syntax', 'check'].includes(name)) break; // an unknown directive is a comment
    if (name in directives) throw new DockerfileError(file, lines[i] as Line, `only one ${name} parser directive can be used`);
    directives[name] = m[2] as string;
  }
  const escape = directives.escape ?? '\\';
  if (escape !== '\\' && escape !== '`') {
    throw new DockerfileError(file, { no: 1 }, `invalid escape token '${escape}' does not match ` + '` or \\');
  }

  const instructions: Instruction[] = [];
  const isComment = (t: string) => /^[ \t]*#/.test(t);
  const isBlank = (t: string) => /^[ \t]*$/.test(t);
  const continues = (t: string) => {
    const trimmed = t.replace(/[ \t]+$/, '');
    return trimmed.endsWith(escape) && !trimmed.endsWith(escape + escape) ? trimmed.slice(0, -1) : undefined;
  };

  while (i < lines.length) {
    const first = lines[i] as Line;
    if (isComment(first.text) || isBlank(first.text)) {
      i++;
      continue;
    }
    // Join continuation lines (comments and blank lines in between are dropped).
    let joined = '';
    let endLine = first.no;
    let cur: string | undefined = first.text;
    i++;
    for (;;) {
      const cont = continues(cur);
      if (cont === undefined) {
        joined += cur;
        break;
      }
      joined += cont;
      while (i < lines.length && (isComment((lines[i] as Line).text) || isBlank((lines[i] as Line).text))) i++;
      if (i >= lines.length) break;
      cur = (lines[i] as Line).text;
      endLine = (lines[i] as Line).no;
      i++;
    }
    const instr = parseInstruction(joined.trimStart(), { file, first, escape });
    instr.endLine = endLine;
    // Heredoc bodies follow the instruction's last line.
    const target = instr.onbuild ?? instr;
    if (HEREDOC_FORM.has(target.keyword) && target.json === undefined) {
      for (const doc of findHeredocs(target.args)) {
        const body: string[] = [];
        let closed = false;
        while (i < lines.length) {
          const l = lines[i] as Line;
          i++;
          const t = doc.chomp ? l.text.replace(/^\t+/, '') : l.text;
          if (t === doc.name) {
            closed = true;
            instr.endLine = l.no;
            break;
          }
          body.push(t);
        }
        if (!closed) throw new DockerfileError(file, first, `unterminated heredoc <<${doc.name}`, first.text);
        target.heredocs.push({ ...doc, content: body.length > 0 ? `${body.join('\n')}\n` : '' });
      }
    }
    instructions.push(instr);
  }
  return { file, directives, escape, instructions };
}

function findHeredocs(args: string): Omit<Heredoc, 'content'>[] {
  const out: Omit<Heredoc, 'content'>[] = [];
  for (const m of args.matchAll(HEREDOC_RE)) {
    out.push({ name: m[3] as string, chomp: m[1] === '-', expand: m[2] === '' });
  }
  return out;
}

interface Where {
  file: string;
  first: Line;
  escape: string;
}

function parseInstruction(text: string, where: Where): Instruction {
  const m = /^(\S+)(?:[ \t]+([\s\S]*))?$/.exec(text);
  const word = m?.[1] ?? text;
  const keyword = word.toUpperCase();
  if (!KEYWORDS.has(keyword)) {
    throw new DockerfileError(where.file, where.first, `unknown instruction: ${word}`, text);
  }
  let rest = (m?.[2] ?? '').trim();
  const instr: Instruction = { keyword, flags: [], args: '', heredocs: [], line: where.first.no, endLine: where.first.no, original: text };

  if (keyword === 'ONBUILD') {
    if (rest === '') throw new DockerfileError(where.file, where.first, 'ONBUILD requires at least one argument', text);
    const inner = parseInstruction(rest, where);
    if (inner.keyword === 'ONBUILD') throw new DockerfileError(where.file, where.first, 'chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed', text);
    if (inner.keyword === 'FROM' || inner.keyword === 'MAINTAINER') {
      throw new DockerfileError(where.file, where.first, `${inner.keyword} isn't allowed as an ONBUILD trigger`, text);
    }
    instr.args = rest;
    instr.onbuild = inner;
    return instr;
  }

  if (FLAG_FORM.has(keyword)) {
    for (;;) {
      const f = /^--([A-Za-z][A-Za-z0-9-]*)(?:=((?:"[^"]*"|'[^']*'|\S)*))?(?:[ \t]+|$)/.exec(rest);
      if (!f) break;
      instr.flags.push({ name: f[1] as string, value: unquote(f[2] ?? '') });
      rest = rest.slice(f[0].length);
    }
  }
  instr.args = rest;
  if (JSON_FORM.has(keyword) && rest.startsWith('[')) {
    const parsed = parseJsonArray(rest);
    if (parsed !== undefined) instr.json = parsed;
  }
  checkArity(instr, where);
  return instr;
}

function unquote(v: string): string {
  if (v.length >= 2 && ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'")))) return v.slice(1, -1);
  return v;
}

function parseJsonArray(text: string): string[] | undefined {
  try {
    const v: unknown = JSON.parse(text);
    if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v;
  } catch {
    /* shell form */
  }
  return undefined;
}

function checkArity(instr: Instruction, where: Where): void {
  const fail = (msg: string) => {
    throw new DockerfileError(where.file, where.first, msg, instr.original);
  };
  const k = instr.keyword;
  const empty = instr.args.trim() === '' && instr.json === undefined;
  switch (k) {
    case 'CMD':
    case 'ENTRYPOINT':
      break; // an empty CMD is allowed (clears it)
    case 'SHELL':
      if (instr.json === undefined) fail('SHELL requires the arguments to be in JSON form');
      if ((instr.json ?? []).length === 0) fail('SHELL requires at least one argument');
      break;
    case 'HEALTHCHECK':
      if (empty) fail('HEALTHCHECK requires an argument');
      break;
    case 'FROM': {
      const words = instr.args.split(/\s+/).filter(Boolean);
      if (words.length !== 1 && !(words.length === 3 && (words[1] as string).toUpperCase() === 'AS')) {
        fail('FROM requires either one argument, or three: FROM <source> [AS <name>]');
      }
      break;
    }
    case 'COPY':
    case 'ADD': {
      const n = instr.json?.length ?? splitSimple(instr.args).length;
      if (n < 2 && !/<</.test(instr.args)) fail(`${k} requires at least two arguments, but only one was provided. Destination could not be determined`);
      break;
    }
    case 'STOPSIGNAL':
    case 'USER':
    case 'WORKDIR':
      if (empty) fail(`${k} requires exactly one argument`);
      break;
    case 'ENV':
    case 'LABEL':
    case 'ARG':
    case 'EXPOSE':
    case 'VOLUME':
    case 'RUN':
    case 'MAINTAINER':
      if (empty) fail(`${k} requires at least one argument`);
      break;
    default:
      break;
  }
}

/** Whitespace-separated words outside quotes (for arity checks only). */
function splitSimple(text: string): string[] {
  return text.match(/(?:"[^"]*"|'[^']*'|\S)+/g) ?? [];
}
