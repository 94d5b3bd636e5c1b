import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { DEFAULT_HOST, activationFd, checkTcp, groupId, parseHost } from '../../api/listen.js';
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

/** `system service`: the Docker Engine API on a unix socket (src/api/), until idle for --time seconds or stopped (SIGTERM, SIGINT). */
export function registerSystemService(system: Command): void {
  system
    .command('service')
    .description('serve the Docker Engine API (v1.41) for the docker CLI, docker-compose and the Docker SDKs')
    .option('-H, --host <uri>', `where to listen: unix:///PATH or tcp://ADDRESS:PORT (loopback only) (default ${DEFAULT_HOST}, or the socket systemd passes)`)
    .option('-t, --time <seconds>', "seconds without a connection before the service exits (0: never; Podman's default)", '5')
    .option('--group <group>', "the unix socket's group (mode 0660; default root)")
    .option('--tls', 'not supported yet: refused')
    .option('--tlsverify', 'not supported yet: refused')
    .option('--tlscacert <file>', 'not supported yet: refused')
    .option('--tlscert <file>', 'not supported yet: refused')
    .option('--tlskey <file>', 'not supported yet: refused')
    .action(async (flags: ServiceFlags, command: Command) => {
      if (!/^\d+$/.test(flags.time)) throw new UsageError(`invalid --time ${flags.time}: a number of seconds (0: never exit)`);
      const fd = flags.host === undefined ? activationFd() : undefined;
      const address = fd !== undefined ? { kind: 'fd' as const, fd } : parseHost(flags.host ?? DEFAULT_HOST);
      const tls = flags.tls === true || flags.tlsverify === true || [flags.tlscacert, flags.tlscert, flags.tlskey].some((f) => f !== undefined);
      printWarnings(checkTcp(address, { tls }));
      const service = await serveApi(hullFor(command), {
        address,
        idleSeconds: Number(flags.time),
        ...(flags.group !== undefined ? { gid: groupId(flags.group) } : {}),
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
