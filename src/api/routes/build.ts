/**
 * `POST /build`: Docker's classic builder endpoint over the library's build. The body is the
 * context as a tar (plain or gzip), streamed to the library, which spools it to a temp file of
 * the store, extracts it with the layer code's safety and always removes it (src/build/index.ts);
 * it is never held in memory. The answer is Docker's JSON lines: `{"stream"}` for the classic
 * builder's lines and RUN's output, `{"aux":{"ID"}}` for the image, `{"errorDetail"}` for a
 * failure once lines have gone out (before that, an error answer, as Docker's). A client that
 * goes away aborts the build, which leaves nothing half-made.
 */
import { StringDecoder } from 'node:string_decoder';
import { Transform, type TransformCallback, Writable } from 'node:stream';
import { RunStepError, UsageError } from '../../errors.js';
import { detectCompression } from '../../layer/compression.js';
import { parseBuildQuery } from '../build-query.js';
import { failureOf } from '../status.js';
import type { Router } from '../router.js';
import type { ApiSessions } from '../sessions.js';
import { JsonLines, pullMessages } from './images.js';

/** The largest build context taken: it is spooled to the store's disk, so the bound is about disk, not memory. */
export const MAX_CONTEXT_BYTES = 4 * 1024 ** 3;

/** Passes the body through once its first bytes show a compression the library reads (none or gzip). */
class ContextGate extends Transform {
  private checked = false;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (!this.checked) {
      this.checked = true;
      const kind = detectCompression(chunk);
      if (kind !== 'none' && kind !== 'gzip') {
        callback(new UsageError(`the build context is ${kind}-compressed: hull takes a plain or gzip-compressed tar`));
        return;
      }
    }
    callback(null, chunk);
  }
}

/** The message Docker's classic builder gives a failed step (a RUN's: "The command '…' returned a non-zero code: N"). */
function buildFailure(err: unknown): { message: string; code?: number } {
  if (err instanceof RunStepError) return { message: `The command '${err.command}' returned a non-zero code: ${err.status}`, code: err.status };
  return { message: failureOf(err).message };
}

export function buildRoutes(router: Router, s: ApiSessions): void {
  const { hull } = s;

  router.add('POST', '/build', async (ex) => {
    const { request, quiet } = parseBuildQuery(ex.query);
    const line = new JsonLines(ex);
    // The builder's text as `{"stream"}` lines, whole UTF-8 characters each; dropped once the client has gone.
    const decoder = new StringDecoder('utf8');
    const output = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        const text = decoder.write(chunk);
        if (text !== '' && !ex.signal.aborted) line.write({ stream: text });
        callback();
      },
    });
    // The body's failures (too large, the client gone) fail the context the library reads.
    const body = ex.bodyStream(MAX_CONTEXT_BYTES);
    const context = new ContextGate();
    body.on('error', (err) => context.destroy(err));
    // The library's pipeline sees a failure through `errored`, even one from before it started reading.
    context.on('error', () => undefined);
    body.pipe(context);
    try {
      const result = await hull.build({
        ...request,
        context,
        ...(quiet ? {} : { output, progressStyle: 'docker' as const, onPullProgress: (e) => pullMessages(e).forEach(line.write) }),
        signal: ex.signal,
      });
      line.write({ aux: { ID: result.id } });
      if (quiet) line.write({ stream: `${result.id}\n` });
    } catch (err) {
      if (!line.started) throw err;
      const { message, code } = buildFailure(err);
      line.write({ errorDetail: { ...(code !== undefined ? { code } : {}), message }, error: message });
    }
    line.end();
  });
}
