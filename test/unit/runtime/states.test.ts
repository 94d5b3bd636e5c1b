// The container states and the verb × state table (src/runtime/states.ts): every cell, with
// Docker's message where a verb may not act, and the status filter's names.
import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../../src/errors.js';
import {
  CONTAINER_STATUSES,
  type ContainerStatusName,
  VERBS,
  type Verb,
  isLive,
  mayAct,
  outcomeOf,
  statusOf,
  statusOfRecord,
} from '../../../src/runtime/states.js';
import { parseContainerFilters, parseFilterFlags, selectContainers } from '../../../src/filters/index.js';
import type { ContainerRecord } from '../../../src/runtime/container-store.js';

/** The whole table as text: act, nothing, or the message for a container named c1. */
function cell(verb: Verb, status: ContainerStatusName): string {
  const o = outcomeOf(verb, status);
  return typeof o === 'function' ? o('c1') : o;
}

describe('container states', () => {
  it('names the state as Docker does: paused is a running container whose cgroup is frozen', () => {
    expect(statusOf({ status: 'running' }, true)).toBe('paused');
    expect(statusOf({ status: 'running' }, false)).toBe('running');
    expect(statusOf({ status: 'exited' }, true)).toBe('exited');
    expect(statusOfRecord({ state: { status: 'running', paused: true } })).toBe('paused');
    expect(CONTAINER_STATUSES.filter(isLive)).toEqual(['running', 'paused', 'restarting']);
  });

  it('the verb × state table, every cell', () => {
    const table = Object.fromEntries(VERBS.map((v) => [v, Object.fromEntries(CONTAINER_STATUSES.map((s) => [s, cell(v, s)]))]));
    const notRunning = 'container c1 is not running';
    const restarting = 'container c1 is restarting, wait until the container is running';
    const removing = 'removal of container c1 is already in progress';
    const stopped = 'you cannot attach to a stopped container, start it first';
    expect(table).toEqual({
      start: {
        created: 'act',
        running: 'nothing',
        paused: 'cannot start a paused container, try unpause instead',
        restarting: 'nothing',
        exited: 'act',
        dead: 'cannot start container c1: it is dead',
        removing: 'container is marked for removal and cannot be started',
      },
      stop: { created: 'nothing', running: 'act', paused: 'act', restarting: 'act', exited: 'nothing', dead: 'nothing', removing },
      restart: { created: 'act', running: 'act', paused: 'act', restarting: 'act', exited: 'act', dead: 'cannot restart container c1: it is dead', removing },
      kill: { created: notRunning, running: 'act', paused: 'act', restarting: 'act', exited: notRunning, dead: notRunning, removing },
      pause: {
        created: notRunning,
        running: 'act',
        paused: 'container c1 is already paused',
        restarting,
        exited: notRunning,
        dead: notRunning,
        removing: notRunning,
      },
      unpause: {
        created: 'container c1 is not paused',
        running: 'container c1 is not paused',
        paused: 'act',
        restarting: 'container c1 is not paused',
        exited: 'container c1 is not paused',
        dead: notRunning,
        removing: notRunning,
      },
      exec: {
        created: notRunning,
        running: 'act',
        paused: 'container c1 is paused, unpause the container before exec',
        restarting,
        exited: notRunning,
        dead: notRunning,
        removing: notRunning,
      },
      attach: {
        created: stopped,
        running: 'act',
        paused: 'you cannot attach to a paused container, unpause it first',
        restarting: 'act',
        exited: stopped,
        dead: stopped,
        removing: notRunning,
      },
      remove: {
        created: 'act',
        exited: 'act',
        dead: 'act',
        removing: 'act',
        running: 'cannot remove container c1: container is running: stop the container before removing it or force remove (rm -f)',
        paused: 'cannot remove container c1: container is paused: unpause and stop the container before removing it or force remove (rm -f)',
        restarting: 'cannot remove container c1: container is restarting: stop the container before removing it or force remove (rm -f)',
      },
      forceRemove: { created: 'act', running: 'act', paused: 'act', restarting: 'act', exited: 'act', dead: 'act', removing: 'act' },
      rename: { created: 'act', running: 'act', paused: 'act', restarting: 'act', exited: 'act', dead: 'act', removing },
      update: { created: 'act', running: 'act', paused: 'act', restarting: 'act', exited: 'act', dead: notRunning, removing },
      copy: { created: 'act', running: 'act', paused: 'act', restarting, exited: 'act', dead: 'act', removing },
      top: { created: notRunning, running: 'act', paused: 'act', restarting, exited: notRunning, dead: notRunning, removing: notRunning },
    });
  });

  it('mayAct: true to act, false for nothing to do, a ConflictError with the message otherwise', () => {
    expect(mayAct('start', 'created', 'c1')).toBe(true);
    expect(mayAct('start', 'running', 'c1')).toBe(false);
    expect(() => mayAct('exec', 'paused', 'c1')).toThrow(ConflictError);
    expect(() => mayAct('exec', 'paused', 'c1')).toThrow('container c1 is paused, unpause the container before exec');
  });

  it('ps --filter status= matches the state names, paused included; ps without -a shows the live ones', () => {
    const record = (id: string, status: 'running' | 'exited' | 'created', paused = false) =>
      ({ id, name: id, created: id, state: { status, ...(paused ? { paused: true } : {}) } }) as unknown as ContainerRecord;
    const all = [record('a', 'running'), record('b', 'running', true), record('c', 'exited'), record('d', 'created')];
    const status = (s: string) => selectContainers(all, { filters: parseContainerFilters(parseFilterFlags([`status=${s}`])) }).map((r) => r.id);
    expect(status('paused')).toEqual(['b']);
    expect(status('running')).toEqual(['a']);
    expect(selectContainers(all, {}).map((r) => r.id)).toEqual(['a', 'b']);
    expect(() => parseContainerFilters(parseFilterFlags(['status=sleeping']))).toThrow("Invalid filter 'status=sleeping'");
  });
});
