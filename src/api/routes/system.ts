/** `/_ping`, `/version`, `/info` (what every client asks first) and `/events` (the events log, followed). */
import { matchesEvent, parseEventFilters, parseEventTime } from '../../events/filter.js';
import { eventLine } from '../../events/log.js';
import { RegistryAuthError, UsageError } from '../../errors.js';
import { diskUsageBody } from '../disk-usage.js';
import { parseAuthConfig } from '../registry-auth.js';
import { drained } from '../streams.js';
import type { Router } from '../router.js';
import { filterArgs } from './containers.js';
import type { ApiSessions } from '../sessions.js';

export function systemRoutes(router: Router, s: ApiSessions): void {
  const { hull } = s;

  // HEAD and GET: the CLI's first request (it negotiates the API version from API-Version).
  router.add('GET', '/_ping', async (ex) => {
    const out = ex.stream(200, 'text/plain; charset=utf-8', {
      'Builder-Version': '1',
      'Cache-Control': 'no-cache, no-store, must-revalidate',
      Pragma: 'no-cache',
    });
    out.end(ex.method === 'HEAD' ? undefined : 'OK');
  });

  router.add('GET', '/version', async (ex) => {
    ex.reply(200, (await hull.version()).Server);
  });

  router.add('GET', '/info', async (ex) => {
    ex.reply(200, await hull.info());
  });

  router.add('GET', '/system/df', async (ex) => {
    ex.reply(200, await diskUsageBody(hull));
  });

  // docker login: the credentials are checked against the registry and stored by the client, not here.
  router.add('POST', '/auth', async (ex) => {
    const { credentials, serverAddress } = parseAuthConfig(await ex.json(), 'auth');
    if (!credentials) throw new UsageError('auth: a username and a password are required');
    try {
      await hull.checkLogin(serverAddress || undefined, credentials);
    } catch (err) {
      if (!(err instanceof RegistryAuthError)) throw err;
      ex.reply(401, { message: err.message });
      return;
    }
    ex.reply(200, { Status: 'Login Succeeded', IdentityToken: '' });
  });

  // Docker's stream: one JSON object a line; without since or until only new events, until the client goes.
  router.add('GET', '/events', async (ex) => {
    const now = new Date();
    const bound = (name: string) => {
      const v = ex.query.get(name);
      return v === null || v === '' ? undefined : parseEventTime(v, now);
    };
    const filters = parseEventFilters([...filterArgs(ex)].flatMap(([key, values]) => values.map((v) => `${key}=${v}`)));
    const since = bound('since');
    const until = bound('until');
    const events = hull.events({
      ...(since !== undefined ? { since } : {}),
      ...(until !== undefined ? { until } : {}),
      filter: (ev) => matchesEvent(filters, ev),
      signal: ex.signal,
    });
    const out = ex.stream(200, 'application/json');
    for await (const ev of events) {
      if (!out.write(eventLine(ev))) await drained(out);
    }
    out.end();
  });
}
