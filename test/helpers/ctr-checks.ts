// What containerd's runc shim asks of an OCI runtime, driven through ctr against the run's containerd
// (test/helpers/containerd.ts): run, exit codes, signals, exec, ps, pause/resume, kill --all, a
// terminal. One suite per runtime binary: test/integration/containerd.test.ts runs it with Debian's
// runc; another runtime (hull-runc) runs the same checks by calling
//   ctrRuntimeChecks({ name: 'hull-runc', runtime: () => pathOfItsExecutable, skip: '…' })
// The shim calls the binary as runc: `--root R --log F --log-format json create --bundle B --pid-file P ID`,
// `start ID`, `state ID`, `exec --process P --detach --pid-file F ID`, `kill [--all] ID SIG`,
// `pause ID`, `resume ID`, `ps --format json ID`, `delete [--force] ID`; with -t, `create` also gets
// `--console-socket S`.
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { busyboxImageTar } from './busybox-image.js';
import { BUSYBOX_REF, type Containerd, type CtrResult } from './containerd.js';
import { sharedContainerd } from './shared-containerd.js';

export interface RuntimeUnderTest {
  /** in the suite's title and the container ids */
  name: string;
  /** absolute path for --runc-binary (called when the suite starts, so it may be built in a beforeAll) */
  runtime: () => string;
  /** skip the suite with this reason when not '' (containerdSkipReason, a missing build …) */
  skip?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The task's status in `ctr task ls` (RUNNING, PAUSED, STOPPED …), '' when there is no task. */
export async function taskStatus(ctd: Containerd, id: string): Promise<{ pid: number; status: string }> {
  const r = await ctd.ctr(['tasks', 'ls']);
  for (const line of r.stdout.split('\n').slice(1)) {
    const [task, pid, status] = line.trim().split(/\s+/);
    if (task === id) return { pid: Number(pid), status: status ?? '' };
  }
  return { pid: 0, status: '' };
}

/** Wait until `ctr task ls` shows the task in `status`; returns its pid. */
export async function waitStatus(ctd: Containerd, id: string, status: string, ms = 10_000): Promise<number> {
  const deadline = Date.now() + ms;
  for (;;) {
    const t = await taskStatus(ctd, id);
    if (t.status === status) return t.pid;
    if (Date.now() > deadline) throw new Error(`task ${id}: status ${t.status || '(none)'} after ${ms} ms, wanted ${status}`);
    await sleep(25);
  }
}

/** Remove what a test left (tasks killed, containers removed), then report whether anything is still there. */
export async function cleanUp(ctd: Containerd, prefix: string): Promise<string[]> {
  const ids = (await ctd.ctr(['containers', 'ls', '-q'])).stdout.split('\n').filter((id) => id.startsWith(prefix));
  for (const id of ids) {
    await ctd.ctr(['tasks', 'kill', '--all', '--signal', 'SIGKILL', id], { timeoutMs: 10_000 });
    await ctd.ctr(['tasks', 'delete', '--force', id], { timeoutMs: 10_000 });
    await ctd.ctr(['containers', 'delete', id], { timeoutMs: 10_000 });
  }
  // a shim leaves a moment after its last task is deleted
  const deadline = Date.now() + 5_000;
  let left = await ctd.leftovers(prefix);
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(50);
    left = await ctd.leftovers(prefix);
  }
  return left;
}

/**
 * `ctr ARGS` on a terminal of its own (ctr -t wants one): script(1) makes it, and its stdin stays open
 * until ctr ends (at EOF on its stdin script would end the terminal's input under ctr).
 */
export function ctrInTerminal(ctd: Containerd, args: string[], timeoutMs = 30_000): Promise<{ code: number | null; stdout: string }> {
  const quoted = ctd.ctrCommand(args).map((a) => `'${a.replaceAll("'", "'\\''")}'`);
  const child = spawn('script', ['-qec', quoted.join(' '), '/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      child.stdin.destroy();
      resolve({ code, stdout });
    });
  });
}

