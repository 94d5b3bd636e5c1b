// The checks made before anything is created (src/runtime/validate.ts): names, hostnames and
// paths, each at its boundary, with Docker's messages where Docker has one. No root, no addon.
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import {
  HOST_NAME_MAX,
  NAME_MAX,
  PATH_MAX,
  isStorableName,
  shown,
  validateContainerName,
  validateCreateOptions,
  validateHostPath,
  validateHostname,
  validateMountTarget,
  validateNetworkName,
  validatePodName,
  validateVolumeName,
  validateWorkdir,
} from '../../../src/runtime/validate.js';

/** The UsageError's message (fails when nothing, or something else, is thrown). */
function refused(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(125);
    return (err as Error).message;
  }
  throw new Error('no error thrown');
}

describe("pod names (Podman's: [a-zA-Z0-9][a-zA-Z0-9_.-]*)", () => {
  it('takes one character and more, and refuses what Podman refuses', () => {
    for (const name of ['a', '7', 'web', 'My_pod.v2-1']) expect(() => validatePodName(name)).not.toThrow();
    for (const name of ['', '-a', '.a', 'a b', 'a/b', 'é'])
      expect(refused(() => validatePodName(name))).toMatch(/names must match \[a-zA-Z0-9\]\[a-zA-Z0-9_.-\]\*/);
    expect(refused(() => validatePodName('p'.repeat(NAME_MAX + 1)))).toMatch(/at most 255 characters/);
  });
});

