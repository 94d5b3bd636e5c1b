// --security-opt and --device (src/options/security.ts, devices.ts): Docker's syntax → typed values; no files but the profile read.
import { describe, expect, it } from 'vitest';
import { parseDevice } from '../../../src/options/devices.js';
import { parseSecurityOpts } from '../../../src/options/security.js';
import { refused } from './refused.js';

describe('--security-opt', () => {
  it("no-new-privileges with or without a value, and Docker's colon form; nothing given: nothing set", () => {
    expect(parseSecurityOpts([])).toEqual({});
    expect(parseSecurityOpts(['no-new-privileges'])).toEqual({ noNewPrivileges: true });
    expect(parseSecurityOpts(['no-new-privileges=false'])).toEqual({ noNewPrivileges: false });
    expect(parseSecurityOpts(['no-new-privileges:true'])).toEqual({ noNewPrivileges: true });
    expect(parseSecurityOpts(['no-new-privileges', 'no-new-privileges=false'])).toEqual({ noNewPrivileges: false }); // the last wins
    expect(refused(() => parseSecurityOpts(['no-new-privileges=maybe']))).toBe(
      'invalid --security-opt no-new-privileges=maybe: no-new-privileges takes true or false',
    );
  });

  it("seccomp=unconfined, seccomp=FILE (read at the edge), and the API's inline profile", () => {
    expect(parseSecurityOpts(['seccomp=unconfined'])).toEqual({ seccomp: 'unconfined' });
    expect(parseSecurityOpts(['seccomp:unconfined'])).toEqual({ seccomp: 'unconfined' });
    const files: Record<string, string> = { '/p.json': '{"defaultAction":"SCMP_ACT_ALLOW"}' };
    const read = (p: string) => {
      const text = files[p];
      if (text === undefined) throw new Error('ENOENT');
      return text;
    };
    expect(parseSecurityOpts(['seccomp=/p.json'], read).seccomp).toEqual({ defaultAction: 'SCMP_ACT_ALLOW' });
    expect(parseSecurityOpts(['seccomp={"defaultAction":"SCMP_ACT_LOG"}'], (text) => text).seccomp).toEqual({ defaultAction: 'SCMP_ACT_LOG' });
    expect(refused(() => parseSecurityOpts(['seccomp=/missing.json'], read))).toBe('opening seccomp profile (/missing.json) failed: ENOENT');
  });

  it('refuses unknown options, an empty seccomp, and AppArmor/SELinux labels hull does not have', () => {
    expect(refused(() => parseSecurityOpts(['fly=yes']))).toBe(
      'invalid --security-opt: "fly=yes" (hull knows no-new-privileges and seccomp=PROFILE|unconfined)',
    );
    expect(refused(() => parseSecurityOpts(['seccomp=']))).toMatch(/^invalid --security-opt: "seccomp="/);
    expect(refused(() => parseSecurityOpts(['apparmor=unconfined']))).toBe('--security-opt apparmor: hull has no AppArmor support');
    expect(refused(() => parseSecurityOpts(['label=disable']))).toBe('--security-opt label: hull has no SELinux support');
  });
});

describe('--device HOST[:CONTAINER][:PERMISSIONS]', () => {
  it('HOST, HOST:CTR, HOST:rwm, HOST:CTR:rw (nothing looked up on the host here)', () => {
    expect(parseDevice('/dev/null')).toEqual({ hostPath: '/dev/null', containerPath: '/dev/null', permissions: 'rwm' });
    expect(parseDevice('/dev/zero:/dev/nothing')).toEqual({ hostPath: '/dev/zero', containerPath: '/dev/nothing', permissions: 'rwm' });
    expect(parseDevice('/dev/zero:r')).toEqual({ hostPath: '/dev/zero', containerPath: '/dev/zero', permissions: 'r' });
    expect(parseDevice('/dev/full:/dev/f:rw')).toEqual({ hostPath: '/dev/full', containerPath: '/dev/f', permissions: 'rw' });
    expect(parseDevice('/dev/full:/dev/a/../f/:m')).toEqual({ hostPath: '/dev/full', containerPath: '/dev/f/', permissions: 'm' });
    expect(parseDevice('/no/such/dev').hostPath).toBe('/no/such/dev');
  });

  it('refuses relative paths, bad modes and too many fields', () => {
    expect(refused(() => parseDevice('/dev/null:/x:rwz'))).toBe('invalid device mode: rwz');
    expect(refused(() => parseDevice('/dev/null:/x:'))).toBe('invalid device mode: ');
    expect(refused(() => parseDevice('/dev/null:/x:rwmr'))).toBe('invalid device mode: rwmr');
    expect(refused(() => parseDevice('dev/null'))).toBe('invalid device specification: dev/null (paths must be absolute)');
    expect(refused(() => parseDevice('/dev/null:x'))).toBe('invalid device specification: /dev/null:x (paths must be absolute)');
    expect(refused(() => parseDevice('/a:/b:r:x'))).toBe('invalid device specification: /a:/b:r:x');
  });
});
