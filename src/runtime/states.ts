/**
 * A container's states and what each verb may do in each, in one table with Docker's messages for
 * what it may not. Every verb asks here (under the container's lock when it then acts), and `ps
 * --filter status=` matches these names.
 *
 *   created      made, never started (or its start never began)
 *   running      its first process runs
 *   paused       running, every process frozen (cgroup.freeze)
 *   restarting   ended, its monitor starts it again after the policy's back-off
 *   exited       ended
 *   dead         Docker's state for a container it could not remove; hull finishes removals
 *                instead (see `removing`), so none is ever dead — the name is known to filters
 *   removing     its removal began (a tombstone) and whoever meets it next finishes it
 */
import { ConflictError } from '../errors.js';
import type { ContainerState } from './container-store.js';

export const CONTAINER_STATUSES = ['created', 'running', 'paused', 'restarting', 'exited', 'dead', 'removing'] as const;
export type ContainerStatusName = (typeof CONTAINER_STATUSES)[number];

/** A container's state as Docker names it: the recorded one, paused when its cgroup is frozen. */
export function statusOf(state: Pick<ContainerState, 'status'>, frozen: boolean): ContainerStatusName {
  if (state.status === 'running' && frozen) return 'paused';
  return state.status;
}

/** A record's state as Docker names it (`paused` is derived when the record is read). */
export function statusOfRecord(record: { state: Pick<ContainerState, 'status' | 'paused'> }): ContainerStatusName {
  return statusOf(record.state, record.state.paused === true);
}

/** Whether the container's first process is alive (paused included), as Docker's `State.Running`. */
export function isLive(status: ContainerStatusName): boolean {
  return status === 'running' || status === 'paused' || status === 'restarting';
}

export const VERBS = [
  'start',
  'stop',
  'restart',
  'kill',
  'pause',
  'unpause',
  'exec',
  'attach',
  'remove',
  'forceRemove',
  'rename',
  'update',
  'copy',
  'top',
] as const;
export type Verb = (typeof VERBS)[number];

/** What a verb does in a state: act, do nothing (Docker's 304: already so), or refuse with a message. */
export type Outcome = 'act' | 'nothing' | ((name: string) => string);

const notRunning = (name: string) => `container ${name} is not running`;
const restarting = (name: string) => `container ${name} is restarting, wait until the container is running`;
const removing = (name: string) => `removal of container ${name} is already in progress`;

/** verb × state → outcome. A state a verb does not name is refused as `notRunning`. */
const TABLE: Readonly<Record<Verb, Partial<Record<ContainerStatusName, Outcome>>>> = {
  start: {
    created: 'act',
    exited: 'act',
    running: 'nothing',
    restarting: 'nothing',
    paused: () => 'cannot start a paused container, try unpause instead',
    dead: (n) => `cannot start container ${n}: it is dead`,
    removing: () => 'container is marked for removal and cannot be started',
  },
  stop: { running: 'act', paused: 'act', restarting: 'act', created: 'nothing', exited: 'nothing', dead: 'nothing', removing: removing },
  restart: {
    created: 'act',
    running: 'act',
    paused: 'act',
    restarting: 'act',
    exited: 'act',
    dead: (n) => `cannot restart container ${n}: it is dead`,
    removing: removing,
  },
  kill: { running: 'act', paused: 'act', restarting: 'act', removing: removing },
  pause: { running: 'act', paused: (n) => `container ${n} is already paused`, restarting: restarting },
  unpause: {
    paused: 'act',
    running: (n) => `container ${n} is not paused`,
    restarting: (n) => `container ${n} is not paused`,
    created: (n) => `container ${n} is not paused`,
    exited: (n) => `container ${n} is not paused`,
  },
  exec: { running: 'act', paused: (n) => `container ${n} is paused, unpause the container before exec`, restarting: restarting },
  attach: {
    running: 'act',
    paused: () => 'you cannot attach to a paused container, unpause it first',
    restarting: 'act',
    created: () => 'you cannot attach to a stopped container, start it first',
    exited: () => 'you cannot attach to a stopped container, start it first',
    dead: () => 'you cannot attach to a stopped container, start it first',
  },
  remove: {
    created: 'act',
    exited: 'act',
    dead: 'act',
    removing: 'act',
    running: (n) => `cannot remove container ${n}: container is running: stop the container before removing it or force remove (rm -f)`,
    paused: (n) => `cannot remove container ${n}: container is paused: unpause and stop the container before removing it or force remove (rm -f)`,
    restarting: (n) => `cannot remove container ${n}: container is restarting: stop the container before removing it or force remove (rm -f)`,
  },
  forceRemove: { created: 'act', running: 'act', paused: 'act', restarting: 'act', exited: 'act', dead: 'act', removing: 'act' },
  rename: { created: 'act', running: 'act', paused: 'act', restarting: 'act', exited: 'act', dead: 'act', removing: removing },
  update: { created: 'act', running: 'act', paused: 'act', restarting: 'act', exited: 'act', removing: removing },
  copy: { running: 'act', paused: 'act', restarting: restarting, created: 'act', exited: 'act', dead: 'act', removing: removing },
  top: { running: 'act', paused: 'act', restarting: restarting },
};

/** The outcome of `verb` for a container in `status` (the table above). */
export function outcomeOf(verb: Verb, status: ContainerStatusName): Outcome {
  return TABLE[verb][status] ?? notRunning;
}

/**
 * Whether `verb` acts on the container `name` in `status`: true to act, false when there is nothing
 * to do; a ConflictError with Docker's message when the verb may not.
 */
export function mayAct(verb: Verb, status: ContainerStatusName, name: string): boolean {
  const outcome = outcomeOf(verb, status);
  if (outcome === 'act') return true;
  if (outcome === 'nothing') return false;
  throw new ConflictError(outcome(name));
}
