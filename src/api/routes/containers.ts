/**
 * `/containers/…`: create, start, wait, attach, list, inspect, remove, stop, kill, restart, logs,
 * resize. Each parses its query and body here (the edge) and calls the library; the answers are
 * Docker's shapes from src/present/ (the same the CLI prints).
 */
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ConflictError, NotModifiedError, UsageError } from '../../errors.js';
import { readEvents } from '../../events/follow.js';
import { containerListEntry } from '../../present/containers.js';
import { type FilterArgs, filterArgsFromJson, parseContainerFilters, parsePruneFilters } from '../../filters/index.js';
import { processTable } from '../../present/processes.js';
import { type StatsPoint, dockerStats, hostCpuNanos } from '../../present/docker-stats.js';
import { sampleCgroup } from '../../runtime/stats.js';
import { totalmem } from 'node:os';
import { controlSocketPath, resizeTerminal } from '../../runtime/monitor-client.js';
import { parseTimeBound } from '../../runtime/logs.js';
import { parseSignal } from '../../runtime/signals.js';
import { isLive, statusOfRecord } from '../../runtime/states.js';
import type { Attachment } from '../../runtime/monitor-client.js';
import { CHANGE_KIND_NUMBER } from '../../runtime/container-fs.js';
import { archivePath, extractToPath, pathStatHeader, statPath } from '../../runtime/archive.js';
import { createOptionsFromApi, updateFromApi } from '../container-config.js';
import { type Exchange, queryBool } from '../exchange.js';
import type { Router } from '../router.js';
import type { ApiSessions, PendingAttach } from '../sessions.js';
import { drained, frame, relayOutput, writeLogs } from '../streams.js';

/** `docker cp`'s upload: unpacked to disk as it streams, so this bounds only a runaway client (Docker sets none). */
const MAX_ARCHIVE_BYTES = 16 * 1024 ** 3;

/** Docker's `t` (seconds) of stop and restart; absent: the container's own. */
function timeoutOf(ex: Exchange): number | undefined {
  const t = ex.query.get('t');
  if (t === null || t === '') return undefined;
  if (!/^-?\d+$/.test(t)) throw new UsageError(`invalid value for t: ${t}`);
  return Number(t);
}

/** A positive integer query value (`h`, `w`). */
function dimension(ex: Exchange, name: string): number {
  const v = ex.query.get(name);
  if (v === null || !/^\d+$/.test(v)) throw new UsageError(`invalid value for ${name}: ${v ?? '(none)'}`);
  return Number(v);
}

/** The archive's `path` query (required). */
function archiveQueryPath(ex: Exchange): string {
  const p = ex.query.get('path');
  if (!p) throw new UsageError('path is required: the path of a file or directory in the container');
  return p;
}

/** Docker's `filters` query (src/filters/: `{"key":{"value":true}}`, or the older `{"key":["value"]}`). */
export function filterArgs(ex: Exchange): FilterArgs {
  return filterArgsFromJson(ex.query.get('filters') ?? '');
}

/** How often a quiet attach whose client has ended its side is checked for a client that has gone. */
const PROBE_MS = 2000;

/** Relays an attachment to a hijacked client until the container (or exec) has ended or the client has gone. */
export async function serveAttachment(conn: Duplex, attachment: Attachment, opts: { terminal: boolean; stdout: boolean; stderr: boolean }): Promise<void> {
  if (attachment.stdin) conn.pipe(attachment.stdin);
  else conn.resume(); // nothing to take from it, but its end is seen
  // A client that goes away frees its connection to the monitor (the container runs on).
  const gone = () => {
    clearInterval(probe);
    attachment.detach();
  };
  conn.once('close', gone);
  // The docker CLI ends its side at once (or when its stdin ends) and reads on, so an end is not a
  // client gone; one that has gone is seen when a write fails. Without a terminal an empty frame (a
  // no-op to Docker's clients) is written every few seconds after the end, so an attach to a quiet
  // container does not hold its connection and the monitor's for as long as the container runs.
  let probe: NodeJS.Timeout | undefined;
  const startProbe = () => {
    probe = setInterval(() => {
      if (!conn.destroyed && !conn.writableNeedDrain) conn.write(frame(1, Buffer.alloc(0)));
    }, PROBE_MS);
    probe.unref();
  };
  // (An upgraded socket flows from the start: its end may have come before this.)
  if (!opts.terminal) {
    if (conn.readableEnded) startProbe();
    else conn.once('end', startProbe);
  }
  conn.on('error', () => conn.destroy());
  if (!opts.stdout) attachment.stdout.resume();
  if (!opts.stderr) attachment.stderr.resume();
  await relayOutput(conn, { stdout: opts.stdout ? attachment.stdout : undefined, stderr: opts.stderr ? attachment.stderr : undefined }, opts.terminal);
  await attachment.closed;
  clearInterval(probe);
  conn.off('close', gone);
  conn.end();
}