export function ctrRuntimeChecks(rt: RuntimeUnderTest): void {
  const skip = rt.skip ?? '';
  describe.skipIf(skip !== '')(`${rt.name} under containerd's runc shim, driven by ctr (integration${skip})`, () => {
    let ctd: Containerd;
    let runtime: string;
    // ids unique in the run's containerd, which every test file shares
    const prefix = `${rt.name.replace(/[^A-Za-z0-9]/g, '')}-${process.pid}-`;
    let n = 0;
    let leftAfter: string[] = [];
    const nextId = (): string => `${prefix}${++n}`;
    const run = (id: string, cmd: string[], flags: string[] = []): Promise<CtrResult> =>
      ctd.ctr(['run', '--rm', '--runc-binary', runtime, ...flags, BUSYBOX_REF, id, ...cmd]);
    const runDetached = async (id: string, cmd: string[]): Promise<number> => {
      const r = await ctd.ctr(['run', '--detach', '--runc-binary', runtime, BUSYBOX_REF, id, ...cmd]);
      expect(r.code, r.stderr).toBe(0);
      return waitStatus(ctd, id, 'RUNNING');
    };
    /** A detached task is deleted with its container: what `ctr task delete` reports of its exit. */
    const remove = async (id: string): Promise<CtrResult> => {
      const r = await ctd.ctr(['tasks', 'delete', id]);
      const c = await ctd.ctr(['containers', 'delete', id]);
      expect(c.code, c.stderr).toBe(0);
      return r;
    };

    beforeAll(async () => {
      ctd = sharedContainerd();
      runtime = rt.runtime();
      await ctd.importImage(await busyboxImageTar());
    });

    afterEach(async () => {
      leftAfter = await cleanUp(ctd, prefix);
      // nothing of a test may outlive it: containers, tasks, snapshots, mounts, cgroups, processes, shims
      expect(leftAfter).toEqual([]);
    });

    it('runs a command and relays its output: ctr run --rm … echo hi', async () => {
      const r = await run(nextId(), ['echo', 'hi']);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('hi\n');
      expect(r.code).toBe(0);
    });

    it("reports the process's exit code (sh -c 'exit 3' → 3) and its stderr", async () => {
      const r = await run(nextId(), ['sh', '-c', 'echo to-stderr >&2; exit 3']);
      expect(r.stderr).toBe('to-stderr\n');
      expect(r.code).toBe(3);
    });

    it('passes the environment, working directory and a read-only rootfs from the spec', async () => {
      const r = await run(
        nextId(),
        ['sh', '-c', 'echo "$FOO"; pwd; touch /x 2>/dev/null || echo read-only'],
        ['--env', 'FOO=bar', '--cwd', '/tmp', '--read-only'],
      );
      expect(r.stdout).toBe('bar\n/tmp\nread-only\n');
      expect(r.code).toBe(0);
    });

    it('a task killed by SIGKILL ends with 137: the waiting ctr run exits 137', async () => {
      const id = nextId();
      const child = ctd.spawnCtr(['run', '--rm', '--runc-binary', runtime, BUSYBOX_REF, id, 'sleep', '1000']);
      const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
      await waitStatus(ctd, id, 'RUNNING');
      const k = await ctd.ctr(['tasks', 'kill', '--signal', 'SIGKILL', id]);
      expect(k.code, k.stderr).toBe(0);
      expect(await closed).toBe(137);
    });

    it('a detached task killed by SIGKILL is STOPPED, and ctr task delete reports exit code 137', async () => {
      const id = nextId();
      await runDetached(id, ['sleep', '1000']);
      expect((await ctd.ctr(['tasks', 'kill', '--signal', 'SIGKILL', id])).code).toBe(0);
      await waitStatus(ctd, id, 'STOPPED');
      const d = await remove(id);
      // ctr 1.6 prints the exit status as a warning and exits 0 (it has no `task wait`)
      expect(d.code).toBe(0);
      expect(d.stderr).toContain(`task ${id} exit with non-zero exit code 137`);
    });

    it('SIGTERM (ctr task kill default) reaches a handler in the container: exit code 7', async () => {
      const id = nextId();
      const child = ctd.spawnCtr([
        'run',
        '--rm',
        '--runc-binary',
        runtime,
        BUSYBOX_REF,
        id,
        'sh',
        '-c',
        'trap "exit 7" TERM; echo ready; while :; do sleep 0.05; done',
      ]);
      const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
      // the trap is set once "ready" is printed
      await new Promise<void>((resolve) => child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
      expect((await ctd.ctr(['tasks', 'kill', id])).code).toBe(0);
      expect(await closed).toBe(7);
    });

    it('execs in a running task: output, exit code, and the exec in ctr task ps', async () => {
      const id = nextId();
      const pid = await runDetached(id, ['sleep', '1000']);
      const e = await ctd.ctr(['tasks', 'exec', '--exec-id', 'e1', id, 'echo', 'inexec']);
      expect(e.stdout).toBe('inexec\n');
      expect(e.code).toBe(0);
      expect((await ctd.ctr(['tasks', 'exec', '--exec-id', 'e2', id, 'sh', '-c', 'exit 5'])).code).toBe(5);
      const d = await ctd.ctr(['tasks', 'exec', '--detach', '--exec-id', 'e3', id, 'sleep', '500']);
      expect(d.code, d.stderr).toBe(0);
      // PID INFO: the init process, and the exec with its id
      const ps = await ctd.ctr(['tasks', 'ps', id]);
      expect(ps.code, ps.stderr).toBe(0);
      const rows = ps.stdout
        .split('\n')
        .slice(1)
        .filter((l) => l.trim() !== '');
      expect(rows.map((l) => Number(l.trim().split(/\s+/)[0]))).toContain(pid);
      expect(rows.filter((l) => l.includes('ExecID:e3'))).toHaveLength(1);
      expect(rows).toHaveLength(2);
      // kill --all reaches the exec too
      expect((await ctd.ctr(['tasks', 'kill', '--all', '--signal', 'SIGKILL', id])).code).toBe(0);
      await waitStatus(ctd, id, 'STOPPED');
      const stopped = await remove(id);
      expect(stopped.stderr).toContain('exit code 137');
    });

    it('pause freezes every process of the task and resume thaws them', async () => {
      const id = nextId();
      const pid = await runDetached(id, ['sh', '-c', 'while :; do echo x >> /tmp/ticks; usleep 20000; done']);
      // the container's /tmp, read through its init's root
      const ticks = (): number => {
        try {
          return statSync(`/proc/${pid}/root/tmp/ticks`).size;
        } catch {
          return 0;
        }
      };
      const growing = async (): Promise<boolean> => {
        const a = ticks();
        await sleep(300);
        return ticks() > a;
      };
      expect(await growing()).toBe(true);
      const p = await ctd.ctr(['tasks', 'pause', id]);
      expect(p.code, p.stderr).toBe(0);
      expect((await taskStatus(ctd, id)).status).toBe('PAUSED');
      expect(await growing()).toBe(false);
      const r = await ctd.ctr(['tasks', 'resume', id]);
      expect(r.code, r.stderr).toBe(0);
      expect((await taskStatus(ctd, id)).status).toBe('RUNNING');
      expect(await growing()).toBe(true);
      expect((await ctd.ctr(['tasks', 'kill', '--signal', 'SIGKILL', id])).code).toBe(0);
      await waitStatus(ctd, id, 'STOPPED');
      await remove(id);
    });

    it('gives the process a terminal with ctr run -t (the shim passes --console-socket)', async () => {
      const r = await ctrInTerminal(ctd, ['run', '--rm', '-t', '--runc-binary', runtime, BUSYBOX_REF, nextId(), 'sh', '-c', 'tty; exit 4']);
      // the pty of the container and the pty of script(1) each turn \n into \r\n
      expect(r.stdout).toMatch(/\/dev\/pts\/\d+\r*\n/);
      expect(r.code).toBe(4);
    });

    it("the task's cgroup is the spec's cgroupsPath, /<namespace>/<id>, in the cgroup2 hierarchy", async () => {
      const id = nextId();
      const pid = await runDetached(id, ['sleep', '1000']);
      // runc also joins /<namespace>/<id> of every v1 hierarchy on this hybrid host; a cgroup2-only runtime need not
      expect(readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n')).toContain(`0::/${ctd.namespace}/${id}`);
      expect((await ctd.ctr(['tasks', 'kill', '--signal', 'SIGKILL', id])).code).toBe(0);
      await waitStatus(ctd, id, 'STOPPED');
      await remove(id);
    });
  });
}
