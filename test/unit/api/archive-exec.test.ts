// The pieces of the Engine API's archive and monitored exec that need no root: Go's FileMode bits
// of a stat, the path-stat header, the exec plan's gate, the exec's monitor event lines, and the
// exec store's records and states.
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { goFileMode, pathStatHeader } from '../../../src/runtime/archive.js';
import { ExecStore } from '../../../src/runtime/exec-monitor.js';
import { buildExecPlan } from '../../../src/runtime/plan.js';
import { buildSpec } from '../../../src/runtime/specconv.js';
import { writeMonitorEvents } from '../../../src/events/emit.js';
import type { ContainerRecord } from '../../../src/runtime/container-store.js';

const dir = mkdtempSync(path.join(tmpdir(), 'hull-archive-exec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('goFileMode', () => {
  it("gives Go's os.FileMode: permissions, setuid/setgid/sticky and the type bits", () => {
    const file = path.join(dir, 'f');
    writeFileSync(file, 'x', { mode: 0o644 });
    execFileSync('chmod', ['4751', file]);
    expect(goFileMode(lstatSync(file))).toBe((1 << 23) | 0o751);
    const sub = path.join(dir, 'd');
    mkdirSync(sub, { mode: 0o755 });
    execFileSync('chmod', ['1777', sub]);
    expect(goFileMode(lstatSync(sub))).toBe((2 ** 31 + (1 << 20) + 0o777) >>> 0);
    const link = path.join(dir, 'l');
    symlinkSync('/', link);
    expect(goFileMode(lstatSync(link)) & (1 << 27)).not.toBe(0);
    const fifo = path.join(dir, 'p');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    expect(goFileMode(lstatSync(fifo))).toBe((1 << 25) | 0o600);
    expect(goFileMode(lstatSync('/dev/null')) & ((1 << 26) | (1 << 21))).toBe((1 << 26) | (1 << 21));
  });

  it('the path-stat header is base64 of its JSON, as docker cp reads it', () => {
    const stat = { name: 'd', size: 4096, mode: 2147484141, mtime: '2026-01-02T03:04:05.000Z', linkTarget: '' };
    expect(JSON.parse(Buffer.from(pathStatHeader(stat), 'base64').toString())).toEqual(stat);
  });
});

describe('buildExecPlan startGate', () => {
  const spec = buildSpec({
    image: { config: { Cmd: ['sh'] } },
    user: { uid: 0, gid: 0, additionalGids: [], home: '/root' },
    hostname: 'box',
    rootfsPath: '/r',
  });
  const base = { args: ['sh', '-c', 'true'], env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0, additionalGids: [] }, tty: false };

  it('waits at a gate after its privileges are set, before the command, only when asked', () => {
    const gated = buildExecPlan(spec, { ...base, startGate: true }).map((s) => s.op);
    expect(gated.filter((op) => op === 'startGate')).toHaveLength(1);
    expect(gated.indexOf('startGate')).toBeGreaterThan(gated.indexOf('capabilities'));
    expect(gated.indexOf('startGate')).toBeLessThan(gated.indexOf('exec'));
    expect(buildExecPlan(spec, base).map((s) => s.op)).not.toContain('startGate');
  });
});

describe("an exec's monitor event lines", () => {
  it('are its exec_start and exec_die (execID, exit code where the monitor puts it), and nothing else', () => {
    const record = { id: 'c'.repeat(64), name: 'web', image: 'busybox', config: { Labels: { a: 'b' } } } as unknown as ContainerRecord;
    const file = writeMonitorEvents(path.join(dir, 'events'), record, { command: 'sh -c exit 3', execID: 'e'.repeat(64) });
    const sections = readFileSync(file, 'utf8').split('\0');
    expect(sections).toHaveLength(6);
    const start = JSON.parse(`${sections[0]},"time":1,"timeNano":1}`) as { Action: string; Actor: { ID: string; Attributes: Record<string, string> } };
    expect(start.Action).toBe('exec_start: sh -c exit 3');
    expect(start.Actor.ID).toBe('c'.repeat(64));
    expect(start.Actor.Attributes.execID).toBe('e'.repeat(64));
    const die = JSON.parse(`${sections[1]}42${sections[2]},"time":1,"timeNano":1}`) as { Action: string; Actor: { Attributes: Record<string, string> } };
    expect(die.Action).toBe('exec_die');
    expect(die.Actor.Attributes).toMatchObject({ execID: 'e'.repeat(64), exitCode: '42', name: 'web' });
    expect(sections.slice(3)).toEqual(['', '', '']); // no oom, no volume mounts: those are the container's
  });
});

describe('ExecStore', () => {
  const store = new ExecStore(path.join(dir, 'run'));
  const config = { containerId: 'c'.repeat(64), cmd: ['true'], tty: false, user: '', env: [], attachStdin: false, attachStdout: true, attachStderr: true };

  it('keeps records by id; an unknown or malformed id is none', () => {
    const made = store.create(config);
    expect(made.id).toMatch(/^[0-9a-f]{64}$/);
    expect(store.get(made.id)).toEqual(made);
    expect(store.get('0'.repeat(64))).toBeUndefined();
    expect(store.get('../../etc')).toBeUndefined();
  });

  it("tells its state: not started, failed to start (126), ended (its monitor's exit code), monitor gone (137)", () => {
    const made = store.create(config);
    expect(store.state(made)).toEqual({ running: false, exitCode: null, pid: 0 });
    expect(store.state({ ...made, startFailed: true })).toEqual({ running: false, exitCode: 126, pid: 0 });
    const started = { ...made, monitor: { pid: 2 ** 22 + 7, startTime: 1 } }; // no such process
    expect(store.state(started)).toEqual({ running: false, exitCode: 137, pid: 0 });
    writeFileSync(store.statusPath(made.id), JSON.stringify({ status: 'exited', exitCode: 5 }));
    expect(store.state(started)).toEqual({ running: false, exitCode: 5, pid: 0 });
    const self = { ...made, monitor: { pid: process.pid, startTime: undefined } };
    writeFileSync(store.statusPath(made.id), JSON.stringify({ status: 'running', pid: 1234 }));
    expect(store.state(self)).toEqual({ running: true, exitCode: null, pid: 1234 });
  });

  it('sweeps ended execs made before the bound, keeps newer ones', async () => {
    const old = store.create(config);
    const bound = Date.now() + 1;
    await store.sweep(bound);
    expect(store.get(old.id)).toBeUndefined();
    const fresh = store.create(config);
    await store.sweep(fresh.created - 1000);
    expect(store.get(fresh.id)).toEqual(fresh);
  });
});
