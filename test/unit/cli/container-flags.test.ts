// run/create's flags → the typed CreateOptions (container-flags.ts is a thin mapping over src/options/),
// and those typed options reaching the runtime-spec and the record's network config. No root, no addon.
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addContainerFlags, createOptionsFrom, type ContainerFlags } from '../../../src/cli/commands/container-flags.js';
import { containerNetworkConfig } from '../../../src/network/container-config.js';
import { adjustSpec } from '../../../src/network/container-spec.js';
import type { CreateOptions } from '../../../src/runtime/create-options.js';
import { applySecurity } from '../../../src/runtime/security.js';
import { buildSpec } from '../../../src/runtime/specconv.js';
import { applyUserns } from '../../../src/runtime/userns.js';
import { validateCreateOptions } from '../../../src/runtime/validate.js';
import { UsageError } from '../../../src/errors.js';

async function optionsOf(args: string[]): Promise<CreateOptions> {
  let out: CreateOptions | undefined;
  const cmd = addContainerFlags(new Command('create').argument('<image>').argument('[command...]'))
    .passThroughOptions()
    .exitOverride()
    .action(async (image: string, command: string[], flags: ContainerFlags) => {
      out = await createOptionsFrom(image, command, flags);
    });
  await cmd.parseAsync(args, { from: 'user' });
  if (!out) throw new Error('no options');
  return out;
}

const lookup = { defaultMode: { mode: 'bridge' as const }, networkName: (n: string) => n };

describe('flags → typed CreateOptions', () => {
  it('every Docker flag string becomes its typed value', async () => {
    const o = await optionsOf([
      '--restart',
      'on-failure:3',
      '--log-opt',
      'max-size=2k',
      '--log-opt',
      'max-file=3',
      '-p',
      '127.0.0.1:8080:80',
      '-p',
      '53:53/udp',
      '--expose',
      '9000-9001',
      '--add-host',
      'db:10.0.0.7',
      '--add-host',
      'gw:host-gateway',
      '--network',
      'backend',
      '--ip',
      '10.89.0.9',
      '--network-alias',
      'api',
      '--dns',
      '1.1.1.1',
      '--security-opt',
      'no-new-privileges',
      '--security-opt',
      'seccomp=unconfined',
      '--device',
      '/dev/zero:/dev/z:r',
      '--uidmap',
      '0:100000:65536',
      '--gidmap',
      '0:200000:65536',
      '--entrypoint',
      'sh',
      '-e',
      'A=1',
      'busybox',
      '-c',
      'echo hi',
    ]);
    expect(o).toMatchObject({
      image: 'busybox',
      cmd: ['-c', 'echo hi'],
      entrypoint: ['sh'],
      env: ['A=1'],
      restartPolicy: { name: 'on-failure', maximumRetryCount: 3 },
      log: { driver: 'json-file', maxSize: 2048, maxFile: 3 },
      ports: [
        { proto: 'tcp', hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80 },
        { proto: 'udp', hostIp: '', hostPort: 53, containerPort: 53 },
      ],
      exposed: [
        { port: 9000, proto: 'tcp' },
        { port: 9001, proto: 'tcp' },
      ],
      extraHosts: [
        { host: 'db', ip: '10.0.0.7' },
        { host: 'gw', ip: 'host-gateway' },
      ],
      network: { mode: 'network', network: 'backend' },
      ip: '10.89.0.9',
      networkAliases: ['api'],
      dns: ['1.1.1.1'],
      noNewPrivileges: true,
      seccomp: 'unconfined',
      devices: [{ hostPath: '/dev/zero', containerPath: '/dev/z', permissions: 'r' }],
      uidMap: [{ containerID: 0, hostID: 100000, size: 65536 }],
      gidMap: [{ containerID: 0, hostID: 200000, size: 65536 }],
    });
    expect(() => validateCreateOptions(o)).not.toThrow();
    // Nothing of Docker's flag syntax is left for the library to parse.
    for (const key of ['restart', 'logOpts', 'publish', 'expose', 'addHosts', 'securityOpt', 'uidmap', 'gidmap']) expect(o).not.toHaveProperty(key);
  });

  it('no flags: the defaults, and nothing the library would have to guess', async () => {
    const o = await optionsOf(['busybox']);
    expect(o).toMatchObject({
      image: 'busybox',
      cmd: [],
      restartPolicy: { name: 'no', maximumRetryCount: 0 },
      ports: [],
      exposed: [],
      extraHosts: [],
      devices: [],
      uidMap: [],
      gidMap: [],
    });
    expect(o.log).toBeUndefined();
    expect(o.network).toBeUndefined();
    expect(o.entrypoint).toBeUndefined();
    expect(o.noNewPrivileges).toBeUndefined();
    expect(o.usernsRemap).toBeUndefined();
  });

  it('--entrypoint "" clears the image\'s; --net is --network; --userns-remap USER', async () => {
    expect((await optionsOf(['--entrypoint', '', 'busybox'])).entrypoint).toEqual([]);
    expect((await optionsOf(['--net', 'host', 'busybox'])).network).toEqual({ mode: 'host' });
    expect((await optionsOf(['--userns-remap', 'remap', 'busybox'])).usernsRemap).toEqual({ user: 'remap' });
  });

  it("a bad flag value is refused while the flags are read, with the parser's message", async () => {
    await expect(optionsOf(['-p', '80:0', 'busybox'])).rejects.toThrow(new UsageError('invalid container port: 0'));
    await expect(optionsOf(['--restart', 'sometimes', 'busybox'])).rejects.toThrow(/invalid restart policy 'sometimes'/);
    await expect(optionsOf(['--device', 'rel', 'busybox'])).rejects.toThrow(/paths must be absolute/);
    await expect(optionsOf(['--add-host', 'nocolon', 'busybox'])).rejects.toThrow('invalid --add-host nocolon: want NAME:IP');
  });
});

