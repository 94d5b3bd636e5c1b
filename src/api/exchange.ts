/**
 * One request and its answer, whichever way it came: a plain HTTP request (node:http's req/res),
 * or an upgrade (`Connection: Upgrade`, `Upgrade: tcp`: Docker's hijacked attach and exec start),
 * where the socket is ours and the answer is written on it by hand. Routes see only this.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Duplex, PassThrough, type Readable, Transform, type Writable } from 'node:stream';
import { RequestTooLargeError, UsageError } from '../errors.js';
import { API_VERSION } from '../present/system-info.js';
import { HULL_VERSION } from '../version.js';

/** The largest request body taken (a container's create is a few KiB; a build context never comes as JSON). */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** The headers on every answer, as Docker's daemon sends them. */
export const COMMON_HEADERS: Readonly<Record<string, string>> = {
  'Api-Version': API_VERSION,
  'Docker-Experimental': 'false',
  Ostype: 'linux',
  Server: `hull/${HULL_VERSION} (linux)`,
};

const REASONS: Readonly<Record<number, string>> = {
  101: 'UPGRADED',
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  304: 'Not Modified',
  400: 'Bad Request',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  500: 'Internal Server Error',
};

export interface Exchange {
  readonly method: string;
  /** The request's path (with its `/v1.NN` prefix, when it has one). */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  /** The route's `{name}` parts. */
  params: Record<string, string>;
  /** Aborted when the client goes away. */
  readonly signal: AbortSignal;
  /** Whether the status line has gone out (an error then can only end the answer). */
  readonly started: boolean;
  /** The JSON body (undefined when there is none), its content type and size checked. */
  json(): Promise<unknown>;
  /** The raw body as a stream (a build context, an image archive), never buffered; more than `limit` bytes fail it with RequestTooLargeError. */
  bodyStream(limit: number): Readable;
  /** A whole answer: JSON when `body` is given, else empty. */
  reply(status: number, body?: unknown): void;
  /** A streamed answer whose headers go out at once (wait, logs): write to it, end it. */
  stream(status: number, contentType: string, headers?: Record<string, string>): Writable;
  /** The connection, taken over: 101 on an upgrade, else 200 and the raw stream as the body (and the request body as input). */
  hijack(): Duplex;
}

/** Docker's boolean query values: absent, '', 0, no, false and none are false. */
export function queryBool(query: URLSearchParams, name: string): boolean {
  const v = query.get(name);
  return v !== null && !['', '0', 'no', 'false', 'none'].includes(v.toLowerCase());
}

/** Docker's CheckForJSON: no content type, or application/json (parameters allowed). */
function checkJsonType(headers: IncomingHttpHeaders): void {
  const type = headers['content-type'];
  if (type === undefined || type === '') return;
  const mime = type.split(';')[0]!.trim().toLowerCase();
  if (mime !== 'application/json') throw new UsageError(`Content-Type specified (${type}) must be 'application/json'`);
}

function parseJson(body: Buffer, headers: IncomingHttpHeaders): unknown {
  if (body.length === 0) return undefined;
  checkJsonType(headers);
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (err) {
    throw new UsageError(`invalid JSON in the request body: ${(err as Error).message}`);
  }
}

function declaredLength(headers: IncomingHttpHeaders): number | undefined {
  const text = headers['content-length'];
  return text === undefined ? undefined : Number(text);
}

/** What both kinds of exchange take from the request: its method, headers and route, and a signal that fires when the client goes. */
abstract class RequestExchange {
  params: Record<string, string> = {};
  protected readonly aborter = new AbortController();

  constructor(
    protected readonly req: IncomingMessage,
    readonly path: string,
    readonly query: URLSearchParams,
  ) {}

  get method(): string {
    return this.req.method ?? 'GET';
  }
  get headers(): IncomingHttpHeaders {
    return this.req.headers;
  }
  get signal(): AbortSignal {
    return this.aborter.signal;
  }
}

/** A plain request: node:http parsed it and answers through `res`. */
export class HttpExchange extends RequestExchange implements Exchange {
  constructor(
    req: IncomingMessage,
    private readonly res: ServerResponse,
    path: string,
    query: URLSearchParams,
  ) {
    super(req, path, query);
    res.once('close', () => this.aborter.abort());
  }

  get started(): boolean {
    return this.res.headersSent;
  }

