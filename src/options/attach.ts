/**
 * `-a/--attach stdin|stdout|stderr` (which streams a foreground run shows or feeds) and
 * `--detach-keys` (the key sequence that leaves an attached terminal): Docker's syntax and messages.
 */
import { UsageError } from '../errors.js';
import type { AttachStreams } from '../runtime/create-options.js';

/**
 * `-a` values (case-insensitive, repeatable) → the streams. None given: stdout and stderr, with
 * stdin when `interactive` (`-i` always attaches stdin, as Docker's parse does).
 */
export function parseAttachStreams(values: readonly string[], interactive: boolean): AttachStreams {
  const streams: AttachStreams = { stdin: interactive, stdout: values.length === 0, stderr: values.length === 0 };
  for (const value of values) {
    const name = value.toLowerCase();
    if (name !== 'stdin' && name !== 'stdout' && name !== 'stderr') {
      throw new UsageError(`invalid argument "${value}" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR`);
    }
    streams[name] = true;
  }
  return streams;
}

/** Docker's default detach sequence: ctrl-p, ctrl-q. */
export const DEFAULT_DETACH_KEYS: readonly number[] = [16, 17];

/**
 * `--detach-keys`: comma-separated keys, each one character (`a`, `,` cannot be one: it separates),
 * `ctrl-@`…`ctrl-_` (`ctrl-a` is 1, `ctrl-[` is 27) or `DEL` → the bytes (moby/term's ToBytes).
 * Anything else is Docker's "Invalid detach keys (…) provided".
 */
export function parseDetachKeys(spec: string): number[] {
  const codes: number[] = [];
  for (const key of spec.split(',')) {
    const bytes = Buffer.from(key, 'utf8');
    if (bytes.length === 1) {
      codes.push(bytes[0]!);
      continue;
    }
    const ctrl = /^ctrl-(.)$/.exec(key);
    const index = ctrl ? CTRL_KEYS.indexOf(ctrl[1]!) : -1;
    if (index >= 0) codes.push(index);
    else if (key === 'DEL') codes.push(127);
    else throw new UsageError(`Invalid detach keys (${spec}) provided`);
  }
  return codes;
}

// ctrl-@ is 0, ctrl-a 1, … ctrl-z 26, then ctrl-[ ctrl-\ ctrl-] ctrl-^ ctrl-_ (27…31).
const CTRL_KEYS = '@abcdefghijklmnopqrstuvwxyz[\\]^_';
