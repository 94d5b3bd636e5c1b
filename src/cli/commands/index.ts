import type { Command } from 'commander';
import { registerImages } from './images.js';
import { registerLoad } from './load.js';
import { registerPs } from './ps.js';
import { registerRm } from './rm.js';
import { registerRun } from './run.js';

export function registerCommands(program: Command): void {
  registerRun(program);
  registerLoad(program);
  registerImages(program);
  registerPs(program);
  registerRm(program);
}
