/**
 * Pull and push progress as Docker prints it: on a terminal one line per layer, redrawn in place
 * (`a1b2c3d4e5f6: Downloading [=====>      ]  12.3MB/50.1MB`); otherwise one plain line each
 * time a layer's status changes. Nothing is drawn more than every 100 ms.
 */

import { familiar } from '../image/reference.js';
import type { PullEvent, PushEvent } from '../registry/index.js';

function human(n: number): string {
  if (n < 1000) return `${n}B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1000;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)}${units[i]}`;
}

export function progressBar(current: number, total: number, width = 50): string {
  if (total <= 0) return human(current);
  const filled = Math.min(width, Math.floor((current / total) * width));
  const bar = filled >= width ? '='.repeat(width) : `${'='.repeat(filled)}>${' '.repeat(width - filled - 1)}`;
  return `[${bar}] ${human(current).padStart(7)}/${human(total)}`;
}

interface Line {
  id: string;
  text: string;
  /** The status word, for plain output (printed only when it changes). */
  status: string;
}

class LayerLines {
  private readonly lines: Line[] = [];
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;
  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly tty: boolean,
  ) {}

  status(id: string): string | undefined {
    return this.lines.find((l) => l.id === id)?.status;
  }

  set(id: string, status: string, detail = ''): void {
    let line = this.lines.find((l) => l.id === id);
    if (!line) {
      line = { id, text: '', status: '' };
      this.lines.push(line);
    }
    const changed = line.status !== status;
    line.status = status;
    line.text = `${id}: ${status}${detail ? ` ${detail}` : ''}`;
    if (!this.tty) {
      if (changed) this.out.write(`${line.text}\n`);
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.draw();
    }, 100);
  }

  draw(): void {
    if (!this.tty) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    let s = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    for (const l of this.lines) s += `\x1b[2K${l.text}\n`;
    this.drawn = this.lines.length;
    this.out.write(s);
  }
}

/** A progress callback for a pull; `announceMissing` prints Docker's "Unable to find image" first (run/create). */
export function pullProgress(out: NodeJS.WriteStream, options: { announceMissing?: string } = {}): (e: PullEvent) => void {
  const lines = new LayerLines(out, out.isTTY);
  return (e) => {
    if (e.type === 'resolved') {
      if (options.announceMissing) out.write(`Unable to find image '${options.announceMissing}' locally\n`);
      const at = e.reference.lastIndexOf(':');
      const slash = e.reference.indexOf('/');
      const tag = e.reference.includes('@') ? e.reference.slice(e.reference.indexOf('@') + 1) : e.reference.slice(at + 1);
      const repo = e.reference.slice(slash + 1, e.reference.includes('@') ? e.reference.indexOf('@') : at);
      out.write(`${tag}: Pulling from ${repo}\n`);
    } else if (e.type === 'layer') {
      if (e.status === 'waiting') lines.set(e.id, 'Pulling fs layer');
      else if (e.status === 'exists') lines.set(e.id, 'Already exists');
      else if (e.status === 'downloading') lines.set(e.id, 'Downloading', progressBar(e.current ?? 0, e.total ?? 0));
      else if (e.status === 'retrying') lines.set(e.id, 'Retrying', e.message ? `(${e.message})` : '');
      else if (lines.status(e.id) !== 'Already exists') lines.set(e.id, 'Pull complete');
    } else {
      lines.draw();
      out.write(`Digest: ${e.digest}\n`);
      out.write(`Status: ${e.upToDate ? 'Image is up to date for' : 'Downloaded newer image for'} ${familiar(e.reference)}\n`);
    }
  };
}

export function pushProgress(out: NodeJS.WriteStream): (e: PushEvent) => void {
  const lines = new LayerLines(out, out.isTTY);
  return (e) => {
    if (e.type === 'start') out.write(`The push refers to repository [${e.repository}]\n`);
    else if (e.type === 'layer') {
      if (e.status === 'waiting') lines.set(e.id, 'Preparing');
      else if (e.status === 'pushing') lines.set(e.id, 'Pushing', progressBar(e.current ?? 0, e.total ?? 0));
      else if (e.status === 'exists') lines.set(e.id, 'Layer already exists');
      else if (e.status === 'mounted') lines.set(e.id, `Mounted from ${e.from ?? 'another repository'}`);
      else lines.set(e.id, 'Pushed');
    } else {
      lines.draw();
      out.write(`${e.tag}: digest: ${e.digest} size: ${e.size}\n`);
    }
  };
}
