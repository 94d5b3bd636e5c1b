// The verdicts of scripts/peer-tests/runtime-tools.mjs on runtime-tools' TAP, in the shapes its
// tap-go writes (the YAML diagnostics are JSON between `  ---` and `  ...`).
import { describe, expect, it } from 'vitest';
import { parseTap, stderrReason, verdict } from '../../scripts/peer-tests/tap.mjs';

const run = (stdout: string, over: Partial<Parameters<typeof verdict>[0]> = {}): ReturnType<typeof verdict> =>
  verdict({ stdout, stderr: '', code: 0, signal: null, timedOut: false, timeoutS: 120, ...over });

const yaml = (doc: Record<string, string>): string =>
  `  ---\n${JSON.stringify(doc, null, 2)
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n')}\n  ...\n`;

describe('parseTap', () => {
  it('reads asserts, directives, the plan and the diagnostics', () => {
    const tap = parseTap(
      'TAP version 13\nok 1 - has expected hostname\n' +
        yaml({ actual: 'mrsdalloway', expected: 'mrsdalloway' }) +
        'not ok 2 - check #3 of the mounts\n' +
        yaml({ error: 'exit status 1', reference: 'https://…' }) +
        'ok 3 # SKIP linux.sysctl not set\nnot ok 4 - later # TODO not done\n1..4\n',
    );
    expect(tap.asserts).toEqual([
      { ok: true, n: 1, desc: 'has expected hostname', directive: null, error: null },
      { ok: false, n: 2, desc: 'check #3 of the mounts', directive: null, error: 'exit status 1' },
      { ok: true, n: 3, desc: '', directive: 'SKIP', error: null },
      { ok: false, n: 4, desc: 'later', directive: 'TODO', error: null },
    ]);
    expect(tap.plan).toEqual({ count: 4, reason: '' });
    expect(tap.errors).toEqual(['exit status 1']);
    expect(tap.bailOut).toBeNull();
  });

  it('does not take TAP quoted inside a diagnostic for asserts', () => {
    // RuntimeInsideValidate puts the inner runtimetest's whole TAP into one JSON string
    const tap = parseTap(`TAP version 13\n${yaml({ stdout: 'TAP version 13\nnot ok 1 - inner\n1..1\n', stderr: '' })}ok 1 - outer\n1..1\n`);
    expect(tap.asserts).toHaveLength(1);
    expect(tap.asserts[0]!.desc).toBe('outer');
  });
});

