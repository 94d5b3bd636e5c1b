// The pure parts of detached containers: the monitor's plan encoding, restart policies, the
// state computed from a record and the monitor's status, signals, ps filters (log reading: logs.test.ts).
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { inspectContainer, psJson, psTableRow, statusText } from '../../../src/present/containers.js';
import { parseContainerFilters, parseFilterFlags, selectContainers } from '../../../src/filters/index.js';
import { type ContainerRecord, detachedState } from '../../../src/runtime/container-store.js';
import { formatInspect } from '../../../src/format/formatter.js';
import { processStartTime } from '../../../src/runtime/liveness.js';
import { CLONE_NEW, cloneFlags, encodeLaunchPlan, encodeMonitorInput, flattenStep } from '../../../src/runtime/plan-codec.js';
import { PLAN_OPS, PLAN_VERSION } from '../../../src/native/plan-table.js';
import { parseSignal } from '../../../src/runtime/signals.js';

describe('plan codec (native/plan-codec.h)', () => {
  const launch = {
    namespaces: { pid: true, mount: true, uts: true, ipc: true, net: true, cgroup: true },
    rootfs: '/run/hull/c/rootfs',
    terminal: false,
    parentDeathSignal: 9,
    steps: [
      { op: 'chdir' as const, path: '/' },
      { op: 'exec' as const, file: 'sh', argv: ['sh', '-c', 'true'], env: ['A=1'], path: '/bin' },
    ],
  };
  const monitor = {
    launch,
    cgroup: '/sys/fs/cgroup/hull/c',
    logPath: '/l',
    statusPath: '/s',
    memoryEvents: '',
    removeCgroup: true,
    restart: { name: 'on-failure' as const, maximumRetryCount: 3 },
    stopMarker: '/m',
    exitCommand: ['/usr/bin/node', 'hull', 'rm'],
    logMaxSize: 0,
    logMaxFiles: 1,
    controlPath: '/run/hull/s/c',
    openStdin: true,
    attachFirst: false,
    eventsPath: '/run/hull/events/events.log',
    eventLinesPath: '/run/hull/containers/c/events',
  };

  it("writes the launch plan: header, fields and each step in the reader's order, strings NUL-terminated", () => {
    const buf = encodeLaunchPlan(launch);
    expect(buf.subarray(0, 8).toString('latin1')).toBe('HULLPLAN');
    expect(buf.readUInt32LE(8)).toBe(PLAN_VERSION);
    expect(buf.readBigUInt64LE(12)).toBe(BigInt(0x20000 | 0x2000000 | 0x4000000 | 0x8000000 | 0x20000000 | 0x40000000));
    expect(buf.readUInt32LE(20)).toBe(launch.rootfs.length);
    expect(buf.subarray(24, 24 + launch.rootfs.length).toString()).toBe(launch.rootfs);
    expect(buf[24 + launch.rootfs.length]).toBe(0);
    const after = 24 + launch.rootfs.length + 1;
    // terminal, signal, no namespace files to join, two steps
    expect([0, 4, 8, 12].map((o) => buf.readUInt32LE(after + o))).toEqual([0, 9, 0, 2]);
    expect(buf.readUInt32LE(after + 16)).toBe(PLAN_OPS.indexOf('chdir'));
    // the exec step's strings are at the end: "A=1" is the last string, then 0 groups
    expect(buf.subarray(buf.length - 4 - 4, buf.length - 4).toString()).toBe('A=1\0');
    expect(buf.readUInt32LE(buf.length - 4)).toBe(0);
  });

  it("writes hull-monitor's input: the launch plan, then its settings", () => {
    const buf = encodeMonitorInput(monitor);
    const plan = encodeLaunchPlan(launch);
    expect(buf.subarray(0, plan.length).equals(plan)).toBe(true);
    expect(buf.readUInt32LE(plan.length)).toBe(monitor.cgroup.length);
    // … the exit command, the control socket, open stdin, attach first, then the events log and the die line's parts
    const events = [monitor.eventsPath, monitor.eventLinesPath];
    const end = buf.length - events.reduce((n, s) => n + 4 + Buffer.byteLength(s) + 1, 0);
    expect(buf.subarray(end - 8 - 14, end - 8).toString()).toBe('/run/hull/s/c\0');
    expect([buf.readUInt32LE(end - 8), buf.readUInt32LE(end - 4)]).toEqual([1, 0]);
    expect(buf.readUInt32LE(end)).toBe(monitor.eventsPath.length);
    expect(buf.subarray(buf.length - 9).toString()).toBe('c/events\0');
  });

  it('flattens steps as native/plan-table.h says', () => {
    expect(
      flattenStep({ op: 'mount', source: 's', target: 't', fstype: 'f', data: 'd', flags: 4, inRoot: true, create: 'file', optional: false }),
    ).toMatchObject({ s: ['s', 't', 'f', 'd'], n: [4, 2, 1, 0, 0] });
    expect(flattenStep({ op: 'setUser', uid: 5, gid: 6, groups: [7] })).toMatchObject({ n: [5, 6, 0, 0, 0], groups: [7] });
    expect(flattenStep({ op: 'setrlimit', resource: 7, soft: 1024n, hard: 2048n }).n).toEqual([7, 1024n, 2048n, 0, 0]);
    expect(flattenStep({ op: 'openStartFifo', path: '/run/x/exec.fifo' }).s[0]).toBe('/run/x/exec.fifo');
  });

  it('computes clone flags and refuses NUL bytes', () => {
    expect(cloneFlags({ pid: true, mount: false, uts: false, ipc: false, net: false, cgroup: false })).toBe(BigInt(CLONE_NEW.pid));
    expect(cloneFlags({ pid: false, mount: false, uts: false, ipc: false, net: false, cgroup: false, time: true })).toBe(0x80n);
    expect(() => encodeLaunchPlan({ ...launch, rootfs: 'a\0b' })).toThrow(/NUL/);
  });

  it('the generated table is what native/plan-table.h says', async () => {
    const { generate } = await import('../../../scripts/gen-plan-table.mjs');
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(new URL('../../../src/native/plan-table.ts', import.meta.url), 'utf8')).toBe(generate());
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

  it("takes the exit from the monitor, and calls another boot's state stale", () => {
    expect(detachedState(running, () => ({ status: 'exited', exitCode: 3, finishedAt: 't1', oomKilled: true }), 'boot')).toMatchObject({
      status: 'exited',
      exitCode: 3,
      finishedAt: 't1',
      oomKilled: true,
    });
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
    id: 'ab'.repeat(32),
    name,
    image: 'busybox',
    imageId: 'cd'.repeat(32),
    created: '2024-01-01T00:00:00.000Z',
    command: ['sleep', '9'],
    rootfs: { lower: ['/l/a'], upper: '/u', work: '/w' },
    autoRemove: false,
    cgroupParent: 'hull',
    state:
      status === 'exited'
        ? { status, exitCode: 2, finishedAt: '2024-01-01T00:00:10.000Z' }
        : status === 'running'
          ? { status, pid: 42, startedAt: '2024-01-01T00:00:00.000Z' }
          : { status },
  });

  it('filters as Docker does: one key ORs, keys AND', () => {
    const parse = (flags: string[]) => parseContainerFilters(parseFilterFlags(flags));
    const f = parse(['status=running', 'status=exited', 'name=we']);
    const kept = (r: ContainerRecord, filters = f) => selectContainers([r], { filters }).length === 1;
    expect(kept(record('running'))).toBe(true);
    expect(kept(record('created'))).toBe(false);
    expect(kept(record('exited', 'db'))).toBe(false);
    expect(kept(record('running'), parse(['id=abab']))).toBe(true);
    expect(() => parse(['status=sleeping'])).toThrow(UsageError);
    expect(() => parse(['nope=x'])).toThrow("Invalid filter 'nope'");
  });

  it('selects what ps lists as Docker does: running by default, -a, -n, -l, a status filter lists all states', () => {
    const list = [record('exited', 'e'), record('running', 'r'), record('created', 'c')];
    const names = (sel: Parameters<typeof selectContainers>[1]) => selectContainers(list, sel).map((c) => c.name);
    expect(names({})).toEqual(['r']);
    expect(names({ all: true })).toEqual(['e', 'r', 'c']);
    expect(names({ last: 2 })).toEqual(['e', 'r']);
    expect(names({ latest: true })).toEqual(['e']);
    expect(names({ filters: parseContainerFilters(parseFilterFlags(['status=created'])) })).toEqual(['c']);
    expect(names({ all: true, filters: parseContainerFilters(parseFilterFlags(['name=r'])) })).toEqual(['r']);
    expect(psTableRow(record('running'), false, Date.parse('2024-01-01T00:01:10Z'))).toEqual([
      'abababababab',
      'busybox',
      '"sleep 9"',
      'About a minute ago',
      'Up About a minute',
      '',
      'web',
    ]);
  });

  it("writes Docker's status texts and json", () => {
    const now = Date.parse('2024-01-01T00:01:10Z');
    expect(statusText(record('running'), now)).toBe('Up About a minute');
    expect(statusText(record('exited'), now)).toBe('Exited (2) About a minute ago');
    expect(statusText(record('created'), now)).toBe('Created');
    expect(psJson(record('running'), now)).toMatchObject({ ID: 'abababababab', Names: 'web', State: 'running', Command: '"sleep 9"' });
  });

  it("inspects in Docker's shape and formats templates", () => {
    const info = inspectContainer(record('exited'), undefined, { logPath: '/log', runDir: '/run/x', cgroupPath: 'hull' });
    expect(info).toMatchObject({ Id: 'ab'.repeat(32), Name: '/web', Path: 'sleep', Args: ['9'], Image: `sha256:${'cd'.repeat(32)}` });
    expect(info.State).toMatchObject({ Status: 'exited', Running: false, ExitCode: 2, Pid: 0, StartedAt: '0001-01-01T00:00:00Z' });
    expect(formatInspect('{{.State.Status}}/{{.State.ExitCode}} {{json .Args}} {{.Nope}}', [info])).toEqual({
      output: 'exited/2 ["9"] <no value>\n',
      errors: [],
    });
  });
});
