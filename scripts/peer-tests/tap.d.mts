// Types for tap.mjs (plain JS: the peer-test scripts run without a build).

export interface TapAssert {
  ok: boolean;
  n: number;
  desc: string;
  directive: 'SKIP' | 'TODO' | null;
  /** The non-empty `error` of the diagnostic that follows the assert, if any. */
  error: string | null;
}

export interface ParsedTap {
  asserts: TapAssert[];
  plan: { count: number; reason: string } | null;
  bailOut: string | null;
  /** Non-empty `error` values of the JSON diagnostics (tap-go's YAML blocks). */
  errors: string[];
}

export declare function parseTap(text: string): ParsedTap;

/** The TAP streams in a test's output (a `TAP version` line after other output starts a new one). */
export declare function splitStreams(text: string): string[];

export declare function firstLine(s: string | undefined): string;

/** runc's `level=error msg="…"` from stderr (unescaped), else the first line that mentions an error. */
export declare function stderrReason(stderr: string): string;

export interface Verdict {
  status: 'pass' | 'fail' | 'skip';
  reason: string;
  asserts: number;
  ok: number;
  notOk: number;
  skip: number;
  todo: number;
}

export declare function verdict(run: {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: string | null;
  timedOut: boolean;
  timeoutS: number;
}): Verdict;
