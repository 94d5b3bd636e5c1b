// Types for critest.mjs (plain JS: the peer-test scripts run without a build).

export declare const CRITEST_SKIP: string;
export declare const BENCHMARK_FOCUS: string;

export interface CritestFailure {
  name: string;
  /** the first lines of the failure's message */
  reason: string;
}

export interface CritestResult {
  passed: string[];
  failed: CritestFailure[];
  skipped: string[];
}

/** operation (CreatePod, StartContainer, …) → its median in ms and the number of samples */
export type BenchmarkMedians = Record<string, { median: number; samples: number }>;

export interface CritestSummary {
  /** handler → what critest's validation suite found, and how long it took */
  validation: Record<string, CritestResult & { seconds: number }>;
  /** handler → the lifecycle benchmarks' medians */
  benchmark?: Record<string, BenchmarkMedians>;
}

export declare function critestArgs(opts: { handler: string; jsonReport: string; benchmark?: { paramsFile: string; outputDir: string } }): string[];
export declare function benchmarkParams(samples: number): string;
export declare function readCritestReport(file: string): CritestResult;
export declare function benchmarkMedians(dirs: string | string[]): BenchmarkMedians;
export declare const BENCHMARK_TARGET_OPS: string[];
export declare function benchmarkRatio(bench: Record<string, BenchmarkMedians>): { hull?: number; runc?: number; ratio?: number };
export declare function formatSummary(summary: CritestSummary): string;
