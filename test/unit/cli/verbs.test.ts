import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { groupSubcommands, registerCommands, subverbOf, verbOf } from '../../../src/cli/commands/index.js';

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

  it("defines Docker's groups: only the named subcommand, each one the top-level verb's code under its group name", async () => {
    expect(subverbOf(['node', 'hull', '--root', '/r', 'container', 'ls', '-a'])).toBe('ls');
    expect(subverbOf(['node', 'hull', 'container', '--help'])).toBeUndefined();
    const group = async (verb: string, sub?: string) => {
      const program = new Command('hull').enablePositionalOptions();
      await registerCommands(program, verb, sub);
      expect(program.commands.map((c) => c.name())).toEqual([verb]);
      return program.commands[0]!.commands.map((c) => [c.name(), ...c.aliases()].join('|'));
    };
    expect(await group('container', 'ps')).toEqual(['ls|ps|list']);
    expect(await group('container', 'restart')).toEqual(['restart']);
    expect(await group('image', 'list')).toEqual(['ls|list']);
    expect(await group('system', 'info')).toEqual(['info']);
    const container = await group('container');
    expect(container.map((c) => c.split('|')[0]).sort()).toEqual(
      [
        'ls',
        'rm',
        'inspect',
        'run',
        'create',
        'start',
        'stop',
        'restart',
        'kill',
        'exec',
        'logs',
        'attach',
        'cp',
        'top',
        'stats',
        'pause',
        'unpause',
        'rename',
        'update',
        'wait',
        'port',
        'commit',
        'diff',
        'export',
        'prune',
      ].sort(),
    );
    expect(groupSubcommands('image').sort()).toEqual(
      ['ls', 'list', 'rm', 'remove', 'inspect', 'tag', 'history', 'save', 'load', 'pull', 'push', 'build', 'prune', 'import'].sort(),
    );
    expect((await group('image')).length).toBe(12);
    expect(await group('system')).toEqual(['df', 'prune', 'check', 'service', 'info', 'events']);
    const all = new Command('hull').enablePositionalOptions();
    await registerCommands(all, undefined);
    for (const verb of ['container', 'image', 'system', 'commit', 'diff', 'export', 'import', 'info', 'version'])
      expect(all.commands.map((c) => c.name())).toContain(verb);
  });
});
