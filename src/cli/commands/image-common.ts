/**
 * Shared by the image verbs: Docker's exit status 1 for a failed item (`rmi a b` goes on after
 * a fails, then exits 1), and the y/N prompt of the prune verbs.
 */
import type { Command } from 'commander';
import { HullError, TemplateError } from '../../errors.js';

/** Prints `hull: <message>` and marks the command failed (exit 1, as docker's image verbs; 64 for an inspect template that does not parse). */
export function reportItemError(err: unknown): void {
  if (!(err instanceof HullError)) throw err;
  process.stderr.write(`hull: ${err.message}\n`);
  process.exitCode = err instanceof TemplateError ? err.exitCode : 1;
}

/** Runs `fn`, turning a HullError into Docker's exit status 1. */
export async function exitOneOnError(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    reportItemError(err);
  }
}

/** Asks on stdout, reads one line from stdin; true for y/yes. EOF is no. */
export async function confirm(question: string): Promise<boolean> {
  process.stdout.write(`${question} [y/N] `);
  const answer = await new Promise<string>((resolve) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (text.includes('\n')) done();
    };
    const done = () => {
      process.stdin.off('data', onData);
      process.stdin.off('end', done);
      process.stdin.pause();
      resolve(text.split('\n')[0] ?? '');
    };
    process.stdin.on('data', onData);
    process.stdin.on('end', done);
    process.stdin.resume();
  });
  if (!process.stdin.isTTY && !answer.endsWith('\n')) process.stdout.write('\n');
  return /^\s*y(es)?\s*$/i.test(answer);
}

/** Adds the same verb to the top level and to a group (`rmi` and `image rm`). */
export function twice(program: Command, group: Command, top: string, sub: string, define: (c: Command) => void): void {
  define(program.command(top));
  define(group.command(sub));
}
