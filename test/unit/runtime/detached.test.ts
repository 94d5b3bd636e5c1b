// The pure parts of detached containers: the monitor's plan encoding, restart policies, the
// state computed from a record and the monitor's status, signals, ps filters (log reading: logs.test.ts).
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { matches, parseFilters, psJson, statusText } from '../../../src/cli/commands/ps.js';
import { type ContainerRecord, detachedState } from '../../../src/runtime/container-store.js';
import { inspectContainer } from '../../../src/runtime/inspect.js';
import { formatInspect } from '../../../src/format/formatter.js';
import { processStartTime } from '../../../src/runtime/liveness.js';
import { CLONE_NEW, cloneFlags, encodePlan, flattenStep } from '../../../src/runtime/plan-codec.js';
import { parseSignal } from '../../../src/runtime/signals.js';

describe('plan codec (native/plan-codec.h)', () => {
  const plan = {
    namespaces: { pid: true, mount: true, uts: true, ipc: true, net: true, cgroup: true },
    rootfs: '/run/hull/c/rootfs', cgroup: '/sys/fs/cgroup/hull/c', logPath: '/l', statusPath: '/s', memoryEvents: '',
    terminal: false, parentDeathSignal: 9, removeCgroup: true, restart: { name: 'on-failure' as const, maximumRetryCount: 3 },
    stopMarker: '/m', exitCommand: ['/usr/bin/node', 'hull', 'rm'], logMaxSize: 0, logMaxFiles: 1,
    steps: [
      { op: 'chdir' as const, path: '/' },
      { op: 'exec' as const, file: 'sh', argv: ['sh', '-c', 'true'], env: ['A=1'], path: '/bin' },
    ],
  };

  it('writes the header, the fields and each step in the reader\'s order', () => {
    const buf = encodePlan(plan);
    expect(buf.subarray(0, 8).toString('latin1')).toBe('HULLPLN1');
    expect(buf.readUInt32LE(8)).toBe(2);
    expect(buf.readBigUInt64LE(12)).toBe(BigInt(0x20000 | 0x2000000 | 0x4000000 | 0x8000000 | 0x20000000 | 0x40000000));
    expect(buf.readUInt32LE(20)).toBe(plan.rootfs.length);
    expect(buf.subarray(24, 24 + plan.rootfs.length).toString()).toBe(plan.rootfs);
    // the exec step's strings are at the end: "A=1" is the last string, then 0 groups
    expect(buf.subarray(buf.length - 4 - 3, buf.length - 4).toString()).toBe('A=1');
    expect(buf.readUInt32LE(buf.length - 4)).toBe(0);
  });

  it('flattens steps as spawn.cc ParseStep does', () => {
    expect(flattenStep({ op: 'mount', source: 's', target: 't', fstype: 'f', data: 'd', flags: 4, inRoot: true, create: 'file', optional: false }))
      .toMatchObject({ s: ['s', 't', 'f', 'd'], n: [4n, 2n, 1n, 0n, 0n] });
    expect(flattenStep({ op: 'setUser', uid: 5, gid: 6, groups: [7] })).toMatchObject({ n: [5n, 6n, 0n, 0n, 0n], groups: [7] });
    expect(flattenStep({ op: 'setrlimit', resource: 7, soft: 1024n, hard: 2048n }).n).toEqual([7n, 1024n, 2048n, 0n, 0n]);
  });

  it('computes clone flags and refuses NUL bytes', () => {
    expect(cloneFlags({ pid: true, mount: false, uts: false, ipc: false, net: false, cgroup: false })).toBe(BigInt(CLONE_NEW.pid));
    expect(() => encodePlan({ ...plan, rootfs: 'a\0b' })).toThrow(/NUL/);
  });
});

