/**
 * The container's console (`-t`): the pty master that the container's first process sent back.
 * Relayed to hull's own terminal (raw mode while attached, window size followed on SIGWINCH), or
 * exposed as a stream for library callers.
 */
import tty from 'node:tty';
import { sys } from '../native/index.js';

export interface TerminalOptions {
  /** Copy the console to hull's stdout, and hull's stdin to the console when `interactive`. */
  relayToHost: boolean;
  interactive: boolean;
}

export class Terminal {
  /** Reads what the container writes; writes go to its terminal input. */
  readonly stream: tty.ReadStream;
  private readonly fd: number;
  private readonly done: Promise<void>;
  private readonly restore: (() => void)[] = [];

  constructor(fd: number, opts: TerminalOptions) {
    this.fd = fd;
    this.stream = new tty.ReadStream(fd);
    this.done = new Promise((resolve) => {
      this.stream.once('close', () => resolve());
      // EIO is how a pty master reports that the last slave fd has closed: the normal end.
      this.stream.on('error', () => this.stream.destroy());
    });
    if (!opts.relayToHost) return;
    this.stream.pipe(process.stdout, { end: false });
    if (opts.interactive) {
      if (process.stdin.isTTY) {
        process.stdin.setRawMode(true);
        this.restore.push(() => process.stdin.setRawMode(false));
      }
      const forward = (chunk: Buffer) => this.stream.write(chunk);
      process.stdin.on('data', forward);
      process.stdin.resume();
      this.restore.push(() => {
        process.stdin.off('data', forward);
        process.stdin.pause();
      });
    }
    if (process.stdout.isTTY) {
      const onResize = () => this.resize(process.stdout.rows, process.stdout.columns);
      process.stdout.on('resize', onResize);
      this.restore.push(() => process.stdout.off('resize', onResize));
    }
  }

  resize(rows: number, cols: number): void {
    if (this.stream.destroyed) return;
    sys.setWindowSize(this.fd, rows, cols);
  }

  /** Resolves when the console has closed (the container's side is gone); restores hull's terminal. */
  async closed(): Promise<void> {
    await this.done;
    for (const undo of this.restore.splice(0)) undo();
  }
}
