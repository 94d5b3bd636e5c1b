/**
 * hull-runc's log, as runc keeps it (containerd's shim reads it after a failure): `--log FILE`
 * appends one line per message, as text (`time="…" level=error msg="…"`, logrus's format) or JSON
 * (`{"level":"error","msg":"…","time":"…"}`, RFC 3339 time). Without `--log` the lines go to stderr;
 * with it, an error's message is also printed alone on stderr.
 */
import { appendFileSync } from 'node:fs';

export type LogFormat = 'text' | 'json';
export type LogLevel = 'debug' | 'info' | 'warning' | 'error';

export class RuncLog {
  constructor(
    private readonly file: string | undefined,
    private readonly format: LogFormat,
    private readonly debugEnabled: boolean,
  ) {}

  /** A line in the log (and, with --log, an error's message on stderr too). */
  write(level: LogLevel, msg: string): void {
    if (level === 'debug' && !this.debugEnabled) return;
    const time = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const line = this.format === 'json' ? `${JSON.stringify({ level, msg, time })}\n` : `time="${time}" level=${level} msg=${JSON.stringify(msg)}\n`;
    if (this.file === undefined || this.file === '') {
      process.stderr.write(line);
      return;
    }
    try {
      appendFileSync(this.file, line, { mode: 0o600 });
    } catch {
      process.stderr.write(line); // an unwritable log: the message still reaches someone
    }
    if (level === 'error') process.stderr.write(`${msg}\n`);
  }

  error(msg: string): void {
    this.write('error', msg);
  }

  warning(msg: string): void {
    this.write('warning', msg);
  }
}
