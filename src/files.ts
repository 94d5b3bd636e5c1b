/**
 * Small synchronous reads and removals of hull's own state files, where "absent" is an answer and
 * not an error (a container or layer being removed meanwhile). Any other failure is a SystemError.
 */
import { readFileSync, readdirSync, unlinkSync } from 'node:fs';
import { fromNodeError } from './errors.js';

/** The entries of `dir`, or [] when it does not exist. */
export function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw fromNodeError(err, 'readdir', dir);
  }
}

/** The text of `file`, or undefined when it does not exist. */
export function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fromNodeError(err, 'read', file);
  }
}

/** Unlink `file`; one that is not there is already removed. (fs.rmSync's `force` does the same through a much longer path.) */
export function removeFile(file: string): void {
  try {
    unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fromNodeError(err, 'unlink', file);
  }
}
