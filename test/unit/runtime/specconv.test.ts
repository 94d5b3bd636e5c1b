import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { buildSpec, mergeEnv, resolveArgs } from '../../../src/runtime/specconv.js';

const root = { uid: 0, gid: 0, additionalGids: [], home: '/root' };
const user = { uid: 1000, gid: 1000, additionalGids: [50], home: '/home/app' };

describe("resolveArgs (Docker's Entrypoint/Cmd rules)", () => {
  const image = { config: { Entrypoint: ['/entry.sh'], Cmd: ['serve'] } };
  it('runs Entrypoint + Cmd by default', () => expect(resolveArgs(image, {})).toEqual(['/entry.sh', 'serve']));
  it('replaces Cmd with the given command', () => expect(resolveArgs(image, { cmd: ['test'] })).toEqual(['/entry.sh', 'test']));
  it('--entrypoint drops the image Cmd', () => expect(resolveArgs(image, { entrypoint: ['sh'] })).toEqual(['sh']));
  it('--entrypoint with a command', () => expect(resolveArgs(image, { entrypoint: ['sh'], cmd: ['-c', 'x'] })).toEqual(['sh', '-c', 'x']));
  it("an entrypoint of several words (the API's Entrypoint)", () =>
    expect(resolveArgs(image, { entrypoint: ['sh', '-c'], cmd: ['x'] })).toEqual(['sh', '-c', 'x']));
  it('--entrypoint "" ([]) clears it', () => expect(resolveArgs(image, { entrypoint: [], cmd: ['ls'] })).toEqual(['ls']));
  it('no command at all is a usage error', () => expect(() => resolveArgs({}, {})).toThrow(UsageError));
});

describe('buildSpec', () => {
  it('honours Env, WorkingDir and User, with PATH, HOSTNAME and HOME as Docker sets them', () => {
    const spec = buildSpec({
      image: { config: { Env: ['PATH=/app/bin:/bin', 'A=1'], WorkingDir: '/app', Cmd: ['run'] } },
      env: ['A=2', 'B=3'],
      user,
      hostname: 'h1',
      rootfsPath: '/r',
    });
    expect(spec.process.env).toEqual(['PATH=/app/bin:/bin', 'HOSTNAME=h1', 'A=2', 'B=3', 'HOME=/home/app']);
    expect(spec.process.cwd).toBe('/app');
    expect(spec.process.user).toEqual({ uid: 1000, gid: 1000, additionalGids: [50] });
    expect(spec.hostname).toBe('h1');
    expect(spec.root.path).toBe('/r');
  });

  it("gives root Docker's default capabilities and a non-root user none effective", () => {
    const asRoot = buildSpec({ image: { config: { Cmd: ['x'] } }, user: root, hostname: 'h', rootfsPath: '/r' });
    expect(asRoot.process.capabilities?.effective).toContain('CAP_CHOWN');
    expect(asRoot.process.capabilities?.bounding).not.toContain('CAP_SYS_ADMIN');
    const asUser = buildSpec({ image: { config: { Cmd: ['x'] } }, user, hostname: 'h', rootfsPath: '/r' });
    expect(asUser.process.capabilities?.effective).toEqual([]);
    expect(asUser.process.capabilities?.bounding).toContain('CAP_CHOWN');
  });

  it('sets TERM for a terminal and uses all six namespaces', () => {
    const spec = buildSpec({ image: { config: { Cmd: ['x'] } }, user: root, hostname: 'h', rootfsPath: '/r', tty: true });
    expect(spec.process.terminal).toBe(true);
    expect(spec.process.env).toContain('TERM=xterm');
    expect(spec.linux.namespaces.map((n) => n.type).sort()).toEqual(['cgroup', 'ipc', 'mount', 'network', 'pid', 'uts']);
  });

  it('refuses a relative working directory', () => {
    expect(() => buildSpec({ image: { config: { Cmd: ['x'] } }, user: root, hostname: 'h', rootfsPath: '/r', workdir: 'rel' })).toThrow(
      /needs to be an absolute path/,
    );
  });
});

describe('environment entries', () => {
  it('mergeEnv lets later lists win per key', () => {
    expect(mergeEnv(['A=1', 'B=1'], ['B=2', 'C=3'])).toEqual(['A=1', 'B=2', 'C=3']);
  });
});
