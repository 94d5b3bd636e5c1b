import type { Command } from 'commander';
import { hullFor } from '../context.js';
import { exitOneOnError } from './image-common.js';

/** `tag SOURCE TARGET` / `image tag`: silent on success, like docker. */
export function defineTag(cmd: Command): void {
  cmd
    .description('create a name TARGET that refers to the image SOURCE')
    .argument('<source>', 'image name or id')
    .argument('<target>', 'new name: [registry/]repository[:tag]')
    .action((source: string, target: string, _flags: object, command: Command) => exitOneOnError(() => hullFor(command).tag(source, target)));
}

export function registerTag(program: Command): void {
  defineTag(program.command('tag'));
}