describe('detached state', () => {
  const me = { pid: process.pid, start: processStartTime(process.pid) };
  const running = { status: 'running' as const, startedAt: 't0', monitorPid: me.pid, monitorStartTime: me.start, bootId: 'boot' };

  it('is running only while the process the monitor names is the same process', () => {
    const s = detachedState(running, () => ({ status: 'running', pid: me.pid, pidStartTime: me.start, restartCount: 1 }), 'boot');
    expect(s).toMatchObject({ status: 'running', pid: me.pid, restartCount: 1 });
    // a reused pid (another start time) is not the container
    const monitorGone = { ...running, monitorPid: 999_999_999 };
    const stale = detachedState(monitorGone, () => ({ status: 'running', pid: me.pid, pidStartTime: (me.start ?? 0) + 1 }), 'boot');
    expect(stale).toMatchObject({ status: 'exited', exitCode: 137 });
    expect(stale.error).toMatch(/monitor \(pid 999999999\) died/);
  });

  it('takes the exit from the monitor, and calls another boot\'s state stale', () => {
    expect(detachedState(running, () => ({ status: 'exited', exitCode: 3, finishedAt: 't1', oomKilled: true }), 'boot'))
      .toMatchObject({ status: 'exited', exitCode: 3, finishedAt: 't1', oomKilled: true });
    const rebooted = detachedState(running, () => undefined, 'another-boot');
    expect(rebooted).toMatchObject({ status: 'exited', exitCode: 255 });
    expect(rebooted.error).toMatch(/rebooted/);
  });
});

describe('signals, ps, inspect', () => {
  it('parses signal names and numbers', () => {
    expect(parseSignal('TERM')).toBe(15);
    expect(parseSignal('sigkill')).toBe(9);
    expect(parseSignal('10')).toBe(10);
    expect(parseSignal('SIGRTMIN+2')).toBe(36);
    expect(() => parseSignal('NOPE')).toThrow(UsageError);
  });

  const record = (status: 'running' | 'exited' | 'created', name = 'web'): ContainerRecord => ({
    id: 'ab'.repeat(32), name, image: 'busybox', imageId: 'cd'.repeat(32), created: '2024-01-01T00:00:00.000Z', command: ['sleep', '9'],
    rootfs: { lower: ['/l/a'], upper: '/u', work: '/w' }, autoRemove: false, cgroupParent: 'hull',
    state: status === 'exited' ? { status, exitCode: 2, finishedAt: '2024-01-01T00:00:10.000Z' } : status === 'running' ? { status, pid: 42, startedAt: '2024-01-01T00:00:00.000Z' } : { status },
  });

  it('filters as Docker does: one key ORs, keys AND', () => {
    const f = parseFilters(['status=running', 'status=exited', 'name=we']);
    expect(matches(record('running'), f)).toBe(true);
    expect(matches(record('created'), f)).toBe(false);
    expect(matches(record('exited', 'db'), f)).toBe(false);
    expect(matches(record('running'), parseFilters(['id=abab']))).toBe(true);
    expect(() => parseFilters(['status=sleeping'])).toThrow(UsageError);
    expect(() => parseFilters(['label=x'])).toThrow(UsageError);
  });

  it('writes Docker\'s status texts and json', () => {
    const now = Date.parse('2024-01-01T00:01:10Z');
    expect(statusText(record('running'), now)).toBe('Up About a minute');
    expect(statusText(record('exited'), now)).toBe('Exited (2) About a minute ago');
    expect(statusText(record('created'), now)).toBe('Created');
    expect(psJson(record('running'), now)).toMatchObject({ ID: 'abababababab', Names: 'web', State: 'running', Command: '"sleep 9"' });
  });

  it('inspects in Docker\'s shape and formats templates', () => {
    const info = inspectContainer(record('exited'), undefined, { logPath: '/log', runDir: '/run/x', cgroupPath: 'hull' });
    expect(info).toMatchObject({ Id: 'ab'.repeat(32), Name: '/web', Path: 'sleep', Args: ['9'], Image: `sha256:${'cd'.repeat(32)}` });
    expect(info.State).toMatchObject({ Status: 'exited', Running: false, ExitCode: 2, Pid: 0, StartedAt: '0001-01-01T00:00:00Z' });
    expect(formatInspect('{{.State.Status}}/{{.State.ExitCode}} {{json .Args}} {{.Nope}}', [info])).toEqual({ output: 'exited/2 ["9"] <no value>\n', errors: [] });
  });
});
