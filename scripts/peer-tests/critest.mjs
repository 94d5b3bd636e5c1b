#!/usr/bin/env node
// critest (Kubernetes' CRI validation suite, kubernetes-sigs/cri-tools) against containerd's CRI plugin
// with the runtime handler `hull` (hull-runc) and with `runc`, in one run, and its pod and container
// lifecycle benchmarks for both: the counts, the specs runc passes and hull does not, and the medians.
//
//   sudo node scripts/peer-tests/critest.mjs [--json FILE]
//   sudo npm run peer:critest          (builds crictl and critest first: scripts/peer-tests/build-cri-tools.sh)
//
// The CRI tier (containerd with CRI, CNI, a local registry with critest's images, all private) is
// test/helpers/cri.ts, TypeScript: this script runs the CRI test file (test/integration/cri.test.ts)
// with HULL_CRITEST_SUMMARY=FILE, where that file's critest tests write what they found, and prints it.
// The same tests run in the ordinary suite (without printing); they fail when hull fails a spec runc passes.
//
// Skipped for every runtime: the spec that pulls gcr.io/k8s-staging-cri-tools/test-image-digest by its
// upstream digest, which no image made here can match (offline, it fails for runc too).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Specs no runtime can pass offline (a regular expression for --ginkgo.skip). */
export const CRITEST_SKIP = 'public image with digest should be pulled and removed';

/** The lifecycle benchmarks (pod; container), not the image ones (pulls are the registry's, not the runtime's). */
export const BENCHMARK_FOCUS = 'benchmark about lifecycle of PodSandbox|benchmark about basic operations on Container';

/**
 * critest's own arguments for one run with `handler`: the validation suite, or with `benchmark` the
 * lifecycle benchmarks (`paramsFile`: how many samples; `outputDir`: where critest writes its JSON data).
 */
export function critestArgs({ handler, jsonReport, benchmark }) {
  const args = [`--runtime-handler=${handler}`, '--ginkgo.no-color', `--ginkgo.json-report=${jsonReport}`];
  if (benchmark !== undefined) {
    args.push(
      '--benchmark',
      `--benchmarking-params-file=${benchmark.paramsFile}`,
      `--benchmarking-output-dir=${benchmark.outputDir}`,
      `--ginkgo.focus=${BENCHMARK_FOCUS}`,
    );
  } else {
    args.push(`--ginkgo.skip=${CRITEST_SKIP}`);
  }
  return args;
}

/** The benchmark parameters file (critest's YAML) for `samples` pods and containers, one at a time. */
export function benchmarkParams(samples) {
  return ['containersNumber: ' + samples, 'containersNumberParallel: 1', 'podsNumber: ' + samples, 'podsNumberParallel: 1', ''].join('\n');
}

/** A ginkgo v2 JSON report → the specs' full names by state, with each failure's first line. */
export function readCritestReport(file) {
  const suites = JSON.parse(readFileSync(file, 'utf8'));
  const out = { passed: [], failed: [], skipped: [] };
  for (const suite of suites) {
    for (const spec of suite.SpecReports ?? []) {
      if (spec.LeafNodeType !== 'It') {
        // a failed BeforeSuite fails the run: every spec is then unrun
        if (spec.State === 'failed') out.failed.push({ name: `[${spec.LeafNodeType}]`, reason: firstLine(spec.Failure?.Message) });
        continue;
      }
      const name = [...(spec.ContainerHierarchyTexts ?? []), spec.LeafNodeText].join(' ');
      if (spec.State === 'passed') out.passed.push(name);
      else if (spec.State === 'skipped' || spec.State === 'pending') out.skipped.push(name);
      else out.failed.push({ name, reason: firstLine(spec.Failure?.Message) });
    }
  }
  return out;
}

