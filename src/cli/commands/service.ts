import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { type ApiTls, DEFAULT_HOST, activationFd, checkTcp, groupId, parseHost } from '../../api/listen.js';
import { serveApi } from '../../api/server.js';
import { hullFor } from '../context.js';
import { printWarnings } from './container-flags.js';

interface ServiceFlags {
  host?: string;
  time: string;
  group?: string;
  tls?: boolean;
  tlsverify?: boolean;
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
}

/** A TLS file: the flag's, else dockerd's default under $DOCKER_CERT_PATH or ~/.docker. */
function tlsFile(flag: string, given: string | undefined, name: string): Buffer {
  const file = given ?? path.join(process.env.DOCKER_CERT_PATH ?? path.join(homedir(), '.docker'), name);
  try {
    return readFileSync(file);
  } catch (err) {
    throw new UsageError(`${flag} ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
}

/** Docker's TLS flags: --tls serves TLS, --tlsverify also asks each client for a certificate the CA signed. */
function tlsOf(flags: ServiceFlags): ApiTls | undefined {
  const verifyClients = flags.tlsverify === true;
  if (!verifyClients && flags.tls !== true) {
    if ([flags.tlscacert, flags.tlscert, flags.tlskey].some((f) => f !== undefined))
      throw new UsageError('--tlscacert, --tlscert and --tlskey need --tls or --tlsverify');
    return undefined;
  }
  return {
    cert: tlsFile('--tlscert', flags.tlscert, 'cert.pem'),
    key: tlsFile('--tlskey', flags.tlskey, 'key.pem'),
    verifyClients,
    ...(verifyClients ? { ca: tlsFile('--tlscacert', flags.tlscacert, 'ca.pem') } : {}),
  };
}

/** `system service`: the Docker Engine API on a unix socket (src/api/), until idle for --time seconds or stopped (SIGTERM, SIGINT). */
export function registerSystemService(system: Command): void {
  system
    .command('service')
    .description('serve the Docker Engine API (v1.41) for the docker CLI, docker-compose and the Docker SDKs')
    .option(
      '-H, --host <uri>',
      `where to listen: unix:///PATH or tcp://ADDRESS:PORT (loopback only, unless --tlsverify) (default ${DEFAULT_HOST}, or the socket systemd passes)`,
    )
    .option('-t, --time <seconds>', "seconds without a connection before the service exits (0: never; Podman's default)", '5')
    .option('--group <group>', "the unix socket's group (mode 0660; default root)")
    .option('--tls', 'serve TLS on the tcp:// host (without client certificates: loopback only)')
    .option('--tlsverify', "serve TLS and let in only clients with a certificate --tlscacert's CA signed")
    .option('--tlscacert <file>', "the CA that signs the clients' certificates (default ~/.docker/ca.pem)")
    .option('--tlscert <file>', "the server's certificate (default ~/.docker/cert.pem)")
    .option('--tlskey <file>', "the server's key (default ~/.docker/key.pem)")
    .action(async (flags: ServiceFlags, command: Command) => {
      if (!/^\d+$/.test(flags.time)) throw new UsageError(`invalid --time ${flags.time}: a number of seconds (0: never exit)`);
      const fd = flags.host === undefined ? activationFd() : undefined;
      const address = fd !== undefined ? { kind: 'fd' as const, fd } : parseHost(flags.host ?? DEFAULT_HOST);
      const tls = tlsOf(flags);
      printWarnings(checkTcp(address, tls));
      const service = await serveApi(hullFor(command), {
        address,
        idleSeconds: Number(flags.time),
        ...(flags.group !== undefined ? { gid: groupId(flags.group) } : {}),
        ...(tls ? { tls } : {}),
      });
      const stop = () => void service.close();
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      await service.closed;
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      // Every connection is closed; what is still pending (an exec's process relayed by this
      // server) must not keep a stopped server alive.
      setTimeout(() => process.exit(0), 2000).unref();
    });
}