  async json(): Promise<unknown> {
    const declared = declaredLength(this.req.headers);
    if (declared !== undefined && declared > MAX_BODY_BYTES) throw this.tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of this.req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY_BYTES) throw this.tooLarge();
      chunks.push(chunk as Buffer);
    }
    return parseJson(Buffer.concat(chunks), this.req.headers);
  }

  bodyStream(limit: number): Readable {
    const declared = declaredLength(this.req.headers);
    if (declared !== undefined && declared > limit) throw this.tooLarge(limit);
    let seen = 0;
    const counted = new Transform({
      transform: (chunk: Buffer, _encoding, callback) => {
        seen += chunk.length;
        if (seen > limit) callback(this.tooLarge(limit));
        else callback(null, chunk);
      },
    });
    // A client that goes away mid-body fails the stream (its reader cleans up), rather than ending it short.
    this.req.once('aborted', () => counted.destroy(new UsageError('the client went away while sending the request body')));
    this.req.once('error', (err) => counted.destroy(err));
    // Whoever reads the body learns of a failure from the stream's errored state (pipeline, finished) even if it
    // came before they attached: it is never an unhandled 'error' event that ends the server.
    counted.on('error', () => undefined);
    return this.req.pipe(counted);
  }

  /** The rest of the body is not read: the connection closes after the answer. */
  private tooLarge(limit = MAX_BODY_BYTES): RequestTooLargeError {
    this.res.setHeader('Connection', 'close');
    return new RequestTooLargeError(limit);
  }

  reply(status: number, body?: unknown): void {
    const headers: Record<string, string> = { ...COMMON_HEADERS };
    if (body === undefined || status === 204 || status === 304) {
      this.res.writeHead(status, headers).end();
      return;
    }
    const text = `${JSON.stringify(body)}\n`;
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = String(Buffer.byteLength(text));
    this.res.writeHead(status, headers).end(text);
  }

  stream(status: number, contentType: string, headers: Record<string, string> = {}): Writable {
    this.res.writeHead(status, { ...COMMON_HEADERS, ...headers, 'Content-Type': contentType });
    this.res.flushHeaders();
    return this.res;
  }

  hijack(): Duplex {
    this.res.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': 'application/vnd.docker.raw-stream' });
    this.res.flushHeaders();
    return Duplex.from({ readable: this.req, writable: this.res });
  }
}

/**
 * An upgrade request: node:http hands over the socket and what it read past the headers
 * (`head`). The body (exec start's JSON) is read here by its Content-Length; what follows it is the
 * client's input of the hijacked stream.
 */
export class UpgradeExchange extends RequestExchange implements Exchange {
  private sentHead = false;
  private body: Buffer | undefined;

  constructor(
    req: IncomingMessage,
    private readonly socket: Duplex,
    private head: Buffer,
    path: string,
    query: URLSearchParams,
  ) {
    super(req, path, query);
    socket.once('close', () => this.aborter.abort());
    socket.on('error', () => socket.destroy());
  }

  get started(): boolean {
    return this.sentHead;
  }

  /** Reads the body (Content-Length bytes); the bytes after it are put back for the hijacked stream. */
  private async readBody(): Promise<Buffer> {
    if (this.body) return this.body;
    if (this.req.headers['transfer-encoding'] !== undefined) throw new UsageError('a chunked body is not taken with an upgrade: send Content-Length');
    const length = declaredLength(this.req.headers) ?? 0;
    if (!Number.isInteger(length) || length < 0) throw new UsageError('invalid Content-Length');
    if (length > MAX_BODY_BYTES) throw new RequestTooLargeError(MAX_BODY_BYTES);
    let have = this.head;
    this.head = Buffer.alloc(0);
    while (have.length < length) {
      const chunk = await new Promise<Buffer | undefined>((resolve) => {
        const onData = (c: Buffer) => {
          cleanup();
          this.socket.pause();
          resolve(c);
        };
        const onEnd = () => {
          cleanup();
          resolve(undefined);
        };
        const cleanup = () => {
          this.socket.off('data', onData);
          this.socket.off('end', onEnd);
          this.socket.off('close', onEnd);
        };
        this.socket.on('data', onData);
        this.socket.once('end', onEnd);
        this.socket.once('close', onEnd);
        this.socket.resume();
      });
      if (!chunk) throw new UsageError('the request body ended early');
      have = Buffer.concat([have, chunk]);
    }
    this.body = have.subarray(0, length);
    const rest = have.subarray(length);
    if (rest.length > 0) this.socket.unshift(rest);
    return this.body;
  }

  async json(): Promise<unknown> {
    return parseJson(await this.readBody(), this.req.headers);
  }

  bodyStream(_limit: number): Readable {
    throw new UsageError('a streamed body is not taken with an upgrade');
  }

  private writeHead(status: number, headers: Record<string, string>): void {
    this.sentHead = true;
    const lines = [`HTTP/1.1 ${status} ${REASONS[status] ?? 'Status'}`, ...Object.entries({ ...COMMON_HEADERS, ...headers }).map(([k, v]) => `${k}: ${v}`)];
    this.socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  }

  reply(status: number, body?: unknown): void {
    const text = body === undefined ? '' : `${JSON.stringify(body)}\n`;
    this.writeHead(status, {
      ...(text ? { 'Content-Type': 'application/json' } : {}),
      'Content-Length': String(Buffer.byteLength(text)),
      Connection: 'close',
    });
    this.socket.end(text);
  }

  stream(status: number, contentType: string, headers: Record<string, string> = {}): Writable {
    this.writeHead(status, { ...headers, 'Content-Type': contentType, Connection: 'close' });
    // The body runs until the connection closes (no chunking on a connection that is ours).
    const out = new PassThrough();
    out.pipe(this.socket);
    return out;
  }

  hijack(): Duplex {
    if (this.head.length > 0) this.socket.unshift(this.head);
    this.head = Buffer.alloc(0);
    this.writeHead(101, { 'Content-Type': 'application/vnd.docker.raw-stream', Connection: 'Upgrade', Upgrade: 'tcp' });
    return this.socket;
  }
}
