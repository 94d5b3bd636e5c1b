/**
 * The CLI's end of an attachment to a container's monitor (`attach`, `start -a`, `run` in the
 * foreground under a monitor): its output to hull's stdout and stderr (only the streams asked for:
 * `-a`), hull's stdin to it when attached with stdin (raw when it is a terminal), the window size
 * followed; resolves when the monitor closes the connection (the container ended) or, with a
 * terminal and stdin, when the detach keys are typed (`--detach-keys`; the container goes on).
 */
import { finished } from 'node:stream/promises';
import type { Attachment } from '../runtime/monitor-client.js';
import { resizeTerminal } from '../runtime/monitor-client.js';
import { EscapeProxy } from '../runtime/escape-proxy.js';
import { DEFAULT_DETACH_KEYS } from '../options/attach.js';

export interface RelayOptions {
  terminal: boolean;
  controlPath: string;
  /** The output streams shown (default both); the container's log keeps both either way. */
  show?: { stdout: boolean; stderr: boolean };
  /** The detach sequence (default ctrl-p ctrl-q); only looked for with a terminal and stdin, as Docker's client does. */
  detachKeys?: readonly number[];
}

/** 'ended': the container ended (or its monitor went); 'detached': the detach keys were typed. */
export type RelayEnd = 'ended' | 'detached';

export async function relayAttachment(attachment: Attachment, opts: RelayOptions): Promise<RelayEnd> {
  const show = opts.show ?? { stdout: true, stderr: true };
  if (show.stdout) attachment.stdout.pipe(process.stdout, { end: false });
  else attachment.stdout.resume();
  // With a terminal the container's stderr is its stdout (one stream), shown as stdout is.
  if (show.stderr) attachment.stderr.pipe(process.stderr, { end: false });
  else attachment.stderr.resume();
  const undo: (() => void)[] = [];
  let detach: (() => void) | undefined;
  const detached = new Promise<void>((resolve) => (detach = resolve));
  if (attachment.stdin) {
    const input = attachment.stdin;
    if (opts.terminal && process.stdin.isTTY) {
      process.stdin.setRawMode(true);
      undo.push(() => process.stdin.setRawMode(false));
    }
    if (opts.terminal) {
      const proxy = new EscapeProxy(opts.detachKeys ?? DEFAULT_DETACH_KEYS);
      const forward = (chunk: Buffer): void => {
        const passed = proxy.filter(chunk);
        if (passed.length > 0) input.write(passed);
        if (proxy.detached) detach?.();
      };
      process.stdin.on('data', forward);
      process.stdin.once('end', () => input.end());
      undo.push(() => {
        process.stdin.off('data', forward);
        process.stdin.pause();
      });
    } else {
      process.stdin.pipe(input);
      undo.push(() => {
        process.stdin.unpipe(input);
        process.stdin.pause();
      });
    }
  }
  if (opts.terminal && process.stdout.isTTY) {
    const resize = () => void resizeTerminal(opts.controlPath, process.stdout.rows, process.stdout.columns);
    resize();
    process.stdout.on('resize', resize);
    undo.push(() => process.stdout.off('resize', resize));
  }
  // Listened for from the start: an 'end' emitted before a late listener would never be seen.
  const drained = Promise.all([finished(attachment.stdout), finished(attachment.stderr)]);
  const end = await Promise.race([attachment.closed.then(() => 'ended' as const), detached.then(() => 'detached' as const)]);
  if (end === 'detached') {
    // Leaving: the connection goes (the monitor keeps the container and its terminal as they are).
    attachment.detach();
  } else {
    await drained;
  }
  for (const u of undo) u();
  return end;
}