function firstLine(text) {
  return String(text ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(0, 2)
    .join(' ');
}

/**
 * Median of each operation (ms) in critest's benchmark data files (pod_benchmark_data.json,
 * container_benchmark_data.json) of one output directory, or of several pooled (one handler's rounds).
 */
export function benchmarkMedians(dirs) {
  const samples = new Map();
  for (const dir of Array.isArray(dirs) ? dirs : [dirs]) {
    for (const file of readdirSync(dir).filter((f) => f.endsWith('_benchmark_data.json'))) {
      const set = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
      set.operationsNames.forEach((op, i) => {
        samples.set(op, [...(samples.get(op) ?? []), ...set.datapoints.map((d) => d.operationsDurationsNs[i] / 1e6)]);
      });
    }
  }
  const out = {};
  for (const [op, unsorted] of samples) {
    const ms = unsorted.sort((a, b) => a - b);
    if (ms.length === 0) continue;
    const mid = Math.floor(ms.length / 2);
    out[op] = { median: ms.length % 2 ? ms[mid] : (ms[mid - 1] + ms[mid]) / 2, samples: ms.length };
  }
  return out;
}

/** The operations issue 19's target is about: a pod and a container in it started (hull at most 1.5x runc's). */
export const BENCHMARK_TARGET_OPS = ['CreatePod', 'StartContainer'];

/** CreatePod + StartContainer medians (ms) per handler, and hull's as a multiple of runc's (undefined without both). */
export function benchmarkRatio(bench) {
  const sum = (m) => (m && BENCHMARK_TARGET_OPS.every((op) => m[op]) ? BENCHMARK_TARGET_OPS.reduce((s, op) => s + m[op].median, 0) : undefined);
  const hull = sum(bench.hull);
  const runc = sum(bench.runc);
  return { hull, runc, ratio: hull !== undefined && runc !== undefined ? hull / runc : undefined };
}

/** The printed summary of what cri.test.ts found (its HULL_CRITEST_SUMMARY file). */
export function formatSummary(summary) {
  const lines = [];
  const handlers = Object.keys(summary.validation ?? {});
  for (const h of handlers) {
    const r = summary.validation[h];
    lines.push(`critest ${h}: ${r.passed.length} passed, ${r.failed.length} failed, ${r.skipped.length} skipped (${r.seconds.toFixed(0)} s)`);
  }
  if (summary.validation?.runc && summary.validation?.hull) {
    const hullPassed = new Set(summary.validation.hull.passed);
    const missing = summary.validation.runc.passed.filter((n) => !hullPassed.has(n));
    lines.push(missing.length === 0 ? 'hull passes every spec runc passes' : `runc passes, hull does not (${missing.length}):`);
    for (const n of missing) lines.push(`  ${n}: ${summary.validation.hull.failed.find((f) => f.name === n)?.reason ?? '(not run)'}`);
  }
  for (const h of handlers) for (const f of summary.validation[h].failed) lines.push(`  ${h} failed: ${f.name}: ${f.reason}`);
  const bench = summary.benchmark ?? {};
  const ops = [...new Set(Object.values(bench).flatMap((m) => Object.keys(m)))];
  if (ops.length > 0) {
    const names = Object.keys(bench);
    lines.push(`critest -benchmark medians (ms): ${['operation', ...names].join(' | ')}`);
    for (const op of ops) lines.push(`  ${[op, ...names.map((n) => (bench[n][op] ? bench[n][op].median.toFixed(1) : '-'))].join(' | ')}`);
    const { hull, runc, ratio } = benchmarkRatio(bench);
    if (ratio !== undefined)
      lines.push(`  CreatePod + StartContainer: hull ${hull.toFixed(1)} ms, runc ${runc.toFixed(1)} ms: ${ratio.toFixed(2)}x runc's (target <= 1.5)`);
  }
  return lines.join('\n');
}

async function main(argv) {
  let json;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--json') json = argv[++i];
    else if (argv[i].startsWith('--json=')) json = argv[i].slice('--json='.length);
    else {
      console.error('usage: node scripts/peer-tests/critest.mjs [--json FILE]');
      return 2;
    }
  }
  const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const dir = mkdtempSync(path.join(tmpdir(), 'hull-critest-'));
  const file = path.join(dir, 'summary.json');
  try {
    const r = spawnSync(path.join(repo, 'node_modules', '.bin', 'vitest'), ['run', 'test/integration/cri.test.ts'], {
      cwd: repo,
      stdio: 'inherit',
      env: { ...process.env, HULL_CRITEST_SUMMARY: file },
    });
    let summary;
    try {
      summary = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      console.error(`critest.mjs: the CRI tests wrote no summary (vitest exit ${r.status ?? r.signal})`);
      return 1;
    }
    console.log(`\n${formatSummary(summary)}`);
    if (json) writeFileSync(json, `${JSON.stringify(summary, null, 2)}\n`);
    return r.status ?? 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