describe('verdict', () => {
  it('passes a full plan of ok asserts with exit 0 (skipped asserts included)', () => {
    const v = run('TAP version 13\nok 1 - a\nok 2 # SKIP not set\n1..2\n');
    expect(v).toMatchObject({ status: 'pass', asserts: 2, ok: 1, skip: 1, notOk: 0 });
  });

  it('fails on a not ok, naming the first and counting the rest, with the runtime error from stderr', () => {
    const stderr =
      'failed to create the container\ntime="2026-12-06T11:47:27Z" level=error msg="runc create failed: exec: \\"/runtimetest\\": stat /runtimetest: no such file"\n';
    const v = run('TAP version 13\nok 1 - a\nnot ok 2 - b MUST c\nnot ok 3 - d\n1..3\n', { stderr });
    expect(v.status).toBe('fail');
    expect(v.reason).toBe('not ok 2 - b MUST c (+1 more); stderr: runc create failed: exec: "/runtimetest": stat /runtimetest: no such file');
  });

  it("gives a failed assert's own error diagnostic rather than stderr", () => {
    const stdout = `TAP version 13\nnot ok 1 - the state MUST be passed to "prestart" hook over stdin\n${yaml({ error: '1 error occurred:\n\t* wrong status "creating"', reference: 'x' })}1..1\n`;
    const v = run(stdout, { stderr: 'level=error msg="unrelated"' });
    expect(v.reason).toBe('not ok 1 - the state MUST be passed to "prestart" hook over stdin: 1 error occurred: * wrong status "creating"');
  });

  it('ignores a not ok marked TODO', () => {
    expect(run('TAP version 13\nok 1 - a\nnot ok 2 - b # TODO later\n1..2\n').status).toBe('pass');
  });

  it('fails on a non-zero exit even with every assert ok, giving the reason from stderr', () => {
    const v = run('TAP version 13\nok 1 - a\n1..1\n', {
      code: 1,
      stderr: 'Any value which cannot be mapped to a relevant kernel interface MUST cause an error\n',
    });
    expect(v).toMatchObject({ status: 'fail', reason: 'exit 1: Any value which cannot be mapped to a relevant kernel interface MUST cause an error' });
  });

  it('fails without a plan, with a plan that does not match, on a bail out, a signal and a timeout', () => {
    expect(run('TAP version 13\nok 1 - a\n')).toMatchObject({ status: 'fail', reason: 'no plan' });
    expect(run('TAP version 13\nok 1 - a\n1..3\n')).toMatchObject({ status: 'fail', reason: 'planned 3, ran 1' });
    expect(run('TAP version 13\nok 1 - a\nBail out! no rootfs\n1..1\n')).toMatchObject({ status: 'fail', reason: 'Bail out! no rootfs' });
    expect(run('TAP version 13\nok 1 - a\n', { code: null, signal: 'SIGSEGV' })).toMatchObject({ status: 'fail', reason: 'killed by SIGSEGV' });
    expect(run('TAP version 13\n', { code: null, timedOut: true, timeoutS: 7 })).toMatchObject({ status: 'fail', reason: 'timed out after 7 s' });
  });

  it('skips a 1..0 plan, but fails one that follows an error diagnostic (the lifecycle tests report failures that way)', () => {
    expect(run('TAP version 13\n1..0\n')).toMatchObject({ status: 'skip', reason: 'plan 1..0', asserts: 0 });
    const hooks = run(
      `TAP version 13\n${yaml({ error: 'The post-start hooks MUST be called before the `start` operation returns\nRefer to: https://…' })}1..0\n`,
    );
    expect(hooks).toMatchObject({
      status: 'fail',
      reason: '1..0 after an error diagnostic: The post-start hooks MUST be called before the `start` operation returns',
    });
    // an empty error is how some tests report a check that passed
    expect(run(`TAP version 13\n${yaml({ error: '', reference: 'x' })}1..0\n`).status).toBe('skip');
  });

  it('skips a test that prints nothing and exits 0 (the *_fail tests when the runtime rejects the config)', () => {
    const v = run('', { stderr: 'failed to create the container\ntime="x" level=error msg="runc create failed: wrong rlimit value: RLIMIT_TEST"\n' });
    expect(v).toMatchObject({ status: 'skip', reason: 'no TAP output, exit 0; stderr: runc create failed: wrong rlimit value: RLIMIT_TEST' });
  });

  it('judges each TAP stream of a test that prints more than one', () => {
    // linux_cgroups_cpus: 112 asserts, then a second tap.New() whose check found nothing to do
    const two = 'TAP version 13\nok 1 - cpu shares\nok 2 - cpu quota\n1..2\nTAP version 13\n1..0\n';
    expect(run(two)).toMatchObject({ status: 'pass', asserts: 2 });
    expect(run('TAP version 13\nok 1 - a\n1..1\nTAP version 13\nok 1 - b\n')).toMatchObject({ status: 'fail', reason: 'no plan (TAP stream 2 of 2)' });
    const hidden = `TAP version 13\nok 1 - a\n1..1\nTAP version 13\n${yaml({ error: 'cannot validate' })}1..0\n`;
    expect(run(hidden)).toMatchObject({ status: 'fail', reason: '1..0 after an error diagnostic (TAP stream 2 of 2): cannot validate' });
  });

  it('counts a test whose every assert is skipped as skipped', () => {
    expect(run('TAP version 13\nok 1 # SKIP linux-specific\n1..1\n')).toMatchObject({ status: 'skip', reason: 'every assert skipped' });
  });
});

describe('stderrReason', () => {
  it('keeps the start and the end of a long runc error chain (the cause is at the end)', () => {
    const msg = `runc create failed: unable to start container process: error during container init: ${'x'.repeat(300)}: no such file or directory`;
    const v = run('', { code: 1, stderr: `level=error msg="${msg}"` });
    expect(v.reason.startsWith('exit 1: runc create failed')).toBe(true);
    expect(v.reason.endsWith('x: no such file or directory')).toBe(true);
    expect(v.reason.length).toBe(220);
  });

  it('falls back to the first line that mentions a failure, else the first line', () => {
    expect(stderrReason('plain failure here\nsecond line')).toBe('plain failure here');
    expect(stderrReason('nothing\n')).toBe('nothing');
    expect(stderrReason('')).toBe('');
  });
});
