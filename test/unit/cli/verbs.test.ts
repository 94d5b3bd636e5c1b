import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerCommands, verbOf } from '../../../src/cli/commands/index.js';

describe('CLI verb registration', () => {
  it('finds the verb after the global options', () => {
    expect(verbOf(['node', 'hull', 'run', 'busybox'])).toBe('run');
    expect(verbOf(['node', 'hull', '--root', '/r', '--run-root', '/rr', '--debug', 'ps', '-a'])).toBe('ps');
    expect(verbOf(['node', 'hull', '--root=/r', 'images'])).toBe('images');
    expect(verbOf(['node', 'hull', '--help'])).toBeUndefined();
    expect(verbOf(['node', 'hull'])).toBeUndefined();
  });

  it('defines only the named verb, and every verb otherwise', async () => {
    const names = async (verb?: string) => {
      const program = new Command('hull').enablePositionalOptions();
      await registerCommands(program, verb);
      return program.commands.map((c) => c.name()).sort();
    };
    expect(await names('run')).toEqual(['run']);
    expect(await names('restart')).toEqual(['restart', 'stop']);
    const all = await names(undefined);
    expect(all).toEqual(await names('no-such-verb'));
    for (const verb of [
      'run',
      'create',
      'start',
      'exec',
      'stop',
      'restart',
      'kill',
      'wait',
      'logs',
      'inspect',
      'rename',
      'load',
      'build',
      'images',
      'image',
      'rmi',
      'tag',
      'history',
      'save',
      'system',
      'ps',
      'rm',
      'attach',
      'cp',
      'volume',
      'network',
      'port',
      'pull',
      'push',
      'login',
      'logout',
    ]) {
      expect(all).toContain(verb);
      expect(await names(verb)).toContain(verb);
    }
  });
});
