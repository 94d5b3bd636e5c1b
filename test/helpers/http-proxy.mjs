// A forward HTTP proxy for the registry tests, run as its own process (the tests call the CLI
// synchronously, which would block a server in the test process):
//   node http-proxy.mjs LOG NAME=ADDRESS...
// Listens on 127.0.0.1 (a free port, printed as `listening PORT`); serves CONNECT tunnels
// (https) and absolute-form requests (http), the two ways clients use an HTTP(S)_PROXY. Host
// names are resolved by the NAME=ADDRESS arguments rather than DNS, so a test can name a
// registry only the proxy can reach. Each request is appended to LOG as a line
// (`CONNECT host:port`, `GET http://…`).
import { appendFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';

const [log, ...mappings] = process.argv.slice(2);
const hosts = Object.fromEntries(mappings.map((m) => m.split('=')));
const resolve = (host) => hosts[host] ?? host;
const record = (line) => appendFileSync(log, `${line}\n`);

const server = http.createServer((req, res) => {
  record(`${req.method} ${req.url}`);
  const target = new URL(req.url ?? '');
  const upstream = http.request(
    { host: resolve(target.hostname), port: target.port, path: `${target.pathname}${target.search}`, method: req.method, headers: req.headers },
    (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    },
  );
  upstream.on('error', () => {
    res.writeHead(502);
    res.end();
  });
  req.pipe(upstream);
});
server.on('connect', (req, client, head) => {
  record(`CONNECT ${req.url}`);
  const colon = (req.url ?? '').lastIndexOf(':');
  const upstream = net.connect(Number(req.url.slice(colon + 1)), resolve(req.url.slice(0, colon)), () => {
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstream.on('error', () => client.destroy());
  client.on('error', () => upstream.destroy());
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
