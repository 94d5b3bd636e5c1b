/**
 * `--rm` (`HostConfig.AutoRemove`) containers that this server started are removed by the server
 * itself, in-process, as soon as their `die` is in the events log, as Docker's daemon does. Their
 * monitor's exit command (`hull rm -f -v ID`, a new Node process: ~100 ms of start-up on the
 * path of every `docker run --rm`, which waits for `condition=removed`) stays as the fallback for
 * a server that is gone by then; the removal here kills that process when it has not finished yet
 * (it is the monitor's, by pid and start time), and is under the container's lock like any `rm`.
 *
 * One events follower serves every such container, open only while there are some (it wakes on
 * inotify, never on a timer).
 */
import { readEvents } from '../events/follow.js';
import type { Hull } from '../hull.js';

export class AutoRemovals {
  private readonly watched = new Set<string>();
  private stop: AbortController | undefined;

  constructor(private readonly hull: Hull) {}

  /** Called before the container's start: its die cannot come before the follower has the log open. */
  watch(id: string): void {
    this.watched.add(id);
    if (this.stop === undefined) this.follow();
  }

  /** Its start failed (no die will come), or it has gone another way. */
  forget(id: string): void {
    this.watched.delete(id);
    if (this.watched.size === 0) {
      this.stop?.abort();
      this.stop = undefined;
    }
  }

  close(): void {
    this.watched.clear();
    this.stop?.abort();
    this.stop = undefined;
  }

  private follow(): void {
    const stop = new AbortController();
    this.stop = stop;
    const events = readEvents(this.hull.paths.runRoot, {
      signal: stop.signal,
      filter: (ev) => ev.Type === 'container' && (ev.Action === 'die' || ev.Action === 'destroy') && this.watched.has(ev.Actor.ID),
    });
    // The generator runs up to its first wait here, synchronously: the log is open (at its end) before any start.
    const first = events.next();
    void (async () => {
      for (let ev = await first; !ev.done; ev = await events.next()) {
        const id = ev.value.Actor.ID;
        this.forget(id);
        // A removal that fails (or finds it gone: the exit command was first) leaves what the next command finishes.
        // Not awaited: twenty containers that end together are removed together.
        if (ev.value.Action === 'die') void this.hull.removeContainer(id, { force: true, volumes: true }).catch(() => undefined);
      }
    })().catch(() => undefined);
  }
}
