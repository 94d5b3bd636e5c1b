// Docker's check before a copy writes into a container (src/runtime/container-root.ts refuseReadOnly,
// moby's checkIfPathIsInAVolume): the deepest mount that holds the directory decides, else the rootfs.
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { refuseReadOnly } from '../../../src/runtime/container-root.js';
import type { MountPoint } from '../../../src/volume/resolve.js';

const mount = (Destination: string, RW: boolean, Type: MountPoint['Type'] = 'volume'): MountPoint => ({
  Type,
  Source: '/x',
  Destination,
  Mode: '',
  RW,
  Propagation: '',
});

function outcome(readonly: boolean, mounts: MountPoint[], dir: string): string {
  try {
    refuseReadOnly({ root: { path: '/r', readonly } }, { mounts }, dir);
    return 'ok';
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
}

describe('refuseReadOnly', () => {
  const mounts = [mount('/data', true), mount('/data/ro', false), mount('/scratch', true, 'tmpfs'), mount('/cfg', false, 'bind')];

  it("a writable rootfs takes writes outside the mounts; a read-only one refuses them with Docker's message", () => {
    expect(outcome(false, mounts, '/etc')).toBe('ok');
    expect(outcome(true, mounts, '/etc')).toBe('container rootfs is marked read-only');
    expect(outcome(true, [], '/')).toBe('container rootfs is marked read-only');
  });

  it('in a mount (at its destination or below it) the deepest mount decides, whatever the rootfs is', () => {
    expect(outcome(true, mounts, '/data')).toBe('ok');
    expect(outcome(true, mounts, '/data/sub/deeper')).toBe('ok');
    expect(outcome(false, mounts, '/data/ro')).toBe('mounted volume is marked read-only');
    expect(outcome(false, mounts, '/data/ro/x')).toBe('mounted volume is marked read-only');
    expect(outcome(false, mounts, '/cfg/app')).toBe('mounted volume is marked read-only');
    expect(outcome(true, mounts, '/scratch/tmp')).toBe('ok');
  });

  it('a name that only begins like a mount is not in it', () => {
    expect(outcome(true, mounts, '/database')).toBe('container rootfs is marked read-only');
    expect(outcome(false, mounts, '/data/roster')).toBe('ok');
  });
});
