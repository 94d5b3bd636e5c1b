// Container states as every verb sees them (src/runtime/states.ts), through the CLI: a paused
// container is `paused` for ps's filter, inspect and the verbs that refuse it, with Docker's words.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HullEnv, canRunContainers, skipReason } from '../helpers/hull-env.js';

describe.skipIf(!canRunContainers)(`container states (integration${skipReason})`, () => {
  let env: HullEnv;

  beforeAll(async () => {
    env = new HullEnv();
    await env.loadBusybox();
  });

  afterAll(() => env.destroy());

  const status = (name: string) => env.cli(['inspect', '-f', '{{.State.Status}} {{.State.Running}} {{.State.Paused}}', name]).stdout.trim();
  const ps = (...args: string[]) =>
    env
      .cli(['ps', '-q', '--no-trunc', ...args])
      .stdout.trim()
      .split('\n')
      .filter(Boolean);

  it('pause makes a container paused for ps --filter status=paused, inspect and the verbs; unpause, stop and rm follow the table', () => {
    const id = env.cli(['run', '-d', '--network', 'none', '--name', 'st', 'busybox', 'sleep', '300']).stdout.trim();
    expect(status('st')).toBe('running true false');
    expect(ps('--filter', 'status=paused')).toEqual([]);
    expect(env.cli(['pause', 'st']).code).toBe(0);
    expect(status('st')).toBe('paused true true');
    expect(ps('--filter', 'status=paused')).toEqual([id]);
    expect(ps('--filter', 'status=running')).toEqual([]);
    expect(ps()).toEqual([id]); // live: shown without -a
    expect(env.cli(['ps', '--format', '{{.Status}}']).stdout).toMatch(/^Up .* \(Paused\)\n$/);
    expect(env.cli(['pause', 'st']).stderr).toBe('hull: container st is already paused\n');
    expect(env.cli(['exec', 'st', 'true']).stderr).toMatch(/is paused, unpause the container before exec/);
    expect(env.cli(['start', '-a', 'st']).stderr).toBe('hull: cannot start a paused container, try unpause instead\n');
    expect(env.cli(['rm', 'st']).stderr).toMatch(/container is paused: unpause and stop the container before removing it or force remove/);
    expect(env.cli(['unpause', 'st']).code).toBe(0);
    expect(env.cli(['unpause', 'st']).stderr).toBe('hull: container st is not paused\n');
    expect(status('st')).toBe('running true false');
    expect(env.cli(['stop', '-t', '1', 'st']).code).toBe(0);
    expect(status('st')).toMatch(/^exited false false$/);
    expect(ps('--filter', 'status=exited')).toEqual([id]);
    expect(env.cli(['stop', 'st']).code).toBe(0); // nothing to do: as Docker's
    expect(env.cli(['kill', 'st']).stderr).toBe('hull: container st is not running\n');
    expect(env.cli(['pause', 'st']).stderr).toBe('hull: container st is not running\n');
    expect(env.cli(['rm', 'st']).code).toBe(0);
    expect(env.leftovers()).toEqual([]);
  });
});
