/**
 * `--security-opt` values (Docker's HostConfig.SecurityOpt strings, also in Docker's `key:value`
 * spelling): no-new-privileges[=true|false], seccomp=PROFILE|unconfined. A profile is read here,
 * at the edge: the CLI gives a file name (`readProfile` reads it); the Engine API gives the
 * profile's JSON itself (`readProfile` returns it as it is).
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { parseDockerProfile } from '../runtime/seccomp/profile.js';
import type { SecurityOptions } from '../runtime/security.js';

/** What `--security-opt` sets of a container's SecurityOptions. */
export type SecurityOpts = Pick<SecurityOptions, 'noNewPrivileges' | 'seccomp'>;

export function parseSecurityOpts(opts: readonly string[], readProfile: (p: string) => string = (p) => readFileSync(p, 'utf8')): SecurityOpts {
  const out: SecurityOpts = {};
  for (const opt of opts) {
    const m = /^([a-z-]+)(?:[=:](.*))?$/s.exec(opt);
    const key = m?.[1];
    const value = m?.[2];
    if (key === 'no-new-privileges') {
      if (value === undefined || value === 'true') out.noNewPrivileges = true;
      else if (value === 'false') out.noNewPrivileges = false;
      else throw new UsageError(`invalid --security-opt ${opt}: no-new-privileges takes true or false`);
    } else if (key === 'seccomp' && value !== undefined && value !== '') {
      if (value === 'unconfined') {
        out.seccomp = 'unconfined';
      } else {
        let text: string;
        try {
          text = readProfile(value);
        } catch (err) {
          throw new UsageError(`opening seccomp profile (${value}) failed: ${(err as Error).message}`);
        }
        out.seccomp = parseDockerProfile(text, value);
      }
    } else if ((key === 'apparmor' || key === 'label') && value !== undefined) {
      throw new UsageError(`--security-opt ${key}: hull has no ${key === 'apparmor' ? 'AppArmor' : 'SELinux'} support`);
    } else {
      throw new UsageError(`invalid --security-opt: ${JSON.stringify(opt)} (hull knows no-new-privileges and seccomp=PROFILE|unconfined)`);
    }
  }
  return out;
}
