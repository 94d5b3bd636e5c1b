/**
 * The host's network tools, one process per change: `ip -batch -` for links, addresses and routes
 * (in the host's namespace, or in a new one through util-linux `unshare --net=FILE`), `nft -f -`
 * for NAT. Measured on the development host: 2.5–6 ms per process idle, far more under load, so
 * a container's set-up is one process (plus one nft transaction for published ports) and the
 * host end of its veth joins the bridge by ioctl (sys.bridgePortUp); netlink from Node would need
 * a native socket for the rest.
 */
import { spawnSync } from 'node:child_process';
import { RuntimeError } from '../errors.js';

/** The tools live in sbin, which a monitor's exit command or a sudo'd PATH may lack. */
let toolEnv: NodeJS.ProcessEnv | undefined;
function env(): NodeJS.ProcessEnv {
  if (!toolEnv) {
    const dirs = (process.env.PATH ?? '').split(':').filter(Boolean);
    for (const d of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) if (!dirs.includes(d)) dirs.push(d);
    toolEnv = { ...process.env, PATH: dirs.join(':') };
  }
  return toolEnv;
}

function run(file: string, args: string[], input: string, what: string): void {
  const r = spawnSync(file, args, { input, encoding: 'utf8', stdio: ['pipe', 'ignore', 'pipe'], env: env() });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    throw new RuntimeError(
      code === 'ENOENT' ? `${what}: '${file}' is not installed (install iproute2, nftables and util-linux)` : `${what}: ${r.error.message}`,
    );
  }
  if (r.status !== 0) throw new RuntimeError(`${what}: ${file} ${args.join(' ')} failed: ${(r.stderr || '').trim().split('\n').slice(0, 4).join('; ')}`);
}

/** Run ip commands (one per line) in hull's own network namespace. */
export function ipBatch(lines: string[], what: string): void {
  if (lines.length > 0) run('ip', ['-batch', '-'], lines.join('\n') + '\n', what);
}

/** Make a network namespace bound to `file` (an existing empty file) and run ip commands in it. */
export function ipBatchInNewNetns(file: string, lines: string[], what: string): void {
  run('unshare', [`--net=${file}`, 'ip', '-batch', '-'], lines.join('\n') + '\n', what);
}

/** Run ip commands inside the network namespace bound to `file`. */
export function ipBatchInNetns(file: string, lines: string[], what: string): void {
  if (lines.length > 0) run('nsenter', [`--net=${file}`, 'ip', '-batch', '-'], lines.join('\n') + '\n', what);
}

/** Apply one nft script as one transaction. */
export function nft(script: string, what: string): void {
  run('nft', ['-f', '-'], script, what);
}

/** The output of one nft command (a listing), or undefined when nft refuses it (no such table). */
export function nftQuery(args: string[]): string | undefined {
  const r = spawnSync('nft', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env: env() });
  if (r.error) throw new RuntimeError(`nft ${args.join(' ')}: ${r.error.message}`);
  return r.status === 0 ? r.stdout : undefined;
}

/** Apply an nft script; false (nothing changed) when nft refuses it. */
export function tryNft(script: string): boolean {
  const r = spawnSync('nft', ['-f', '-'], { input: script, stdio: ['pipe', 'ignore', 'ignore'], env: env() });
  return r.status === 0;
}
