import { type FSWatcher, watch } from 'node:fs';

/** The next change in a directory (fs.watch), as a promise; changes between two waits are not lost. */
export class DirectoryChanges {
  private readonly watcher: FSWatcher;
  private changed = false;
  private wake: (() => void) | undefined;

  /** `persistent`: the watch keeps the process alive (a follower with nothing else to wait on, as `hull events`). */
  constructor(dir: string, opts: { persistent?: boolean } = {}) {
    this.watcher = watch(dir, { persistent: opts.persistent ?? false }, () => {
      this.changed = true;
      this.wake?.();
    });
    this.watcher.on('error', () => this.wake?.()); // the directory went (a removed container): the followers' next read says so
  }

  async next(): Promise<void> {
    if (!this.changed) await new Promise<void>((resolve) => (this.wake = resolve));
    this.changed = false;
    this.wake = undefined;
  }

  close(): void {
    this.watcher.close();
    this.wake?.();
  }
}
