/** `/_ping`, `/version`, `/info`: what every client asks first. */
import type { Router } from '../router.js';
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
}
