import type { Command } from 'commander';
import { hullFor } from '../context.js';
import { pullProgress } from '../progress.js';

export function registerPull(program: Command): void {
  program
    .command('pull')
    .description('pull an image from a registry')
    .argument('<image>', 'NAME[:TAG|@DIGEST]')
    .option('--platform <os/arch[/variant]>', "the platform to pull from a multi-platform image (default: this host's)")
    .option('-q, --quiet', 'print only the image name')
    .action(async (image: string, flags: { platform?: string; quiet?: boolean }, cmd: Command) => {
      // The registry client (http, https, tls) is loaded only by the verbs that use it.
      const { parsePlatform } = await import('../../registry/pull.js');
      const result = await hullFor(cmd).pull(image, {
        ...(flags.platform ? { platform: parsePlatform(flags.platform) } : {}),
        ...(flags.quiet ? {} : { onProgress: pullProgress(process.stdout) }),
      });
      process.stdout.write(`${result.reference}\n`);
    });
}
