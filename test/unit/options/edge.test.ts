// The edge rules, checked over the source: the library (everything under src/ but the CLI, the
// Engine API and src/options/) neither prints nor parses Docker's flag syntax — it imports nothing from src/options/.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(__dirname, '../../../src');

function libraryFiles(dir = SRC): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    const rel = path.relative(SRC, p);
    // The edges: hull's CLI, hull-runc's (runc's command line), the Engine API's, and the parsers of Docker's syntax.
    if (rel === 'cli' || rel === 'runc' || rel === 'api' || rel === 'options') continue;
    if (e.isDirectory()) out.push(...libraryFiles(p));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Debug and test hooks that write to hull's stderr only when asked to by an environment variable. */
const DIAGNOSTIC_HOOKS = new Set(['trace.ts', 'runtime/crash-point.ts']);

describe('the edge', () => {
  const files = libraryFiles();

  it("finds the library's modules", () => {
    expect(files.length).toBeGreaterThan(100);
    expect(files.map((f) => path.relative(SRC, f))).toContain('runtime/create.ts');
  });

  it('the library never writes to stdout or stderr: it returns warnings', () => {
    const printing = files
      .filter((f) => !DIAGNOSTIC_HOOKS.has(path.relative(SRC, f)))
      .filter((f) => /process\.std(out|err)\.write\(|\bconsole\.\w+\(/.test(readFileSync(f, 'utf8')))
      .map((f) => path.relative(SRC, f));
    expect(printing).toEqual([]);
  });

  it("the library takes typed options: it imports nothing from src/options/ (the parsers of Docker's syntax)", () => {
    const importing = files.filter((f) => /from '(\.\.?\/)+options\//.test(readFileSync(f, 'utf8'))).map((f) => path.relative(SRC, f));
    expect(importing).toEqual(['index.ts']); // the package's exports, for the library's users
  });
});
