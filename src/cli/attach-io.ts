/**
 * The CLI's end of an attachment to a container's monitor (`attach`, `start -a`): its output to
 * hull's stdout and stderr, hull's stdin to it when attached with stdin (raw when it is a terminal),
 * the window size followed; resolves when the monitor closes the connection (the container ended).
 */
import { finished } from 'node:stream/promises';
import type { Attachment } from '../runtime/monitor-client.js';
import { resizeTerminal } from '../runtime/monitor-client.js';

export async function relayAttachment(attachment: Attachment, opts: { terminal: boolean; controlPath: string }): Promise<void> {
  attachment.stdout.pipe(process.stdout, { end: false });
  attachment.stderr.pipe(process.stderr, { end: false });
  const undo: (() => void)[] = [];
  if (attachment.stdin) {
    const input = attachment.stdin;
    if (opts.terminal && process.stdin.isTTY) {
      process.stdin.setRawMode(true);
      undo.push(() => process.stdin.setRawMode(false));
    }
    process.stdin.pipe(input);
    undo.push(() => {
      process.stdin.unpipe(input);
      process.stdin.pause();
    });
  }
  if (opts.terminal && process.stdout.isTTY) {
    const resize = () => void resizeTerminal(opts.controlPath, process.stdout.rows, process.stdout.columns);
    resize();
    process.stdout.on('resize', resize);
    undo.push(() => process.stdout.off('resize', resize));
  }
  // Listened for from the start: an 'end' emitted before a late listener would never be seen.
  const drained = Promise.all([finished(attachment.stdout), finished(attachment.stderr)]);
  await attachment.closed;
  await drained;
  for (const u of undo) u();
}