describe('container names (Docker: ^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$)', () => {
  it('takes Docker\'s names and returns them without the leading "/"', () => {
    for (const name of ['web', 'a1', 'My_app.v2-1', '0x', 'db.internal', 'x_']) expect(validateContainerName(name)).toBe(name);
    expect(validateContainerName('/web')).toBe('web');
    expect(validateContainerName(`/${'n'.repeat(NAME_MAX)}`)).toBe('n'.repeat(NAME_MAX));
  });

  it("refuses other characters, a bad first character and one-character names, in Docker's words", () => {
    expect(refused(() => validateContainerName('bad!name'))).toBe('Invalid container name (bad!name), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed');
    for (const name of ['', '/', 'x', '/x', '_web', '.web', '-web', 'we b', 'we/b', '//web', 'web\n', 'wéb', '..']) {
      expect(refused(() => validateContainerName(name))).toBe(`Invalid container name (${shown(name)}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    }
  });

  it('bounds the length at NAME_MAX (a name is a file in the store), and never echoes a huge name whole', () => {
    expect(NAME_MAX).toBe(255);
    expect(validateContainerName('n'.repeat(255))).toHaveLength(255);
    expect(refused(() => validateContainerName('n'.repeat(256)))).toBe(
      `Invalid container name (${'n'.repeat(64)}... (256 characters)), at most 255 characters are allowed`,
    );
    const message = refused(() => validateContainerName('a'.repeat(10_000)));
    expect(message).toBe(`Invalid container name (${'a'.repeat(64)}... (10000 characters)), at most 255 characters are allowed`);
    expect(message.length).toBeLessThan(200);
    // too long and bad characters: the length is said first, the name still cut
    expect(refused(() => validateContainerName('!'.repeat(300)))).toMatch(/^Invalid container name \(!{64}\.\.\. \(300 characters\)\), at most 255/);
  });

  it('lookups: any stored-looking name up to NAME_MAX (one character too, from older hulls); nothing that is no file name', () => {
    for (const name of ['x', 'web', 'n'.repeat(255), 'a_b.c-d']) expect(isStorableName(name)).toBe(true);
    for (const name of ['', '.', '..', '.tmp-1', 'a/b', '../x', 'n'.repeat(256), 'a'.repeat(10_000), 'a b', 'lock\n']) expect(isStorableName(name)).toBe(false);
  });
});

describe("volume names (Docker's local driver)", () => {
  it("takes two or more of Docker's characters, up to NAME_MAX", () => {
    for (const name of ['db', 'data_1', 'a.b-c', 'v'.repeat(255), 'f'.repeat(64)]) expect(() => validateVolumeName(name)).not.toThrow();
  });

  it("refuses with the local driver's messages", () => {
    expect(refused(() => validateVolumeName('x'))).toBe('volume name is too short, names should be at least two alphanumeric characters');
    expect(refused(() => validateVolumeName('bad$name'))).toBe(
      '"bad$name" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path',
    );
    for (const name of ['', '_v', '.v', './rel', 'a/b', 'a b'])
      expect(refused(() => validateVolumeName(name))).toMatch(/includes invalid characters for a local volume name/);
    expect(refused(() => validateVolumeName('v'.repeat(256)))).toBe('volume name is too long (256 characters), names should be at most 255 characters');
    expect(refused(() => validateVolumeName('v'.repeat(10_000))).length).toBeLessThan(120);
  });
});

describe('network names', () => {
  it("takes Docker's name characters (one is enough), up to NAME_MAX", () => {
    for (const name of ['n', 'app', 'app_net.1-b', 'n'.repeat(255)]) expect(() => validateNetworkName(name)).not.toThrow();
  });

  it("refuses an empty name (Docker's message), what cannot be a directory name, and more than NAME_MAX", () => {
    expect(refused(() => validateNetworkName(''))).toBe('invalid name: name is empty');
    expect(refused(() => validateNetworkName('a/b'))).toBe('invalid network name "a/b": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed');
    for (const name of ['.', '..', '-n', 'a b', 'lock\n'])
      expect(refused(() => validateNetworkName(name))).toMatch(/only \[a-zA-Z0-9\]\[a-zA-Z0-9_.-\] are allowed/);
    expect(refused(() => validateNetworkName('n'.repeat(256)))).toBe(
      `invalid network name "${'n'.repeat(64)}... (256 characters)": at most 255 characters are allowed`,
    );
  });
});

describe('hostnames (-h): HOST_NAME_MAX bytes of RFC 1123 labels', () => {
  it('takes labels of letters, digits and inner hyphens, dotted, up to 64 bytes (one 64-byte label too, as Docker)', () => {
    expect(HOST_NAME_MAX).toBe(64);
    for (const h of ['web1', 'a', '1', 'my-host', 'web.example.com', 'A-1.b-2.C3', '0abc', 'h'.repeat(64), `${'a'.repeat(31)}.${'b'.repeat(32)}`]) {
      expect(() => validateHostname(h)).not.toThrow();
    }
  });

  it("refuses 65 bytes and more with Docker's message (a long one cut)", () => {
    expect(refused(() => validateHostname('h'.repeat(65)))).toBe(`hostname "${'h'.repeat(65)}" is too long (maximum 64 bytes)`);
    expect(refused(() => validateHostname('h'.repeat(100)))).toBe(`hostname "${'h'.repeat(64)}... (100 characters)" is too long (maximum 64 bytes)`);
    // bytes, not characters: 33 two-byte characters are 66 bytes
    expect(refused(() => validateHostname('é'.repeat(33)))).toMatch(/is too long \(maximum 64 bytes\)$/);
  });

  it("refuses what is no RFC 1123 name (it would go into /etc/hosts) with Docker's old CLI message", () => {
    expect(refused(() => validateHostname('bad host'))).toBe('invalid hostname format: bad host');
    for (const h of ['-web', 'web-', 'we_b', 'a..b', '.web', 'web.', 'a b', 'wéb', 'a/b', 'a#b']) {
      expect(refused(() => validateHostname(h))).toBe(`invalid hostname format: ${h}`);
    }
    // one line, whatever the value holds
    expect(refused(() => validateHostname('web\n1.2.3.4 evil'))).toBe('invalid hostname format: web\\n1.2.3.4 evil');
    expect(refused(() => validateHostname(''))).toMatch(/^invalid hostname format: the hostname is empty/);
  });
});

describe('paths', () => {
  it("-w: absolute (Docker's message), a path the kernel takes", () => {
    for (const dir of ['/', '/srv/app', `/${'d'.repeat(255)}`, `/${'d/'.repeat(2047)}`]) expect(() => validateWorkdir(dir)).not.toThrow();
    expect(refused(() => validateWorkdir('relative'))).toBe("the working directory 'relative' is invalid, it needs to be an absolute path");
    expect(refused(() => validateWorkdir(''))).toBe("the working directory '' is invalid, it needs to be an absolute path");
    expect(refused(() => validateWorkdir(`/${'d'.repeat(256)}`))).toMatch(
      /is invalid: its component 'd{24}\.\.\. \(256 characters\)' is 256 bytes long, a file name has at most 255$/,
    );
    expect(PATH_MAX).toBe(4095);
  });

  it("PATH_MAX is 4095 bytes (the kernel's 4096 with its NUL), each component NAME_MAX bytes", () => {
    const at = (n: number) => `/${'d/'.repeat((n - 2) / 2)}d`; // n bytes for even n
    expect(at(4094)).toHaveLength(4094);
    expect(() => validateWorkdir(`${at(4094)}e`)).not.toThrow(); // 4095
    expect(refused(() => validateWorkdir(`${at(4094)}ee`))).toMatch(/is invalid: it is 4096 bytes long, a path has at most 4095$/);
    expect(refused(() => validateWorkdir('/a\0b'))).toMatch(/holds a NUL byte/);
  });

  it("mount targets: absolute, not /, not in /proc (Docker's messages), bounded; cleaned", () => {
    expect(validateMountTarget('/data/', 'x')).toBe('/data');
    expect(validateMountTarget('/a//b/../c', 'x')).toBe('/a/c');
    expect(refused(() => validateMountTarget('rel', "volume specification '/a:rel'"))).toBe(
      "invalid volume specification '/a:rel': invalid mount path: 'rel' mount path must be absolute",
    );
    expect(refused(() => validateMountTarget('/', 'x'))).toBe("invalid x: destination can't be '/'");
    expect(refused(() => validateMountTarget('/proc/sys', 'x'))).toBe('invalid x: /proc/sys cannot be mounted because it is located inside "/proc"');
    expect(refused(() => validateMountTarget('', 'x'))).toBe('invalid x: the container path is empty');
    expect(refused(() => validateMountTarget('/a\0', 'x'))).toBe('invalid x: the container path holds a NUL byte');
    expect(refused(() => validateMountTarget(`/${'t'.repeat(300)}`, 'x'))).toMatch(
      /^invalid x: the container path '\/t{63}\.\.\. \(301 characters\)' is invalid: its component .* is 300 bytes long/,
    );
    expect(validateMountTarget(`/${'t'.repeat(255)}`, 'x')).toHaveLength(256);
  });

  it('bind sources: absolute, bounded; cleaned', () => {
    expect(validateHostPath('/srv/data/', 'x')).toBe('/srv/data');
    expect(refused(() => validateHostPath('srv', 'x'))).toBe("invalid x: invalid mount path: 'srv' mount path must be absolute");
    expect(refused(() => validateHostPath(`/${'s/'.repeat(2100)}`, 'x'))).toMatch(
      /the host path .* is invalid: it is \d+ bytes long, a path has at most 4095$/,
    );
    expect(refused(() => validateHostPath('/a\0', 'x'))).toBe('invalid x: the host path holds a NUL byte');
  });
});

describe('validateCreateOptions: what the library checks before it makes anything', () => {
  it('checks the name, the hostname, the working directory and every mount (library callers, not only flags)', () => {
    expect(() => validateCreateOptions({})).not.toThrow();
    expect(() =>
      validateCreateOptions({
        name: 'web',
        hostname: 'web.local',
        workdir: '/app',
        mounts: [{ type: 'volume', name: 'data', target: '/data', readonly: false, noCopy: false, origin: 'mount-flag', mode: 'z' }],
      }),
    ).not.toThrow();
    expect(refused(() => validateCreateOptions({ name: 'a'.repeat(10_000) }))).toMatch(/^Invalid container name/);
    expect(refused(() => validateCreateOptions({ hostname: 'h'.repeat(100) }))).toMatch(/too long \(maximum 64 bytes\)/);
    expect(refused(() => validateCreateOptions({ workdir: 'rel' }))).toMatch(/needs to be an absolute path/);
    expect(refused(() => validateCreateOptions({ mounts: [{ type: 'tmpfs', target: 'rel', readonly: false, options: [], origin: 'tmpfs-flag' }] }))).toBe(
      'invalid mount config for type "tmpfs": invalid mount path: \'rel\' mount path must be absolute',
    );
    expect(
      refused(() =>
        validateCreateOptions({
          mounts: [{ type: 'bind', source: 'rel', target: '/t', readonly: false, propagation: 'rprivate', origin: 'volume-flag', mode: '', spec: 'rel:/t' }],
        }),
      ),
    ).toBe("invalid volume specification 'rel:/t': invalid mount path: 'rel' mount path must be absolute");
    expect(
      refused(() =>
        validateCreateOptions({ mounts: [{ type: 'volume', name: 'x', target: '/t', readonly: false, noCopy: false, origin: 'mount-flag', mode: 'z' }] }),
      ),
    ).toMatch(/volume name is too short/);
  });

  it('checks the typed values a library or API caller gives (what the parsers guarantee for the CLI)', () => {
    const ok = {
      restartPolicy: { name: 'on-failure' as const, maximumRetryCount: 5 },
      log: { driver: 'json-file' as const, maxSize: 1, maxFile: 2 },
      devices: [{ hostPath: '/dev/null', containerPath: '/dev/n', permissions: 'rw' }],
      uidMap: [{ containerID: 0, hostID: 4294967295, size: 1 }],
      ports: [
        { proto: 'udp' as const, hostIp: '127.0.0.1', hostPort: 65535, containerPort: 1 },
        { proto: 'tcp' as const, hostIp: '', hostPort: 0, containerPort: 65535 },
      ],
      exposed: [{ port: 80, proto: 'tcp' as const }],
      extraHosts: [{ host: 'db', ip: 'host-gateway' }],
      dns: ['1.1.1.1'],
      ip: '10.0.0.2',
      network: { mode: 'container' as const, container: 'db' },
      entrypoint: [],
    };
    expect(() => validateCreateOptions(ok)).not.toThrow();
    const bad = (o: Parameters<typeof validateCreateOptions>[0]) => refused(() => validateCreateOptions(o));
    expect(bad({ restartPolicy: { name: 'sometimes' as 'no', maximumRetryCount: 0 } })).toBe(
      "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'",
    );
    expect(bad({ restartPolicy: { name: 'always', maximumRetryCount: 2 } })).toBe(
      "invalid restart policy: maximum retry count can only be used with 'on-failure'",
    );
    expect(bad({ restartPolicy: { name: 'on-failure', maximumRetryCount: -1 } })).toBe(
      'invalid restart policy: maximum retry count must be a whole number >= 0, not -1',
    );
    expect(bad({ restartPolicy: { name: 'on-failure', maximumRetryCount: 1.5 } })).toMatch(/not 1.5/);
    expect(bad({ log: { maxSize: 0 } })).toBe('invalid log max-size 0: a number of bytes > 0 is needed');
    expect(bad({ log: { maxFile: 0 } })).toBe('invalid log max-file 0: a number >= 1 is needed');
    expect(bad({ log: { maxFile: 3 } })).toBe('--log-opt max-file needs max-size too');
    expect(bad({ log: { driver: 'syslog' as 'json-file' } })).toBe(
      "failed to create container: logger: no log driver named 'syslog' is registered (hull has json-file, local and none)",
    );
    expect(bad({ log: { driver: 'none', maxSize: 10 } })).toBe('unknown log opt for none log driver');
    // issue 17's values
    expect(bad({ labels: { a: 1 as unknown as string } })).toBe('invalid labels: a map of strings is needed');
    expect(bad({ ulimits: [{ name: 'as', soft: 1, hard: 1 }] })).toBe('invalid ulimit type: as');
    expect(bad({ ulimits: [{ name: 'nofile', soft: 2, hard: 1 }] })).toBe('ulimit soft limit must be less than or equal to hard limit: 2 > 1');
    expect(bad({ ulimits: [{ name: 'nofile', soft: 1.5, hard: 2 }] })).toMatch(/whole numbers/);
    expect(bad({ shmSize: -1 })).toBe('SHM size can not be less than 0');
    expect(bad({ sysctls: { 'a/b': '1' } })).toBe("invalid sysctl key 'a/b'");
    expect(bad({ stopSignal: 'SIGNOPE' })).toBe('invalid signal: SIGNOPE');
    expect(bad({ stopTimeout: 1.5 })).toMatch(/a whole number of seconds/);
    expect(bad({ oomScoreAdj: -1001 })).toBe('Invalid value -1001, range for oom score adj is [-1000, 1000]');
    expect(bad({ domainname: 'a b' })).toBe('invalid domainname format: a b');
    expect(bad({ devices: [{ hostPath: 'dev/null', containerPath: '/dev/n', permissions: 'r' }] })).toBe(
      'invalid device specification: dev/null:/dev/n:r (paths must be absolute)',
    );
    expect(bad({ devices: [{ hostPath: '/dev/null', containerPath: `/${'d'.repeat(300)}`, permissions: 'r' }] })).toMatch(/a file name has at most 255/);
    expect(bad({ devices: [{ hostPath: '/dev/null', containerPath: '/n', permissions: 'x' }] })).toBe('invalid device mode: x');
    expect(bad({ uidMap: [{ containerID: 0, hostID: 4294967295, size: 2 }] })).toBe("invalid id mapping '0:4294967295:2'");
    expect(bad({ gidMap: [{ containerID: 0, hostID: 1, size: 0 }] })).toBe("invalid id mapping '0:1:0'");
    expect(bad({ uidMap: [{ containerID: -1, hostID: 1, size: 1 }] })).toBe("invalid id mapping '-1:1:1'");
    expect(bad({ ports: [{ proto: 'tcp', hostIp: '', hostPort: 80, containerPort: 0 }] })).toBe('invalid container port: 0 (in 80:0/tcp)');
    expect(bad({ ports: [{ proto: 'tcp', hostIp: '', hostPort: 65536, containerPort: 80 }] })).toBe('invalid host port: 65536 (in 65536:80/tcp)');
    expect(bad({ ports: [{ proto: 'sctp' as 'tcp', hostIp: '', hostPort: 1, containerPort: 1 }] })).toBe('invalid protocol: sctp (tcp or udp)');
    expect(bad({ ports: [{ proto: 'tcp', hostIp: 'localhost', hostPort: 1, containerPort: 1 }] })).toBe('invalid IPv4 address: localhost');
    expect(bad({ exposed: [{ port: 70000, proto: 'tcp' }] })).toBe('invalid exposed port: 70000');
    expect(bad({ extraHosts: [{ host: 'a b', ip: '1.2.3.4' }] })).toBe('invalid --add-host a b:1.2.3.4: want NAME:IP');
    expect(bad({ extraHosts: [{ host: 'db\n1.2.3.4 evil', ip: '1.2.3.4' }] })).toMatch(/^invalid --add-host db\\n1.2.3.4 evil/);
    expect(bad({ extraHosts: [{ host: 'db', ip: 'gateway' }] })).toBe('invalid IPv4 address: gateway');
    expect(bad({ dns: ['1.1.1'] })).toBe('invalid IPv4 address: 1.1.1');
    expect(bad({ ip: '10.0.0.300' })).toBe('invalid IPv4 address: 10.0.0.300');
    expect(bad({ network: { mode: 'bridged' } as unknown as { mode: 'bridge' } })).toBe('invalid network mode: bridged');
    expect(bad({ entrypoint: 'sh' as unknown as string[] })).toMatch(/^invalid entrypoint: a list of strings is needed/);
  });

  it('shown() cuts long values only', () => {
    expect(shown('short')).toBe('short');
    expect(shown('x'.repeat(80))).toBe('x'.repeat(80));
    expect(shown('x'.repeat(81))).toBe(`${'x'.repeat(64)}... (81 characters)`);
    expect(shown('a\nb\u0000c\td')).toBe('a\\nb\\u0000c\\td');
    expect(refused(() => validateContainerName('a\nb'))).toBe('Invalid container name (a\\nb), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed');
  });
});
