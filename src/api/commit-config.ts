/**
 * `POST /commit`'s body: a container Config whose fields override the committed image's config.
 * hull's commit takes Docker's `--change` lines (src/build/commit.ts), so each field that is set
 * becomes its Dockerfile line, applied after the query's `changes`. Docker's CLI sends a whole
 * zero Config (`"Cmd":null`, `"User":""`, `"Tty":false`): a zero field is nothing asked; a field
 * with no Dockerfile line is refused naming it.
 */
import { UsageError } from '../errors.js';

/** Fields with no `--change` line (Docker keeps them in the image's config; hull does not). */
const REFUSED = [
  'Hostname',
  'Domainname',
  'AttachStdin',
  'AttachStdout',
  'AttachStderr',
  'Tty',
  'OpenStdin',
  'StdinOnce',
  'Healthcheck',
  'ArgsEscaped',
  'Image',
  'NetworkDisabled',
  'MacAddress',
  'StopTimeout',
  'Shell',
];

const isZero = (v: unknown): boolean =>
  v === undefined ||
  v === null ||
  v === '' ||
  v === false ||
  v === 0 ||
  (Array.isArray(v) && v.length === 0) ||
  (typeof v === 'object' && Object.keys(v).length === 0);

function strings(v: unknown, name: string): string[] {
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw new UsageError(`Config.${name}: a list of strings expected`);
  return v;
}

function object(v: unknown, name: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UsageError(`Config.${name}: a JSON object expected`);
  return v as Record<string, unknown>;
}

function word(v: unknown, name: string): string {
  if (typeof v !== 'string') throw new UsageError(`Config.${name}: a string expected`);
  if (/[\r\n]/.test(v)) throw new UsageError(`Config.${name}: a line break is not taken`);
  return v;
}

/** A Dockerfile double-quoted word whose text is taken as it is (no `$` expansion). */
const quoted = (v: string): string => `"${v.replace(/[\\"$]/g, '\\$&')}"`;

/** The `--change` lines a commit body asks for (none for no body, `null`, or a zero Config). */
export function commitChanges(body: unknown): string[] {
  if (isZero(body)) return [];
  const config = object(body, '');
  const lines: string[] = [];
  for (const [key, value] of Object.entries(config)) {
    if (isZero(value)) continue;
    if (REFUSED.includes(key)) throw new UsageError(`Config.${key}: not applied by hull's commit (it has no --change line)`);
    switch (key) {
      case 'Cmd':
      case 'Entrypoint':
        lines.push(`${key.toUpperCase()} ${JSON.stringify(strings(value, key))}`);
        break;
      case 'Env':
        for (const e of strings(value, key)) {
          const eq = e.indexOf('=');
          if (eq <= 0) throw new UsageError(`Config.Env: ${e}: NAME=value expected`);
          lines.push(`ENV ${e.slice(0, eq)}=${quoted(word(e.slice(eq + 1), 'Env'))}`);
        }
        break;
      case 'Labels':
        for (const [k, v] of Object.entries(object(value, key))) lines.push(`LABEL ${quoted(word(k, 'Labels'))}=${quoted(word(v, `Labels.${k}`))}`);
        break;
      case 'ExposedPorts':
        for (const port of Object.keys(object(value, key))) lines.push(`EXPOSE ${word(port, key)}`);
        break;
      case 'Volumes':
        lines.push(`VOLUME ${JSON.stringify(Object.keys(object(value, key)))}`);
        break;
      case 'OnBuild':
        for (const o of strings(value, key)) lines.push(`ONBUILD ${word(o, key)}`);
        break;
      case 'User':
      case 'WorkingDir':
      case 'StopSignal':
        lines.push(`${{ User: 'USER', WorkingDir: 'WORKDIR', StopSignal: 'STOPSIGNAL' }[key]} ${word(value, key)}`);
        break;
      default:
        throw new UsageError(`Config.${key}: unknown field`);
    }
  }
  return lines;
}