describe('typed options reaching the spec and the record', () => {
  const spec = () =>
    buildSpec({ image: { config: { Cmd: ['sh'] } }, user: { uid: 0, gid: 0, additionalGids: [], home: '/root' }, hostname: 'h', rootfsPath: '/r' });

  it('security, devices and id maps go into the spec', async () => {
    const o = await optionsOf([
      '--security-opt',
      'no-new-privileges',
      '--security-opt',
      'seccomp=unconfined',
      '--device',
      '/dev/zero:/dev/z:r',
      '--uidmap',
      '0:100000:65536',
      '--network',
      'none',
      'busybox',
    ]);
    const s = spec();
    applySecurity(s, o);
    applyUserns(s, o);
    expect(s.process.noNewPrivileges).toBe(true);
    expect(s.linux.seccomp).toBeUndefined();
    expect(s.linux.devices).toEqual([expect.objectContaining({ path: '/dev/z', type: 'c', major: 1, minor: 5 })]);
    expect(s.linux.resources?.devices?.at(-1)).toEqual({ allow: true, type: 'c', major: 1, minor: 5, access: 'r' });
    expect(s.linux.uidMappings).toEqual([{ containerID: 0, hostID: 100000, size: 65536 }]);
    expect(s.linux.gidMappings).toEqual([{ containerID: 0, hostID: 100000, size: 65536 }]);
    expect(s.linux.namespaces[0]).toEqual({ type: 'user' });
  });

  it("a seccomp profile given as a value (the API's inline JSON) is resolved into the spec; the default one otherwise", () => {
    const s = spec();
    applySecurity(s, { seccomp: { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ALLOW' }] } });
    expect(s.linux.seccomp?.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(s.linux.seccomp?.syscalls?.flatMap((r) => r.names)).toEqual(['getpid']);
    const d = spec();
    applySecurity(d, {});
    expect(d.process.noNewPrivileges).toBe(false);
    expect(d.linux.seccomp?.syscalls?.length).toBeGreaterThan(10);
  });

  it("ports, exposed ports and extra hosts go into the record's network config; host mode drops the network namespace", async () => {
    const o = await optionsOf(['-p', '8080:80', '--expose', '53/udp', '--add-host', 'db:10.0.0.7', 'busybox']);
    const { config, warnings } = containerNetworkConfig(o, ['443/tcp'], lookup);
    expect(warnings).toEqual([]);
    expect(config).toMatchObject({
      mode: 'bridge',
      networks: ['bridge'],
      ports: [{ proto: 'tcp', hostIp: '', hostPort: 8080, containerPort: 80 }],
      exposed: ['443/tcp', '53/udp', '80/tcp'],
      extraHosts: [{ host: 'db', ip: '10.0.0.7' }],
    });
    const host = await optionsOf(['--network', 'host', '-h', 'given', 'busybox']);
    const hostCfg = containerNetworkConfig(host, [], lookup).config;
    const s = spec();
    adjustSpec(hostCfg, s, true);
    expect(s.linux.namespaces.map((n) => n.type)).not.toContain('network');
  });

  it("published ports under the host network: discarded with Docker's warning, returned (never printed)", async () => {
    const o = await optionsOf(['--network', 'host', '-p', '80:80', 'busybox']);
    const writes: unknown[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = (chunk: unknown) => writes.push(chunk) > 0;
    let decision;
    try {
      decision = containerNetworkConfig(o, [], lookup);
    } finally {
      process.stderr.write = write;
    }
    expect(decision.warnings).toEqual(['Published ports are discarded when using host network mode']);
    expect(decision.config.ports).toEqual([]);
    expect(writes).toEqual([]);
  });
});
