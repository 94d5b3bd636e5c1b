// A container joins another's UTS namespace by annotation (src/runtime/namespaces.ts), as pods'
// containers join their infra container's: the spec keeps the hostname (for /etc/hostname and
// $HOSTNAME), and at start the namespace is the donor's running process's.
import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../../src/errors.js';
import { ANNOTATION_JOIN, applyNamespaces, joinContainers } from '../../../src/runtime/namespaces.js';
import type { ContainerRecord } from '../../../src/runtime/container-store.js';
import type { RuntimeSpec } from '../../../src/runtime/spec.js';

const spec = (): RuntimeSpec =>
  ({
    hostname: 'podhost',
    mounts: [],
    linux: { namespaces: [{ type: 'pid' }, { type: 'uts' }, { type: 'ipc' }, { type: 'mount' }] },
  }) as unknown as RuntimeSpec;

describe('UTS container mode', () => {
  it('names the donor by id in an annotation and keeps the hostname', async () => {
    const s = spec();
    await applyNamespaces(s, { uts: { mode: 'container', container: 'infra' } }, async () => 'f'.repeat(64), true);
    expect(s.annotations?.[ANNOTATION_JOIN('uts')]).toBe('f'.repeat(64));
    expect(s.hostname).toBe('podhost');
  });

  it("joins the donor's running process's namespace at start, and refuses a donor that is not running", async () => {
    const s = spec();
    await applyNamespaces(s, { uts: { mode: 'container', container: 'infra' } }, async () => 'f'.repeat(64), false);
    const donor = { state: { status: 'running', pid: 4242 } } as unknown as ContainerRecord;
    joinContainers(
      s,
      () => donor,
      () => '',
    );
    expect(s.linux.namespaces.find((n) => n.type === 'uts')).toEqual({ type: 'uts', path: '/proc/4242/ns/uts' });
    const stopped = { state: { status: 'exited' } } as unknown as ContainerRecord;
    expect(() =>
      joinContainers(
        spec0(),
        () => stopped,
        () => '',
      ),
    ).toThrow(ConflictError);
    function spec0(): RuntimeSpec {
      const t = spec();
      t.annotations = { [ANNOTATION_JOIN('uts')]: 'f'.repeat(64) };
      return t;
    }
  });
});
