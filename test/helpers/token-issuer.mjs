// A Docker token service for the registry tests, run as its own process (the tests call the CLI
// synchronously, which would block a server in the test process):
//   node token-issuer.mjs PORT KEY.pem CERT.pem USERS.json LOG.jsonl
// `GET /token?service&scope&account` with optional Basic credentials: users get every action they
// ask for, anonymous callers only `pull` on `public/*`. Tokens are RS256 JWTs whose `x5c` header
// carries the issuer's self-signed certificate (the registry's rootcertbundle). Each request is
// appended to LOG as a JSON line {account, scopes, granted}.
import { randomBytes, sign } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import http from 'node:http';

const [port, keyFile, certFile, usersFile, log] = process.argv.slice(2);
const key = readFileSync(keyFile, 'utf8');
const certDer = Buffer.from(
  readFileSync(certFile, 'utf8')
    .replace(/-----[^-]+-----/g, '')
    .replace(/\s+/g, ''),
  'base64',
);
const users = JSON.parse(readFileSync(usersFile, 'utf8'));
const b64url = (b) => Buffer.from(b).toString('base64url');
const record = (entry) => appendFileSync(log, `${JSON.stringify(entry)}\n`);

http
  .createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const scopes = url.searchParams
      .getAll('scope')
      .flatMap((s) => s.split(' '))
      .filter(Boolean);
    let account = '';
    const auth = req.headers.authorization;
    if (auth?.startsWith('Basic ')) {
      const [u, ...p] = Buffer.from(auth.slice(6), 'base64').toString().split(':');
      if (users[u] !== p.join(':')) {
        record({ account: u, scopes, granted: false });
        res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}');
        return;
      }
      account = u;
    }
    const access = scopes.map((s) => {
      const [type, ...rest] = s.split(':');
      const actions = (rest.pop() ?? '').split(',');
      const name = rest.join(':');
      const allowed = account !== '' ? actions : name.startsWith('public/') ? actions.filter((a) => a === 'pull') : [];
      return { type, name, actions: allowed };
    });
    record({ account, scopes, granted: true });
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [certDer.toString('base64')] };
    const claims = {
      iss: 'hull-test-issuer',
      sub: account,
      aud: url.searchParams.get('service'),
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(8).toString('hex'),
      access,
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const token = `${input}.${b64url(sign('sha256', Buffer.from(input), key))}`;
    res
      .writeHead(200, { 'Content-Type': 'application/json' })
      .end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
  })
  .listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
