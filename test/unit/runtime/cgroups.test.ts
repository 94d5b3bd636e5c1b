import { describe, expect, it } from 'vitest';
import { findCgroup2Mount } from '../../../src/runtime/cgroups.js';
import { containerResolvConf } from '../../../src/runtime/runtime.js';

describe('findCgroup2Mount', () => {
  it("finds a hybrid host's unified mount", () => {
    const mountinfo = [
      '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
      '32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
      '41 31 0:38 / /sys/fs/cgroup/unified rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate',
    ].join('\n');
    expect(findCgroup2Mount(mountinfo)).toBe('/sys/fs/cgroup/unified');
  });
  it("finds a unified host's mount, and decodes octal escapes", () => {
    expect(findCgroup2Mount('29 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n')).toBe('/sys/fs/cgroup');
    expect(findCgroup2Mount('29 23 0:26 / /mnt/with\\040space rw - cgroup2 none rw\n')).toBe('/mnt/with space');
  });
  it('says undefined on a v1-only host', () => {
    expect(findCgroup2Mount('32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n')).toBeUndefined();
  });
});

describe('containerResolvConf', () => {
  it('drops loopback nameservers the container cannot reach', () => {
    expect(containerResolvConf('search lan\nnameserver 127.0.0.53\nnameserver 10.0.0.1\n')).toBe('search lan\nnameserver 10.0.0.1\n');
  });
  it('falls back to public resolvers when none is left', () => {
    expect(containerResolvConf('nameserver 127.0.0.1\n')).toContain('nameserver 8.8.8.8');
  });
});
