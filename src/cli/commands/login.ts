import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { hullFor } from '../context.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

export function registerLogin(program: Command): void {
  program
    .command('login')
    .description('log in to a registry (credentials kept in ~/.docker/config.json or its credential helper)')
    .argument('[registry]', 'host[:port] (default: Docker Hub)')
    .option('-u, --username <name>', 'user name')
    .option('-p, --password <password>', 'password (prefer --password-stdin)')
    .option('--password-stdin', 'read the password from stdin')
    .action(async (registry: string | undefined, flags: { username?: string; password?: string; passwordStdin?: boolean }, cmd: Command) => {
      if (flags.password !== undefined && flags.passwordStdin) throw new UsageError('--password and --password-stdin are mutually exclusive');
      if (flags.passwordStdin && flags.username === undefined) throw new UsageError('must provide --username with --password-stdin');
      if (flags.username === undefined) throw new UsageError('login: give the user name with -u (hull does not prompt)');
      let password = flags.password;
      if (flags.passwordStdin) password = await readStdin();
      if (password === undefined) throw new UsageError('login: give the password with --password-stdin (or -p)');
      if (flags.password !== undefined) process.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
      await hullFor(cmd).login(registry, { username: flags.username, password });
      process.stdout.write('Login Succeeded\n');
    });
  program
    .command('logout')
    .description('remove the stored credentials for a registry')
    .argument('[registry]', 'host[:port] (default: Docker Hub)')
    .action(async (registry: string | undefined, _flags: unknown, cmd: Command) => {
      const r = await hullFor(cmd).logout(registry);
      process.stdout.write(r.removed ? `Removing login credentials for ${r.registry}\n` : `Not logged in to ${r.registry}\n`);
    });
}
