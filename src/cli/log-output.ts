import type { LogEntry } from '../runtime/logs.js';

/**
 * Writes log entries to stdout and stderr in their order as they come, waiting for 'drain' while
 * a stream's buffer is full, so a slow reader holds back the reading instead of making hull
 * buffer the log. A batch's entries for one stream go out in one write. A reader that has gone
 * away (EPIPE: `hull logs | head`) ends the output quietly; the reading stops there too.
 */
export async function writeLogEntries(batches: AsyncIterable<LogEntry[]>, opts: { timestamps?: boolean } = {}): Promise<void> {
  let gone = false;
  let wake: (() => void) | undefined;
  // The listeners stay: a write's EPIPE is reported a tick later, possibly after the last write.
  const onError = () => {
    gone = true;
    wake?.();
  };
  process.stdout.on('error', onError);
  process.stderr.on('error', onError);
  const write = async (stream: LogEntry['stream'], text: string): Promise<void> => {
    const out = stream === 'stderr' ? process.stderr : process.stdout;
    if (text === '' || gone || out.write(text)) return;
    await new Promise<void>((resolve) => {
      wake = resolve;
      out.once('drain', resolve);
    });
    out.removeListener('drain', wake as () => void);
    wake = undefined;
  };
  for await (const batch of batches) {
    let stream = batch[0]?.stream ?? 'stdout';
    let text = '';
    for (const e of batch) {
      if (e.stream !== stream) {
        await write(stream, text);
        stream = e.stream;
        text = '';
      }
      text += opts.timestamps ? `${e.time} ${e.log}` : e.log;
    }
    await write(stream, text);
    if (gone) break;
  }
}
