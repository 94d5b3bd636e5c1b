import { describe, expect, it } from 'vitest';
import { bytesSize, infoText, systemInfo, versionInfo, versionText } from '../../../src/present/system-info.js';

const facts = {
  containers: { running: 1, paused: 2, stopped: 3 },
  images: 4,
  root: '/var/lib/hull',
  backingFilesystem: 'extfs',
  cgroupVersion: '2' as const,
  kernelVersion: '6.1.0-13-amd64',
  operatingSystem: 'Debian GNU/Linux 12 (bookworm)',
  osVersion: '12',
  architecture: 'x86_64',
  ncpu: 2,
  memTotal: 8348520448,
  name: 'host',
  id: 'ABCD:EFGH',
  systemTime: '2026-01-01T00:00:00.000Z',
  ipv4Forwarding: true,
  httpProxy: '',
  httpsProxy: '',
  noProxy: '',
  warnings: [],
};

describe("info and version in Docker's shapes", () => {
  it('units.BytesSize: binary units, 4 significant digits', () => {
    expect(bytesSize(8348520448)).toBe('7.775GiB');
    expect(bytesSize(1024)).toBe('1KiB');
    expect(bytesSize(512)).toBe('512B');
  });

  it("info: the API's field names; the text's Server section as docker info 20.10 prints it", () => {
    const info = systemInfo(facts);
    expect(info).toMatchObject({
      Containers: 6,
      ContainersRunning: 1,
      ContainersPaused: 2,
      ContainersStopped: 3,
      Images: 4,
      Driver: 'overlay2',
      CgroupDriver: 'cgroupfs',
      CgroupVersion: '2',
      NCPU: 2,
      MemTotal: 8348520448,
      DockerRootDir: '/var/lib/hull',
    });
    const text = infoText(info);
    expect(text).toContain('\nServer:\n Containers: 6\n  Running: 1\n  Paused: 2\n  Stopped: 3\n Images: 4\n');
    expect(text).toContain('\n Storage Driver: overlay2\n  Backing Filesystem: extfs\n  Supports d_type: true\n');
    expect(text).toContain(
      '\n Kernel Version: 6.1.0-13-amd64\n Operating System: Debian GNU/Linux 12 (bookworm)\n OSType: linux\n Architecture: x86_64\n CPUs: 2\n Total Memory: 7.775GiB\n',
    );
  });

  it("version: Client and Server, ApiVersion 1.41, the Go version fields holding Node's", () => {
    const v = versionInfo({ nodeVersion: 'v20.1.0', arch: 'amd64', kernelVersion: '6.1.0' });
    expect(v.Client).toMatchObject({ ApiVersion: '1.41', GoVersion: 'v20.1.0', Os: 'linux', Arch: 'amd64' });
    expect(v.Server).toMatchObject({ ApiVersion: '1.41', MinAPIVersion: '1.12', KernelVersion: '6.1.0' });
    const text = versionText(v);
    expect(text).toContain('Client:\n Version:           0.1.0\n API version:       1.41\n Node version:      v20.1.0\n');
    expect(text).toContain('\n OS/Arch:           linux/amd64\n');
    expect(text).toContain('\nServer: hull\n Engine:\n  Version:          0.1.0\n  API version:      1.41 (minimum version 1.12)\n');
  });
});
