// The verdict on one runtime-tools validation test from its TAP (as tap-go writes it), its stderr and
// how it ended; used by runtime-tools.mjs, unit-tested in test/unit/peer-tap.test.ts. The rules are
// those of the TAP consumers runtime-tools documents (node-tap, prove), plus one for runtime-tools'
// lifecycle tests, which report a failure only as an `error` diagnostic before a `1..0` plan, and one for
// tests that print more than one TAP stream.

/** Parses TAP as runtime-tools' tap-go writes it: asserts (with the `error` of the diagnostic after each), plan, bail out, and every diagnostic's `error`. */
export function parseTap(text) {
  const asserts = [];
  const errors = [];
  let plan = null;
  let bailOut = null;
  let yaml = null;
  for (const line of text.split('\n')) {
    if (yaml !== null) {
      if (/^\s+\.\.\.\s*$/.test(line)) {
        try {
          const doc = JSON.parse(yaml.join('\n'));
          if (doc && typeof doc.error === 'string' && doc.error.trim() !== '') {
            errors.push(doc.error.trim());
            // TAP's diagnostics belong to the assert before them
            const last = asserts[asserts.length - 1];
            if (last && last.error === null) last.error = doc.error.trim();
          }
        } catch {
          // not JSON: tap-go writes JSON, anything else carries no error we know how to read
        }
        yaml = null;
      } else yaml.push(line);
      continue;
    }
    if (/^\s+---\s*$/.test(line)) {
      yaml = [];
      continue;
    }
    let m;
    if ((m = /^(not ok|ok)\b\s*(\d+)?\s*(?:-\s*)?(.*?)\s*(?:#\s*(SKIP|TODO)\S*\s*(.*))?$/i.exec(line))) {
      asserts.push({
        ok: m[1].toLowerCase() === 'ok',
        n: m[2] ? Number(m[2]) : asserts.length + 1,
        desc: m[3],
        directive: m[4]?.toUpperCase() ?? null,
        error: null,
      });
    } else if ((m = /^1\.\.(\d+)\s*(?:#\s*(.*))?$/.exec(line))) {
      plan = { count: Number(m[1]), reason: m[2] ?? '' };
    } else if ((m = /^Bail out!\s*(.*)$/.exec(line))) {
      bailOut = m[1] || 'Bail out!';
    }
  }
  return { asserts, plan, bailOut, errors };
}

export const firstLine = (s) =>
  (s ?? '')
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '') ?? '';
/** An error diagnostic on one line, without specerror's "Refer to: <url>". */
const oneLine = (s) =>
  s
    .replace(/Refer to: \S+/g, '')
    .replace(/\s+/g, ' ')
    .trim();

/** Long messages keep their start and their end (a runtime's error chain ends with the cause). */
const clip = (s, n = 220) => (s.length > n ? `${s.slice(0, 60)}…${s.slice(s.length - (n - 61))}` : s);

/** The line of stderr that says why: a logrus `level=error msg="…"` (runc), else the first line that mentions an error. */
export function stderrReason(stderr) {
  for (const line of stderr.split('\n')) {
    const m = /level=(?:error|fatal)\s+msg="((?:[^"\\]|\\.)*)"/.exec(line);
    if (m) return m[1].replace(/\\(.)/g, '$1');
  }
  return firstLine(stderr.split('\n').find((l) => /error|fail|MUST/i.test(l)) ?? stderr);
}

/** The TAP streams in a test's output: a `TAP version` line after other output starts a new one. */
export function splitStreams(text) {
  const streams = [[]];
  for (const line of text.split('\n')) {
    if (/^TAP version /.test(line) && streams[streams.length - 1].some((l) => l.trim() !== '')) streams.push([]);
    streams[streams.length - 1].push(line);
  }
  return streams.map((l) => l.join('\n'));
}

/** pass | fail | skip with the reason, from the TAP on stdout, stderr, the exit and whether it timed out. */
export function verdict({ stdout, stderr, code, signal, timedOut, timeoutS }) {
  const tap = parseTap(stdout);
  const counts = { ok: 0, notOk: 0, skip: 0, todo: 0 };
  for (const a of tap.asserts) {
    if (a.directive === 'SKIP') counts.skip++;
    else if (a.directive === 'TODO') counts.todo++;
    else if (a.ok) counts.ok++;
    else counts.notOk++;
  }
  const r = (status, reason) => ({ status, reason, asserts: tap.asserts.length, ...counts });
  const why = stderrReason(stderr);
  if (timedOut) return r('fail', `timed out after ${timeoutS} s`);
  if (tap.bailOut !== null) return r('fail', `Bail out! ${tap.bailOut}`);
  if (signal) return r('fail', `killed by ${signal}`);
  if (code !== 0) {
    const notOk = tap.asserts.find((a) => !a.ok && a.directive !== 'TODO');
    return r('fail', clip(`exit ${code}: ${notOk ? `not ok ${notOk.n} - ${notOk.desc}` : why || 'no message'}`));
  }
  const failed = tap.asserts.filter((a) => !a.ok && a.directive !== 'TODO');
  if (failed.length > 0) {
    const more = failed.length > 1 ? ` (+${failed.length - 1} more)` : '';
    const detail = failed[0].error !== null ? `: ${oneLine(failed[0].error)}` : why ? `; stderr: ${why}` : '';
    return r('fail', clip(`not ok ${failed[0].n} - ${failed[0].desc}${more}${detail}`, 300));
  }
  if (stdout.trim() === '') return r('skip', clip(`no TAP output, exit 0${why ? `; stderr: ${why}` : ''}`));
  // Each stream on its own: a test may print more than one (linux_cgroups_cpus runs two tap.New(),
  // the second a 1..0 where /sys/fs/cgroup/cpu,cpuacct does not exist), which a strict harness would
  // fail as a second plan whatever the runtime did.
  const streams = splitStreams(stdout).map(parseTap);
  for (const [i, st] of streams.entries()) {
    const which = streams.length > 1 ? ` (TAP stream ${i + 1} of ${streams.length})` : '';
    if (!st.plan) return r('fail', `no plan${which}`);
    if (st.plan.count !== st.asserts.length) return r('fail', `planned ${st.plan.count}, ran ${st.asserts.length}${which}`);
    if (st.asserts.length === 0 && st.errors.length > 0) return r('fail', clip(`1..0 after an error diagnostic${which}: ${oneLine(st.errors[0])}`));
  }
  if (tap.asserts.length === 0) {
    const reasons = streams.map((st) => st.plan?.reason).filter(Boolean);
    return r('skip', `plan 1..0${reasons.length > 0 ? ` # ${reasons.join('; ')}` : ''}`);
  }
  if (counts.skip === tap.asserts.length) return r('skip', 'every assert skipped');
  return r('pass', '');
}
