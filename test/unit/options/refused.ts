import { expect } from 'vitest';
import { UsageError } from '../../../src/errors.js';

/** The UsageError's message (fails when nothing, or something else, is thrown): exit code 125, as Docker's. */
export function refused(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(125);
    return (err as Error).message;
  }
  throw new Error('no error thrown');
}
