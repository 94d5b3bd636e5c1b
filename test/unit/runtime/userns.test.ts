import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { hostIdOf, idMappings, mapText, subordinateRange } from '../../../src/runtime/userns.js';

describe('user-namespace maps', () => {
  it("finds a user's first range by name or uid", () => {
    const text = 'alice:100000:65536\n1001:200000:1000\nalice:300000:10\n';
    expect(subordinateRange(text, 'alice', undefined, '/etc/subuid')).toEqual({ containerID: 0, hostID: 100000, size: 65536 });
    expect(subordinateRange(text, 'bob', 1001, '/etc/subuid')).toEqual({ containerID: 0, hostID: 200000, size: 1000 });
    expect(() => subordinateRange(text, 'carol', 7, '/etc/subuid')).toThrow(/no subordinate id range for 'carol' in \/etc\/subuid/);
  });

  it('--userns-remap reads subuid/subgid; --uidmap alone serves for gids too; none: no user namespace', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hull-userns-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const files = { subuid: path.join(dir, 'subuid'), subgid: path.join(dir, 'subgid'), passwd: path.join(dir, 'passwd'), group: path.join(dir, 'group') };
    writeFileSync(files.subuid, 'remap:165536:65536\n');
    writeFileSync(files.subgid, 'remap:265536:65536\n');
    writeFileSync(files.passwd, 'remap:x:999:999::/:/bin/false\n');
    writeFileSync(files.group, 'remap:x:999:\n');
    expect(idMappings({ usernsRemap: { user: 'remap' } }, files)).toEqual({
      uid: [{ containerID: 0, hostID: 165536, size: 65536 }],
      gid: [{ containerID: 0, hostID: 265536, size: 65536 }],
    });
    expect(
      idMappings(
        {
          uidMap: [
            { containerID: 0, hostID: 1000, size: 1 },
            { containerID: 1, hostID: 100000, size: 65535 },
          ],
        },
        files,
      )?.gid,
    ).toEqual([
      { containerID: 0, hostID: 1000, size: 1 },
      { containerID: 1, hostID: 100000, size: 65535 },
    ]);
    expect(idMappings({}, files)).toBeUndefined();
    expect(() => idMappings({ usernsRemap: { user: 'remap' }, uidMap: [{ containerID: 0, hostID: 1, size: 1 }] }, files)).toThrow(/cannot be combined/);
    expect(() => idMappings({ usernsRemap: { user: 'remap', group: 'nogroup' } }, files)).toThrow(/no subordinate id range for 'nogroup' in .*subgid/);
  });

  it("writes the kernel's map text and finds host ids", () => {
    const maps = [
      { containerID: 0, hostID: 1000, size: 1 },
      { containerID: 1, hostID: 100000, size: 65535 },
    ];
    expect(mapText(maps)).toBe('0 1000 1\n1 100000 65535\n');
    expect(hostIdOf(maps, 0)).toBe(1000);
    expect(hostIdOf(maps, 1000)).toBe(100999);
    expect(hostIdOf(maps, 70000)).toBeUndefined();
  });
});