export function containerRoutes(router: Router, s: ApiSessions): void {
  const { hull } = s;

  router.add('POST', '/containers/create', async (ex) => {
    const { options, warnings } = createOptionsFromApi(await ex.json(), ex.query);
    // The image is not pulled here: a missing one is Docker's 404, and its client pulls (`POST /images/create`) and tries again.
    const made = await hull.createContainer({ ...options, pull: 'never' });
    ex.reply(201, { Id: made.record.id, Warnings: [...warnings, ...made.warnings] });
  });

  router.add('GET', '/containers/json', async (ex) => {
    const limit = Number(ex.query.get('limit') ?? '-1');
    const shown = await hull.selectContainers({
      all: queryBool(ex.query, 'all'),
      filters: parseContainerFilters(filterArgs(ex)),
      ...(limit > 0 ? { last: limit } : {}),
    });
    const now = Date.now();
    ex.reply(
      200,
      shown.map((r) => containerListEntry(r, now)),
    );
  });

  router.add('POST', '/containers/prune', async (ex) => {
    const r = await hull.pruneContainers(parsePruneFilters(filterArgs(ex), 'container'));
    ex.reply(200, { ContainersDeleted: r.containers, SpaceReclaimed: r.reclaimed });
  });

  router.add('GET', '/containers/{id}/json', async (ex) => {
    ex.reply(200, await hull.inspectContainer(ex.params.id!));
  });

  router.add('POST', '/containers/{id}/start', async (ex) => {
    const record = await hull.getContainer(ex.params.id!);
    if (isLive(statusOfRecord(record))) throw new NotModifiedError(`container ${ex.params.id!} is already started`);
    const waiting = s.takePending(record.id);
    // --rm: removed by this server when it ends (its monitor's `hull rm` is the fallback), watched from before its start.
    if (record.autoRemove) s.autoRemovals.watch(record.id);
    const failed = (err: unknown): never => {
      if (record.autoRemove) s.autoRemovals.forget(record.id);
      for (const a of waiting) a.conn.destroy();
      throw err;
    };
    if (waiting.length === 0) {
      await hull.startContainer(record.id).catch(failed);
      ex.reply(204);
      return;
    }
    // The first waiting attach is served from the container's first byte; the others join once it runs.
    const [first, ...others] = waiting as [PendingAttach, ...PendingAttach[]];
    const { attachment } = await hull.startContainerAttached(record.id, { stdin: first.stdin }).catch(failed);
    const terminal = record.tty === true;
    first.serve(() => serveAttachment(first.conn, attachment, { terminal, stdout: first.stdout, stderr: first.stderr }));
    for (const a of others) {
      a.serve(async () => {
        const joined = await hull.attachContainer(record.id, { stdin: a.stdin });
        await serveAttachment(a.conn, joined.attachment, { terminal, stdout: a.stdout, stderr: a.stderr });
      });
    }
    ex.reply(204);
  });

  router.add('POST', '/containers/{id}/attach', async (ex) => {
    const record = await hull.getContainer(ex.params.id!);
    const want = { stdin: queryBool(ex.query, 'stdin'), stdout: queryBool(ex.query, 'stdout'), stderr: queryBool(ex.query, 'stderr') };
    const terminal = record.tty === true;
    const conn = ex.hijack();
    if (queryBool(ex.query, 'logs')) {
      await writeLogs(conn, hull.containerLogs(record.id), { raw: terminal, timestamps: false, stdout: want.stdout, stderr: want.stderr }).catch(
        () => undefined,
      );
    }
    if (!queryBool(ex.query, 'stream')) {
      conn.end();
      return;
    }
    if (!isLive(statusOfRecord(record))) {
      // Before its start (docker run's order): served by the start, from its first byte.
      await new Promise<void>((resolve) => {
        s.addPending(record.id, {
          conn,
          ...want,
          serve: (run) => void run().finally(resolve),
        });
        conn.once('close', () => resolve());
      });
      return;
    }
    const { attachment } = await hull.attachContainer(record.id, { stdin: want.stdin });
    await serveAttachment(conn, attachment, { terminal, ...want });
  });

  router.add('POST', '/containers/{id}/wait', async (ex) => {
    const condition = ex.query.get('condition') || 'not-running';
    if (!['not-running', 'next-exit', 'removed'].includes(condition)) throw new UsageError(`invalid condition: "${condition}"`);
    const { id } = await hull.getContainer(ex.params.id!);
    // The log is opened at its end before the state is read: an end after this point is in it,
    // one before it is in the state. Nothing is polled; the follower wakes on inotify.
    const stop = new AbortController();
    ex.signal.addEventListener('abort', () => stop.abort(), { once: true });
    const events = readEvents(hull.paths.runRoot, {
      signal: stop.signal,
      filter: (ev) => ev.Type === 'container' && ev.Actor.ID === id && (ev.Action === 'die' || ev.Action === 'destroy'),
    });
    const next = events.next(); // runs the reader up to its first wait: the log is open
    const out = ex.stream(200, 'application/json'); // headers at once, as Docker's (clients wait on them before start)
    const answer = (code: number) => out.end(`${JSON.stringify({ Error: null, StatusCode: code })}\n`);
    try {
      const now = await hull.getContainer(id).catch(() => undefined);
      if (condition === 'not-running' && now && !isLive(statusOfRecord(now))) {
        answer(now.state.exitCode ?? 0);
        return;
      }
      let code = now?.state.exitCode ?? 0;
      for (let ev = await next; !ev.done; ev = await events.next()) {
        if (ev.value.Action === 'die') {
          code = Number(ev.value.Actor.Attributes.exitCode ?? '0');
          if (condition !== 'removed') break;
        } else {
          break; // destroyed: whatever the condition, there is nothing more to wait for (`rm -f` logs no die)
        }
      }
      if (!ex.signal.aborted) answer(code);
    } finally {
      stop.abort();
      await events.return(undefined);
    }
  });

  router.add('DELETE', '/containers/{id}', async (ex) => {
    await hull.removeContainer(ex.params.id!, { force: queryBool(ex.query, 'force'), volumes: queryBool(ex.query, 'v') });
    ex.reply(204);
  });

  router.add('POST', '/containers/{id}/stop', async (ex) => {
    const record = await hull.getContainer(ex.params.id!);
    if (!isLive(statusOfRecord(record))) throw new NotModifiedError(`container ${ex.params.id!} is already stopped`);
    await hull.stopContainer(record.id, timeoutOf(ex));
    ex.reply(204);
  });

  router.add('POST', '/containers/{id}/restart', async (ex) => {
    await hull.restartContainer(ex.params.id!, timeoutOf(ex));
    ex.reply(204);
  });

  router.add('POST', '/containers/{id}/kill', async (ex) => {
    const signal = parseSignal(ex.query.get('signal') || 'SIGKILL');
    const record = await hull.getContainer(ex.params.id!);
    if (!isLive(statusOfRecord(record))) throw new ConflictError(`Container ${record.id} is not running`);
    await hull.killContainer(record.id, signal);
    ex.reply(204);
  });

  router.add('POST', '/containers/{id}/resize', async (ex) => {
    const record = await hull.getContainer(ex.params.id!);
    const rows = dimension(ex, 'h');
    const cols = dimension(ex, 'w');
    if (!isLive(statusOfRecord(record))) throw new ConflictError(`Container ${record.id} is not running`);
    await resizeTerminal(controlSocketPath(hull.paths.runRoot, record.id), rows, cols);
    ex.reply(200);
  });

  router.add('POST', '/containers/{id}/pause', async (ex) => {
    await hull.pauseContainer(ex.params.id!);
    ex.reply(204);
  });

  router.add('POST', '/containers/{id}/unpause', async (ex) => {
    await hull.unpauseContainer(ex.params.id!);
    ex.reply(204);
  });

  router.add('POST', '/containers/{id}/rename', async (ex) => {
    const name = ex.query.get('name');
    if (!name) throw new UsageError('name is required to rename a container');
    await hull.renameContainer(ex.params.id!, name);
    ex.reply(204);
  });

  router.add('POST', '/containers/{id}/update', async (ex) => {
    const { resources, warnings } = updateFromApi(await ex.json());
    await hull.updateContainer(ex.params.id!, resources);
    ex.reply(200, { Warnings: warnings });
  });

  router.add('GET', '/containers/{id}/changes', async (ex) => {
    const changes = await hull.containerChanges(ex.params.id!);
    // Docker answers null for none.
    ex.reply(200, changes.length > 0 ? changes.map((c) => ({ Path: c.path, Kind: CHANGE_KIND_NUMBER[c.kind] })) : null);
  });

  router.add('GET', '/containers/{id}/export', async (ex) => {
    await hull.getContainer(ex.params.id!); // a missing one is a 404, before the stream
    const out = ex.stream(200, 'application/x-tar');
    await hull.exportContainer(ex.params.id!, out); // leaves `out` open (the CLI's is its stdout)
    out.end();
  });

  // docker cp: HEAD stats a path, GET gives it as a tar, PUT extracts a tar into a directory (src/runtime/archive.ts).
  router.add('HEAD', '/containers/{id}/archive', async (ex) => {
    const stat = await statPath(hull.runtime, ex.params.id!, archiveQueryPath(ex));
    ex.stream(200, 'application/json', { 'X-Docker-Container-Path-Stat': pathStatHeader(stat) }).end();
  });

  router.add('GET', '/containers/{id}/archive', async (ex) => {
    const { stat, tar } = await archivePath(hull.runtime, ex.params.id!, archiveQueryPath(ex));
    const out = ex.stream(200, 'application/x-tar', { 'X-Docker-Container-Path-Stat': pathStatHeader(stat) });
    if (ex.signal.aborted) tar.destroy();
    else ex.signal.addEventListener('abort', () => tar.destroy(), { once: true });
    await pipeline(tar, out).catch(() => undefined); // a client gone: the tar (and its staging) is dropped
  });

  router.add('PUT', '/containers/{id}/archive', async (ex) => {
    await extractToPath(hull.runtime, ex.params.id!, archiveQueryPath(ex), ex.bodyStream(MAX_ARCHIVE_BYTES), {
      noOverwriteDirNonDir: queryBool(ex.query, 'noOverwriteDirNonDir'),
      copyUIDGID: queryBool(ex.query, 'copyUIDGID'),
    });
    ex.reply(200);
  });

  router.add('GET', '/containers/{id}/top', async (ex) => {
    // ps_args (ps's own options) has no meaning here: the table is read from /proc.
    if (ex.query.get('ps_args')) throw new UsageError('ps_args is not supported by hull: top lists UID, PID, PPID and CMD');
    ex.reply(200, processTable(await hull.containerProcesses(ex.params.id!)));
  });

  // One object (stream=false: two samples a second apart, as Docker's daemon, for the CPU %), or one a second until the client goes.
  router.add('GET', '/containers/{id}/stats', async (ex) => {
    const { record, dir } = await hull.runtime.cgroupDir(ex.params.id!);
    const point = (): StatsPoint => ({ sample: sampleCgroup(dir, totalmem()), hostCpuNanos: hostCpuNanos(), time: new Date() });
    const second = () => new Promise((resolve) => setTimeout(resolve, 1000));
    const stream = ex.query.get('stream') === null || queryBool(ex.query, 'stream');
    let before = point();
    if (!stream) {
      if (!queryBool(ex.query, 'one-shot')) await second();
      const now = point();
      ex.reply(200, dockerStats(record, now, queryBool(ex.query, 'one-shot') ? undefined : before));
      return;
    }
    const out = ex.stream(200, 'application/json');
    out.write(`${JSON.stringify(dockerStats(record, before))}\n`);
    while (!ex.signal.aborted) {
      await second();
      const now = point();
      if (ex.signal.aborted || !out.write(`${JSON.stringify(dockerStats(record, now, before))}\n`)) await drained(out);
      before = now;
      if (
        !(await hull.getContainer(record.id).then(
          (r) => isLive(statusOfRecord(r)),
          () => false,
        ))
      )
        break;
    }
    out.end();
  });

  router.add('GET', '/containers/{id}/logs', async (ex) => {
    const record = await hull.getContainer(ex.params.id!);
    const stdout = queryBool(ex.query, 'stdout');
    const stderr = queryBool(ex.query, 'stderr');
    if (!stdout && !stderr) throw new UsageError('Bad parameters: you must choose at least one stream');
    const tailText = ex.query.get('tail') ?? 'all';
    const tail = tailText === 'all' || tailText === '' || Number(tailText) < 0 ? undefined : Number(tailText);
    if (tail !== undefined && !Number.isInteger(tail)) throw new UsageError(`invalid tail: ${tailText}`);
    const bound = (name: string) => {
      const v = ex.query.get(name);
      return v === null || v === '' || v === '0' ? undefined : parseTimeBound(v);
    };
    const entries = hull.containerLogs(record.id, {
      follow: queryBool(ex.query, 'follow'),
      tail,
      sinceMs: bound('since'),
      untilMs: bound('until'),
      signal: ex.signal,
    });
    // The first batch is read before the headers: a log that cannot be read (driver none) is an error answer.
    const first = await entries.next();
    const out = ex.stream(200, 'application/vnd.docker.raw-stream');
    const opts = { raw: record.tty === true, timestamps: queryBool(ex.query, 'timestamps'), stdout, stderr };
    async function* all() {
      if (!first.done) yield first.value;
      yield* entries;
    }
    try {
      await writeLogs(out, all(), opts);
    } finally {
      await entries.return(undefined);
      out.end();
    }
  });
}
